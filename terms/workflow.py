"""The review workflow: states, transitions, who may do what, and quality gates.

The admin, the API and the importer all go through this module (the importer as
a trusted pipeline that sets status as its files say, see ``terms.importer``).

States: ``draft`` -> ``reviewed`` -> ``approved``, and ``deprecated``.

- *review* (draft -> reviewed) and *approve* (reviewed -> approved) need the
  ``review_term`` / ``approve_term`` permissions, pass the editorial quality gates,
  and obey the four-eyes rule: nobody reviews or approves content they wrote,
  superusers included.
- *request changes* (reviewed -> draft) needs a comment.
- *deprecate* (reviewed or approved -> deprecated, optionally naming the term that
  replaces it) and *restore* (deprecated -> draft) are explicit approver actions.
- Editing a draft changes it directly. Editing a reviewed or approved term stores
  a *pending change*: consumers keep seeing the live term while the change goes
  through the same review and approval, after which it goes live. A deprecated
  term is restored to draft before it is edited.

Each function is one transaction that writes its audit event with the change.
"""

from dataclasses import dataclass, replace
from typing import Any

from django.db import transaction
from django.utils import timezone

from . import history, services
from .document import (
    TERM_DOCUMENT_PREFETCH,
    TermDocument,
    document_from_term,
    editorial_problems,
    validate_term_data,
)
from .models import (
    ChangeSource,
    EventAction,
    PendingChange,
    PendingStatus,
    Role,
    Status,
    Term,
    TermEvent,
    TermRevision,
)


class WorkflowError(Exception):
    """A refused workflow step; ``reasons`` says every reason it was refused."""

    #: "forbidden" (who you are) or "conflict" (the state of the term).
    kind = "conflict"

    def __init__(self, message: str, reasons: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.reasons = reasons or []


class Forbidden(WorkflowError):
    """The actor may not take this step (permission or four-eyes)."""

    kind = "forbidden"


class NotAllowed(WorkflowError):
    """The step does not apply to the term's state, or a quality gate fails."""

    kind = "conflict"


@dataclass(frozen=True)
class Transition:
    """One workflow step: its permission, the states it leaves and enters."""

    name: str
    label: str
    permission: str
    sources: frozenset[str]
    target: str
    gated: bool = False
    four_eyes: bool = False
    needs_comment: bool = False
    acts_on_pending: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "review",
            "Mark reviewed",
            "terms.review_term",
            frozenset({Status.DRAFT}),
            Status.REVIEWED,
            gated=True,
            four_eyes=True,
            acts_on_pending=True,
        ),
        Transition(
            "approve",
            "Approve",
            "terms.approve_term",
            frozenset({Status.REVIEWED}),
            Status.APPROVED,
            gated=True,
            four_eyes=True,
            acts_on_pending=True,
        ),
        Transition(
            "request_changes",
            "Request changes",
            "terms.request_changes_term",
            frozenset({Status.REVIEWED}),
            Status.DRAFT,
            needs_comment=True,
            acts_on_pending=True,
        ),
        Transition(
            "deprecate",
            "Deprecate",
            "terms.deprecate_term",
            frozenset({Status.REVIEWED, Status.APPROVED}),
            Status.DEPRECATED,
        ),
        Transition(
            "restore",
            "Restore to draft",
            "terms.restore_term",
            frozenset({Status.DEPRECATED}),
            Status.DRAFT,
        ),
    )
}

EVENT_FOR = {
    "review": EventAction.REVIEW,
    "approve": EventAction.APPROVE,
    "request_changes": EventAction.REQUEST_CHANGES,
    "deprecate": EventAction.DEPRECATE,
    "restore": EventAction.RESTORE,
}


def _pending(term: Term) -> PendingChange | None:
    try:
        return term.pending
    except PendingChange.DoesNotExist:
        return None


def _load(term: Term) -> Term:
    """The term with what building its document needs, fresh from the database."""
    return (
        Term.objects.select_for_update(of=("self",))
        .prefetch_related(*TERM_DOCUMENT_PREFETCH)
        .get(pk=term.pk)
        if transaction.get_connection().features.has_select_for_update_of
        else Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH).get(pk=term.pk)
    )


def content_authors(term: Term) -> set[int]:
    """Users who wrote the live term's content since it was last approved."""
    last_approval = (
        TermEvent.objects.filter(term=term, action=EventAction.APPROVE, pending=False)
        .order_by("-id")
        .values_list("version", flat=True)
        .first()
    ) or 0
    return set(
        TermRevision.objects.filter(
            term=term,
            version__gt=last_approval,
            status_only=False,
            author__isnull=False,
        ).values_list("author_id", flat=True)
    )


def _actor_label(actor) -> str:
    return actor.get_username() if actor is not None else "nobody"


def _check_permission(actor, permission: str, what: str) -> None:
    if actor is None or not actor.is_authenticated:
        raise Forbidden(f"You must be signed in to {what}.")
    if not actor.has_perm(permission):
        raise Forbidden(
            f"{_actor_label(actor)} lacks the permission to {what} ({permission}).",
            [f"missing permission {permission}"],
        )


def _gate_problems(document_data: dict[str, Any]) -> list[str]:
    """Structural validity plus the editorial rules of term-format.md."""
    known_roles = set(Role.objects.values_list("slug", flat=True))
    document, problems = validate_term_data(document_data, known_roles=known_roles)
    if problems:
        return [str(problem) for problem in problems]
    return editorial_problems(document)


def check_transition(term: Term, name: str, actor) -> Transition:
    """Raise ``Forbidden`` or ``NotAllowed`` unless ``actor`` may take the step now."""
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise NotAllowed(f"Unknown workflow step {name!r}.")
    _check_permission(actor, transition.permission, transition.label.lower())
    pending = _pending(term) if transition.acts_on_pending else None
    state = pending.status if pending else term.status
    if state not in transition.sources:
        what = "the pending change" if pending else "the term"
        raise NotAllowed(
            f"Cannot {transition.label.lower()}: {what} is {state}; "
            f"this step needs {' or '.join(sorted(transition.sources))}.",
            [f"state is {state}"],
        )
    if transition.four_eyes:
        authors = (
            set(pending.contributors.values_list("id", flat=True))
            if pending
            else content_authors(term)
        )
        if actor.pk in authors:
            raise Forbidden(
                f"{_actor_label(actor)} wrote this change and cannot "
                f"{transition.label.lower()} it (four-eyes rule).",
                ["four-eyes: the author may not review or approve their own change"],
            )
    if transition.gated:
        data = pending.document if pending else document_from_term(term).to_data()
        problems = _gate_problems(data)
        if problems:
            raise NotAllowed(
                f"Cannot {transition.label.lower()}: the term fails "
                f"{len(problems)} quality check(s).",
                problems,
            )
    return transition


def allowed_transitions(term: Term, actor) -> dict[str, str | None]:
    """Each step and why it is refused (None when allowed), for buttons and lists."""
    result = {}
    for name in TRANSITIONS:
        try:
            check_transition(term, name, actor)
        except WorkflowError as exc:
            result[name] = exc.message
        else:
            result[name] = None
    return result


@transaction.atomic
def term_transition(
    *,
    term: Term,
    name: str,
    actor,
    comment: str = "",
    replaced_by: Term | None = None,
    source: ChangeSource = ChangeSource.API,
) -> Term:
    """Take workflow step ``name`` on ``term`` (or on its pending change)."""
    term = _load(term)
    transition = check_transition(term, name, actor)
    comment = (comment or "").strip()
    if transition.needs_comment and not comment:
        raise NotAllowed(
            f"{transition.label} needs a comment saying what to change.",
            ["comment is required"],
        )
    if replaced_by is not None:
        if name != "deprecate":
            raise NotAllowed("Only deprecation takes a replacement term.")
        if replaced_by.pk == term.pk:
            raise NotAllowed("A term cannot replace itself.")
    pending = _pending(term) if transition.acts_on_pending else None
    if pending is not None:
        return _pending_transition(term, pending, transition, actor, comment, source)
    current = document_from_term(term)
    today = timezone.localdate()
    new_document = replace(
        current,
        status=transition.target,
        last_reviewed=today if transition.gated else current.last_reviewed,
    )
    return services.term_status_write(
        term=term,
        document=new_document,
        actor=actor,
        source=source,
        action=EVENT_FOR[name],
        comment=comment,
        replaced_by=replaced_by if name == "deprecate" else None,
    )


def _pending_transition(term, pending, transition, actor, comment, source) -> Term:
    event = history.event_for(
        term=term,
        term_slug=term.slug,
        action=EVENT_FOR[transition.name],
        source=source,
        actor=actor,
        from_status=pending.status,
        to_status=transition.target,
        version=term.version,
        comment=comment,
        pending=True,
    )
    if transition.name == "approve":
        data = {
            **pending.document,
            "status": Status.APPROVED,
            "last_reviewed": timezone.localdate().isoformat(),
        }
        document, problems = validate_term_data(
            data, known_roles=set(Role.objects.values_list("slug", flat=True))
        )
        if problems:  # The gate above already checked; roles may have changed since.
            raise NotAllowed(
                "The pending change is no longer valid.", [str(p) for p in problems]
            )
        author = pending.author
        pending.delete()
        # terms_write records the approval event (with the new version).
        services.terms_write(
            changes=[(document, term)],
            actor=actor,
            author=author,
            source=source,
            action=EventAction.APPROVE,
            from_status=pending.status,
            comment=comment,
        )
        return Term.objects.get(pk=term.pk)
    pending.status = (
        PendingStatus.REVIEWED if transition.name == "review" else PendingStatus.DRAFT
    )
    pending.reviewed_by = actor if transition.name == "review" else None
    pending.save(update_fields=["status", "reviewed_by", "updated_at"])
    event.save()
    services.glossary_touch()
    return term


# --- edits ------------------------------------------------------------------------


@dataclass
class EditResult:
    """What an edit did: ``created``, ``updated``, ``proposed`` or ``unchanged``."""

    outcome: str
    term: Term
    pending: PendingChange | None = None


def _status_problem(document: TermDocument, expected: str) -> None:
    if document.status != expected:
        raise NotAllowed(
            f"status must stay {expected!r} in an edit (got {document.status!r}); "
            "status changes go through the review workflow.",
            [f"status: must be {expected}"],
        )


@transaction.atomic
def term_create(*, document: TermDocument, actor, source: ChangeSource) -> EditResult:
    """Create a new term; it always starts as a draft."""
    _check_permission(actor, "terms.add_term", "create terms")
    _status_problem(document, Status.DRAFT)
    if Term.objects.filter(slug=document.slug).exists():
        raise NotAllowed(
            f"A term with slug {document.slug!r} already exists; edit it instead.",
            ["slug exists"],
        )
    [term] = services.terms_write(
        changes=[(document, None)], actor=actor, source=source
    )
    return EditResult("created", term)


@transaction.atomic
def term_edit(
    *, term: Term, document: TermDocument, actor, source: ChangeSource
) -> EditResult:
    """Edit a term: directly while it is a draft, as a pending change otherwise."""
    _check_permission(actor, "terms.change_term", "edit terms")
    term = _load(term)
    if document.slug != term.slug:
        raise NotAllowed(
            f"the name {document.term!r} has the slug {document.slug!r}, not "
            f"{term.slug!r}; create a new term to rename one",
            ["term: renaming is not an edit"],
        )
    if term.status == Status.DEPRECATED:
        raise NotAllowed(
            f"{term.name!r} is deprecated; restore it to draft before editing it.",
            ["state is deprecated"],
        )
    _status_problem(document, term.status)
    live = document_from_term(term)
    pending = _pending(term)
    if term.status == Status.DRAFT and pending is None:
        if document == live:
            return EditResult("unchanged", term)
        services.terms_write(changes=[(document, term)], actor=actor, source=source)
        return EditResult("updated", Term.objects.get(pk=term.pk))
    data = document.to_data()
    if pending is not None and pending.document == data:
        return EditResult("unchanged", term, pending)
    if pending is None and document == live:
        return EditResult("unchanged", term)
    if pending is None:
        pending = PendingChange(term=term, base_version=term.version)
    pending.document = data
    pending.status = PendingStatus.DRAFT
    pending.author = actor
    pending.reviewed_by = None
    pending.base_version = term.version
    pending.save()
    pending.contributors.add(actor)
    history.event_for(
        term=term,
        term_slug=term.slug,
        action=EventAction.PROPOSE,
        source=source,
        actor=actor,
        from_status=term.status,
        to_status=PendingStatus.DRAFT,
        version=term.version,
        pending=True,
    ).save()
    services.glossary_touch()
    return EditResult("proposed", term, pending)


@transaction.atomic
def pending_withdraw(
    *, term: Term, actor, source: ChangeSource, comment: str = ""
) -> None:
    """Drop a term's pending change: its authors and approvers may."""
    pending = _pending(term)
    if pending is None:
        raise NotAllowed("The term has no pending change.", ["no pending change"])
    if actor is None or not actor.is_authenticated:
        raise Forbidden("You must be signed in to withdraw a change.")
    is_author = pending.contributors.filter(pk=actor.pk).exists()
    if not is_author and not actor.has_perm("terms.approve_term"):
        raise Forbidden(
            f"{_actor_label(actor)} did not write this change and cannot withdraw it.",
            ["only its authors or an approver may withdraw a pending change"],
        )
    pending.delete()
    history.event_for(
        term=term,
        term_slug=term.slug,
        action=EventAction.WITHDRAW,
        source=source,
        actor=actor,
        from_status=pending.status,
        version=term.version,
        comment=comment,
        pending=True,
    ).save()
    services.glossary_touch()


@transaction.atomic
def term_revert(*, term: Term, version: int, actor, source: ChangeSource) -> EditResult:
    """Propose an old version's content again, as a new change that needs review."""
    revision = TermRevision.objects.filter(term=term, version=version).first()
    if revision is None:
        raise NotAllowed(f"The term has no version {version}.", ["no such version"])
    data = {**revision.document, "status": term.status}
    known_roles = set(Role.objects.values_list("slug", flat=True))
    document, problems = validate_term_data(data, known_roles=known_roles)
    if problems:
        raise NotAllowed(
            f"Version {version} is no longer valid and cannot be restored.",
            [str(problem) for problem in problems],
        )
    result = term_edit(term=term, document=document, actor=actor, source=source)
    if result.outcome != "unchanged":
        history.event_for(
            term=term,
            term_slug=term.slug,
            action=EventAction.REVERT,
            source=source,
            actor=actor,
            version=version,
            comment=f"restored the content of version {version}",
            pending=result.outcome == "proposed",
        ).save()
    return result


@transaction.atomic
def term_delete(*, term: Term, actor, source: ChangeSource) -> None:
    """Delete a term (needs ``delete_term``); the audit trail keeps the deletion."""
    _check_permission(actor, "terms.delete_term", "delete terms")
    services.terms_delete(terms=[term], actor=actor, source=source)


def document_diff(
    before: dict[str, Any], after: dict[str, Any]
) -> list[dict[str, Any]]:
    """Top-level fields whose values differ between two documents, in format order."""
    from .document import TERM_KEYS

    return [
        {"field": key, "before": before.get(key), "after": after.get(key)}
        for key in TERM_KEYS
        if before.get(key) != after.get(key)
    ]
