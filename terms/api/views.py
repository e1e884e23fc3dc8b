"""API views: translate HTTP to the domain modules and back, nothing more."""

from __future__ import annotations

import io
import json
import zipfile

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, parsers, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import (
    APIException,
    NotFound,
    ParseError,
    ValidationError,
)
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from terms import annotation, search, selectors, workflow
from terms.document import (
    TERM_DOCUMENT_PREFETCH,
    TermDocument,
    document_from_term,
    dump_yaml,
    validate_term_data,
)
from terms.exporter import categories_data, roles_data
from terms.importer import site_texts
from terms.models import ChangeSource, PendingChange, Role, Status, Term
from terms.rendering import render_markdown, term_page
from terms.services import category_clashes
from terms.yaml_loader import Problem

from .caching import GlossaryCacheMixin, check_if_match, term_etag
from .errors import DocumentInvalid, api_response, error_body, workflow_errors
from .filters import MultiValueField, TermFilterSet
from .pagination import GlossaryPagination
from .permissions import CanSeeDrafts
from .serializers import (
    AnnotateRequestSerializer,
    AnnotateResponseSerializer,
    AutocompleteResponseSerializer,
    CategorySerializer,
    ErrorSerializer,
    HistorySerializer,
    LookupResponseSerializer,
    PendingSerializer,
    RoleSerializer,
    StatsSerializer,
    TagSerializer,
    TermDetailSerializer,
    TermDocumentSerializer,
    TermSummarySerializer,
    TransitionSerializer,
    WantedPageSerializer,
    term_url,
)

ORDERING_FIELDS = {
    "name": "name_key",
    "last_reviewed": "last_reviewed",
    "updated_at": "updated_at",
}
AUTOCOMPLETE_MAX = 50

IF_MATCH_PARAM = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="ETag from a previous read; 412 when the term has changed since.",
)

ERRORS = {
    code: OpenApiResponse(ErrorSerializer, description=text)
    for code, text in {
        400: "Invalid parameter or document; the message names it.",
        401: "Authentication required.",
        403: "Not allowed.",
        404: "Not found.",
        409: "Conflicts with the current state.",
        412: "If-Match does not match the term's current ETag.",
        429: "Too many requests; see Retry-After.",
    }.items()
}


def _errors(*codes):
    return {code: ERRORS[code] for code in codes}


TRANSITION_SCHEMA = {
    "request": TransitionSerializer,
    "responses": {200: TermDetailSerializer, **_errors(400, 401, 403, 404, 409, 412)},
}


def _has_pending(term: Term) -> bool:
    return PendingChange.objects.filter(term=term).exists()


def pending_body(request, term: Term, pending: PendingChange) -> dict:
    """The pending change of ``term`` with its field diff against the live term."""
    live = document_from_term(
        Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH).get(pk=term.pk)
    ).to_data()
    return {
        "term": term.slug,
        "live_status": term.status,
        "status": pending.status,
        "author": pending.author.get_username() if pending.author else None,
        "contributors": sorted(u.get_username() for u in pending.contributors.all()),
        "reviewed_by": pending.reviewed_by.get_username()
        if pending.reviewed_by
        else None,
        "base_version": pending.base_version,
        "created_at": pending.created_at,
        "updated_at": pending.updated_at,
        "document": pending.document,
        "diff": workflow.document_diff(live, pending.document),
        "url": request.build_absolute_uri(
            reverse("api:term-pending", kwargs={"slug": term.slug})
        ),
    }


class TermYAMLRenderer(renderers.BaseRenderer):
    """The term document as YAML, exactly as ``export_terms`` writes it."""

    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        text = data if isinstance(data, str) else dump_yaml(data)
        return text.encode("utf-8")


class TermMarkdownRenderer(renderers.BaseRenderer):
    """The term as the reference project's documentation page."""

    media_type = "text/markdown"
    format = "md"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode("utf-8")
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


class ZipRenderer(renderers.BaseRenderer):
    """A zip archive of YAML files (``GET /api/v1/export/?format=yaml``)."""

    media_type = "application/zip"
    format = "yaml"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return dump_yaml(data).encode("utf-8")


def _multi(request, name: str) -> list[str]:
    return MultiValueField().clean(request.query_params.getlist(name))


def _requested_statuses(request, visible: list[str], default: list[str]) -> list[str]:
    """The ``status`` parameter, checked against what the reader may see."""
    return _checked_statuses(_multi(request, "status"), visible, default)


def _checked_statuses(
    values: list[str], visible: list[str], default: list[str]
) -> list[str]:
    if not values:
        return [s for s in default if s in visible]
    unknown = [v for v in values if v not in Status.values]
    if unknown:
        raise ValidationError(
            {
                "status": [
                    f"unknown status {', '.join(unknown)}; "
                    f"choose from: {', '.join(Status.values)}"
                ]
            }
        )
    hidden = [v for v in values if v not in visible]
    if hidden:
        raise ValidationError(
            {
                "status": [
                    f"you may not see {', '.join(hidden)} terms; "
                    f"visible: {', '.join(visible)}"
                ]
            }
        )
    return values


def _required_text(request, name: str = "q") -> str:
    text = request.query_params.get(name, "").strip()
    if not text:
        raise ValidationError(
            {name: ["this parameter is required and must not be empty"]}
        )
    if len(text) > 200:
        raise ValidationError({name: ["must be at most 200 characters"]})
    return text


STATUS_PARAM = OpenApiParameter(
    "status",
    str,
    description="Statuses to include (repeat or comma-separate). Defaults to approved.",
    many=True,
    explode=True,
)

TERM_LIST_PARAMETERS = [
    OpenApiParameter(
        "q",
        str,
        description=(
            "Full-text search over name, aliases, definitions and categories; "
            "typo tolerant. Results are ranked by relevance."
        ),
    ),
    OpenApiParameter(
        "ordering",
        str,
        description=(
            "Comma-separated: name, last_reviewed, updated_at (prefix - for "
            "descending); relevance when q is given (the default then)."
        ),
    ),
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter(
        "page_size", int, description="Results per page, at most 100 (default 20)."
    ),
]


@extend_schema_view(
    list=extend_schema(
        summary="List and search terms",
        parameters=TERM_LIST_PARAMETERS,
        responses={200: TermSummarySerializer(many=True), **_errors(400, 404, 429)},
    ),
    retrieve=extend_schema(
        summary="One term, every field (also .yaml)",
        responses={
            (200, "application/json"): TermDetailSerializer,
            (200, "application/yaml"): OpenApiTypes.STR,
            **_errors(404, 429),
        },
    ),
    create=extend_schema(
        summary="Create a term from a term document",
        request=TermDocumentSerializer,
        responses={201: TermDetailSerializer, **_errors(400, 401, 403, 409)},
    ),
    update=extend_schema(
        summary="Replace a term's document",
        request=TermDocumentSerializer,
        parameters=[IF_MATCH_PARAM],
        responses={200: TermDetailSerializer, **_errors(400, 401, 403, 404, 412)},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a term's document",
        request=TermDocumentSerializer(partial=True),
        parameters=[IF_MATCH_PARAM],
        responses={200: TermDetailSerializer, **_errors(400, 401, 403, 404, 412)},
    ),
    destroy=extend_schema(
        summary="Delete a term",
        parameters=[IF_MATCH_PARAM],
        responses={204: None, **_errors(401, 403, 404, 412)},
    ),
)
class TermViewSet(
    GlossaryCacheMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Terms: list, search and read; create, replace, change and delete."""

    lookup_field = "slug"
    # Slugs may hold dots ("node.js"); "<slug>.yaml" and friends route first.
    lookup_value_regex = r"[^/]+"
    filter_backends = [DjangoFilterBackend]
    filterset_class = TermFilterSet
    pagination_class = GlossaryPagination
    renderer_classes = [renderers.JSONRenderer, TermYAMLRenderer, TermMarkdownRenderer]
    queryset = Term.objects.all()

    def get_queryset(self):
        statuses = self.statuses
        if self.action == "list":
            return selectors.term_list_queryset(statuses)
        return selectors.term_detail_queryset(statuses)

    def get_serializer_class(self):
        return TermSummarySerializer if self.action == "list" else TermDetailSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "statuses": self.statuses}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        request.glossary_statuses = self.statuses

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        text = request.query_params.get("q", "").strip()
        ordering = self._ordering(bool(text))
        if text:
            ids = search.ranked_ids(queryset.order_by(), text)
            if ordering:
                ids = list(
                    Term.objects.filter(pk__in=ids)
                    .order_by(*ordering, "slug")
                    .values_list("pk", flat=True)
                )
            page_ids = self.paginate_queryset(ids)
            position = {pk: index for index, pk in enumerate(page_ids)}
            page = sorted(
                queryset.filter(pk__in=page_ids), key=lambda t: position[t.pk]
            )
        else:
            page = self.paginate_queryset(
                queryset.order_by(*(ordering or ["name_key"]), "slug")
            )
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    def _ordering(self, searching: bool) -> list[str]:
        raw = self.request.query_params.get("ordering", "").strip()
        fields = []
        for part in filter(None, (p.strip() for p in raw.split(","))):
            name = part.lstrip("-")
            if name == "relevance" and searching and part == name:
                return []
            if name not in ORDERING_FIELDS:
                allowed = [*ORDERING_FIELDS, *(["relevance"] if searching else [])]
                raise ValidationError(
                    {
                        "ordering": [
                            f"cannot order by {part!r}; "
                            f"choose from: {', '.join(allowed)}"
                        ]
                    }
                )
            fields.append(("-" if part.startswith("-") else "") + ORDERING_FIELDS[name])
        return fields

    def get_object(self):
        slug = self.kwargs["slug"]
        term = self.get_queryset().filter(slug=slug).first()
        if term is None:
            raise NotFound(f"No term with slug {slug!r}.")
        self.etag_term = term
        return term

    def retrieve(self, request, *args, **kwargs):
        term = self.get_object()
        if request.accepted_renderer.format == "yaml":
            return Response(document_from_term(term).to_yaml())
        if request.accepted_renderer.format == "md":
            return Response(render_markdown(term_page(term, self.statuses)))
        return Response(self.get_serializer(term).data)

    # --- writes ---------------------------------------------------------------

    def _writable(self) -> Term:
        slug = self.kwargs["slug"]
        term = (
            Term.objects.filter(slug=slug)
            .prefetch_related(*TERM_DOCUMENT_PREFETCH)
            .first()
        )
        if term is None:
            raise NotFound(f"No term with slug {slug!r}.")
        check_if_match(self.request, term)
        return term

    def _document(self, data) -> TermDocument:
        if not isinstance(data, dict):
            raise DocumentInvalid(
                [
                    Problem(
                        "the request body must be a JSON object holding a term document"
                    )
                ]
            )
        known_roles = set(Role.objects.values_list("slug", flat=True))
        document, problems = validate_term_data(data, known_roles=known_roles)
        if problems:
            raise DocumentInvalid(problems)
        clashes = category_clashes(document.categories)
        if clashes:
            raise DocumentInvalid(
                [
                    Problem(
                        f"category {name!r} clashes with {known!r}; "
                        "spell it the same way",
                        field="categories",
                    )
                    for name, known in clashes.items()
                ]
            )
        return document

    def _written(self, term: Term, code: int) -> Response:
        self.statuses = selectors.visible_statuses(self.request.user)
        fresh = selectors.term_detail_queryset(Status.values).get(pk=term.pk)
        response = Response(self.get_serializer(fresh).data, status=code)
        response["ETag"] = term_etag(fresh, selectors.glossary_state().version)
        response["Location"] = term_url(self.request, fresh.slug)
        return response

    def create(self, request, *args, **kwargs):
        document = self._document(request.data)
        with workflow_errors():
            result = workflow.term_create(
                document=document, actor=request.user, source=ChangeSource.API
            )
        return self._written(result.term, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        term = self._writable()
        pending = getattr(term, "pending", None) if _has_pending(term) else None
        current = document_from_term(term)
        data = request.data
        if kwargs.get("partial"):
            if not isinstance(data, dict):
                raise DocumentInvalid(
                    [Problem("the request body must be a JSON object")]
                )
            # A patch applies to the newest proposal: the pending change if any.
            base = pending.document if pending else current.to_data()
            data = {**base, **data}
        document = self._document(data)
        if document.slug != term.slug:
            raise DocumentInvalid(
                [
                    Problem(
                        f"the name {document.term!r} has the slug {document.slug!r}, "
                        f"not {term.slug!r}; create a new term to rename one",
                        field="term",
                    )
                ]
            )
        with workflow_errors():
            result = workflow.term_edit(
                term=term,
                document=document,
                actor=request.user,
                source=ChangeSource.API,
            )
        if result.pending is not None:
            return Response(
                pending_body(request, result.term, result.pending),
                status=status.HTTP_202_ACCEPTED,
            )
        return self._written(result.term, status.HTTP_200_OK)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        term = self._writable()
        with workflow_errors():
            workflow.term_delete(term=term, actor=request.user, source=ChangeSource.API)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- workflow -------------------------------------------------------------

    def _transition(self, name: str) -> Response:
        term = Term.objects.filter(slug=self.kwargs["slug"]).first()
        if term is None:
            raise NotFound(f"No term with slug {self.kwargs['slug']!r}.")
        check_if_match(self.request, term)
        body = TransitionSerializer(data=self.request.data or {})
        body.is_valid(raise_exception=True)
        replaced_by = None
        if body.validated_data.get("replaced_by"):
            slug = body.validated_data["replaced_by"]
            replaced_by = Term.objects.filter(slug=slug).first()
            if replaced_by is None:
                raise ValidationError({"replaced_by": [f"no term with slug {slug!r}"]})
        with workflow_errors():
            term = workflow.term_transition(
                term=term,
                name=name,
                actor=self.request.user,
                comment=body.validated_data.get("comment", ""),
                replaced_by=replaced_by,
                source=ChangeSource.API,
            )
        return self._written(term, status.HTTP_200_OK)

    @extend_schema(summary="Review the term or its pending change", **TRANSITION_SCHEMA)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def review(self, request, slug=None):
        return self._transition("review")

    @extend_schema(
        summary="Approve the term or its pending change", **TRANSITION_SCHEMA
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def approve(self, request, slug=None):
        return self._transition("approve")

    @extend_schema(
        summary="Send the term back to draft (comment required)", **TRANSITION_SCHEMA
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="request-changes",
        permission_classes=[IsAuthenticated],
    )
    def request_changes(self, request, slug=None):
        return self._transition("request_changes")

    @extend_schema(
        summary="Deprecate the term (optionally naming its replacement)",
        **TRANSITION_SCHEMA,
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def deprecate(self, request, slug=None):
        return self._transition("deprecate")

    @extend_schema(summary="Bring a deprecated term back to draft", **TRANSITION_SCHEMA)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def restore(self, request, slug=None):
        return self._transition("restore")

    def _audited_term(self) -> Term:
        term = Term.objects.filter(slug=self.kwargs["slug"]).first()
        if term is None:
            raise NotFound(f"No term with slug {self.kwargs['slug']!r}.")
        return term

    @extend_schema(
        summary="Audit trail: events and versions (diff with ?from=N&to=M)",
        parameters=[
            OpenApiParameter("from", int, description="Version to diff from."),
            OpenApiParameter(
                "to", int, description="Version to diff to (default: latest)."
            ),
        ],
        responses={200: HistorySerializer, **_errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["get"], permission_classes=[CanSeeDrafts])
    def history(self, request, slug=None):
        term = self._audited_term()
        events = term.events.select_related("actor").order_by("id")
        versions = term.revisions.select_related("author").order_by("version")
        body = {
            "slug": term.slug,
            "events": [
                {
                    "action": e.action,
                    "actor": e.actor_name,
                    "from": e.from_status or None,
                    "to": e.to_status or None,
                    "comment": e.comment,
                    "version": e.version,
                    "pending": e.pending,
                    "source": e.source,
                    "at": e.created_at,
                }
                for e in events
            ],
            "versions": [
                {
                    "version": v.version,
                    "status": v.document.get("status"),
                    "author": v.author.get_username() if v.author else None,
                    "source": v.source,
                    "status_only": v.status_only,
                    "at": v.created_at,
                }
                for v in versions
            ],
        }
        if "from" in request.query_params:
            documents = {v.version: v.document for v in versions}
            chosen = []
            for name, default in (("from", None), ("to", term.version)):
                raw = request.query_params.get(name, default)
                if raw is None or not str(raw).isdigit() or int(raw) not in documents:
                    raise ValidationError(
                        {name: [f"no version {raw!r}; versions: 1-{term.version}"]}
                    )
                chosen.append(int(raw))
            body["diff"] = {
                "from": chosen[0],
                "to": chosen[1],
                "changes": workflow.document_diff(
                    documents[chosen[0]], documents[chosen[1]]
                ),
            }
        return Response(HistorySerializer(body).data)

    @extend_schema(
        summary="Propose an old version's content again (goes through review)",
        responses={
            200: TermDetailSerializer,
            202: PendingSerializer,
            **_errors(401, 403, 404, 409),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"versions/(?P<version>\d+)/restore",
        permission_classes=[IsAuthenticated],
    )
    def restore_version(self, request, slug=None, version=None):
        term = self._audited_term()
        with workflow_errors():
            result = workflow.term_revert(
                term=term,
                version=int(version),
                actor=request.user,
                source=ChangeSource.API,
            )
        if result.pending is not None:
            return Response(
                pending_body(request, result.term, result.pending),
                status=status.HTTP_202_ACCEPTED,
            )
        return self._written(result.term, status.HTTP_200_OK)

    @extend_schema(
        methods=["GET"],
        summary="The pending change and its diff against the live term",
        responses={200: PendingSerializer, **_errors(401, 403, 404)},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Withdraw the pending change",
        responses={204: None, **_errors(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "delete"], permission_classes=[CanSeeDrafts])
    def pending(self, request, slug=None):
        term = self._audited_term()
        if request.method == "DELETE":
            with workflow_errors():
                workflow.pending_withdraw(
                    term=term, actor=request.user, source=ChangeSource.API
                )
            return Response(status=status.HTTP_204_NO_CONTENT)
        if not _has_pending(term):
            raise NotFound(f"The term {term.slug!r} has no pending change.")
        return Response(pending_body(request, term, term.pending))


class ReadView(GlossaryCacheMixin, APIView):
    """Base of the read-only endpoints: anyone may read, responses are cached."""

    permission_classes = [AllowAny]


@extend_schema(
    summary="Resolve a name, slug or alias to terms",
    parameters=[
        OpenApiParameter(
            "q",
            str,
            required=True,
            description=(
                "Any name, slug or alias; case, space, hyphen and underscore "
                "insensitive."
            ),
        ),
        STATUS_PARAM,
    ],
    responses={
        200: LookupResponseSerializer,
        404: OpenApiResponse(
            LookupResponseSerializer,
            description="No match: empty matches and up to 5 suggestions.",
        ),
        **_errors(400, 429),
    },
)
class LookupView(ReadView):
    """Exact lookup; exact name matches first, every candidate of an ambiguous alias."""

    # A miss (with its suggestions) is as worth caching as a hit.
    cached_statuses = (200, 404)

    def get(self, request):
        text = _required_text(request)
        statuses = _requested_statuses(request, self.statuses, [Status.APPROVED])
        queryset = Term.objects.filter(status__in=statuses)
        matches = search.lookup(queryset, text)
        body = {
            "query": text,
            "matches": [
                {
                    "slug": m.term.slug,
                    "term": m.term.name,
                    "short_def": m.term.short_def,
                    "status": m.term.status,
                    "url": term_url(request, m.term.slug),
                    "matched_on": m.matched_on,
                    "alias": m.alias,
                }
                for m in matches
            ],
        }
        if matches:
            return Response(body)
        body["suggestions"] = [
            {
                "slug": t.slug,
                "term": t.name,
                "short_def": t.short_def,
                "url": term_url(request, t.slug),
            }
            for t in search.suggestions(queryset, text)
        ]
        return api_response(404, "not_found", f"No term is called {text!r}.", **body)


@extend_schema(
    summary="Type-ahead suggestions",
    parameters=[
        OpenApiParameter(
            "q", str, required=True, description="What the user typed so far."
        ),
        OpenApiParameter(
            "limit",
            int,
            description=f"At most this many results (1-{AUTOCOMPLETE_MAX}; 10).",
        ),
        STATUS_PARAM,
    ],
    responses={200: AutocompleteResponseSerializer, **_errors(400, 429)},
)
class AutocompleteView(ReadView):
    """Terms whose name or alias has a word starting with the prefix; typo fallback."""

    def get(self, request):
        text = _required_text(request)
        raw_limit = request.query_params.get("limit", "10")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= AUTOCOMPLETE_MAX:
            raise ValidationError(
                {"limit": [f"must be a whole number from 1 to {AUTOCOMPLETE_MAX}"]}
            )
        statuses = _requested_statuses(request, self.statuses, [Status.APPROVED])
        queryset = Term.objects.filter(status__in=statuses)
        results = search.autocomplete(queryset, text, limit=int(raw_limit))
        return Response(
            {
                "query": text,
                "results": [
                    {
                        "slug": m.term.slug,
                        "term": m.term.name,
                        "short_def": m.term.short_def,
                        "matched_on": m.matched_on,
                        "alias": m.alias,
                    }
                    for m in results
                ],
            }
        )


class FacetView(ReadView):
    """A facet (categories, roles or tags) with the number of visible terms each."""

    selector = None
    serializer_class = None

    def get(self, request):
        rows = type(self).selector(self.statuses)
        return Response(self.serializer_class(rows, many=True).data)


@extend_schema(
    summary="Categories with term counts",
    responses={200: CategorySerializer(many=True)},
)
class CategoryListView(FacetView):
    selector = selectors.categories_with_counts
    serializer_class = CategorySerializer


@extend_schema(
    summary="Roles with term counts", responses={200: RoleSerializer(many=True)}
)
class RoleListView(FacetView):
    selector = selectors.roles_with_counts
    serializer_class = RoleSerializer


@extend_schema(
    summary="Governance tags with term counts",
    responses={200: TagSerializer(many=True)},
)
class TagListView(FacetView):
    selector = selectors.tags_with_counts
    serializer_class = TagSerializer


@extend_schema(
    summary="Counts by status, category, role and tag", responses={200: StatsSerializer}
)
class StatsView(ReadView):
    def get(self, request):
        state = selectors.glossary_state()
        stats = selectors.glossary_stats(self.statuses)
        stats.update(glossary_version=state.version, last_change=state.changed_at)
        return Response(StatsSerializer(stats).data)


@extend_schema(
    summary="Relationship targets that name no term yet, most referenced first",
    parameters=[
        OpenApiParameter("page", int, description="Page number, from 1."),
        OpenApiParameter(
            "page_size", int, description="Targets per page, at most 100."
        ),
    ],
    responses={200: WantedPageSerializer, **_errors(400, 404)},
)
class WantedView(ReadView):
    """Paginated like the term list; each target lists up to 100 referencing terms."""

    pagination_class = GlossaryPagination

    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.wanted_targets(self.statuses), request, view=self
        )
        references = selectors.wanted_references(
            self.statuses, [row["target_key"] for row in page]
        )
        return paginator.get_paginated_response(
            [
                {
                    "target": row["target"],
                    "count": row["count"],
                    "referenced_by": [
                        {
                            "slug": slug,
                            "term": name,
                            "kind": kind,
                            "url": term_url(request, slug),
                        }
                        for slug, name, kind in references[row["target_key"]]
                    ],
                }
                for row in page
            ]
        )


@extend_schema(
    summary="The whole glossary for sync (JSON; ?format=yaml for a zip of files)",
    parameters=[
        OpenApiParameter(
            "format",
            str,
            enum=["json", "yaml"],
            description="json (default) or yaml (zip archive)",
        )
    ],
    responses={
        (200, "application/json"): OpenApiTypes.OBJECT,
        (200, "application/zip"): OpenApiTypes.BINARY,
    },
)
class ExportView(ReadView):
    renderer_classes = [renderers.JSONRenderer, ZipRenderer]

    def get(self, request):
        terms = (
            Term.objects.filter(status__in=self.statuses)
            .prefetch_related(*TERM_DOCUMENT_PREFETCH)
            .order_by("slug")
        )
        documents = [(term.slug, document_from_term(term)) for term in terms]
        roles, categories, site = roles_data(), categories_data(), site_texts()
        if request.accepted_renderer.format == "yaml":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for slug, document in documents:
                    archive.writestr(f"glossary/{slug}.yml", document.to_yaml())
                archive.writestr("glossary/roles.yml", dump_yaml(roles))
                archive.writestr("glossary/categories.yml", dump_yaml(categories))
                if site:
                    archive.writestr("glossary/site.yml", dump_yaml(site))
            response = Response(buffer.getvalue())
            response["Content-Disposition"] = 'attachment; filename="glossary.zip"'
            return response
        return Response(
            {
                "glossary_version": self.glossary_version,
                "terms": [document.to_data() for _, document in documents],
                **roles,
                **categories,
                "site": site,
            }
        )


class PlainTextParser(parsers.BaseParser):
    """``text/plain`` bodies, read as UTF-8 text."""

    media_type = "text/plain"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return stream.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError("The text is not valid UTF-8.") from exc


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The text is too long."


@extend_schema(
    summary="Find every glossary term in a text",
    description=(
        'Send JSON `{"text": "...", "status": ["approved"]}` or a '
        "`text/plain` body (then `?status=` selects statuses). Matches names and "
        "aliases case-insensitively on whole words, hyphen/space variants alike, "
        "longest match first. Offsets are Python string indices."
    ),
    request={
        "application/json": AnnotateRequestSerializer,
        "text/plain": OpenApiTypes.STR,
    },
    parameters=[STATUS_PARAM],
    responses={200: AnnotateResponseSerializer, 413: ERRORS[400], **_errors(400, 429)},
)
class AnnotateView(GlossaryCacheMixin, APIView):
    """``POST /api/v1/annotate/``: spans of every term name or alias in the text."""

    permission_classes = [AllowAny]
    parser_classes = [parsers.JSONParser, PlainTextParser]

    def post(self, request):
        limit = settings.GLOSSARY_ANNOTATE_MAX_CHARS
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > 4 * limit:
            raise PayloadTooLarge(
                f"The body is {int(declared):,} bytes; "
                f"the limit is {limit:,} characters."
            )
        data = request.data
        if isinstance(data, str):
            text, requested = data, _multi(request, "status")
        elif isinstance(data, dict):
            body = AnnotateRequestSerializer(data=data)
            body.is_valid(raise_exception=True)
            text = body.validated_data["text"]
            requested = body.validated_data.get("status") or _multi(request, "status")
        else:
            raise ValidationError(
                {"text": ['send a JSON object with "text", or text/plain']}
            )
        if len(text) > limit:
            raise PayloadTooLarge(
                f"The text is {len(text):,} characters; the limit is {limit:,}."
            )
        statuses = _checked_statuses(requested, self.statuses, [Status.APPROVED])
        state = selectors.glossary_state()
        matcher = annotation.glossary_matcher(
            statuses, (state.version, state.changed_at.timestamp())
        )
        spans = annotation.find_spans(matcher, text)
        chosen = {span.candidates[0].slug for span in spans}
        chosen |= {c.slug for span in spans for c in span.candidates}
        terms = {
            t.slug: t
            for t in Term.objects.filter(slug__in=chosen, status__in=statuses).only(
                "slug", "name", "short_def", "status"
            )
        }
        return Response(
            {
                "spans": [
                    {
                        "start": span.start,
                        "end": span.end,
                        "text": text[span.start : span.end],
                        "slug": span.candidates[0].slug,
                        "term": terms[span.candidates[0].slug].name,
                        "short_def": terms[span.candidates[0].slug].short_def,
                        "url": term_url(request, span.candidates[0].slug),
                        "matched_on": span.candidates[0].matched_on,
                        "ambiguous": [c.slug for c in span.candidates]
                        if len(span.candidates) > 1
                        else [],
                    }
                    for span in spans
                ],
                "terms": {
                    slug: {
                        "term": t.name,
                        "short_def": t.short_def,
                        "status": t.status,
                        "url": term_url(request, slug),
                        "page": request.build_absolute_uri(
                            reverse("term-page", kwargs={"slug": slug})
                        ),
                    }
                    for slug, t in sorted(terms.items())
                },
            }
        )


def healthz(request):
    """Liveness and database check: 200 when the database answers, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        body = error_body(
            503,
            "database_unavailable",
            f"The database is not reachable: {exc.__class__.__name__}",
        )
        return JsonResponse({"status": "unavailable", **body}, status=503)
    return JsonResponse(
        {"status": "ok", "database": connection.vendor, "api": reverse("api:term-list")}
    )
