"""Term requests: readers ask for a term the glossary lacks
(``terms.workflow.requests``)."""

import secrets

from django.conf import settings
from django.db import models

from terms.models.choices import NAME_MAX_CHARS

#: The longest context or reason a request may give.
REQUEST_TEXT_MAX_CHARS = 2000


def new_public_id() -> str:
    """An unguessable id for the requester's status page (128 random bits)."""
    return secrets.token_urlsafe(16)


class Urgency(models.TextChoices):
    """How soon the requester needs the term."""

    LOW = "low", "Low: nice to have"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High: people are confused now"
    BLOCKING = "blocking", "Blocking: work waits on it"


class RequestStatus(models.TextChoices):
    """Where a request stands."""

    OPEN = "open", "Open"
    MERGED = "merged", "Merged into another request"
    DECLINED = "declined", "Declined"
    DRAFTED = "drafted", "Turned into a draft term"


class TermRequest(models.Model):
    """One reader's request for a term, and what editors did with it."""

    public_id = models.CharField(
        max_length=32, unique=True, default=new_public_id, editable=False
    )
    term = models.CharField(max_length=NAME_MAX_CHARS, help_text="The term wanted.")
    #: ``terms.documents.naming.lookup_key`` of ``term``: finds the same words asked
    #: again.
    term_key = models.CharField(max_length=NAME_MAX_CHARS * 2, db_index=True)
    context = models.TextField(
        blank=True,
        max_length=REQUEST_TEXT_MAX_CHARS,
        help_text="Where the requester met the term.",
    )
    why = models.TextField(
        "why it matters",
        blank=True,
        max_length=REQUEST_TEXT_MAX_CHARS,
        help_text="What a definition would settle.",
    )
    urgency = models.CharField(
        max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    contact = models.CharField(
        max_length=254,
        blank=True,
        help_text="How editors may reach the requester; only editors see it, "
        "and the glossary never writes to it.",
    )
    status = models.CharField(
        max_length=10,
        choices=RequestStatus.choices,
        default=RequestStatus.OPEN,
        db_index=True,
    )
    reason = models.TextField(
        blank=True,
        max_length=REQUEST_TEXT_MAX_CHARS,
        help_text="Why it was declined (the requester sees this).",
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
    )
    draft = models.ForeignKey(
        "terms.Term",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
        help_text="The term this request became.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.term

    def get_absolute_url(self) -> str:
        """The requester's status page."""
        from django.urls import reverse

        return reverse("request-status", args=[self.public_id])
