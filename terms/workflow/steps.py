"""The review workflow: every write that moves a term or its content.

The admin, the API and the importer all go through this module (the importer as
a trusted pipeline that sets status as its files say, see ``terms.workflow.importer``).
The moves between states are here; edits are in ``terms.workflow.edits`` and
named here too, so a caller imports one module.
The steps and the rules that allow them are declared in ``terms.workflow.transitions``.

States: ``draft`` -> ``reviewed`` -> ``approved``, and ``deprecated``.

- Editing a draft changes it directly. Editing a reviewed or approved term stores
  a *pending change*: consumers keep seeing the live term while the change goes
  through the same review and approval, after which it goes live. A deprecated
  term is restored to draft before it is edited.
- Each function is one transaction that locks the term's row, checks the
  version the caller says it read (``expected``, the API's ``If-Match``) under
  that lock, and writes its audit
  event with the change.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from terms.documents.document import (
    TermDocument,
    validate_term_data,
)
from terms.documents.mapping import TERM_DOCUMENT_PREFETCH, document_from_term
from terms.models import (
    Approval,
    ChangeSource,
    EventAction,
    PendingChange,
    PendingStatus,
    Status,
    Term,
    TermEvent,
)
from terms.reads.selectors import known_roles
from terms.workflow import history, services
from terms.workflow.edits import (
    EditResult,
    edit_problems,
    pending_withdraw,
    term_create,
    term_delete,
    term_edit,
    term_relate,
    term_revert,
)
from terms.workflow.rows import check_expected, load_locked
from terms.workflow.transitions import (
    TRANSITIONS,
    Forbidden,
    Gone,
    Invalid,
    Missing,
    NotAllowed,
    Stale,
    Transition,
    WorkflowError,
    actor_label,
    allowed_transitions,
    check_transition,
    pending_of,
    waiting_for,
)

__all__ = [
    "TRANSITIONS",
    "EditResult",
    "Forbidden",
    "Invalid",
    "ManyResult",
    "NotAllowed",
    "Stale",
    "Transition",
    "WorkflowError",
    "allowed_transitions",
    "check_transition",
    "edit_problems",
    "pending_withdraw",
    "term_create",
    "term_delete",
    "term_edit",
    "term_relate",
    "term_revert",
    "term_transition",
    "terms_transition_many",
    "waiting_for",
]


@transaction.atomic
def term_transition(
    *,
    term: Term,
    name: str,
    actor,
    comment: str = "",
    replaced_by: str = "",
    source: ChangeSource = ChangeSource.API,
    expected: Collection[str] | None = None,
) -> Term:
    """Take workflow step ``name`` on ``term`` (or on its pending change).

    ``replaced_by`` is the slug of the term that replaces a deprecated one.
    """
    term = load_locked(term)
    check_expected(term, expected)
    transition = check_transition(term, name, actor)
    comment = (comment or "").strip()
    if transition.needs_comment and not comment:
        raise Invalid(
            f"{transition.label} needs a comment saying what to change.",
            field="comment",
        )
    replaced_by = _replacement(replaced_by)
    if replaced_by is not None:
        if not transition.takes_replacement:
            raise Invalid(
                f"Only deprecation takes a replacement term, not {name}.",
                field="replaced_by",
            )
        if replaced_by.pk == term.pk:
            raise Invalid("A term cannot replace itself.", field="replaced_by")
    pending = pending_of(term) if transition.acts_on_pending else None
    if transition.target == Status.APPROVED and not _enough_approvals(term, actor):
        return _record_approval(term, pending, actor, comment, source)
    # Any other step moves what was under review: earlier approvals lapse.
    Approval.objects.filter(term=term).delete()
    if pending is not None:
        return _pending_transition(term, pending, transition, actor, comment, source)
    current = document_from_term(term)
    new_document = replace(
        current,
        status=transition.target,
        last_reviewed=timezone.localdate()
        if transition.gated
        else current.last_reviewed,
    )
    return services.term_status_write(
        term=term,
        document=new_document,
        actor=actor,
        source=source,
        action=transition.event,
        comment=comment,
        replaced_by=replaced_by,
    )


@dataclass
class ManyResult:
    """What one step for many terms did: slugs done, and refusals by slug."""

    done: list[str]
    refused: list[tuple[str, WorkflowError]]


@transaction.atomic
def terms_transition_many(
    *,
    terms: Sequence[Term],
    name: str,
    actor,
    comment: str = "",
    source: ChangeSource = ChangeSource.API,
) -> ManyResult:
    """Take step ``name`` for many terms (or their pending changes) at once.

    Each term is checked exactly as ``term_transition`` checks one
    (permission, state, four-eyes, gates); the ones refused are left as they
    are and reported. The checks read all terms in a fixed number of queries
    and the writes are grouped, so approving a thousand pending changes costs
    a few writes, not a thousand. Several approvals needed
    (``GLOSSARY_APPROVALS_REQUIRED``) take the steps one term at a time.
    """
    transition = TRANSITIONS.get(name)
    comment = (comment or "").strip()
    refused: list[tuple[str, WorkflowError]] = []
    if transition is None or (transition.needs_comment and not comment):
        error = (
            NotAllowed(f"There is no workflow step {name!r}.")
            if transition is None
            else Invalid(
                f"{transition.label} needs a comment saying what to change.",
                field="comment",
            )
        )
        return ManyResult([], [(term.slug, error) for term in terms])
    if transition.target == Status.APPROVED and (
        settings.GLOSSARY_APPROVALS_REQUIRED > 1
    ):
        return _one_by_one(terms, name, actor, comment, source)
    locked = _load_many([term.pk for term in terms])
    facts, lives = _facts_of(locked)
    ready = []
    for term in locked:
        try:
            check_transition(term, name, actor, facts[term.pk])
        except WorkflowError as error:
            refused.append((term.slug, error))
        else:
            ready.append(term)
    Approval.objects.filter(term__in=ready).delete()
    pending = [t for t in ready if transition.acts_on_pending and pending_of(t)]
    plain = [t for t in ready if t not in pending]
    today = timezone.localdate()
    services.terms_status_write(
        changes=[
            (
                term,
                replace(
                    lives[term.pk],
                    status=transition.target,
                    last_reviewed=today if transition.gated else term.last_reviewed,
                ),
            )
            for term in plain
        ],
        actor=actor,
        source=source,
        action=transition.event,
        comment=comment,
    )
    refused += _pending_many(pending, transition, actor, comment, source)
    refusals = {slug for slug, _ in refused}
    gone = {term.pk for term in locked}
    refused += [
        (t.slug, Gone(f"The term {t.slug!r} no longer exists."))
        for t in terms
        if t.pk not in gone
    ]
    done = [t.slug for t in locked if t.slug not in refusals]
    return ManyResult(done, refused)


def _one_by_one(terms, name, actor, comment, source) -> ManyResult:
    """Each term's step on its own (in a savepoint each)."""
    done, refused = [], []
    for term in terms:
        try:
            with transaction.atomic():
                term_transition(
                    term=term, name=name, actor=actor, comment=comment, source=source
                )
        except WorkflowError as error:
            refused.append((term.slug, error))
        else:
            done.append(term.slug)
    return ManyResult(done, refused)


def _load_many(ids: list[int]) -> list[Term]:
    """``_load`` for many terms: locked, with their parts and pending changes."""
    queryset = Term.objects.select_related("pending").prefetch_related(
        "pending__contributors", *TERM_DOCUMENT_PREFETCH
    )
    if transaction.get_connection().features.has_select_for_update_of:
        queryset = queryset.select_for_update(of=("self",))
    found = []
    for start in range(0, len(ids), 1000):
        found += queryset.filter(pk__in=ids[start : start + 1000]).order_by("pk")
    return found


def _facts_of(terms: list[Term]) -> tuple[dict, dict[int, TermDocument]]:
    """What checking a step needs for every term, read in bulk, and each
    term's live document (by id)."""
    from terms.workflow.transitions import Facts, content_authors_of

    authors = content_authors_of([term.pk for term in terms])
    roles = known_roles()
    lives = {term.pk: document_from_term(term) for term in terms}
    facts = {
        term.pk: Facts(
            pending=pending_of(term),
            authors=lambda pk=term.pk: authors[pk],
            document=lambda pk=term.pk: lives[pk].to_data(),
            roles=lambda: roles,
        )
        for term in terms
    }
    return facts, lives


def _pending_many(terms, transition, actor, comment, source):
    """Move the pending changes of ``terms``: approving puts each live (one
    write per author of the changes), other steps move them in bulk."""
    refused = []
    if not terms:
        return refused
    pendings = [pending_of(term) for term in terms]
    if transition.target != Status.APPROVED:
        events = [
            _pending_event(term, pending, transition, actor, comment, source)
            for term, pending in zip(terms, pendings, strict=True)
        ]
        reviewer = actor if transition.target == Status.REVIEWED else None
        PendingChange.objects.filter(pk__in=[p.pk for p in pendings]).update(
            status=PendingStatus(transition.target),
            reviewed_by=reviewer,
            updated_at=timezone.now(),
        )
        TermEvent.objects.bulk_create(events)
        services.glossary_touch(
            [t.pk for t in terms], public=False, wanted=(), counts={}
        )
        return refused
    by_author: dict[int | None, list] = {}
    today = timezone.localdate().isoformat()
    roles = known_roles()
    for term, pending in zip(terms, pendings, strict=True):
        data = {**pending.document, "status": Status.APPROVED, "last_reviewed": today}
        document, problems = validate_term_data(data, known_roles=roles)
        if problems:
            refused.append(
                (
                    term.slug,
                    NotAllowed(
                        "The pending change is no longer valid.",
                        [str(p) for p in problems],
                    ),
                )
            )
            continue
        by_author.setdefault(pending.author_id, []).append((document, term, pending))
    for group in by_author.values():
        PendingChange.objects.filter(pk__in=[p.pk for _, _, p in group]).delete()
        # As in ``_pending_transition``: the terms' loaded parts are what the
        # write replaces.
        services.terms_write(
            changes=[(document, term) for document, term, _ in group],
            actor=actor,
            author=group[0][2].author,
            source=source,
            action=transition.event,
            from_status=group[0][2].status,
            comment=comment,
        )
    return refused


def _enough_approvals(term: Term, actor) -> bool:
    """Whether ``actor``'s approval makes ``GLOSSARY_APPROVALS_REQUIRED``
    distinct approvers (authors cannot approve: ``check_transition``)."""
    needed = settings.GLOSSARY_APPROVALS_REQUIRED
    if needed <= 1:
        return True
    given = set(Approval.objects.filter(term=term).values_list("approver", flat=True))
    if actor.pk in given:
        raise NotAllowed(
            f"{actor_label(actor)} already approved this; {needed - len(given)} "
            "more approver(s) must.",
            ["one approval per approver"],
        )
    return len(given) + 1 >= needed


def _record_approval(term, pending, actor, comment, source) -> Term:
    """Count ``actor``'s approval; the term (or its pending change) stays
    reviewed until enough approvers agreed."""
    Approval.objects.create(term=term, approver=actor)
    history.event_for(
        term=term,
        term_slug=term.slug,
        action=EventAction.APPROVAL,
        source=source,
        actor=actor,
        from_status=Status.REVIEWED,
        to_status=Status.REVIEWED,
        version=term.version,
        comment=comment,
        pending=pending is not None,
    ).save()
    services.glossary_touch([term.pk], public=False, wanted=(), counts={})
    return term


def _replacement(slug: str) -> Term | None:
    """The term a slug names, for a deprecation; refused when there is none."""
    slug = (slug or "").strip()
    if not slug:
        return None
    term = Term.objects.filter(slug=slug).first()
    if term is None:
        raise Missing(f"No term with slug {slug!r} to name as replacement.",
                      field="replaced_by")  # fmt: skip
    return term


def _pending_event(term, pending, transition, actor, comment, source):
    """The unsaved audit event of a step taken on a term's pending change."""
    return history.event_for(
        term=term,
        term_slug=term.slug,
        action=transition.event,
        source=source,
        actor=actor,
        from_status=pending.status,
        to_status=transition.target,
        version=term.version,
        comment=comment,
        pending=True,
    )


def _pending_transition(term, pending, transition, actor, comment, source) -> Term:
    """Move a pending change; approving it puts it live as the term's content."""
    if transition.target == Status.APPROVED:
        data = {
            **pending.document,
            "status": Status.APPROVED,
            "last_reviewed": timezone.localdate().isoformat(),
        }
        document, problems = validate_term_data(data, known_roles=known_roles())
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
            action=transition.event,
            from_status=pending.status,
            comment=comment,
        )
        return Term.objects.get(pk=term.pk)
    event = _pending_event(term, pending, transition, actor, comment, source)
    pending.status = PendingStatus(transition.target)
    pending.reviewed_by = actor if transition.target == Status.REVIEWED else None
    pending.save(update_fields=["status", "reviewed_by", "updated_at"])
    event.save()
    services.pending_touch(term)
    return term
