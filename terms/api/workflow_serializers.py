"""Bodies of the workflow endpoints: transitions, pending changes, history."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from terms.api.serializers import TextField
from terms.documents.diffs import document_diff


class TransitionSerializer(serializers.Serializer):
    """Optional body of a workflow step."""

    comment = TextField(required=False, allow_blank=True, max_length=5000)
    replaced_by = TextField(
        required=False,
        allow_blank=True,
        help_text="Deprecate only: slug of the term to use instead.",
    )


class FieldChangeSerializer(serializers.Serializer):
    """One changed field, before and after."""

    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class UsernameField(serializers.Field):
    """A user as their user name (null for nobody)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, user):
        """The user name."""
        return user.get_username()


extend_schema_field({"type": "string", "nullable": True})(UsernameField)


class PendingSerializer(serializers.Serializer):
    """A pending change, with its field diff against the live term.

    Render with ``context["live"]``, the live term's document as data.
    """

    term = serializers.CharField(source="term.slug")
    live_status = serializers.CharField(source="term.status")
    status = serializers.CharField()
    author = UsernameField(allow_null=True)
    contributors = serializers.SerializerMethodField()
    reviewed_by = UsernameField(allow_null=True)
    base_version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    document = serializers.JSONField()
    diff = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    def get_contributors(self, pending) -> list[str]:
        """Everyone who wrote part of the change, by user name."""
        return sorted(user.get_username() for user in pending.contributors.all())

    @extend_schema_field(FieldChangeSerializer(many=True))
    def get_diff(self, pending):
        """Fields the change alters, before and after."""
        return document_diff(self.context["live"], pending.document)

    def get_url(self, pending) -> str:
        """Where the pending change is read and withdrawn."""
        path = reverse("api:term-pending", kwargs={"slug": pending.term.slug})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


def _event_representation(self, event):
    """Empty statuses are null."""
    data = serializers.Serializer.to_representation(self, event)
    data["from"] = data["from"] or None
    data["to"] = data["to"] or None
    return data


#: One audit event of a term (``from`` is a Python keyword, hence this form).
EventSerializer = serializers.SerializerMetaclass(
    "EventSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "One audit event of a term.",
        "__module__": __name__,
        "action": serializers.CharField(),
        "actor": serializers.CharField(source="actor_name"),
        "from": serializers.CharField(source="from_status", allow_null=True),
        "to": serializers.CharField(source="to_status", allow_null=True),
        "comment": serializers.CharField(allow_blank=True),
        "version": serializers.IntegerField(allow_null=True),
        "pending": serializers.BooleanField(),
        "source": serializers.CharField(),
        "at": serializers.DateTimeField(source="created_at"),
        "to_representation": _event_representation,
    },
)


class VersionSerializer(serializers.Serializer):
    """One stored version of a term's document."""

    version = serializers.IntegerField()
    status = serializers.CharField(source="document.status", allow_null=True)
    author = UsernameField(allow_null=True)
    source = serializers.CharField()
    status_only = serializers.BooleanField()
    at = serializers.DateTimeField(source="created_at")


DiffSerializer = serializers.SerializerMetaclass(
    "DiffSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "The changes between two versions.",
        "__module__": __name__,
        "from": serializers.IntegerField(),
        "to": serializers.IntegerField(),
        "changes": FieldChangeSerializer(many=True),
    },
)


class HistorySerializer(serializers.Serializer):
    """A term's audit trail: events, versions and optionally a diff."""

    slug = serializers.CharField()
    events = EventSerializer(many=True)
    versions = VersionSerializer(many=True)
    diff = DiffSerializer(required=False)
