"""The governance dashboard's figures and its charts, drawn on the server as SVG.

Counts come from ``selectors.glossary_stats`` (what ``/api/v1/stats/``
answers), so the page and the API never disagree. Each chart is an SVG image
with a title, a description and a text label and value per bar, so it reads
without JavaScript, without images from elsewhere, and with a screen reader.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from terms.models import Status, Term, TermEvent
from terms.reads import releases, selectors, usage
from terms.workflow.requests import backlog

__all__ = ["BarChart", "dashboard"]

#: Review age buckets, in days: (label, up to and including this age).
AGE_BUCKETS = (
    ("under 3 months", 90),
    ("3 to 6 months", 182),
    ("6 to 12 months", 365),
    ("1 to 2 years", 730),
)


@dataclass
class Bar:
    """One labelled bar of a chart."""

    label: str
    value: int
    width: float  # in the SVG's units: the widest bar is BAR_SPACE
    y: int


@dataclass
class BarChart:
    """A horizontal bar chart: what the template needs to draw it as SVG."""

    key: str
    title: str
    description: str
    bars: list[Bar]

    ROW = 26
    #: Where bars start, and the room the widest one takes (SVG units; 600 wide).
    BAR_X = 220
    BAR_SPACE = 300

    @property
    def height(self) -> int:
        """The SVG's height: one row per bar."""
        return max(1, len(self.bars)) * self.ROW + 8


def chart(key: str, title: str, description: str, values: dict[str, int]) -> BarChart:
    """Bars for ``values`` (label -> count), in the order given."""
    top = max(values.values(), default=0) or 1
    bars = [
        Bar(
            label,
            value,
            round(BarChart.BAR_SPACE * value / top, 1),
            4 + index * BarChart.ROW,
        )
        for index, (label, value) in enumerate(values.items())
    ]
    return BarChart(key, title, description, bars)


def review_ages(statuses: list[str], today: datetime.date) -> dict[str, int]:
    """How many visible terms were last reviewed how long ago."""
    ages = {label: 0 for label, _ in AGE_BUCKETS}
    ages["over 2 years"] = 0
    dates = Term.objects.filter(status__in=statuses).values_list(
        "last_reviewed", flat=True
    )
    for reviewed in dates:
        days = (today - reviewed).days
        label = next(
            (name for name, limit in AGE_BUCKETS if days <= limit), "over 2 years"
        )
        ages[label] += 1
    return ages


def dashboard(statuses: list[str]) -> dict:
    """Everything ``/dashboard/`` shows, for a reader who sees ``statuses``."""
    stats = selectors.glossary_stats(statuses)
    today = timezone.localdate()
    period = settings.GLOSSARY_REVIEW_PERIOD_DAYS
    overdue = Term.objects.filter(
        status__in=statuses, last_reviewed__lt=today - datetime.timedelta(days=period)
    ).order_by("last_reviewed", "name_key")
    order = [s for s in Status.values if s in stats["by_status"]]
    charts = [
        chart(
            "status",
            "Terms by status",
            "How many terms are drafts, reviewed, approved or deprecated.",
            {Status(s).label: stats["by_status"][s] for s in order},
        ),
        chart(
            "tags",
            "Coverage by NIST AI RMF characteristic",
            "How many terms carry each trustworthiness characteristic.",
            dict(sorted(stats["by_tag"].items(), key=lambda item: -item[1])),
        ),
        chart(
            "categories",
            "Terms by category",
            "How many terms each category holds.",
            dict(sorted(stats["by_category"].items(), key=lambda item: -item[1])),
        ),
        chart(
            "roles",
            "Terms by role",
            "How many terms matter to each role.",
            dict(sorted(stats["by_role"].items(), key=lambda item: -item[1])),
        ),
        chart(
            "freshness",
            "Time since last review",
            f"Terms by the age of their last review; over {period} days is overdue.",
            review_ages(statuses, today),
        ),
    ]
    requests = backlog(statuses, limit=10)  # open requests and wanted terms
    recent = (
        TermEvent.objects.filter(term__status__in=statuses)
        .select_related("term")
        .order_by("-created_at", "-id")[:10]
    )
    latest = releases.listed().first()
    since = releases.diff(releases.LATEST, releases.CURRENT) if latest else None
    return {
        "latest_release": latest,
        "since_release": since,
        "stats": stats,
        "charts": charts,
        "period": period,
        "overdue_count": overdue.count(),
        "overdue": list(overdue[:20]),
        "wanted": requests["wanted"],
        "requests": requests,
        "recent": list(recent),
        "top_terms": usage.top_terms(statuses),
        "usage_days": usage.DEFAULT_DAYS,
    }
