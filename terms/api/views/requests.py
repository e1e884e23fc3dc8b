"""Term requests over the API: ``/api/v1/requests/`` (see
``terms.workflow.requests``)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from terms.api.base import GlossaryAPIMixin, GlossaryView
from terms.api.errors import api_response
from terms.api.pagination import GlossaryPagination
from terms.api.parsers import GlossaryJSONParser
from terms.api.permissions import ModelPermissionsToRead
from terms.api.schema import PAGE_PARAMETERS, errors
from terms.api.serializers import TextField
from terms.models import RequestStatus, TermRequest, Urgency
from terms.serving import throttle
from terms.workflow import requests as term_requests


class RequestDraftSerializer(serializers.Serializer):
    """The term a request became."""

    slug = serializers.CharField()
    term = serializers.CharField(source="name")
    status = serializers.CharField()


class TermRequestSerializer(serializers.ModelSerializer):
    """A term request: what the requester wrote and where it stands.

    ``contact`` is written by the requester and read back by staff only.
    """

    id = serializers.CharField(source="public_id", read_only=True)
    term = TextField(max_length=TermRequest._meta.get_field("term").max_length)
    context = TextField(required=False, allow_blank=True, max_length=2000)
    why = TextField(required=False, allow_blank=True, max_length=2000)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    contact = TextField(required=False, allow_blank=True, max_length=254)
    merged_into = serializers.SlugRelatedField(
        slug_field="public_id", read_only=True, allow_null=True
    )
    draft = RequestDraftSerializer(read_only=True, allow_null=True)
    url = serializers.SerializerMethodField(help_text="The requester's status page.")

    class Meta:
        model = TermRequest
        fields = [
            "id",
            "term",
            "context",
            "why",
            "urgency",
            "contact",
            "status",
            "reason",
            "merged_into",
            "draft",
            "url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "reason", "created_at", "updated_at"]

    def get_url(self, request: TermRequest) -> str:
        """The status page's absolute address."""
        return self.context["request"].build_absolute_uri(request.get_absolute_url())

    def validate_term(self, value: str) -> str:
        """The rules of a term's name."""
        value = value.strip()
        problem = term_requests.term_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_contact(self, value: str) -> str:
        """An email address when it has an ``@``; otherwise as written."""
        value = value.strip()
        problem = term_requests.contact_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def to_internal_value(self, data):
        """Refuse keys that are not part of a request (the spam trap among them)."""
        if isinstance(data, dict):
            if data.get(term_requests.TRAP_FIELD):
                raise serializers.ValidationError(
                    {term_requests.TRAP_FIELD: "must be left empty."}
                )
            writable = {n for n, f in self.fields.items() if not f.read_only}
            unknown = sorted(set(data) - writable - {term_requests.TRAP_FIELD})
            if unknown:
                raise serializers.ValidationError(
                    {key: "is not a field of a term request." for key in unknown}
                )
        return super().to_internal_value(data)

    def to_representation(self, instance):
        """Leave out the contact for everyone but those who handle requests
        (``change_termrequest``: editors), as the admin does."""
        data = super().to_representation(instance)
        user = self.context["request"].user
        if not (user.is_authenticated and user.has_perm("terms.change_termrequest")):
            data.pop("contact", None)
        return data


@extend_schema(
    methods=["GET"],
    summary="Term requests (those who handle them), newest first",
    parameters=[
        *PAGE_PARAMETERS,
        OpenApiParameter(
            "status",
            {"type": "string", "enum": list(RequestStatus.values)},
            description="Only requests in this state.",
        ),
    ],
    responses={200: TermRequestSerializer(many=True), **errors(400, 401, 403, 404)},
)
class RequestsView(GlossaryAPIMixin, ListAPIView):
    """``POST /requests/``: anyone asks for a term. ``GET``: staff list them
    (``?status=`` open, merged, declined or drafted)."""

    parser_classes = [GlossaryJSONParser]
    serializer_class = TermRequestSerializer
    pagination_class = GlossaryPagination
    known_parameters = frozenset({"status", "page", "page_size"})

    def get_permissions(self):
        """Anyone may ask; those who may view requests read the list."""
        if self.request.method == "POST":
            return [AllowAny()]
        return [ModelPermissionsToRead()]  # view_termrequest, as the admin

    def get_queryset(self):
        """Requests, optionally of one status."""
        queryset = TermRequest.objects.select_related("merged_into", "draft")
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in RequestStatus.values:
                raise exceptions.ValidationError(
                    {"status": f"must be one of {', '.join(RequestStatus.values)}."}
                )
            queryset = queryset.filter(status=wanted)
        return queryset

    @extend_schema(
        summary="Ask for a term the glossary lacks",
        request=TermRequestSerializer,
        responses={201: TermRequestSerializer, **errors(400, 409, 413, 429)},
    )
    def post(self, request):
        """Store the request; its ``url`` is the page to follow it on."""
        serializer = TermRequestSerializer(
            data=request.data, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        counted = throttle.over_request_rate(
            request.user, request.META.get("REMOTE_ADDR", "")
        )
        if counted is not None:
            raise exceptions.Throttled(
                wait=counted.retry_after,
                detail=f"Too many term requests from you; try again in "
                f"{counted.retry_after} seconds.",
            )
        try:
            stored = term_requests.submit(
                serializer.validated_data,
                user=request.user,
                statuses=self.statuses,
            )
        except term_requests.AlreadyDefined as exc:
            url = request.build_absolute_uri(exc.term.get_absolute_url())
            return api_response(
                status.HTTP_409_CONFLICT,
                "already_defined",
                f"{exc.term.name!r} is already in the glossary: {url}",
                term={"slug": exc.term.slug, "term": exc.term.name, "url": url},
            )
        body = TermRequestSerializer(stored, context={"request": request}).data
        return Response(
            body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]}
        )


@extend_schema(
    summary="Where a term request stands",
    responses={200: TermRequestSerializer, **errors(404)},
)
class RequestDetailView(GlossaryView):
    """``GET /requests/{id}/``: anyone holding the id may read its status."""

    permission_classes = [AllowAny]

    def get(self, request, public_id):
        """The request, without its contact (unless its handlers ask)."""
        found = (
            TermRequest.objects.select_related("merged_into", "draft")
            .filter(public_id=public_id)
            .first()
        )
        if found is None:
            raise exceptions.NotFound(f"No term request {public_id!r}.")
        return Response(TermRequestSerializer(found, context={"request": request}).data)
