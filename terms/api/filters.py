"""``TermFilterSet``: the list endpoint's filters.

Multi-valued filters take repeated (``?status=a&status=b``) or comma-separated
(``?status=a,b``) values and match any of them; different filters combine with
AND. Unknown values are refused with a 400 naming the parameter, never answered
with a silently empty list.
"""

import datetime

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.text import slugify
from django_filters.widgets import QueryArrayWidget
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.filters import OrderingFilter

from terms.models import (
    Category,
    GovernanceTag,
    PartOfSpeech,
    Role,
    Status,
    Term,
    TermCategory,
    TermRole,
    TermTag,
)
from terms.reads.selectors import visible_statuses


class MultiValueField(forms.Field):
    """A list of non-empty strings from repeated or comma-separated parameters."""

    widget = QueryArrayWidget

    def clean(self, value):
        """The values, in order; a parameter given but empty is refused."""
        values = value if isinstance(value, list) else [value] if value else []
        cleaned = []
        for item in values:
            cleaned.extend(
                part.strip() for part in str(item).split(",") if part.strip()
            )
        if values and not cleaned:
            raise forms.ValidationError(
                "is empty; name at least one value or leave the parameter out"
            )
        return cleaned


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class MultiValueFilter(django_filters.Filter):
    """Repeated or comma-separated values; a term matches any of them."""

    field_class = MultiValueField


def _refuse(param: str, unknown: list[str], known) -> None:
    if unknown:
        names = ", ".join(repr(value) for value in unknown)
        raise ValidationError(
            {param: [f"unknown value {names}; choose from: {', '.join(known)}"]}
        )


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time, compared in UTC.

    Python accepts UTC offsets up to a day; PostgreSQL refuses those beyond
    15:59, so the value is converted first, and one that cannot be (a date
    near year 1 or 9999 with an offset past the calendar's end) is a 400.
    """

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(datetime.UTC)
            except OverflowError as exc:
                raise ValidationError(
                    {self.field_name_in_query: ["is out of the calendar's range"]}
                ) from exc
        return super().filter(qs, value)

    @property
    def field_name_in_query(self) -> str:
        """The query parameter's name, for the error."""
        return (
            self.parent
            and next(
                (name for name, f in self.parent.filters.items() if f is self), "value"
            )
        ) or "value"


class TermFilterSet(django_filters.FilterSet):
    """Filters of ``GET /api/v1/terms/``."""

    status = MultiValueFilter(method="filter_status", label="Status (any of)")
    category = MultiValueFilter(method="filter_category", label="Category name or slug")
    role = MultiValueFilter(method="filter_role", label="Role slug")
    tag = MultiValueFilter(method="filter_tag", label="Governance tag")
    part_of_speech = MultiValueFilter(method="filter_part_of_speech")
    reviewed_after = django_filters.DateFilter(
        field_name="last_reviewed", lookup_expr="gte", label="Last reviewed on or after"
    )
    reviewed_before = django_filters.DateFilter(
        field_name="last_reviewed",
        lookup_expr="lte",
        label="Last reviewed on or before",
    )
    updated_since = UTCDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="Changed at or after (ISO 8601)",
    )

    class Meta:
        model = Term
        fields = []

    #: Filters whose value must not be empty when given.
    NOT_EMPTY = ("reviewed_after", "reviewed_before", "updated_since")

    def filter_queryset(self, queryset):
        """Refuse a date filter given with no value, then filter."""
        for name in self.NOT_EMPTY:
            if name in self.data and not str(self.data.get(name, "")).strip():
                raise ValidationError(
                    {name: ["is empty; give a date or leave the parameter out"]}
                )
        return super().filter_queryset(queryset)

    def visible(self) -> list[str]:
        """Statuses the requesting user may see (all of them without a request)."""
        if self.request is None:
            return list(Status.values)
        return visible_statuses(self.request.user)

    def filter_status(self, queryset, name, values):
        if not values:
            return queryset
        visible = self.visible()
        unknown = [v for v in values if v not in Status.values]
        _refuse(name, unknown, Status.values)
        hidden = [v for v in values if v not in visible]
        if hidden:
            # Who the reader is, not what they sent: 403.
            raise PermissionDenied(
                {
                    name: [
                        f"you may not list {', '.join(hidden)} terms; "
                        f"visible: {', '.join(visible)}"
                    ]
                }
            )
        return queryset.filter(status__in=values)

    def _linked(self, queryset, name, values, model, link_model, link_field, match):
        if not values:
            return queryset
        found = list(model.objects.filter(match(values)))
        keys = {key for item in found for key in self.keys_of(item)}
        unknown = [value for value in values if self.key(value) not in keys]
        if unknown:
            known = model.objects.order_by().values_list(
                self.label_field(model), flat=True
            )
            _refuse(name, unknown, sorted(known))
        link = link_model.objects.filter(
            term=OuterRef("pk"), **{f"{link_field}__in": found}
        )
        return queryset.filter(Exists(link))

    @staticmethod
    def key(value: str) -> str:
        return slugify(value)

    @staticmethod
    def keys_of(item) -> set[str]:
        if isinstance(item, Category):
            return {item.slug, slugify(item.name)}
        if isinstance(item, Role):
            return {slugify(item.slug)}
        return {slugify(item.name)}

    @staticmethod
    def label_field(model) -> str:
        return {Category: "name", Role: "slug", GovernanceTag: "name"}[model]

    def filter_category(self, queryset, name, values):
        def match(values):
            return Q(slug__in=[slugify(v) for v in values]) | Q(name__in=values)

        return self._linked(
            queryset, name, values, Category, TermCategory, "category", match
        )

    def filter_role(self, queryset, name, values):
        def match(values):
            return Q(slug__in=values) | Q(slug__in=[v.lower() for v in values])

        return self._linked(queryset, name, values, Role, TermRole, "role", match)

    def filter_tag(self, queryset, name, values):
        def match(values):
            return Q(name__in=values) | Q(name__in=[v.lower() for v in values])

        return self._linked(
            queryset, name, values, GovernanceTag, TermTag, "tag", match
        )

    def filter_part_of_speech(self, queryset, name, values):
        if not values:
            return queryset
        _refuse(
            name,
            [v for v in values if v not in PartOfSpeech.values],
            PartOfSpeech.values,
        )
        return queryset.filter(part_of_speech__in=values)


class TermOrdering(OrderingFilter):
    """``ordering``: name, last_reviewed, updated_at, ``-`` for descending, or
    ``relevance`` (the search's ranking with ``q``, the default order without).

    Unlike DRF's default it refuses unknown fields with a 400 naming them.
    """

    #: Public name -> column.
    fields = {
        "name": "name_key",
        "last_reviewed": "last_reviewed",
        "updated_at": "updated_at",
    }

    def get_ordering(self, request, queryset, view):
        """Columns to order by, or None for relevance (searching) / the default."""
        searching = bool(request.query_params.get("q", "").strip())
        raw = request.query_params.get(self.ordering_param, "").strip()
        if self.ordering_param in request.query_params and not raw:
            raise ValidationError(
                {self.ordering_param: ["is empty; name a field or leave it out"]}
            )
        ordering = []
        for part in filter(None, (p.strip() for p in raw.split(","))):
            name = part.lstrip("-")
            if part == "relevance":
                # Relevance ranks search results; without q it is the default.
                return None if searching else ["name_key"]
            if name not in self.fields:
                allowed = [*self.fields, "relevance"]
                raise ValidationError(
                    {
                        self.ordering_param: [
                            f"cannot order by {part!r}; "
                            f"choose from: {', '.join(allowed)}"
                        ]
                    }
                )
            ordering.append(part.replace(name, self.fields[name], 1))
        if ordering:
            return ordering
        return None if searching else ["name_key"]

    def filter_queryset(self, request, queryset, view):
        """Order by the chosen columns, then slug; leave search results unordered."""
        ordering = self.get_ordering(request, queryset, view)
        if ordering is None:
            return queryset.order_by()
        return queryset.order_by(*ordering, "slug")

    def get_schema_operation_parameters(self, view):
        """Documented with the list's other parameters."""
        return []
