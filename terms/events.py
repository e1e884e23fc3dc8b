"""What the write path announces, and who listens to it.

Every write to the glossary ends in ``terms.workflow.services.glossary_touch``,
which bumps the version row and then announces one ``GlossaryChanged`` to each
handler named in ``settings.GLOSSARY_EVENTS_PIPELINE``, in order, inside the
writing transaction (so what a handler writes to the database commits or rolls
back with the change). A handler that acts outside the database (Redis, a
process) registers that with ``transaction.on_commit``, so it happens only for
a change that committed.

The domain (``documents``, ``workflow``, ``reads``) knows nothing about its
listeners: the read model, the version stamp and webhooks subscribe here.
"""

import contextlib
import contextvars
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class GlossaryChanged:
    """One committed write, as its listeners need to know it."""

    #: Ids of the terms written, created or deleted; None when any term may have
    #: changed (roles, categories or site texts edited, a whole import).
    terms: tuple[int, ...] | None
    #: Whether anonymous readers can see the change.
    public: bool
    version: int
    changed_at: datetime.datetime
    public_version: int
    public_changed_at: datetime.datetime


@dataclass(frozen=True)
class ReleasePublished:
    """A release was published (announced inside its transaction)."""

    release_id: int
    name: str
    sequence: int


@dataclass(frozen=True)
class RequestFiled:
    """A reader asked for a term."""

    request_id: int


@dataclass(frozen=True)
class RequestAnswered:
    """A term request was answered: ``drafted``, ``declined`` or ``merged``."""

    request_id: int
    outcome: str


@dataclass(frozen=True)
class Commented:
    """A comment was posted; ``users`` and ``groups`` are the ids and names it
    mentions."""

    comment_id: int
    users: tuple[int, ...]
    groups: tuple[str, ...]


#: Set while writes are not the glossary's own (a release's snapshot being built).
_muted = contextvars.ContextVar("glossary_events_muted", default=False)


@contextlib.contextmanager
def muted():
    """Announce nothing inside the block: its writes go to a database that is
    not the working glossary (``terms.serving.snapshots``)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def announce(change) -> None:
    """Hand ``change`` to every handler of the pipeline, in order (each
    handler acts on the kinds of event it knows and ignores the others)."""
    if _muted.get():
        return
    for path in settings.GLOSSARY_EVENTS_PIPELINE:
        import_string(path)(change)
