"""Response bodies of the lookup endpoints: lookup, autocomplete, similar, annotate.

Each names its term in the reader's language when the term has a label in it
(``?lang=``, ``Accept-Language``; ``terms.languages``), with the language of
each shown text beside it.
"""

from django.urls import reverse
from rest_framework import serializers

from terms.annotation import MATCH_KINDS
from terms.models import Status

from .serializers import TermUrlField, TextField


class MatchSerializer(serializers.Serializer):
    """A term found by lookup, and what it was found by."""

    slug = serializers.CharField(source="term.slug")
    term = serializers.CharField(source="term.name")
    short_def = serializers.CharField(source="term.short_def")
    status = serializers.CharField(source="term.status")
    url = TermUrlField(source="term.slug")
    matched_on = serializers.ChoiceField(
        choices=["name", "slug", "alias", "inflection"],
        help_text=(
            "inflection: the query is another form (plural, verb form) of the "
            "name or alias in `alias`."
        ),
    )
    alias = serializers.CharField(
        allow_null=True, help_text="The alias matched, or the form inflected."
    )


class SuggestionSerializer(serializers.Serializer):
    """A term whose name is close to what was asked for."""

    slug = serializers.CharField()
    term = serializers.CharField(source="name")
    short_def = serializers.CharField()
    url = TermUrlField(source="slug")


class LookupResponseSerializer(serializers.Serializer):
    """Lookup: every match; suggestions when there is none."""

    query = serializers.CharField()
    matches = MatchSerializer(many=True)
    suggestions = SuggestionSerializer(many=True, required=False)


class AutocompleteItemSerializer(serializers.Serializer):
    """One type-ahead result."""

    slug = serializers.CharField(source="term.slug")
    term = serializers.CharField(source="term.name")
    short_def = serializers.CharField(source="term.short_def")
    matched_on = serializers.ChoiceField(choices=["name", "alias", "fuzzy"])
    alias = serializers.CharField(allow_null=True)


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
        choices=["name", "alias"], source="best.matched_on"
    )
    match = serializers.ChoiceField(
        choices=list(MATCH_KINDS),
        source="best.match",
        help_text=(
            "How the words matched: the name (exact), an alias, an acronym in "
            "its capitals, another form of a name or alias (inflection), or an "
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
        return self.context["terms"][span.best.slug].name

    def get_short_def(self, span) -> str:
        """The short definition of the best candidate."""
        return self.context["terms"][span.best.slug].short_def

    def get_ambiguous(self, span) -> list[str]:
        """Every candidate's slug when there is more than one."""
        return [c.slug for c in span.candidates] if len(span.candidates) > 1 else []


class AnnotatedTermSerializer(serializers.Serializer):
    """A term found in the text, for a tooltip."""

    term = serializers.CharField(source="name")
    short_def = serializers.CharField()
    status = serializers.CharField()
    url = TermUrlField(source="slug")
    page = serializers.SerializerMethodField()

    def get_page(self, term) -> str:
        """The term's human-readable page."""
        path = reverse("term-page", kwargs={"slug": term.slug})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class AnnotateResponseSerializer(serializers.Serializer):
    """Spans in text order and the terms they name, by slug."""

    spans = SpanSerializer(many=True)
    terms = serializers.DictField(child=AnnotatedTermSerializer())
