"""A term and the ordered rows its document is spread over."""

from django.db import models
from django.db.models import Q
from django.urls import reverse

from terms.models.choices import (
    ExampleKind,
    PartOfSpeech,
    RelationKind,
    Status,
    choices_check,
)
from terms.models.vocabulary import Category, GovernanceTag, Role


class Term(models.Model):
    """A glossary term: its live (consumer-visible) content and status."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    name_key = models.CharField(max_length=200, help_text="Lookup key of the name.")
    #: A relationship may name its target by slug; writes find the terms a
    #: changed key may now name by this column, without reading every term.
    slug_key = models.CharField(
        max_length=200, default="", help_text="Lookup key of the slug."
    )
    # Editorial columns may be blank in a draft; the review gate demands them.
    part_of_speech = models.CharField(
        max_length=20, choices=PartOfSpeech.choices, blank=True
    )
    short_def = models.TextField(blank=True)
    long_def = models.TextField(blank=True)
    exec_perspective = models.TextField(blank=True)
    engineer_perspective = models.TextField(blank=True)
    # None means the document has no risk_notes key, which is allowed.
    risk_notes = models.TextField(null=True, blank=True)  # noqa: DJ001
    license = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    last_reviewed = models.DateField()
    replaced_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
        help_text="For a deprecated term: the term to use instead.",
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Denormalised search text, kept in step with the document by every write.
    # On PostgreSQL a generated, weighted tsvector column and trigram indexes are
    # built on these (migration 0003); SQLite searches them with LIKE.
    search_names = models.TextField(
        default="", blank=True, help_text="Lookup keys of the name and aliases."
    )
    search_categories = models.TextField(default="", blank=True)

    categories = models.ManyToManyField(
        Category, through="TermCategory", related_name="terms"
    )
    roles = models.ManyToManyField(Role, through="TermRole", related_name="terms")
    tags = models.ManyToManyField(
        GovernanceTag, through="TermTag", related_name="terms"
    )

    class Meta:
        ordering = ["name_key", "slug"]
        permissions = [
            ("review_term", "Can review terms"),
            ("approve_term", "Can approve terms"),
            ("request_changes_term", "Can send terms back to draft"),
            ("deprecate_term", "Can deprecate terms"),
            ("restore_term", "Can restore deprecated terms"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="term_slug_unique"),
            choices_check("status", Status, "term_status_valid"),
            # A draft may leave it blank; nothing else may.
            models.CheckConstraint(
                condition=Q(part_of_speech__in=PartOfSpeech.values)
                | Q(part_of_speech="", status=Status.DRAFT),
                name="term_part_of_speech_valid",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="term_version_positive"
            ),
            models.CheckConstraint(condition=~Q(slug=""), name="term_slug_not_empty"),
        ]
        indexes = [
            models.Index(fields=["name_key"], name="term_name_key_idx"),
            models.Index(fields=["slug_key"], name="term_slug_key_idx"),
            models.Index(fields=["status"], name="term_status_idx"),
            models.Index(fields=["last_reviewed"], name="term_last_reviewed_idx"),
            models.Index(fields=["updated_at"], name="term_updated_at_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        """The term's public page."""
        return reverse("term-page", kwargs={"slug": self.slug})


class Alias(models.Model):
    """Another name of a term. Not unique across terms: real data shares some."""

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200)
    key = models.CharField(max_length=200, help_text="Lookup key of the alias.")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["term_id", "position"]
        verbose_name_plural = "aliases"
        constraints = [
            models.UniqueConstraint(
                fields=["term", "key"], name="alias_key_unique_per_term"
            ),
            models.UniqueConstraint(
                fields=["term", "position"], name="alias_position_unique"
            ),
        ]
        indexes = [models.Index(fields=["key"], name="alias_key_idx")]

    def __str__(self) -> str:
        return self.name


class LabelKind(models.TextChoices):
    """What a label row holds."""

    NAME = "name", "Name"
    ALIAS = "alias", "Alias"
    SHORT_DEF = "short_def", "Short definition"


class Label(models.Model):
    """A term's name, an alias or its short definition in another language.

    The default language's are the term's own columns and aliases; labels add
    other languages, keyed by BCP 47 tag. Names and aliases carry a lookup key,
    so lookups, autocomplete and annotation find them like English ones.
    """

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="labels")
    language = models.CharField(max_length=35, help_text="BCP 47 language tag.")
    kind = models.CharField(max_length=10, choices=LabelKind.choices)
    text = models.TextField()
    key = models.CharField(
        max_length=200, blank=True, help_text="Lookup key of a name or alias."
    )
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["term_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "position"], name="label_position_unique"
            ),
            models.UniqueConstraint(
                fields=["term", "language", "key"],
                condition=~Q(kind=LabelKind.SHORT_DEF),
                name="label_key_unique_per_language",
            ),
            models.UniqueConstraint(
                fields=["term", "language", "kind"],
                condition=~Q(kind=LabelKind.ALIAS),
                name="label_one_name_and_definition",
            ),
            choices_check("kind", LabelKind, "label_kind_valid"),
        ]
        indexes = [models.Index(fields=["key"], name="label_key_idx")]

    def __str__(self) -> str:
        return f"{self.text} ({self.language})"


class TermCategory(models.Model):
    """A term's membership in a category; position 0 is the primary category."""

    term = models.ForeignKey(
        Term, on_delete=models.CASCADE, related_name="term_categories"
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="term_links"
    )
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["term_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "category"], name="termcategory_unique"
            ),
            models.UniqueConstraint(
                fields=["term", "position"], name="termcategory_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} in {self.category}"


class TermRole(models.Model):
    """A role a term matters to, in the document's order."""

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="term_roles")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="term_links")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["term_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["term", "role"], name="termrole_unique"),
            models.UniqueConstraint(
                fields=["term", "position"], name="termrole_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} for {self.role}"


class TermTag(models.Model):
    """A governance tag on a term, in the document's order."""

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="term_tags")
    tag = models.ForeignKey(
        GovernanceTag, on_delete=models.PROTECT, related_name="term_links"
    )
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["term_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["term", "tag"], name="termtag_unique"),
            models.UniqueConstraint(
                fields=["term", "position"], name="termtag_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} tagged {self.tag}"


class Example(models.Model):
    """A do or don't example of a term, ordered within its kind."""

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="examples")
    kind = models.CharField(max_length=8, choices=ExampleKind.choices)
    text = models.TextField()
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["term_id", "kind", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "kind", "position"], name="example_position_unique"
            ),
            choices_check("kind", ExampleKind, "example_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.text


class Citation(models.Model):
    """A source backing a term. Only http(s) URLs: the database refuses others."""

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="citations")
    source = models.CharField(max_length=500)
    url = models.URLField(max_length=2000)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["term_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "position"], name="citation_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="citation_url_http",
            ),
        ]

    def __str__(self) -> str:
        return self.source


class Relationship(models.Model):
    """A link from a term to another, kept as written and resolved when possible.

    Only the direction written in a document is stored; inverses (a term naming B
    as broader is one of B's narrower terms) are derived when read.
    """

    term = models.ForeignKey(
        Term, on_delete=models.CASCADE, related_name="relationships"
    )
    kind = models.CharField(max_length=10, choices=RelationKind.choices)
    target_name = models.CharField(max_length=200, help_text="The target as written.")
    target_key = models.CharField(max_length=200, help_text="Lookup key of the target.")
    target = models.ForeignKey(
        Term,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incoming_relationships",
        help_text="The term the target resolves to; empty while no such term exists.",
    )
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["term_id", "kind", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "kind", "target_key"], name="relationship_unique"
            ),
            models.UniqueConstraint(
                fields=["term", "kind", "position"], name="relationship_position_unique"
            ),
            choices_check("kind", RelationKind, "relationship_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["target_key"], name="relationship_target_key_idx")
        ]

    def __str__(self) -> str:
        return f"{self.term} {self.kind} {self.target_name}"


class WantedTarget(models.Model):
    """A relationship target that names no term yet, with how many links of
    terms in each status name it (``terms.workflow.services.wanted_refresh``).

    Kept in step with the relationships by every write, so listing wanted terms
    reads a few hundred summary rows instead of grouping every unresolved link.
    """

    target_key = models.CharField(max_length=200, primary_key=True)
    target = models.CharField(max_length=200, help_text="One spelling used.")
    draft = models.PositiveIntegerField(default=0)
    reviewed = models.PositiveIntegerField(default=0)
    approved = models.PositiveIntegerField(default=0)
    deprecated = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.target
