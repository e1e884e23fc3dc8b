"""Every response body of the API, and the term document as JSON.

The serializer that documents a response in the OpenAPI schema is the one that
renders it. The term document's fields are generated from
``terms.documents.document.FIELDS``, for writes and for the term detail alike.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from terms.documents.document import (
    CHOICE,
    CITATIONS,
    DATE,
    FIELDS,
    GROUPS,
    LABEL_DEF_MAX_CHARS,
    LABELS,
    NAME_MAX_CHARS,
    TERM_KEYS,
    TEXT,
    required_keys,
)
from terms.documents.mapping import document_from_term
from terms.reads.languages import default_language, localize
from terms.reads.selectors import term_relationships


def term_url(request, slug: str) -> str:
    """The absolute URL of a term's API detail (a path without a request)."""
    path = reverse("api:term-detail", kwargs={"slug": slug})
    return request.build_absolute_uri(path) if request else path


def term_urls(request):
    """``term_url`` for many slugs: the address is worked out once, then each
    slug (quoted as ``reverse`` would) is put in its place."""
    from urllib.parse import quote

    from django.utils.http import RFC3986_SUBDELIMS

    marker = "glossary-slug-marker"
    template = term_url(request, marker)
    head, _, tail = template.partition(marker)
    # The characters reverse() leaves as they are (django.urls.resolvers).
    safe = RFC3986_SUBDELIMS + "/~:@"
    return lambda slug: f"{head}{quote(slug, safe=safe)}{tail}"


class TextField(serializers.CharField):
    """A string, and only a string: DRF's CharField would turn 0 into "0"."""

    def to_internal_value(self, data):
        """Refuse numbers, booleans, lists and objects."""
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CitationSerializer(serializers.Serializer):
    """One citation of a term."""

    source = serializers.CharField()
    url = serializers.URLField()


class LanguageLabelsSerializer(serializers.Serializer):
    """A term's name, aliases and short definition in one other language."""

    name = serializers.CharField(max_length=NAME_MAX_CHARS)
    aliases = serializers.ListField(
        child=serializers.CharField(max_length=NAME_MAX_CHARS), required=False
    )
    short_def = serializers.CharField(
        max_length=LABEL_DEF_MAX_CHARS, required=False, allow_blank=True
    )


def _value_field(spec, reading: bool = False, **kwargs) -> serializers.Field:
    # An editorial value may be null or empty in a draft (terms.documents.document); a
    # read shows an optional value that is left out as empty.
    lenient = spec.draft_may_omit or (reading and not spec.required)
    if spec.kind == TEXT:
        return serializers.CharField(
            max_length=spec.max_chars,
            allow_null=lenient or not spec.required,
            allow_blank=lenient,
            **kwargs,
        )
    if spec.kind == CHOICE:
        return serializers.ChoiceField(
            choices=list(spec.choices),
            allow_blank=lenient,
            allow_null=lenient,
            **kwargs,
        )
    if spec.kind == DATE:
        return serializers.DateField(**kwargs)
    if spec.kind == CITATIONS:
        return CitationSerializer(many=True, allow_null=lenient, **kwargs)
    if spec.kind == LABELS:
        return serializers.DictField(
            child=LanguageLabelsSerializer(),
            allow_null=True,
            help_text="By BCP 47 language tag.",
            **kwargs,
        )
    return serializers.ListField(
        child=serializers.CharField(max_length=spec.max_chars),
        min_length=None if lenient else spec.min_items or None,
        allow_null=lenient,
        **kwargs,
    )


def document_fields(
    *, keys=TERM_KEYS, source_prefix: str | None = None, **kwargs
) -> dict[str, serializers.Field]:
    """One serializer field per top-level key of the term document.

    ``source_prefix`` reads each value from a mapping attribute of the instance
    (``"document_data."``) instead of an attribute named like the key. For
    writes, only what a draft needs is required; the validator asks for more
    when the status is not ``draft``.
    """
    fields = {}
    writes = not kwargs.get("read_only")
    needed = required_keys(draft=True)
    for key in keys:
        if source_prefix is not None:
            kwargs["source"] = f"{source_prefix}{key}"
        if writes:
            kwargs["required"] = key in needed
        if key in GROUPS:
            members = {
                spec.path[1]: _value_field(
                    spec,
                    reading=not writes,
                    required=spec.required and not spec.draft_may_omit,
                )
                for spec in GROUPS[key]
            }
            group = serializers.SerializerMetaclass(
                f"Document{key.title()}Serializer", (serializers.Serializer,), members
            )
            fields[key] = group(**kwargs)
        else:
            [spec] = [f for f in FIELDS if f.key == key]
            fields[key] = _value_field(spec, reading=not writes, **kwargs)
    return fields


#: The term document as JSON: the body of writes and of the export's terms.
TermDocumentSerializer = serializers.SerializerMetaclass(
    "TermDocumentSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "The term document of term-format.md, as JSON.",
        "__module__": __name__,
        **document_fields(),
    },
)


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

    localized = serializers.SerializerMethodField(
        help_text=(
            "The name, aliases and short definition as shown to a reader who "
            "asked for other languages (?lang=, Accept-Language), with the "
            "language of each."
        )
    )

    def get_url(self, term) -> str:
        # Worked out once per response (a page lists up to 100 terms).
        url = self.context.get("term_url")
        if url is None:
            url = self.context["term_url"] = term_urls(self.context.get("request"))
        return url(term.slug)

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "term": {"type": "string"},
                "language": {"type": "string"},
                "aliases": {"type": "array", "items": {"type": "string"}},
                "short_def": {"type": "string"},
                "short_def_language": {"type": "string"},
            },
        }
    )
    def get_localized(self, term) -> dict:
        shown = localize(term, self.context.get("languages", ()))
        return {
            "term": shown.name,
            "language": shown.name_language,
            "aliases": list(shown.aliases)
            if shown.name_language != default_language()
            else self.get_aliases(term),
            "short_def": shown.short_def,
            "short_def_language": shown.short_def_language,
        }

    # Read flat when a page was given its parts (``selectors.with_summary_parts``),
    # through the prefetched related objects otherwise.

    def get_aliases(self, term) -> list[str]:
        if parts := getattr(term, "summary_parts", None):
            return list(parts.aliases)
        return [alias.name for alias in term.aliases.all()]

    def get_categories(self, term) -> list[str]:
        if parts := getattr(term, "summary_parts", None):
            return list(parts.categories)
        return [link.category.name for link in term.term_categories.all()]

    def get_roles(self, term) -> list[str]:
        if parts := getattr(term, "summary_parts", None):
            return list(parts.roles)
        return [link.role.slug for link in term.term_roles.all()]

    def get_tags(self, term) -> list[str]:
        if parts := getattr(term, "summary_parts", None):
            return list(parts.tags)
        return [link.tag.name for link in term.term_tags.all()]


class RoleRefSerializer(serializers.Serializer):
    """A role of a term, with its takeaway."""

    slug = serializers.CharField()
    title = serializers.CharField()
    takeaway = serializers.CharField()


class CategoryRefSerializer(serializers.Serializer):
    """A category of a term, with its guidance."""

    name = serializers.CharField()
    slug = serializers.CharField()
    apply_guidance = serializers.ListField(child=serializers.CharField())


class RelatedTermSerializer(serializers.Serializer):
    """One relationship as a reader sees it."""

    target = serializers.CharField(
        help_text="The target as written, or the name of a derived one."
    )
    slug = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    derived = serializers.BooleanField(
        help_text="True for an inverse of another term's link."
    )


class RelationshipsSerializer(serializers.Serializer):
    """Relationships by kind, written and derived."""

    broader = RelatedTermSerializer(many=True)
    narrower = RelatedTermSerializer(many=True)
    related = RelatedTermSerializer(many=True)


#: Keys of the detail taken from the document as it is (relationships are
#: shown resolved, with their derived inverses).
DETAIL_DOCUMENT_KEYS = tuple(key for key in TERM_KEYS if key != "relationships")


class TermDetailSerializer(TermSummarySerializer):
    """The whole term: every field of its document, plus links and history data.

    Document values come from ``terms.documents.document``, so a field declared there
    appears here without further code.
    """

    locals().update(
        document_fields(
            keys=DETAIL_DOCUMENT_KEYS, source_prefix="document_data.", read_only=True
        )
    )
    relationships = serializers.SerializerMethodField()
    role_details = serializers.SerializerMethodField()
    category_details = serializers.SerializerMethodField()
    replaced_by = serializers.SerializerMethodField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    links = serializers.SerializerMethodField()
    pending_change = serializers.SerializerMethodField()

    def to_representation(self, term):
        """Read the document once; its values fill the document fields."""
        term.document_data = document_from_term(term).to_data(complete=True)
        return super().to_representation(term)

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
        """The pending change's state, for readers who may see drafts."""
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


class TermUrlField(serializers.Field):
    """The API URL of the term whose slug the source names."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, slug):
        """Absolute when the request is known."""
        return term_url(self.context.get("request"), slug)


extend_schema_field({"type": "string", "format": "uri"})(TermUrlField)


class CategorySerializer(serializers.Serializer):
    """A category with its number of visible terms."""

    name = serializers.CharField()
    slug = serializers.CharField()
    apply_guidance = serializers.ListField(child=serializers.CharField())
    term_count = serializers.IntegerField()


class RoleSerializer(serializers.Serializer):
    """A role with its number of visible terms."""

    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    takeaway = serializers.CharField()
    term_count = serializers.IntegerField()


class TagSerializer(serializers.Serializer):
    """A governance tag with its number of visible terms."""

    name = serializers.CharField()
    term_count = serializers.IntegerField()


class CitationLinksSerializer(serializers.Serializer):
    """Citations of visible terms and their links' last check."""

    total = serializers.IntegerField()
    broken = serializers.IntegerField(help_text="The link failed its last check.")
    unchecked = serializers.IntegerField(help_text="Never checked yet.")


class StatsSerializer(serializers.Serializer):
    """Counts of visible terms, and the glossary's version."""

    terms = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_category = serializers.DictField(child=serializers.IntegerField())
    by_role = serializers.DictField(child=serializers.IntegerField())
    by_tag = serializers.DictField(child=serializers.IntegerField())
    last_term_update = serializers.DateTimeField(allow_null=True)
    citations = CitationLinksSerializer()
    glossary_version = serializers.IntegerField()
    last_change = serializers.DateTimeField()


class WantedReferenceSerializer(serializers.Serializer):
    """A term that names a wanted target."""

    slug = serializers.CharField()
    term = serializers.CharField()
    kind = serializers.CharField()
    url = TermUrlField(source="slug")

    def to_representation(self, instance):
        """Plain values, written directly: a page of wanted targets can list
        thousands of referring terms."""
        url = self.context.get("term_url")
        if url is None:
            url = self.context["term_url"] = term_urls(self.context.get("request"))
        return {
            "slug": instance["slug"],
            "term": instance["term"],
            "kind": instance["kind"],
            "url": url(instance["slug"]),
        }


class WantedSerializer(serializers.Serializer):
    """A relationship target that names no term yet."""

    target = serializers.CharField()
    count = serializers.IntegerField()
    referenced_by = WantedReferenceSerializer(many=True)


class ErrorDetailSerializer(serializers.Serializer):
    """One problem: the field it is about and what is wrong."""

    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    line = serializers.IntegerField(required=False, allow_null=True)
    file = serializers.CharField(required=False, allow_null=True)


class ErrorBodySerializer(serializers.Serializer):
    """The error: status, code, message and details."""

    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    details = ErrorDetailSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    """Every error response of the API."""

    error = ErrorBodySerializer()


class WantedPageSerializer(serializers.Serializer):
    """A page of wanted terms."""

    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = WantedSerializer(many=True)
