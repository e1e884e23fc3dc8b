"""What readers looked for, read from the daily counters (``terms.models.usage``;
``terms.serving.usage`` writes them)."""

import datetime

from django.db.models import Max, Min, QuerySet, Sum

from terms.documents.naming import lookup_key
from terms.models import Alias, RequestStatus, SearchUse, Term, TermRequest, TermUse

__all__ = ["DEFAULT_DAYS", "searched_but_missing", "searches", "since", "top_terms"]

#: How far back the figures look unless asked otherwise.
DEFAULT_DAYS = 30


def since(days: int) -> datetime.date:
    """The first day of the last ``days`` days, today included."""
    return datetime.date.today() - datetime.timedelta(days=days - 1)


def searches(
    days: int = DEFAULT_DAYS, *, missing: bool | None = None, source: str = ""
) -> QuerySet:
    """Queries with how often they were asked and their first and last day,
    most asked first; ``missing`` keeps those that found nothing (or only
    those that found something, when false)."""
    rows = SearchUse.objects.filter(day__gte=since(days))
    if missing is not None:
        rows = rows.filter(found=not missing)
    if source:
        rows = rows.filter(source=source)
    return (
        rows.values("query")
        .annotate(count=Sum("count"), first_seen=Min("day"), last_seen=Max("day"))
        .order_by("-count", "-last_seen", "query")
    )


def searched_but_missing(statuses: list[str], days: int = DEFAULT_DAYS, limit=20):
    """The queries most often missed that still name no term and no open
    request: what readers look for that nobody has asked for yet."""
    requested = set(
        TermRequest.objects.filter(status=RequestStatus.OPEN).values_list(
            "term_key", flat=True
        )
    )
    rows = [
        (lookup_key(row["query"]), row)
        for row in searches(days, missing=True)[: limit * 5]
    ]
    named = _naming_a_term({key for key, _ in rows})
    return [
        row for key, row in rows if key and key not in requested and key not in named
    ][:limit]


def _naming_a_term(keys: set[str]) -> set[str]:
    """Those of ``keys`` that name a term or one of its aliases (two queries)."""
    named = set(
        Term.objects.filter(name_key__in=keys).values_list("name_key", flat=True)
    )
    return named | set(Alias.objects.filter(key__in=keys).values_list("key", flat=True))


def top_terms(
    statuses: list[str], days: int = DEFAULT_DAYS, limit: int = 10, source: str = ""
):
    """The terms (of ``statuses``) most used, with their counts by source."""
    recent = TermUse.objects.filter(day__gte=since(days))
    if source:
        recent = recent.filter(source=source)
    ranked = list(
        recent.values("slug")
        .annotate(count=Sum("count"))
        .order_by("-count", "slug")[
            # Terms since hidden or deleted are skipped: look a little further.
            : limit * 3
        ]
    )
    names = dict(
        Term.objects.filter(
            slug__in=[row["slug"] for row in ranked], status__in=statuses
        ).values_list("slug", "name")
    )
    shown = [row for row in ranked if row["slug"] in names][:limit]
    by_source: dict[str, dict[str, int]] = {}
    for row in (
        recent.filter(slug__in=[row["slug"] for row in shown])
        .values("slug", "source")
        .annotate(count=Sum("count"))
        .order_by("source")
    ):
        by_source.setdefault(row["slug"], {})[row["source"]] = row["count"]
    return [
        {
            "slug": row["slug"],
            "term": names[row["slug"]],
            "count": row["count"],
            "sources": by_source.get(row["slug"], {}),
        }
        for row in shown
    ]
