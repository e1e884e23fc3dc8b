"""Webhook subscriptions and the log of their deliveries
(``terms.integrations.webhooks``)."""

from django.conf import settings
from django.db import models

#: The event types a subscription may ask for.
EVENT_TYPES = (
    "term.created",
    "term.updated",
    "term.reviewed",
    "term.approved",
    "term.approval_recorded",
    "term.changes_requested",
    "term.deprecated",
    "term.restored",
    "term.deleted",
    "pending.opened",
    "pending.withdrawn",
    "term.commented",
    "import.finished",
    "release.published",
)


class WebhookSubscription(models.Model):
    """Where to send which events, signed with which secret."""

    name = models.CharField(max_length=200)
    url = models.URLField(max_length=2000)
    secret = models.CharField(
        max_length=200, help_text="Signs each delivery (HMAC-SHA256); keep it private."
    )
    events = models.JSONField(
        default=list, blank=True, help_text="Event types to send; empty: all of them."
    )
    active = models.BooleanField(default=True)
    #: Events up to this audit event id happened before the subscription.
    start_after = models.PositiveBigIntegerField(default=0)
    failures = models.PositiveIntegerField(
        default=0, help_text="Failed attempts in a row; the backoff doubles with each."
    )
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next attempt after a failure is due."
    )
    #: The delivery run now sending (``terms.integrations.webhooks``) and until when its
    #: hold lasts: one run at a time, without a lock held across requests.
    leased_until = models.DateTimeField(null=True, blank=True, editable=False)
    lease_owner = models.CharField(max_length=32, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} -> {self.url}"

    def clean(self) -> None:
        """Only receivers at public addresses (``terms.integrations.outbound``)."""
        from django.core.exceptions import ValidationError

        from terms.integrations.outbound import check_url

        problem = check_url(self.url)
        if problem:
            raise ValidationError({"url": problem})


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one subscription."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.PositiveBigIntegerField(help_text="The audit event delivered.")
    event_type = models.CharField(max_length=40)
    term_slug = models.CharField(max_length=200)
    attempt = models.PositiveIntegerField()
    delivered = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    elapsed_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            # An event is delivered at most once per subscription.
            models.UniqueConstraint(
                fields=["subscription", "event_id"],
                condition=models.Q(delivered=True),
                name="webhook_delivered_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["subscription", "event_id"], name="webhook_sub_event_idx"
            )
        ]

    def __str__(self) -> str:
        state = (
            "delivered"
            if self.delivered
            else f"failed ({self.error or self.status_code})"
        )
        return (
            f"{self.event_type} {self.term_slug} to {self.subscription.name}: {state}"
        )
