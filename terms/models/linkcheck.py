"""What is known about citation links."""

from django.db import models


class LinkCheck(models.Model):
    """The last check of one citation URL (``manage.py check_citations``).

    Kept per URL, not per citation, so rewriting a term's citations keeps what
    is known about their links, and a URL cited by many terms is fetched once.
    """

    url = models.URLField(max_length=2000, unique=True)
    ok = models.BooleanField(help_text="Answered below 400 after redirects.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    final_url = models.URLField(max_length=2000, blank=True)
    error = models.TextField(blank=True, help_text="Why no answer came, if none.")
    elapsed_ms = models.PositiveIntegerField(help_text="Time of the last attempt.")
    attempts = models.PositiveSmallIntegerField(default=1)
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["url"]
        indexes = [models.Index(fields=["ok"], name="linkcheck_ok_idx")]

    def __str__(self) -> str:
        return f"{self.url}: {self.state}" + ("" if self.ok else " (broken)")

    @property
    def state(self) -> str:
        """``HTTP 200``, ``HTTP 404``, ``no answer within 10 s``: what it answered."""
        if self.status_code is not None:
            return f"HTTP {self.status_code}"
        return self.error or "no answer"
