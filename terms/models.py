"""The glossary's data model.

A term's content is spread over the term row and ordered child rows (aliases,
categories, roles, tags, examples, citations, relationships), so every lookup key
can be indexed. ``terms.document`` is the one place that turns these rows into the
term document of term-format.md and back.

History is planned in from the start: every content version of a term is kept as
a ``TermRevision`` (the whole document as JSON) and every change of content or
status is a ``TermEvent`` (who, when, from/to status, comment).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Status(models.TextChoices):
    """Editorial states of a term (term-format.md)."""

    DRAFT = "draft", "Draft"
    REVIEWED = "reviewed", "Reviewed"
    APPROVED = "approved", "Approved"
    DEPRECATED = "deprecated", "Deprecated"


class PartOfSpeech(models.TextChoices):
    """What kind of word or phrase a term is."""

    NOUN = "noun", "Noun"
    NOUN_PHRASE = "noun_phrase", "Noun phrase"
    VERB = "verb", "Verb"
    ADJECTIVE = "adjective", "Adjective"
    PROCESS = "process", "Process"
    CONCEPT = "concept", "Concept"


class RelationKind(models.TextChoices):
    """How a term relates to the term it names."""

    BROADER = "broader", "Broader"
    NARROWER = "narrower", "Narrower"
    RELATED = "related", "Related"


class ExampleKind(models.TextChoices):
    """Whether an example shows good or bad practice."""

    DO = "do", "Do"
    DONT = "dont", "Don't"


def _choices_check(field: str, choices: type[models.TextChoices], name: str):
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}), name=name
    )


class Role(models.Model):
    """An audience role (product, engineering, ...) with the text shown for it."""

    slug = models.SlugField(max_length=64)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    takeaway = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="role_slug_unique")
        ]

    def __str__(self) -> str:
        return self.title or self.slug


class Category(models.Model):
    """A topic terms belong to, with its "practice & apply" guidance."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    apply_guidance = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["name"], name="category_name_unique"),
            models.UniqueConstraint(fields=["slug"], name="category_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class GovernanceTag(models.Model):
    """A governance tag such as a NIST AI RMF characteristic ("transparency")."""

    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name"], name="tag_name_unique")]

    def __str__(self) -> str:
        return self.name


class SiteText(models.Model):
    """A site-wide sentence used by the term pages (``site.yml``)."""

    key = models.CharField(max_length=64)
    value = models.TextField()

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="sitetext_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


class Term(models.Model):
    """A glossary term: its live (consumer-visible) content and status."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    name_key = models.CharField(max_length=200, help_text="Lookup key of the name.")
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
            _choices_check("status", Status, "term_status_valid"),
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
            _choices_check("kind", ExampleKind, "example_kind_valid"),
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


class LinkCheck(models.Model):
    """The last check of one citation URL (``manage.py check_citations``).

    Kept per URL, not per citation, so rewriting a term's citations keeps what
    is known about their links, and a URL cited by many terms is fetched once.
    """

    url = models.URLField(max_length=2000, unique=True)
    ok = models.BooleanField(help_text="Answered below 400 after redirects.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    final_url = models.URLField(max_length=2000, blank=True)
    error = models.TextField(blank=True, help_text="Why no answer came, if none.")
    elapsed_ms = models.PositiveIntegerField(help_text="Time of the last attempt.")
    attempts = models.PositiveSmallIntegerField(default=1)
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["url"]
        indexes = [models.Index(fields=["ok"], name="linkcheck_ok_idx")]

    def __str__(self) -> str:
        return f"{self.url}: {self.state}" + ("" if self.ok else " (broken)")

    @property
    def state(self) -> str:
        """``HTTP 200``, ``HTTP 404``, ``no answer within 10 s``: what it answered."""
        if self.status_code is not None:
            return f"HTTP {self.status_code}"
        return self.error or "no answer"


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
            _choices_check("kind", RelationKind, "relationship_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["target_key"], name="relationship_target_key_idx")
        ]

    def __str__(self) -> str:
        return f"{self.term} {self.kind} {self.target_name}"


class GlossaryState(models.Model):
    """A single row: the glossary's version, bumped by every write.

    Cached API responses are keyed on it, so one cheap query tells whether a
    cached response is still current.
    """

    version = models.PositiveBigIntegerField(default=1)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="glossarystate_single_row")
        ]

    def __str__(self) -> str:
        return f"glossary v{self.version}"


class ChangeSource(models.TextChoices):
    """Where a change came from."""

    IMPORT = "import", "Import"
    API = "api", "API"
    ADMIN = "admin", "Admin"


class TermRevision(models.Model):
    """One version of a term's document, exactly as it was (term-format.md, as JSON).

    Like events, revisions outlive a deleted term (``term`` becomes empty).
    """

    term = models.ForeignKey(
        Term, null=True, blank=True, on_delete=models.SET_NULL, related_name="revisions"
    )
    term_slug = models.SlugField(max_length=200, default="")
    version = models.PositiveIntegerField()
    document = models.JSONField()
    source = models.CharField(max_length=10, choices=ChangeSource.choices)
    status_only = models.BooleanField(
        default=False,
        help_text="Only the status (and review date) changed, not the content.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["term", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "version"], name="revision_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} v{self.version}"


class PendingStatus(models.TextChoices):
    """Where a pending change stands in its review."""

    DRAFT = "draft", "Draft"
    REVIEWED = "reviewed", "Reviewed"


class PendingChange(models.Model):
    """A proposed new document for a reviewed or approved term.

    Consumers keep seeing the live term until the change is approved; then the
    document becomes the live term and this row is deleted. One per term.
    """

    term = models.OneToOneField(Term, on_delete=models.CASCADE, related_name="pending")
    document = models.JSONField(help_text="The whole proposed term document.")
    status = models.CharField(
        max_length=20, choices=PendingStatus.choices, default=PendingStatus.DRAFT
    )
    base_version = models.PositiveIntegerField(
        help_text="The live version the change was made against."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who last edited the change.",
    )
    contributors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Everyone who edited it: none of them may review or approve it.",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            _choices_check("status", PendingStatus, "pendingchange_status_valid"),
        ]

    def __str__(self) -> str:
        return f"pending change to {self.term}"


class EventAction(models.TextChoices):
    """What happened to a term."""

    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    REVIEW = "review", "Reviewed"
    APPROVE = "approve", "Approved"
    REQUEST_CHANGES = "request_changes", "Changes requested"
    DEPRECATE = "deprecate", "Deprecated"
    RESTORE = "restore", "Restored"
    PROPOSE = "propose", "Change proposed"
    WITHDRAW = "withdraw", "Change withdrawn"
    REVERT = "revert", "Old version proposed"


class TermEvent(models.Model):
    """An audit record: who did what to a term, when, and with which status change.

    Events outlive the term they describe (``term`` becomes empty, ``term_slug``
    stays), so a deletion remains auditable.
    """

    term = models.ForeignKey(
        Term, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    term_slug = models.SlugField(max_length=200)
    action = models.CharField(max_length=20, choices=EventAction.choices)
    source = models.CharField(max_length=10, choices=ChangeSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(
        max_length=150, help_text="Username at the time, or the system actor's name."
    )
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    version = models.PositiveIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    pending = models.BooleanField(
        default=False, help_text="The action concerned a pending change."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["term", "created_at"], name="event_term_time_idx"),
            models.Index(fields=["term_slug"], name="event_term_slug_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.term_slug}: {self.action} by {self.actor_name}"
