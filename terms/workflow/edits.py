"""Edits: creating, changing, reverting, relating and deleting terms.

Editing a draft changes it directly. Editing a reviewed or approved term stores
a *pending change*: consumers keep seeing the live term while the change goes
through review and approval (``terms.workflow.steps``), after which it goes
live. A deprecated term is restored to draft before it is edited. Each step is
one transaction that locks the term's row and checks the version the caller
read (``terms.workflow.rows``).
"""

import copy
from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction

from terms.documents.document import (
    Problem,
    TermDocument,
    category_clash_message,
    validate_term_data,
)
from terms.documents.mapping import document_from_term
from terms.documents.naming import lookup_key
from terms.models import (
    Approval,
    ChangeSource,
    EventAction,
    PendingChange,
    PendingStatus,
    Status,
    Term,
    TermRevision,
)
from terms.reads.selectors import category_clashes, known_roles
from terms.workflow import history, services
from terms.workflow.rows import check_expected, load_locked
from terms.workflow.transitions import (
    Forbidden,
    Invalid,
    NotAllowed,
    actor_label,
    check_permission,
    pending_of,
)


@dataclass
class EditResult:
    """What an edit did: ``created``, ``updated``, ``proposed`` or ``unchanged``."""

    outcome: str
    term: Term
    pending: PendingChange | None = None


def edit_problems(*, document: TermDocument, term: Term | None) -> list[Problem]:
    """What stops a valid document from being saved as ``term`` (None: a new term).

    The admin shows these beside the form; ``term_create`` and ``term_edit``
    refuse with them.
    """
    problems = []
    if term is None and Term.objects.filter(slug=document.slug).exists():
        problems.append(
            Problem(
                f"a term with the slug {document.slug!r} already exists; edit it "
                "instead",
                field="term",
            )
        )
    elif term is not None and document.slug != term.slug:
        problems.append(
            Problem(
                f"the name {document.term!r} has the slug {document.slug!r}, not "
                f"{term.slug!r}; create a new term to rename one",
                field="term",
            )
        )
    for index, name in enumerate(document.categories):
        known = category_clashes([name]).get(name)
        if known is not None:
            problems.append(
                Problem(
                    category_clash_message(name, known, "the glossary"),
                    field=f"categories[{index}]",
                )
            )
    return problems


def _check_status(document: TermDocument, expected: str) -> None:
    if document.status != expected:
        raise NotAllowed(
            f"The status must stay {expected} in an edit (the document says "
            f"{document.status}); status changes go through the review workflow.",
            [f"status must be {expected}"],
            field="status",
        )


@transaction.atomic
def term_create(*, document: TermDocument, actor, source: ChangeSource) -> EditResult:
    """Create a new term; it always starts as a draft."""
    check_permission(actor, "terms.add_term", "create terms")
    _check_status(document, Status.DRAFT)
    if Term.objects.filter(slug=document.slug).exists():
        raise NotAllowed(
            f"A term with slug {document.slug!r} already exists; edit it instead.",
            ["slug exists"],
        )
    problems = edit_problems(document=document, term=None)
    if problems:
        raise Invalid(problems[0].message, problems=problems)
    [term] = services.terms_write(
        changes=[(document, None)], actor=actor, source=source
    )
    return EditResult("created", term)


@transaction.atomic
def term_edit(
    *,
    term: Term,
    document: TermDocument,
    actor,
    source: ChangeSource,
    expected: Collection[str] | None = None,
) -> EditResult:
    """Edit a term: directly while it is a draft, as a pending change otherwise.

    ``expected`` are the version tokens the caller read (``If-Match``); the
    edit is refused (``Stale``) when the locked term has moved on.
    """
    check_permission(actor, "terms.change_term", "edit terms")
    term = load_locked(term)
    check_expected(term, expected)
    problems = edit_problems(document=document, term=term)
    if problems:
        raise Invalid(problems[0].message, problems=problems)
    if term.status == Status.DEPRECATED:
        raise NotAllowed(
            f"{term.name!r} is deprecated; restore it to draft before editing it.",
            ["state is deprecated"],
        )
    _check_status(document, term.status)
    live = document_from_term(term)
    pending = pending_of(term)
    if term.status == Status.DRAFT and pending is None:
        if document == live:
            return EditResult("unchanged", term)
        [written] = services.terms_write(
            changes=[(document, term)], actor=actor, source=source
        )
        return EditResult("updated", written)
    return _propose(term, pending, document, live, actor, source)


def _propose(term, pending, document, live, actor, source) -> EditResult:
    """Store an edit of a reviewed or approved term as its pending change.

    Whoever opened the change stays its author; later editors are contributors.
    """
    data = document.to_data()
    if pending is not None and pending.document == data:
        return EditResult("unchanged", term, pending)
    if pending is None and document == live:
        return EditResult("unchanged", term)
    if pending is None:
        pending = PendingChange(term=term, author=actor)
    Approval.objects.filter(term=term).delete()  # what they agreed to changed
    pending.document = data
    pending.status = PendingStatus.DRAFT
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
    services.pending_touch(term)
    return EditResult("proposed", term, pending)


@transaction.atomic
def pending_withdraw(
    *, term: Term, actor, source: ChangeSource, comment: str = ""
) -> None:
    """Drop a term's pending change: its author and approvers may."""
    pending = pending_of(term)
    if pending is None:
        raise NotAllowed("The term has no pending change.", ["no pending change"])
    if actor is None or not actor.is_authenticated:
        raise Forbidden("You must be signed in to withdraw a change.")
    if pending.author_id != actor.pk and not actor.has_perm("terms.approve_term"):
        raise Forbidden(
            f"{actor_label(actor)} did not open this change and may not withdraw "
            "it; its author or an approver may.",
            ["only its author or an approver may withdraw a pending change"],
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
    services.pending_touch(term)


@transaction.atomic
def term_revert(*, term: Term, version: int, actor, source: ChangeSource) -> EditResult:
    """Propose an old version's content again, as a new change that needs review."""
    revision = TermRevision.objects.filter(term=term, version=version).first()
    if revision is None:
        raise NotAllowed(f"The term has no version {version}.", ["no such version"])
    data = {**revision.document, "status": term.status}
    document, problems = validate_term_data(data, known_roles=known_roles())
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
def term_relate(*, term: Term, target: Term, actor, source: ChangeSource) -> EditResult:
    """Add ``target`` to the term's related terms, as an edit (directly in a
    draft, as a pending change otherwise). Already linked: unchanged."""
    term = load_locked(term)
    pending = pending_of(term)
    data = copy.deepcopy(
        pending.document if pending else document_from_term(term).to_data()
    )
    relationships = data.setdefault("relationships", {})
    written = {lookup_key(name) for names in relationships.values() for name in names}
    if {lookup_key(target.name), lookup_key(target.slug)} & written:
        return EditResult("unchanged", term, pending)
    relationships.setdefault("related", []).append(target.name)
    document, problems = validate_term_data(data, known_roles=known_roles())
    if problems:
        raise Invalid(problems[0].message, problems=problems)
    return term_edit(term=term, document=document, actor=actor, source=source)


@transaction.atomic
def term_delete(
    *,
    term: Term,
    actor,
    source: ChangeSource,
    expected: Collection[str] | None = None,
) -> None:
    """Delete a term (needs ``delete_term``); the audit trail keeps the deletion.

    The term's row is locked first, so a concurrent edit waits for the deletion
    (and then finds the term gone) instead of deadlocking on its part rows.
    """
    check_permission(actor, "terms.delete_term", "delete terms")
    term = load_locked(term)
    check_expected(term, expected)
    services.terms_delete(terms=[term], actor=actor, source=source)
