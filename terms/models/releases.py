"""Releases: numbered, frozen editions of what the public reads.

A release holds, for each term in it, the stored revision it shows (shared
with the term's history, never a copy). Membership is kept as runs: an entry
says a revision stood in every release from ``since`` to ``until`` (by
sequence number; ``until`` empty while it still stands in the latest one), so
a release that changes 1% of the terms adds rows for that 1% only.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from terms.models.history import TermRevision

#: A release name: letters, digits, dots, hyphens and underscores, starting
#: with a letter or digit ("2026.12", "v3", "2027-q1"); "latest" and
#: "current" are taken by the API (the newest release, the working glossary).
RELEASE_NAME = r"^(?!(?:latest|current)$)[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class Release(models.Model):
    """One edition of the glossary, immutable once published."""

    name = models.CharField(
        max_length=64,
        unique=True,
        validators=[
            RegexValidator(
                RELEASE_NAME,
                "A release name is 1-64 letters, digits, '.', '-' or '_', "
                "starting with a letter or digit (not 'latest' or 'current').",
            )
        ],
    )
    sequence = models.PositiveIntegerField(unique=True, editable=False)
    notes = models.TextField(blank=True, help_text="Release notes (Markdown).")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_by_name = models.CharField(max_length=150, blank=True)
    published_at = models.DateTimeField()
    statuses = models.JSONField(help_text="The public statuses it was cut under.")
    counts = models.JSONField(help_text="Terms in it, by status.")
    warnings = models.JSONField(
        default=list, blank=True, help_text="What the integrity gate warned of."
    )
    #: The glossary's version when it was cut.
    glossary_version = models.PositiveBigIntegerField()
    retired = models.BooleanField(
        default=False,
        help_text="Retired by an administrator: no longer listed; kept for the record.",
    )

    class Meta:
        ordering = ["-sequence"]
        permissions = [("publish_release", "Can publish a release")]

    def __str__(self) -> str:
        return self.name


class ReleaseEntry(models.Model):
    """A term's revision as it stands in a run of consecutive releases."""

    slug = models.CharField(max_length=200)
    revision = models.ForeignKey(
        TermRevision, on_delete=models.PROTECT, related_name="release_entries"
    )
    since = models.PositiveIntegerField(help_text="The first release (sequence).")
    until = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The last release (sequence); empty while in the latest one.",
    )

    class Meta:
        indexes = [
            models.Index(fields=["since", "until"], name="release_entry_run_idx"),
            models.Index(fields=["slug", "since"], name="release_entry_slug_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.slug}: {self.since}-{self.until or ''}"
