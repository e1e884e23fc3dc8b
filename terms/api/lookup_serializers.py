"""Response bodies of the lookup endpoints: lookup, autocomplete, similar, annotate.

Each names its term in the reader's language when the term has a label in it
(``?lang=``, ``Accept-Language``; ``terms.reads.languages``), with the language of
each shown text beside it.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from terms.api.serializers import TermUrlField, TextField, term_urls
from terms.models import Status, Term
from terms.reads.languages import Localized, localize
from terms.text.matcher import MATCH_KINDS


def shown(context: dict, term: Term) -> Localized:
    """The term in the reader's languages (``context["languages"]``), once per term."""
    cache = context.setdefault("shown", {})
    if term.pk not in cache:
        cache[term.pk] = localize(term, context.get("languages", ()))
    return cache[term.pk]


@extend_schema_field({"type": "string"})
class ShownField(serializers.Field):
    """A term's name or short definition as shown to the reader, or its language."""

    def __init__(self, what: str, **kwargs):
        self.what = what
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, term):
        """Read from ``shown`` (the source is the term)."""
        return getattr(shown(self.context, term), self.what)


def shown_base(source: str) -> type[serializers.Serializer]:
    """A serializer base with ``term``, ``short_def`` and the language of each,
    for the term at ``source``."""
    fields = {
        # DRF refuses a source equal to the field's name.
        "term": ShownField(
            "name",
            **({} if source == "term" else {"source": source}),
            help_text="In the reader's language if it has one.",
        ),
        "language": ShownField(
            "name_language", source=source, help_text="BCP 47 tag of `term`."
        ),
        "short_def": ShownField("short_def", source=source),
        "short_def_language": ShownField(
            "short_def_language", source=source, help_text="BCP 47 tag of `short_def`."
        ),
    }
    name = "ShownTerm" if source == "term" else "Shown"
    return serializers.SerializerMetaclass(name, (serializers.Serializer,), fields)


ShownTerm = shown_base("term")
Shown = shown_base("*")


class MatchSerializer(ShownTerm):
    """A term found by lookup, and what it was found by."""

    slug = serializers.CharField(source="term.slug")
    status = serializers.CharField(source="term.status")
    url = TermUrlField(source="term.slug")
    matched_on = serializers.ChoiceField(
        choices=["name", "slug", "alias", "label", "inflection"],
        help_text=(
            "inflection: the query is another form (plural, verb form) of the "
            "name or alias in `alias`; label: a name or alias in the language "
            "`matched_language`."
        ),
    )
    alias = serializers.CharField(
        allow_null=True,
        help_text="The alias or label matched, or the form inflected.",
    )
    matched_language = serializers.CharField(
        source="language", allow_null=True, help_text="For a label: its language."
    )


class SuggestionSerializer(Shown):
    """A term whose name is close to what was asked for."""

    slug = serializers.CharField()
    url = TermUrlField(source="slug")


class LookupResponseSerializer(serializers.Serializer):
    """Lookup: every match; suggestions when there is none."""

    query = serializers.CharField()
    matches = MatchSerializer(many=True)
    suggestions = SuggestionSerializer(many=True, required=False)


class AutocompleteItemSerializer(ShownTerm):
    """One type-ahead result."""

    slug = serializers.CharField(source="term.slug")
    matched_on = serializers.ChoiceField(choices=["name", "alias", "label", "fuzzy"])
    alias = serializers.CharField(allow_null=True)
    matched_language = serializers.CharField(
        source="language", allow_null=True, help_text="For a label: its language."
    )


class AutocompleteResponseSerializer(serializers.Serializer):
    """Type-ahead results, best first."""

    query = serializers.CharField()
    results = AutocompleteItemSerializer(many=True)
    hint = serializers.CharField(
        required=False,
        help_text=(
            "When nothing completes the text (typo guesses aside): the statuses, "
            "which the reader may see but did not ask for, where terms do."
        ),
    )


class SimilarTermSerializer(serializers.Serializer):
    """A term like the one asked about, and whether an editor linked them."""

    slug = serializers.CharField()
    term = serializers.CharField()
    url = TermUrlField(source="slug")
    score = serializers.FloatField(help_text="Content similarity; higher is closer.")
    linked = serializers.BooleanField(
        help_text="A curated relationship already joins the two terms."
    )


class SimilarResponseSerializer(serializers.Serializer):
    """The terms most like one term, best first."""

    slug = serializers.CharField()
    results = SimilarTermSerializer(many=True)


class AnnotateRequestSerializer(serializers.Serializer):
    """The JSON body of annotate."""

    text = TextField(allow_blank=True, trim_whitespace=False)
    status = serializers.ListField(
        child=serializers.ChoiceField(choices=Status.values), required=False
    )
    format = serializers.ChoiceField(
        choices=["text", "html", "markdown"],
        default="text",
        help_text=(
            "What `text` is. In html and markdown, terms are found in the prose "
            "only (never in code, links, attributes, comments, front matter); "
            "offsets index the document as sent."
        ),
    )
    mark = serializers.ChoiceField(
        choices=["first", "once", "all"],
        required=False,
        help_text=(
            "html or markdown: also answer the document with its terms marked "
            "(`document`), never in headings: each term's first occurrence per "
            "section (first), in the whole document (once), or every one (all)."
        ),
    )

    def validate(self, attrs):
        if attrs.get("mark") and attrs["format"] == "text":
            raise serializers.ValidationError(
                {"mark": ["marks html or markdown documents; say which in format"]}
            )
        return attrs


class SpanSerializer(serializers.Serializer):
    """One occurrence of a term in the text.

    Render with ``context["text"]`` (the text) and ``context["terms"]`` (the
    matched terms by slug).
    """

    start = serializers.IntegerField()
    end = serializers.IntegerField()
    text = serializers.SerializerMethodField()
    slug = serializers.CharField(source="best.slug")
    term = serializers.SerializerMethodField()
    short_def = serializers.SerializerMethodField()
    url = TermUrlField(source="best.slug")
    matched_on = serializers.ChoiceField(
        choices=["name", "alias", "label"], source="best.matched_on"
    )
    match = serializers.ChoiceField(
        choices=list(MATCH_KINDS),
        source="best.match",
        help_text=(
            "How the words matched: the name (exact), an alias, an acronym in "
            "its capitals, a name or alias in another language (label), another "
            "form of a name or alias (inflection), one of those after a word the "
            "glossary uses to make its terms more specific (qualified), or an "
            "abbreviation the text defines for a matched term."
        ),
    )
    ambiguous = serializers.SerializerMethodField(
        help_text="Every candidate when the word is shared."
    )

    def get_text(self, span) -> str:
        """The words as they stand in the text."""
        return self.context["text"][span.start : span.end]

    def get_term(self, span) -> str:
        """The name of the best candidate."""
        return shown(self.context, self.context["terms"][span.best.slug]).name

    def get_short_def(self, span) -> str:
        """The short definition of the best candidate."""
        return shown(self.context, self.context["terms"][span.best.slug]).short_def

    def get_ambiguous(self, span) -> list[str]:
        """Every candidate's slug when there is more than one."""
        return [c.slug for c in span.candidates] if len(span.candidates) > 1 else []

    def to_representation(self, span) -> dict:
        """The fields above, built directly: a 100 KB text has hundreds of
        spans naming a few terms, so each term's shown name, definition and
        URL are worked out once (the field-by-field path took a third of the
        request)."""
        # The context once: DRF finds it by walking up to the root serializer
        # on every access.
        context = self.context
        known = context.setdefault("_annotated", {})
        best = span.best
        found = known.get(best.slug)
        if found is None:
            urls = context.get("_term_urls")
            if urls is None:
                urls = context["_term_urls"] = term_urls(context.get("request"))
            term = shown(context, context["terms"][best.slug])
            found = known[best.slug] = (term.name, term.short_def, urls(best.slug))
        name, short_def, url = found
        return {
            "start": span.start,
            "end": span.end,
            "text": context["text"][span.start : span.end],
            "slug": best.slug,
            "term": name,
            "short_def": short_def,
            "url": url,
            "matched_on": best.matched_on,
            "match": best.match,
            "ambiguous": [c.slug for c in span.candidates]
            if len(span.candidates) > 1
            else [],
        }


class AnnotatedTermSerializer(Shown):
    """A term found in the text, for a tooltip."""

    status = serializers.CharField()
    url = TermUrlField(source="slug")
    page = serializers.SerializerMethodField()

    def get_page(self, term) -> str:
        """The term's human-readable page."""
        path = reverse("term-page", kwargs={"slug": term.slug})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def to_representation(self, term) -> dict:
        """The fields above, built directly, with both addresses worked out
        once per response (``reverse`` per term was most of this part)."""
        context = self.context
        urls = context.get("_term_urls")
        if urls is None:
            urls = context["_term_urls"] = term_urls(context.get("request"))
        pages = context.get("_page_urls")
        if pages is None:
            marker = "glossary-slug-marker"
            template = self.get_page(Term(slug=marker))
            head, _, tail = template.partition(marker)
            pages = context["_page_urls"] = (head, tail)
        local = shown(context, term)
        return {
            "term": local.name,
            "language": local.name_language,
            "short_def": local.short_def,
            "short_def_language": local.short_def_language,
            "status": term.status,
            "url": urls(term.slug),
            "page": f"{pages[0]}{_quoted(term.slug)}{pages[1]}",
        }


def _quoted(slug: str) -> str:
    """A slug as ``reverse`` puts it in a path."""
    from urllib.parse import quote

    from django.utils.http import RFC3986_SUBDELIMS

    return quote(slug, safe=RFC3986_SUBDELIMS + "/~:@")


class AnnotateResponseSerializer(serializers.Serializer):
    """Spans in text order and the terms they name, by slug."""

    spans = SpanSerializer(many=True)
    terms = serializers.DictField(child=AnnotatedTermSerializer())
    document = serializers.CharField(
        required=False,
        help_text="With `mark`: the document with its terms marked.",
    )
