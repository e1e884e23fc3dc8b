"""The webhook payloads as the OpenAPI document describes them (``webhooks``,
OpenAPI 3.1), so a receiver can generate or check its handler from the schema.

Each delivery is a ``POST`` with a JSON body and the Standard Webhooks headers
(``webhook-id``, ``webhook-timestamp``, ``webhook-signature``); the receiver
answers 2xx to accept it (anything else is retried).
"""

from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from terms.models import EVENT_TYPES, ChangeSource, Status

_TERM_TYPES = [
    kind for kind in EVENT_TYPES if kind not in ("import.finished", "release.published")
]

_HEADERS = (
    "Signed by the Standard Webhooks scheme: `webhook-id` (the event's id, the "
    "same on every retry), `webhook-timestamp` (Unix seconds) and "
    "`webhook-signature` (`v1,<base64 HMAC-SHA256>` of `id.timestamp.body` with "
    "the subscription's `whsec_` secret); any Standard Webhooks library "
    "verifies it. `X-Glossary-Event` names the event type. Answer with a 2xx "
    "status to accept; anything else is retried with back-off."
)


class TermEventPayload(serializers.Serializer):
    """One change of one term (or of its pending change)."""

    id = serializers.IntegerField(help_text="The audit event's id.")
    type = serializers.ChoiceField(choices=_TERM_TYPES)
    term = serializers.CharField(help_text="The term's slug.")
    previous_version = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)
    from_status = serializers.ChoiceField(choices=Status.values, allow_null=True)
    to_status = serializers.ChoiceField(choices=Status.values, allow_null=True)
    changed_fields = serializers.ListField(
        child=serializers.CharField(),
        help_text="Document fields that differ from the previous version.",
    )
    actor = serializers.CharField(allow_blank=True, help_text="Who made the change.")
    source = serializers.ChoiceField(choices=ChangeSource.values)
    comment = serializers.CharField(allow_blank=True)
    time = serializers.DateTimeField()


class ImportFinishedPayload(serializers.Serializer):
    """One finished import: what it did, in figures."""

    id = serializers.IntegerField(help_text="The audit event's id.")
    type = serializers.ChoiceField(choices=["import.finished"])
    term = serializers.CharField(allow_null=True, help_text="Always null.")
    summary = serializers.DictField(
        help_text="Counts: created, updated, unchanged, deleted and others."
    )
    actor = serializers.CharField(allow_blank=True, help_text="Who ran it.")
    source = serializers.ChoiceField(choices=ChangeSource.values)
    time = serializers.DateTimeField()


class PublishedRelease(serializers.Serializer):
    """What a published release holds."""

    name = serializers.CharField()
    sequence = serializers.IntegerField()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Terms in it, by status."
    )
    notes = serializers.CharField(allow_blank=True, help_text="Markdown.")
    warnings = serializers.IntegerField(help_text="Integrity warnings it carries.")


class ReleasePublishedPayload(serializers.Serializer):
    """A release was published (``GET /api/v1/releases/{name}/`` has the rest)."""

    id = serializers.IntegerField(help_text="The audit event's id.")
    type = serializers.ChoiceField(choices=["release.published"])
    term = serializers.CharField(allow_null=True, help_text="Always null.")
    release = PublishedRelease()
    actor = serializers.CharField(allow_blank=True, help_text="Who published it.")
    source = serializers.ChoiceField(choices=ChangeSource.values)
    time = serializers.DateTimeField()


WEBHOOKS = [
    OpenApiWebhook(
        name="termEvent",
        decorator=extend_schema(
            summary="A term or its pending change changed",
            description=_HEADERS,
            request=TermEventPayload,
            responses={
                200: OpenApiResponse(description="Accepted (any 2xx)."),
            },
        ),
    ),
    OpenApiWebhook(
        name="importFinished",
        decorator=extend_schema(
            summary="An import finished",
            description=_HEADERS,
            request=ImportFinishedPayload,
            responses={
                200: OpenApiResponse(description="Accepted (any 2xx)."),
            },
        ),
    ),
    OpenApiWebhook(
        name="releasePublished",
        decorator=extend_schema(
            summary="A release was published",
            description=_HEADERS,
            request=ReleasePublishedPayload,
            responses={
                200: OpenApiResponse(description="Accepted (any 2xx)."),
            },
        ),
    ),
]
