"""Webhook subscriptions over the API (administrators: the subscription
permissions): ``/api/v1/webhooks/``."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from terms.api.base import GlossaryAPIMixin
from terms.api.permissions import ModelPermissionsToRead
from terms.api.schema import errors
from terms.api.serializers import TextField
from terms.integrations import outbound
from terms.integrations.webhooks import latest_event_id, new_secret
from terms.models import EVENT_TYPES, WebhookSubscription


class StrictBooleanField(serializers.BooleanField):
    """true or false, and nothing DRF would read as one ("yes", 1)."""

    def to_internal_value(self, data):
        """Refuse anything but a JSON boolean."""
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    """A subscription; the secret is written, never shown again."""

    name = TextField(max_length=200)
    secret = TextField(
        min_length=16,
        max_length=200,
        write_only=True,
        required=False,
        help_text=(
            "Signs each delivery. Leave it out to get a Standard Webhooks secret "
            "(whsec_...), shown once in the answer to the create request."
        ),
    )
    active = StrictBooleanField(required=False, default=True)
    url = serializers.RegexField(
        r"^https?://[^\s/$.?#][^\s]*$",
        max_length=2000,
        help_text="The receiver: an http:// or https:// URL.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)),
        required=False,
        help_text="Event types to send; empty or left out: all of them.",
    )

    def validate_url(self, value: str) -> str:
        """Only receivers at public addresses (``terms.integrations.outbound``)."""
        problem = outbound.check_url(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "name",
            "url",
            "secret",
            "events",
            "active",
            "failures",
            "retry_at",
            "created_at",
        ]
        read_only_fields = ["failures", "retry_at", "created_at"]


class WebhookCreatedSerializer(WebhookSubscriptionSerializer):
    """The answer to a create request: with the secret when it was made here
    (the only time it is shown)."""

    secret = serializers.CharField(
        read_only=True,
        required=False,
        help_text="The Standard Webhooks secret made for this subscription.",
    )


_ERRORS = errors(400, 401, 403, 404, 429)


@extend_schema_view(
    list=extend_schema(
        summary="Webhook subscriptions",
        responses={200: WebhookSubscriptionSerializer(many=True), **_ERRORS},
    ),
    create=extend_schema(
        summary="Subscribe a receiver to change events",
        request=WebhookSubscriptionSerializer,
        responses={201: WebhookCreatedSerializer, **_ERRORS},
    ),
    retrieve=extend_schema(responses={200: WebhookSubscriptionSerializer, **_ERRORS}),
    update=extend_schema(responses={200: WebhookSubscriptionSerializer, **_ERRORS}),
    partial_update=extend_schema(
        responses={200: WebhookSubscriptionSerializer, **_ERRORS}
    ),
    destroy=extend_schema(responses={204: None, **_ERRORS}),
)
class WebhookSubscriptionViewSet(GlossaryAPIMixin, viewsets.ModelViewSet):
    """Subscriptions: a new one receives events from its creation on."""

    queryset = WebhookSubscription.objects.all()
    serializer_class = WebhookSubscriptionSerializer
    # Subscriptions carry secrets and send the glossary's changes where they
    # point: their own permissions, as in the admin (no workflow group has them).
    permission_classes = [ModelPermissionsToRead]
    # Ids are whole numbers: anything else is no such subscription (404).
    lookup_value_regex = r"[0-9]+"

    def perform_create(self, serializer):
        given = serializer.validated_data.get("secret")
        self.generated_secret = None if given else new_secret()
        serializer.save(
            created_by=self.request.user,
            start_after=latest_event_id(),
            secret=given or self.generated_secret,
        )

    def create(self, request, *args, **kwargs):
        """201 with the subscription; a secret made here is shown this once."""
        response = super().create(request, *args, **kwargs)
        if getattr(self, "generated_secret", None):
            response.data["secret"] = self.generated_secret
        return response
