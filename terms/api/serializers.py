"""Representations of terms and facets. Read-only: writes take the term document."""

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from terms.document import document_from_term
from terms.models import Term
from terms.selectors import term_relationships


def term_url(request, slug: str) -> str:
    path = reverse("api:term-detail", kwargs={"slug": slug})
    return request.build_absolute_uri(path) if request else path


class TermSummarySerializer(serializers.Serializer):
    """A term as listed: enough to show and filter, with a link to the whole."""

    slug = serializers.CharField()
    term = serializers.CharField(source="name")
    url = serializers.SerializerMethodField()
    aliases = serializers.SerializerMethodField()
    categories = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    part_of_speech = serializers.CharField()
    short_def = serializers.CharField()
    status = serializers.CharField()
    last_reviewed = serializers.DateField()
    updated_at = serializers.DateTimeField()

    def get_url(self, term) -> str:
        return term_url(self.context.get("request"), term.slug)

    def get_aliases(self, term) -> list[str]:
        return [alias.name for alias in term.aliases.all()]

    def get_categories(self, term) -> list[str]:
        return [link.category.name for link in term.term_categories.all()]

    def get_roles(self, term) -> list[str]:
        return [link.role.slug for link in term.term_roles.all()]

    def get_tags(self, term) -> list[str]:
        return [link.tag.name for link in term.term_tags.all()]


class RoleRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    takeaway = serializers.CharField()


class CategoryRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    apply_guidance = serializers.ListField(child=serializers.CharField())


class RelatedTermSerializer(serializers.Serializer):
    target = serializers.CharField(
        help_text="The target as written, or the name of a derived one."
    )
    slug = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    derived = serializers.BooleanField(
        help_text="True for an inverse of another term's link."
    )


class RelationshipsSerializer(serializers.Serializer):
    broader = RelatedTermSerializer(many=True)
    narrower = RelatedTermSerializer(many=True)
    related = RelatedTermSerializer(many=True)


class CitationSerializer(serializers.Serializer):
    source = serializers.CharField()
    url = serializers.URLField()


class TermDetailSerializer(TermSummarySerializer):
    """The whole term: every field of its document, plus links and history data."""

    long_def = serializers.CharField()
    audiences = serializers.SerializerMethodField()
    examples = serializers.SerializerMethodField()
    governance = serializers.SerializerMethodField()
    relationships = serializers.SerializerMethodField()
    citations = serializers.SerializerMethodField()
    license = serializers.CharField()
    role_details = serializers.SerializerMethodField()
    category_details = serializers.SerializerMethodField()
    replaced_by = serializers.SerializerMethodField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    links = serializers.SerializerMethodField()
    pending_change = serializers.SerializerMethodField()

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "description": "Shown to users who may see drafts.",
            "properties": {
                "status": {"type": "string"},
                "author": {"type": "string", "nullable": True},
                "updated_at": {"type": "string", "format": "date-time"},
                "url": {"type": "string"},
            },
        }
    )
    def get_pending_change(self, term):
        if "draft" not in self.context["statuses"]:
            return None
        try:
            pending = term.pending
        except ObjectDoesNotExist:
            return None
        request = self.context.get("request")
        path = reverse("api:term-pending", kwargs={"slug": term.slug})
        return {
            "status": pending.status,
            "author": pending.author.get_username() if pending.author else None,
            "updated_at": pending.updated_at,
            "url": request.build_absolute_uri(path) if request else path,
        }

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"exec": {"type": "string"}, "engineer": {"type": "string"}},
        }
    )
    def get_audiences(self, term):
        return {"exec": term.exec_perspective, "engineer": term.engineer_perspective}

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "do": {"type": "array", "items": {"type": "string"}},
                "dont": {"type": "array", "items": {"type": "string"}},
            },
        }
    )
    def get_examples(self, term):
        examples = list(term.examples.all())
        return {
            "do": [e.text for e in examples if e.kind == "do"],
            "dont": [e.text for e in examples if e.kind == "dont"],
        }

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "nist_rmf_tags": {"type": "array", "items": {"type": "string"}},
                "risk_notes": {"type": "string", "nullable": True},
            },
        }
    )
    def get_governance(self, term):
        return {"nist_rmf_tags": self.get_tags(term), "risk_notes": term.risk_notes}

    @extend_schema_field(RelationshipsSerializer)
    def get_relationships(self, term):
        request = self.context.get("request")
        statuses = self.context["statuses"]
        return {
            kind: [
                {
                    "target": entry.target,
                    "slug": entry.term.slug if entry.term else None,
                    "url": term_url(request, entry.term.slug) if entry.term else None,
                    "derived": entry.derived,
                }
                for entry in entries
            ]
            for kind, entries in term_relationships(term, statuses).items()
        }

    @extend_schema_field(CitationSerializer(many=True))
    def get_citations(self, term):
        return [{"source": c.source, "url": c.url} for c in term.citations.all()]

    @extend_schema_field(RoleRefSerializer(many=True))
    def get_role_details(self, term):
        return [
            {
                "slug": link.role.slug,
                "title": link.role.title,
                "takeaway": link.role.takeaway,
            }
            for link in term.term_roles.all()
        ]

    @extend_schema_field(CategoryRefSerializer(many=True))
    def get_category_details(self, term):
        return [
            {
                "name": link.category.name,
                "slug": link.category.slug,
                "apply_guidance": link.category.apply_guidance,
            }
            for link in term.term_categories.all()
        ]

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "slug": {"type": "string"},
                "term": {"type": "string"},
                "url": {"type": "string"},
            },
        }
    )
    def get_replaced_by(self, term):
        target = term.replaced_by
        if target is None or target.status not in self.context["statuses"]:
            return None
        request = self.context.get("request")
        return {
            "slug": target.slug,
            "term": target.name,
            "url": term_url(request, target.slug),
        }

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_links(self, term):
        request = self.context.get("request")
        url = term_url(request, term.slug).rstrip("/")
        return {"yaml": f"{url}.yaml", "history": f"{url}/history/"}


class TermDocumentSerializer(serializers.Serializer):
    """The term document of term-format.md, as JSON (for writes and exports)."""

    term = serializers.CharField()
    aliases = serializers.ListField(child=serializers.CharField())
    categories = serializers.ListField(child=serializers.CharField())
    roles = serializers.ListField(child=serializers.CharField())
    part_of_speech = serializers.CharField()
    short_def = serializers.CharField()
    long_def = serializers.CharField()
    audiences = serializers.DictField(child=serializers.CharField())
    examples = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField())
    )
    governance = serializers.DictField()
    relationships = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField())
    )
    citations = CitationSerializer(many=True)
    license = serializers.CharField()
    status = serializers.CharField()
    last_reviewed = serializers.DateField()

    def to_representation(self, term):
        if isinstance(term, Term):
            return document_from_term(term).to_data()
        return term


class MatchSerializer(serializers.Serializer):
    slug = serializers.CharField()
    term = serializers.CharField()
    short_def = serializers.CharField()
    status = serializers.CharField()
    url = serializers.CharField()
    matched_on = serializers.ChoiceField(choices=["name", "slug", "alias"])
    alias = serializers.CharField(allow_null=True)


class SuggestionSerializer(serializers.Serializer):
    slug = serializers.CharField()
    term = serializers.CharField()
    short_def = serializers.CharField()
    url = serializers.CharField()


class LookupResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    matches = MatchSerializer(many=True)
    suggestions = SuggestionSerializer(many=True, required=False)


class AutocompleteItemSerializer(serializers.Serializer):
    slug = serializers.CharField()
    term = serializers.CharField()
    short_def = serializers.CharField()
    matched_on = serializers.ChoiceField(choices=["name", "alias", "fuzzy"])
    alias = serializers.CharField(allow_null=True)


class AutocompleteResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    results = AutocompleteItemSerializer(many=True)


class CategorySerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    apply_guidance = serializers.ListField(child=serializers.CharField())
    term_count = serializers.IntegerField()


class RoleSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    takeaway = serializers.CharField()
    term_count = serializers.IntegerField()


class TagSerializer(serializers.Serializer):
    name = serializers.CharField()
    term_count = serializers.IntegerField()


class StatsSerializer(serializers.Serializer):
    terms = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_category = serializers.DictField(child=serializers.IntegerField())
    by_role = serializers.DictField(child=serializers.IntegerField())
    by_tag = serializers.DictField(child=serializers.IntegerField())
    last_term_update = serializers.DateTimeField(allow_null=True)
    glossary_version = serializers.IntegerField()
    last_change = serializers.DateTimeField()


class WantedReferenceSerializer(serializers.Serializer):
    slug = serializers.CharField()
    term = serializers.CharField()
    kind = serializers.CharField()
    url = serializers.CharField()


class WantedSerializer(serializers.Serializer):
    target = serializers.CharField()
    count = serializers.IntegerField()
    referenced_by = WantedReferenceSerializer(many=True)


class ErrorDetailSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    line = serializers.IntegerField(required=False, allow_null=True)
    file = serializers.CharField(required=False, allow_null=True)


class ErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    details = ErrorDetailSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


class TransitionSerializer(serializers.Serializer):
    """Optional body of a workflow step."""

    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    replaced_by = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Deprecate only: slug of the term to use instead.",
    )


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class PendingSerializer(serializers.Serializer):
    term = serializers.CharField()
    live_status = serializers.CharField()
    status = serializers.CharField()
    author = serializers.CharField(allow_null=True)
    contributors = serializers.ListField(child=serializers.CharField())
    reviewed_by = serializers.CharField(allow_null=True)
    base_version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    document = serializers.JSONField()
    diff = FieldChangeSerializer(many=True)
    url = serializers.CharField()


class EventSerializer(serializers.Serializer):
    action = serializers.CharField()
    actor = serializers.CharField()
    # "from" is a keyword, so the field is declared below.
    to = serializers.CharField(allow_null=True)
    comment = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField(allow_null=True)
    pending = serializers.BooleanField()
    source = serializers.CharField()
    at = serializers.DateTimeField()


EventSerializer._declared_fields["from"] = serializers.CharField(allow_null=True)


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField(allow_null=True)
    author = serializers.CharField(allow_null=True)
    source = serializers.CharField()
    status_only = serializers.BooleanField()
    at = serializers.DateTimeField()


class DiffSerializer(serializers.Serializer):
    to = serializers.IntegerField()
    changes = FieldChangeSerializer(many=True)


DiffSerializer._declared_fields["from"] = serializers.IntegerField()


class HistorySerializer(serializers.Serializer):
    slug = serializers.CharField()
    events = EventSerializer(many=True)
    versions = VersionSerializer(many=True)
    diff = DiffSerializer(required=False)


class AnnotateRequestSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    status = serializers.ListField(child=serializers.CharField(), required=False)


class SpanSerializer(serializers.Serializer):
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    text = serializers.CharField()
    slug = serializers.CharField()
    term = serializers.CharField()
    short_def = serializers.CharField()
    url = serializers.CharField()
    matched_on = serializers.ChoiceField(choices=["name", "alias"])
    ambiguous = serializers.ListField(
        child=serializers.CharField(),
        help_text="Every candidate when the word is shared.",
    )


class AnnotatedTermSerializer(serializers.Serializer):
    term = serializers.CharField()
    short_def = serializers.CharField()
    status = serializers.CharField()
    url = serializers.CharField()
    page = serializers.CharField()


class AnnotateResponseSerializer(serializers.Serializer):
    spans = SpanSerializer(many=True)
    terms = serializers.DictField(child=AnnotatedTermSerializer())


class WantedPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = WantedSerializer(many=True)
