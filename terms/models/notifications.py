"""Who is told what, how, and what was sent (``terms.integrations.notifications``)
and the threads people discuss terms in."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class NotificationMode(models.TextChoices):
    """How a person wants to be told."""

    IMMEDIATE = "immediate", "At once"
    DAILY = "daily", "A daily digest"
    OFF = "off", "Not at all"


class NotificationSettings(models.Model):
    """One person's choice (no row: at once)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    mode = models.CharField(
        max_length=16,
        choices=NotificationMode.choices,
        default=NotificationMode.IMMEDIATE,
    )
    #: When the last daily digest went out.
    last_digest_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"{self.user}: {self.get_mode_display()}"


class Watch(models.Model):
    """A person following a term, a category, or (neither) the whole glossary."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    term = models.ForeignKey(
        "terms.Term", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        "terms.Category",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(term__isnull=True) | Q(category__isnull=True),
                name="watch_one_thing",
            ),
            # One watch per thing (partial indexes: SQLite has no NULLS NOT
            # DISTINCT).
            models.UniqueConstraint(
                fields=["user", "term"],
                condition=Q(term__isnull=False),
                name="one_watch_per_term",
            ),
            models.UniqueConstraint(
                fields=["user", "category"],
                condition=Q(category__isnull=False),
                name="one_watch_per_category",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(term__isnull=True, category__isnull=True),
                name="one_watch_of_the_glossary",
            ),
        ]

    def __str__(self) -> str:
        what = self.term or self.category or "the glossary"
        return f"{self.user} watches {what}"


class GroupChannel(models.Model):
    """A chat room a workflow group is told in: a Slack-compatible incoming
    webhook (``{"text": ...}`` posted to its URL)."""

    group = models.OneToOneField(
        "auth.Group", on_delete=models.CASCADE, related_name="+"
    )
    webhook_url = models.URLField(
        max_length=2000, help_text="The incoming-webhook URL of the group's chat room."
    )
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"chat of {self.group}"


class Notification(models.Model):
    """One message to send: to a person (email), an address (a requester's
    email) or a group's chat. ``key`` makes each at most once."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        CHAT = "chat", "Chat"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    key = models.CharField(max_length=200, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    address = models.EmailField(blank=True)
    group_channel = models.ForeignKey(
        GroupChannel, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=40)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    url = models.URLField(max_length=2000, blank=True)
    digest = models.BooleanField(default=False)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: When a worker took it to send.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "digest"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient or self.address or self.group_channel}"


class NotificationCursor(models.Model):
    """The last audit event turned into notifications (one row)."""

    last_event_id = models.PositiveBigIntegerField(default=0)
    #: When a run for the daily digests is queued for (none: not queued).
    digest_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"notifications up to event {self.last_event_id}"


class Comment(models.Model):
    """A comment on a term or on its pending change; a comment without
    ``reply_to`` starts a thread, which can be resolved."""

    term = models.ForeignKey(
        "terms.Term", on_delete=models.CASCADE, related_name="comments"
    )
    on_pending = models.BooleanField(
        default=False, help_text="About the term's pending change."
    )
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150)
    body = models.TextField(help_text="Markdown.")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.author_name} on {self.term}"
