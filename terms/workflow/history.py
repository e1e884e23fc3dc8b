"""The audit trail: revisions (every version of a term's document) and events.

Every content change writes a ``TermRevision`` with the full document, and every
change of content or status writes a ``TermEvent``, in the caller's transaction.
"""

from django.conf import settings

from terms.documents.document import TermDocument
from terms.models import ChangeSource, EventAction, Term, TermEvent, TermRevision


def actor_name(actor) -> str:
    """The name recorded for an actor; the system actor's when there is none."""
    if actor is not None:
        return actor.get_username()
    return getattr(settings, "GLOSSARY_SYSTEM_ACTOR", "system")


def revision_for(
    *,
    term: Term,
    document: TermDocument,
    source: ChangeSource,
    actor,
    status_only: bool = False,
) -> TermRevision:
    """An unsaved revision holding ``document`` as the term's current version."""
    return TermRevision(
        term=term,
        term_slug=term.slug,
        version=term.version,
        document=document.to_data(),
        source=source,
        author=actor,
        status_only=status_only,
    )


def event_for(
    *,
    term: Term | None,
    term_slug: str,
    action: EventAction,
    source: ChangeSource,
    actor,
    from_status: str = "",
    to_status: str = "",
    version: int | None = None,
    comment: str = "",
    pending: bool = False,
) -> TermEvent:
    """An unsaved audit event."""
    return TermEvent(
        term=term,
        term_slug=term_slug,
        action=action,
        source=source,
        actor=actor,
        actor_name=actor_name(actor),
        from_status=from_status,
        to_status=to_status,
        version=version,
        comment=comment,
        pending=pending,
    )
