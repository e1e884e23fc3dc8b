"""The read model: each term's JSON detail as an anonymous reader gets it.

Rows are written by the first such read and deleted, in the writing
transaction, by every write the detail depends on (``terms.serving.readmodel``).
"""

from django.db import models

from terms.models.term import Term


class TermRead(models.Model):
    """A term's anonymous JSON detail, rendered, with what its headers need.

    ``body`` holds the JSON with a marker where the site's origin goes (the
    request's scheme and host are put there as it is served).
    """

    term = models.OneToOneField(
        Term, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    slug = models.CharField(max_length=200, unique=True)
    #: The term's own version when rendered: served only while it still holds.
    version = models.PositiveIntegerField()
    #: The term's ETag token (``terms.api.caching.term_token``).
    token = models.CharField(max_length=100)
    #: The settings it was rendered under (public statuses, language): served
    #: only while they hold (``terms.serving.readmodel``).
    variant = models.CharField(max_length=200, default="")
    body = models.BinaryField()

    class Meta:
        verbose_name = "stored term detail"

    def __str__(self) -> str:
        return f"{self.slug} (version {self.version})"


class TermReadDependency(models.Model):
    """Another term a stored detail shows something of (a link's target, a
    term linking to it, its replacement): a write to that term deletes it."""

    read = models.ForeignKey(
        TermRead, on_delete=models.CASCADE, related_name="dependencies"
    )
    #: A term id, not a foreign key: a deleted term must still find its readers.
    depends_on = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name = "stored term detail dependency"

    def __str__(self) -> str:
        return f"{self.read_id} shows term {self.depends_on}"
