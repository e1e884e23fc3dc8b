"""Embedding lookups: resolve a name, type-ahead, and find terms in a text."""

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from terms.api.base import ReadView
from terms.api.errors import error_body
from terms.api.lookup_serializers import (
    AnnotateRequestSerializer,
    AnnotateResponseSerializer,
    AutocompleteResponseSerializer,
    LookupResponseSerializer,
    SimilarResponseSerializer,
)
from terms.api.params import (
    checked_statuses,
    multi,
    requested_statuses,
    required_text,
)
from terms.api.parsers import GlossaryJSONParser, PayloadTooLarge, PlainTextParser
from terms.api.schema import (
    ERRORS,
    LANG_PARAM,
    QUERY_SCHEMA,
    RELEASE_PARAM,
    STATUS_PARAM,
    errors,
)
from terms.models import Status, Term, UsageKind
from terms.reads import selectors
from terms.serving import derived, snapshots, stamp, usage
from terms.text import annotation, documents, search

AUTOCOMPLETE_MAX = 50


def with_labels(view, *groups) -> None:
    """Fetch the labels of the terms shown, in one query, when the reader asked
    for another language."""
    if view.languages:
        prefetch_related_objects([t for group in groups for t in group], "labels")


@extend_schema(
    summary="Resolve a name, slug or alias to terms",
    parameters=[
        OpenApiParameter(
            "q",
            QUERY_SCHEMA,
            required=True,
            description=(
                "Any name, slug or alias; case, space, hyphen and underscore "
                "insensitive."
            ),
        ),
        STATUS_PARAM,
        LANG_PARAM,
        RELEASE_PARAM,
    ],
    responses={
        200: LookupResponseSerializer,
        404: OpenApiResponse(
            LookupResponseSerializer,
            description="No match: empty matches and up to 5 suggestions.",
        ),
        **errors(400, 429),
    },
)
class LookupView(ReadView):
    """Exact lookup; exact name matches first, every candidate of an ambiguous alias."""

    # A miss (with its suggestions) is as worth caching as a hit.
    cached_statuses = (200, 404)
    known_parameters = frozenset({"q", "status", "lang"})
    localized = True
    release_reads = True

    def handle_exception(self, exc):
        """An unknown release is a 404 in the lookup's own shape (no matches,
        no suggestions), as the schema describes every 404 of lookup."""
        response = super().handle_exception(exc)
        if self.release_missing and response.status_code == 404:
            query = self.request.query_params.get("q", "")
            response.data = {"query": query, "matches": [], "suggestions": [],
                             **response.data}  # fmt: skip
        return response

    def get(self, request):
        """200 with the matches, or 404 with suggestions."""
        text = required_text(request)
        statuses = requested_statuses(request, self.statuses, [Status.APPROVED])
        # Each step looks among every term the reader may see, once: what it
        # finds in other statuses than the ones asked for makes the 404's hint.
        visible = Term.objects.filter(status__in=self.statuses)
        known = search.any_named(visible, text)
        exact = search.exact_matches(visible, text) if known else []
        matches = [m for m in exact if m.term.status in statuses]
        forms = [] if matches or not known else search.form_matches(visible, text)
        matches = matches or [m for m in forms if m.term.status in statuses]
        found = [m.term.slug for m in matches]
        usage.note(request.META, [usage.search(UsageKind.LOOKUP, text, found)])
        body = {"query": text, "matches": matches}
        if not matches:
            queryset = Term.objects.filter(status__in=statuses)
            body["suggestions"] = search.suggestions(queryset, text)
        with_labels(self, [m.term for m in matches], body.get("suggestions", []))
        data = LookupResponseSerializer(body, context=self.context()).data
        if matches:
            return Response(data)
        others = [m for m in exact if m.term.status not in statuses] or [
            m for m in forms if m.term.status not in statuses
        ]
        elsewhere = _status_hint(text, others)
        message = f"No term is called {text!r}." + (
            f" {elsewhere}" if elsewhere else ""
        )
        return Response(
            {**data, **error_body(404, "not_found", message)},
            status=status.HTTP_404_NOT_FOUND,
        )


def _elsewhere(text: str, statuses: list[str], view, find) -> str:
    """A hint when ``find`` (autocomplete) matches terms of a status the reader
    did not ask for but may see: "'red teaming' is reviewed; add
    status=reviewed to include it." Empty when there are none."""
    others = [s for s in view.statuses if s not in statuses]
    if not others:
        return ""
    return _status_hint(text, find(Term.objects.filter(status__in=others), text))


def _status_hint(text: str, found) -> str:
    """The hint for matches of statuses the reader did not ask for."""
    if not found:
        return ""
    states = sorted({match.term.status for match in found})
    return (
        f"{text!r} is {' or '.join(states)}; add status={','.join(states)} "
        "to include it."
    )


def _prefix_matches(terms, text: str) -> list:
    """Completions proper (no typo-tolerant guesses), for the status hint."""
    found = search.autocomplete(terms, text, limit=AUTOCOMPLETE_MAX)
    return [match for match in found if match.matched_on != "fuzzy"]


@extend_schema(
    summary="Type-ahead suggestions",
    parameters=[
        OpenApiParameter(
            "q", QUERY_SCHEMA, required=True, description="What the user typed so far."
        ),
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": AUTOCOMPLETE_MAX},
            description=f"At most this many results (1-{AUTOCOMPLETE_MAX}; 10).",
        ),
        STATUS_PARAM,
        LANG_PARAM,
        RELEASE_PARAM,
    ],
    responses={200: AutocompleteResponseSerializer, **errors(400, 404, 429)},
)
class AutocompleteView(ReadView):
    """Terms whose name or alias has a word starting with the prefix; typo fallback."""

    known_parameters = frozenset({"q", "limit", "status", "lang"})
    localized = True
    release_reads = True

    def get(self, request):
        """The best completions of ``q``."""
        text = required_text(request)
        raw_limit = request.query_params.get("limit", "10")
        if not raw_limit.isdecimal() or not 1 <= int(raw_limit) <= AUTOCOMPLETE_MAX:
            raise ValidationError(
                {"limit": [f"must be a whole number from 1 to {AUTOCOMPLETE_MAX}"]}
            )
        statuses = requested_statuses(request, self.statuses, [Status.APPROVED])
        queryset = Term.objects.filter(status__in=statuses)
        results = search.autocomplete(queryset, text, limit=int(raw_limit))
        if not results:
            # Only what finds nothing is counted: the partial words typed on
            # the way to a term are not searches of their own.
            miss = usage.search(UsageKind.SEARCH, text, found=False)
            usage.note(request.META, [miss])
        body = {"query": text, "results": results}
        with_labels(self, [match.term for match in results])
        if all(match.matched_on == "fuzzy" for match in results):
            elsewhere = _elsewhere(
                text,
                statuses,
                self,
                _prefix_matches,
            )
            if elsewhere:
                body["hint"] = elsewhere
        return Response(
            AutocompleteResponseSerializer(body, context=self.context()).data
        )


@extend_schema(
    summary="Find every glossary term in a text",
    description=(
        'Send JSON `{"text": "...", "status": ["approved"]}` or a '
        "`text/plain` body (then `?status=` selects statuses). Matches names and "
        "aliases on whole words, case and hyphen/space variants alike, plus their "
        "plurals (and a process's verb forms); acronyms only in their capitals; "
        "abbreviations the text defines after a matched term. Longest match "
        "first; each span says how it matched. Offsets are Python string indices."
    ),
    request={
        "application/json": AnnotateRequestSerializer,
        "text/plain": OpenApiTypes.STR,
    },
    parameters=[STATUS_PARAM, LANG_PARAM, RELEASE_PARAM],
    responses={
        200: AnnotateResponseSerializer,
        413: ERRORS[413],
        **errors(400, 404, 429),
    },
)
class AnnotateView(ReadView):
    """``POST /api/v1/annotate/``: spans of every term name or alias in the text."""

    known_parameters = frozenset({"status", "lang"})
    localized = True
    release_reads = True
    parser_classes = [GlossaryJSONParser, PlainTextParser]

    #: What the body asked for beyond the text: its format and marking.
    fmt, how = "text", None

    def _text_and_statuses(self, request) -> tuple[str, list[str]]:
        limit = settings.GLOSSARY_ANNOTATE_MAX_CHARS
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdecimal() and int(declared) > 4 * limit:
            raise PayloadTooLarge(
                f"The body is {int(declared):,} bytes; "
                f"the limit is {limit:,} characters."
            )
        data = request.data
        plain = request.content_type.startswith("text/plain")
        if plain and not data:
            data = ""  # an empty text/plain body is an empty text
        if plain and isinstance(data, str):
            text, requested = data, multi(request, "status")
        elif isinstance(data, dict):
            body = AnnotateRequestSerializer(data=data)
            body.is_valid(raise_exception=True)
            text = body.validated_data["text"]
            self.fmt = body.validated_data["format"]
            self.how = body.validated_data.get("mark")
            from_query = multi(request, "status")  # checked even when unused
            requested = body.validated_data.get("status") or from_query
        else:
            raise ValidationError(
                {"text": ['send a JSON object with "text", or text/plain']}
            )
        if len(text) > limit:
            raise PayloadTooLarge(
                f"The text is {len(text):,} characters; the limit is {limit:,}."
            )
        return text, checked_statuses(requested, self.statuses, [Status.APPROVED])

    def post(self, request):
        """Spans in text order, and the terms they name."""
        text, statuses = self._text_and_statuses(request)
        found = documents.prose(text, self.fmt)
        try:
            spans = self._spans(statuses, found.text)
        except annotation.BudgetSpent as spent:
            raise PayloadTooLarge(str(spent)) from spent
        chosen = {c.slug for span in spans for c in span.candidates}
        terms = {
            t.slug: t
            for t in Term.objects.filter(slug__in=chosen, status__in=statuses).only(
                "slug", "name", "short_def", "status"
            )
        }
        with_labels(self, terms.values())
        usage.note(request.META, [usage.terms_used(UsageKind.ANNOTATE, terms)])
        if len(terms) < len(chosen):
            # A matcher from before a change (its successor is being built) may
            # name a term that is gone or hidden now: leave those out.
            spans = annotation.without_missing(spans, terms)
        body = {"spans": spans, "terms": dict(sorted(terms.items()))}
        if self.how:
            marked = documents.chosen(spans, found, self.how)
            body["document"] = documents.mark(
                text, self.fmt, marked, terms, lambda slug: _page_url(request, slug)
            )
        context = {**self.context(), "text": text, "terms": terms}
        return Response(AnnotateResponseSerializer(body, context=context).data)

    def _spans(self, statuses: list[str], text: str) -> list:
        """The spans: the working glossary's from the derived process; a
        release's from its own matcher, built here from its snapshot."""
        budget = settings.GLOSSARY_ANNOTATE_BUDGET_SECONDS
        if self.release is not None:
            key = (snapshots.identity(self.release),)
            matcher = annotation.release_matcher(statuses, key)
            return annotation.find_spans(matcher, text, budget=budget)
        state = stamp.glossary_stamp()
        return derived.annotate_spans(
            statuses, (state.version, state.changed_at.timestamp()), text
        )


SIMILAR_MAX = 50


@extend_schema(
    summary="Terms similar in content, with whether each is already linked",
    description=(
        "Ranked by the content of the two terms (everything but relationships), "
        "plus votes from the curated links of the term's closest neighbours; "
        "the term's own relationships never count."
    ),
    parameters=[
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": SIMILAR_MAX},
            description=f"At most this many terms (1-{SIMILAR_MAX}; 8).",
        )
    ],
    responses={200: SimilarResponseSerializer, **errors(400, 404, 429)},
)
class SimilarView(ReadView):
    """``GET /terms/{slug}/similar/``: content neighbours, for editors and readers."""

    known_parameters = frozenset({"limit"})

    def get(self, request, slug):
        """The best ``limit`` neighbours of a visible term."""
        raw = request.query_params.get("limit", "8")
        if not raw.isdecimal() or not 1 <= int(raw) <= SIMILAR_MAX:
            raise ValidationError(
                {"limit": [f"must be a whole number from 1 to {SIMILAR_MAX}"]}
            )
        term = Term.objects.filter(slug=slug, status__in=self.statuses).first()
        if term is None:
            raise NotFound(f"No term with slug {slug!r}.")
        ranked, fresh = derived.similar_terms(
            self.statuses, self.stamp_token, slug, int(raw)
        )
        if not fresh:
            self.cache_key = None  # this version's index is not ready
        names = dict(
            Term.objects.filter(slug__in=[s for s, _ in ranked]).values_list(
                "slug", "name"
            )
        )
        linked = selectors.linked_slugs(term, self.statuses)
        results = [
            {"slug": s, "term": names[s], "score": score, "linked": s in linked}
            for s, score in ranked
            if s in names
        ]
        body = {"slug": slug, "results": results}
        return Response(
            SimilarResponseSerializer(body, context={"request": request}).data
        )


def _page_url(request, slug: str) -> str:
    """The absolute address of a term's page, for marked documents."""
    return request.build_absolute_uri(reverse("term-page", args=[slug]))
