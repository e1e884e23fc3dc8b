"""What readers look for: daily counters of term use and of searches
(``terms.serving.usage`` keeps and writes them).

Nothing personal is stored: no address, user, session or time finer than the
day. A search keeps only its normalised words (case folded, spaces collapsed,
cut at ``QUERY_MAX_CHARS``).
"""

from django.db import models

#: The longest query kept (longer ones are cut).
QUERY_MAX_CHARS = 200


class UsageSource(models.TextChoices):
    """Where a read came from."""

    API = "api", "API"
    WIDGET = "widget", "Widget"
    MCP = "mcp", "MCP"
    RECONCILE = "reconcile", "Reconciliation"
    PAGES = "pages", "Pages"


class UsageKind(models.TextChoices):
    """What the reader did with a term."""

    VIEW = "view", "Read its entry"
    LOOKUP = "lookup", "Looked it up"
    SEARCH = "search", "Found it by searching"
    ANNOTATE = "annotate", "Found it in a text"


class TermUse(models.Model):
    """How often a term was used one day, from one source, one way."""

    day = models.DateField()
    #: The term's slug (a count outlives a term renamed or deleted).
    slug = models.SlugField(max_length=200, db_index=False)
    source = models.CharField(max_length=10, choices=UsageSource.choices)
    kind = models.CharField(max_length=10, choices=UsageKind.choices)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "slug", "source", "kind"], name="term_use_per_day"
            )
        ]
        indexes = [models.Index(fields=["slug", "day"], name="term_use_slug")]

    def __str__(self):
        return f"{self.slug} {self.kind} via {self.source} on {self.day}: {self.count}"


class SearchUse(models.Model):
    """How often one normalised query was asked one day, from one source, and
    whether it found anything."""

    day = models.DateField()
    query = models.CharField(max_length=QUERY_MAX_CHARS)
    source = models.CharField(max_length=10, choices=UsageSource.choices)
    found = models.BooleanField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "query", "source", "found"], name="search_use_per_day"
            )
        ]
        indexes = [models.Index(fields=["found", "day"], name="search_use_found")]

    def __str__(self):
        outcome = "found" if self.found else "missed"
        return f"{self.query!r} {outcome} via {self.source} on {self.day}: {self.count}"
