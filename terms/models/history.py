"""The glossary's version, term revisions, pending changes and the audit trail."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from terms.models.choices import Status, choices_check
from terms.models.term import Term


class GlossaryState(models.Model):
    """A single row: the glossary's version, bumped by every write.

    Cached API responses are keyed on it, so one cheap query tells whether a
    cached response is still current.
    """

    version = models.PositiveBigIntegerField(default=1)
    changed_at = models.DateTimeField()
    #: Bumped only by writes that change what anonymous readers see, so the
    #: version and time they are shown (statistics, ETags, Last-Modified) do
    #: not move when only drafts or pending changes do.
    public_version = models.PositiveBigIntegerField(default=1)
    public_changed_at = models.DateTimeField(null=True, blank=True)
    status_counts = models.JSONField(
        null=True,
        blank=True,
        help_text="Terms in each status as of this version; empty until a write.",
    )

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
            choices_check("status", PendingStatus, "pendingchange_status_valid"),
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
    #: Not about one term: an import that wrote something (its counts in the
    #: comment, as JSON), for webhooks.
    IMPORT = "import", "Import finished"
    #: One approval of several (``GLOSSARY_APPROVALS_REQUIRED``): the term or
    #: its pending change stays reviewed until enough approvers agreed.
    APPROVAL = "approval", "Approval recorded"
    #: A comment on the term or its pending change (its id in the comment field
    #: is not kept: the comment's text is the comment row's).
    COMMENT = "comment", "Commented"
    #: Not about one term: a release was published (its name, number, counts
    #: and notes in the comment, as JSON), for webhooks.
    PUBLISH = "publish", "Release published"


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


class TermSource(models.Model):
    """The file an import last wrote a term from: its bytes' SHA-256 and the
    version that write gave the term.

    While the term is still at that version, a file with the same bytes holds
    the stored content, so a later import need not parse it again. Any other
    write gives the term a new version, which retires the record.
    """

    term = models.OneToOneField(
        "terms.Term", primary_key=True, on_delete=models.CASCADE, related_name="source"
    )
    digest = models.CharField(max_length=64)
    version = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.digest[:12]} (version {self.version})"


class Approval(models.Model):
    """One approver's yes to a reviewed term or pending change, while more are
    needed (``GLOSSARY_APPROVALS_REQUIRED``). Any other step or edit of the
    term clears its approvals: agreement is to what is under review now."""

    term = models.ForeignKey(
        "terms.Term", on_delete=models.CASCADE, related_name="approvals"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["term", "approver"], name="one_approval_per_approver"
            )
        ]

    def __str__(self) -> str:
        return f"{self.approver} approved {self.term}"
