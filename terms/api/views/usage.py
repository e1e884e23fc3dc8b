"""What readers look for: searches (and those that found nothing) and the
terms most used, for those who work the backlog."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from terms.api.base import GlossaryAPIMixin
from terms.api.pagination import GlossaryPagination
from terms.api.schema import PAGE_PARAMETERS, errors
from terms.models import UsageSource
from terms.reads import usage

MAX_DAYS = 400
_YES, _NO = {"1", "true", "yes"}, {"0", "false", "no"}


class WorksTheBacklog(BasePermission):
    """The counts are for those who may read term requests (editors)."""

    message = "Usage figures need the terms.view_termrequest permission."

    def has_permission(self, request, view):
        user = request.user
        return bool(
            user and user.is_authenticated and user.has_perm("terms.view_termrequest")
        )


class SearchFigureSerializer(serializers.Serializer):
    """One query's figures."""

    query = serializers.CharField(help_text="The words, case folded, spaces collapsed.")
    count = serializers.IntegerField()
    first_seen = serializers.DateField()
    last_seen = serializers.DateField()


class TermFigureSerializer(serializers.Serializer):
    """One term's figures."""

    slug = serializers.SlugField()
    term = serializers.CharField()
    count = serializers.IntegerField()
    sources = serializers.DictField(
        child=serializers.IntegerField(), help_text="The count by source."
    )


DAYS_PARAM = OpenApiParameter(
    "days",
    {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
    description=f"The last this many days, today included (1-{MAX_DAYS}; "
    f"{usage.DEFAULT_DAYS}).",
)
SOURCE_PARAM = OpenApiParameter(
    "source",
    {"type": "string", "enum": list(UsageSource.values)},
    description="Only reads from this source.",
)


def _days(request) -> int:
    raw = request.query_params.get("days", str(usage.DEFAULT_DAYS))
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_DAYS:
        raise ValidationError(
            {"days": [f"must be a whole number from 1 to {MAX_DAYS}"]}
        )
    return int(raw)


def _source(request) -> str:
    if "source" not in request.query_params:
        return ""
    source = request.query_params["source"]
    if source not in UsageSource.values:
        raise ValidationError(
            {"source": [f"must be one of {', '.join(UsageSource.values)}"]}
        )
    return source


def _missing(request) -> bool | None:
    raw = request.query_params.get("missing")
    if raw is None:
        return None
    if raw.lower() in _YES:
        return True
    if raw.lower() in _NO:
        return False
    raise ValidationError({"missing": ["must be 1 (true) or 0 (false)"]})


@extend_schema(
    summary="Searches readers made, most asked first",
    description=(
        "Normalised queries (case folded, spaces collapsed) with how often they "
        "were asked and the first and last day. `missing=1` keeps those that "
        "found nothing. Counts are daily and keep nothing about who asked; "
        "they appear within a minute (`manage.py usage flush`: at once)."
    ),
    parameters=[
        OpenApiParameter(
            "missing",
            {"type": "string", "enum": ["1", "0", "true", "false"]},
            description="1: only searches that found nothing; 0: only those that "
            "found something.",
        ),
        SOURCE_PARAM,
        DAYS_PARAM,
        *PAGE_PARAMETERS,
    ],
    responses={200: SearchFigureSerializer(many=True), **errors(400, 401, 403, 404)},
)
class SearchStatsView(GlossaryAPIMixin, GenericAPIView):
    """``GET /stats/searches/``."""

    permission_classes = [WorksTheBacklog]
    pagination_class = GlossaryPagination
    serializer_class = SearchFigureSerializer
    known_parameters = frozenset({"missing", "source", "days", "page", "page_size"})

    def get(self, request):
        """A page of searches."""
        rows = usage.searches(
            _days(request), missing=_missing(request), source=_source(request)
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema(
    summary="The terms readers used most",
    description=(
        "Entries read, lookups, searches (their best answer) and annotations, "
        "summed, with the count by source."
    ),
    parameters=[
        SOURCE_PARAM,
        DAYS_PARAM,
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": 100},
            description="At most this many terms (1-100; 20).",
        ),
    ],
    responses={200: TermFigureSerializer(many=True), **errors(400, 401, 403)},
)
class TermStatsView(GlossaryAPIMixin, GenericAPIView):
    """``GET /stats/terms/``."""

    permission_classes = [WorksTheBacklog]
    serializer_class = TermFigureSerializer
    known_parameters = frozenset({"source", "days", "limit"})

    def get(self, request):
        """The most used terms the reader may see."""
        raw = request.query_params.get("limit", "20")
        if not raw.isdecimal() or not 1 <= int(raw) <= 100:
            raise ValidationError({"limit": ["must be a whole number from 1 to 100"]})
        rows = usage.top_terms(
            self.statuses, _days(request), int(raw), source=_source(request)
        )
        return Response(self.get_serializer(rows, many=True).data)
