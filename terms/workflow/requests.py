"""Term requests: a reader asks for a term; editors merge, decline or draft it.

Anyone may ask, signed in or not. What keeps the intake from being abused:

- a rate per client (``GLOSSARY_REQUEST_RATE``, ``10/hour``; staff are not
  counted), kept by ``terms.serving.throttle`` beside the anonymous read rate;
- a spam trap: a ``website`` field people never see (hidden on the form, and
  absent from the documented API body); a request that fills it is refused;
- never an open relay: the glossary sends nothing to anyone a request names.
  ``contact`` is stored for editors to read and shown to no one else; the
  requester follows the request on its status page (an unguessable address).

A request for words the reader can already look up is refused with the term's
address. Each request keeps the lookup key of its words, so the backlog counts
a request merged into another as one more voice for it.
"""

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from terms import events
from terms.documents.naming import lookup_key, term_slug
from terms.models import ChangeSource, RequestStatus, Status, Term, TermRequest
from terms.reads import selectors

__all__ = [
    "AlreadyDefined",
    "RequestError",
    "backlog",
    "contact_problem",
    "convert",
    "decline",
    "existing_term",
    "merge",
    "submit",
    "term_problem",
]


class RequestError(ValueError):
    """An editor's decision that cannot be made (names the reason)."""


class AlreadyDefined(Exception):
    """The words asked for already name a term the requester can read."""

    def __init__(self, term: Term):
        super().__init__(f"{term.name!r} is already in the glossary.")
        self.term = term


#: The spam trap: a field people never see and bots fill in.
TRAP_FIELD = "website"


def term_problem(words: str) -> str | None:
    """Why ``words`` cannot name a term (the rules of the term document), or None."""
    from terms.documents.document import validate_term_data

    data = {"term": words, "status": Status.DRAFT, "last_reviewed": "2000-01-01"}
    _, problems = validate_term_data(data, known_roles=set())
    messages = [p.message for p in problems if p.field in (None, "term")]
    return messages[0] if messages else None


def contact_problem(contact: str) -> str | None:
    """Why ``contact`` is unusable, or None: an address with ``@`` must be an
    email address; anything else (a name, a team channel) is kept as written."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    if "@" not in contact:
        return None
    try:
        validate_email(contact)
    except ValidationError:
        return f"{contact!r} is not an email address."
    return None


def existing_term(words: str, statuses: list[str]) -> Term | None:
    """The term in ``statuses`` that ``words`` name (name, slug or alias)."""
    key = lookup_key(words)
    terms = Term.objects.filter(status__in=statuses)
    return (
        terms.filter(Q(name_key=key) | Q(slug=term_slug(words))).first()
        or terms.filter(aliases__key=key).order_by("name_key").first()
    )


def submit(data: dict, *, user, statuses: list[str]) -> TermRequest:
    """Store a validated request (``term``, ``context``, ``why``, ``urgency``,
    ``contact``); AlreadyDefined when the reader can look the term up."""
    found = existing_term(data["term"], statuses)
    if found is not None:
        raise AlreadyDefined(found)
    created = TermRequest.objects.create(
        term=data["term"],
        term_key=lookup_key(data["term"]),
        context=data.get("context", ""),
        why=data.get("why", ""),
        urgency=data.get("urgency") or TermRequest._meta.get_field("urgency").default,
        contact=data.get("contact", ""),
        requested_by=user if user is not None and user.is_authenticated else None,
    )
    events.announce(events.RequestFiled(created.pk))
    return created


def _check_open(request: TermRequest) -> None:
    if request.status != RequestStatus.OPEN:
        raise RequestError(
            f"The request for {request.term!r} is {request.get_status_display()!r}, "
            "not open."
        )


@transaction.atomic
def merge(primary: TermRequest, duplicates: list[TermRequest], *, actor) -> int:
    """Close ``duplicates`` as merged into ``primary``; how many were merged.

    Requests already merged into one of the duplicates follow it to ``primary``.
    """
    _check_open(primary)
    others = [r for r in duplicates if r.pk != primary.pk]
    for request in others:
        _check_open(request)
    ids = [r.pk for r in others]
    TermRequest.objects.filter(merged_into__in=ids).update(
        merged_into=primary, updated_at=timezone.now()
    )
    for request in others:
        events.announce(events.RequestAnswered(request.pk, "merged"))
    return TermRequest.objects.filter(pk__in=ids).update(
        status=RequestStatus.MERGED,
        merged_into=primary,
        handled_by=actor,
        updated_at=timezone.now(),
    )


@transaction.atomic
def decline(request: TermRequest, reason: str, *, actor) -> None:
    """Close a request with a reason the requester reads."""
    _check_open(request)
    reason = (reason or "").strip()
    if not reason:
        raise RequestError("Say why the request is declined; the requester reads it.")
    request.status = RequestStatus.DECLINED
    request.reason = reason
    request.handled_by = actor
    request.save(update_fields=["status", "reason", "handled_by", "updated_at"])
    events.announce(events.RequestAnswered(request.pk, "declined"))


@transaction.atomic
def convert(request: TermRequest, *, actor) -> Term:
    """Turn a request into a draft term (or link it to the term that already
    carries its words), through the workflow as ``actor``. Its merged
    duplicates follow it."""
    from terms.documents.document import validate_term_data
    from terms.workflow import steps as workflow
    from terms.workflow.transitions import WorkflowError

    _check_open(request)
    term = existing_term(request.term, list(Status.values))
    if term is None:
        document, problems = validate_term_data(
            {
                "term": request.term,
                "status": Status.DRAFT,
                "last_reviewed": timezone.localdate().isoformat(),
            },
            known_roles=selectors.known_roles(),
        )
        if problems:
            raise RequestError(
                f"{request.term!r} cannot name a term: {problems[0].message}"
            )
        try:
            term = workflow.term_create(
                document=document, actor=actor, source=ChangeSource.ADMIN
            ).term
        except WorkflowError as exc:
            raise RequestError(str(exc)) from None
    family = Q(pk=request.pk) | Q(merged_into=request)
    TermRequest.objects.filter(family).update(draft=term, updated_at=timezone.now())
    request.refresh_from_db()
    request.status = RequestStatus.DRAFTED
    request.handled_by = actor
    request.save(update_fields=["status", "handled_by", "updated_at"])
    events.announce(events.RequestAnswered(request.pk, "drafted"))
    return term


@dataclass(frozen=True)
class BacklogItem:
    """One open request with how many asked for the same (merged or alike)."""

    request: TermRequest
    voices: int


def backlog(statuses: list[str], limit: int = 100) -> dict:
    """Open requests (most asked, most urgent, oldest first) and wanted terms."""
    from terms.models import Urgency

    open_requests = list(
        TermRequest.objects.filter(status=RequestStatus.OPEN)
        .annotate(merged=Count("duplicates"))
        .order_by("created_at", "id")
    )
    alike = Counter(r.term_key for r in open_requests)
    urgency = {value: index for index, value in enumerate(reversed(Urgency.values))}
    items = sorted(
        (BacklogItem(r, r.merged + alike[r.term_key]) for r in open_requests),
        key=lambda item: (-item.voices, urgency[item.request.urgency]),
    )
    return {
        "requests": items[:limit],
        "open_requests": len(open_requests),
        "wanted": list(selectors.wanted_targets(statuses)[:limit]),
    }
