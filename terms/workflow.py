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

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from . import history, services
from .document import (
    Problem,
    TermDocument,
    category_clash_message,
    editorial_problems,
    validate_term_data,
)
from .mapping import TERM_DOCUMENT_PREFETCH, document_from_term, documents_for
from .models import (
    ChangeSource,
    EventAction,
    PendingChange,
    PendingStatus,
    Status,
    Term,
    TermEvent,
    TermRevision,
)
from .selectors import category_clashes, known_roles


class WorkflowError(Exception):
    """A refused workflow step; ``reasons`` says every reason it was refused."""

    #: "forbidden" (who you are) or "conflict" (the state of the term).
    kind = "conflict"

    def __init__(
        self,
        message: str,
        reasons: list[str] | None = None,
        *,
        field: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.reasons = reasons or []
        #: The request field the refusal is about, when there is one.
        self.field = field


class Forbidden(WorkflowError):
    """The actor may not take this step (permission or four-eyes)."""

    kind = "forbidden"


class NotAllowed(WorkflowError):
    """The step does not apply to the term's state, or a quality gate fails."""

    kind = "conflict"


class Gone(NotAllowed):
    """The term was deleted while the request waited for it."""

    kind = "gone"


class Invalid(WorkflowError):
    """The request itself is incomplete or wrong: a missing comment, a renaming
    edit, a category spelled unlike the stored one. ``problems`` name the fields."""

    kind = "invalid"

    def __init__(self, message: str, *, field: str | None = None, problems=None):
        self.problems = problems or [Problem(message, field=field)]
        super().__init__(
            message, [str(problem) for problem in self.problems], field=field
        )


@dataclass(frozen=True)
class Transition:
    """One workflow step, declared once: the API, the admin and the schema read it.

    ``gated`` steps pass the quality gates, obey the four-eyes rule and set the
    review date; ``acts_on_pending`` steps move a pending change when the term
    has one (approving it puts it live); ``takes_replacement`` steps may name the
    term that replaces this one.
    """

    name: str
    label: str
    summary: str
    permission: str
    sources: frozenset[str]
    target: str
    event: EventAction
    gated: bool = False
    needs_comment: bool = False
    acts_on_pending: bool = False
    takes_replacement: bool = False

    @property
    def url_name(self) -> str:
        """The step in URLs: ``request-changes``."""
        return self.name.replace("_", "-")


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "review",
            "Mark reviewed",
            "Review the term or its pending change",
            "terms.review_term",
            frozenset({Status.DRAFT}),
            Status.REVIEWED,
            EventAction.REVIEW,
            gated=True,
            acts_on_pending=True,
        ),
        Transition(
            "approve",
            "Approve",
            "Approve the term or its pending change",
            "terms.approve_term",
            frozenset({Status.REVIEWED}),
            Status.APPROVED,
            EventAction.APPROVE,
            gated=True,
            acts_on_pending=True,
        ),
        Transition(
            "request_changes",
            "Request changes",
            "Send the term back to draft (comment required)",
            "terms.request_changes_term",
            frozenset({Status.REVIEWED}),
            Status.DRAFT,
            EventAction.REQUEST_CHANGES,
            needs_comment=True,
            acts_on_pending=True,
        ),
        Transition(
            "deprecate",
            "Deprecate",
            "Deprecate the term (optionally naming its replacement)",
            "terms.deprecate_term",
            frozenset({Status.REVIEWED, Status.APPROVED}),
            Status.DEPRECATED,
            EventAction.DEPRECATE,
            takes_replacement=True,
        ),
        Transition(
            "restore",
            "Restore to draft",
            "Bring a deprecated term back to draft",
            "terms.restore_term",
            frozenset({Status.DEPRECATED}),
            Status.DRAFT,
            EventAction.RESTORE,
        ),
    )
}


#: Called with the locked, current term before a write; raises to refuse it
#: (the API's ``If-Match`` check).
Precondition = Callable[[Term], None]


def _pending(term: Term) -> PendingChange | None:
    try:
        return term.pending
    except PendingChange.DoesNotExist:
        return None


def _load(term: Term) -> Term:
    """The term with what building its document needs, fresh from the database.

    The row is locked until the transaction ends, so two writers of one term
    take turns. A term deleted meanwhile is reported as gone.
    """
    queryset = Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH)
    if transaction.get_connection().features.has_select_for_update_of:
        queryset = queryset.select_for_update(of=("self",))
    fresh = queryset.filter(pk=term.pk).first()
    if fresh is None:
        raise Gone(f"The term {term.slug!r} no longer exists.", ["term deleted"])
    return fresh


def content_authors(term: Term) -> set[int]:
    """Users who wrote the live term's content since it was last approved."""
    return content_authors_of([term.pk])[term.pk]


def content_authors_of(term_ids: list[int]) -> dict[int, set[int]]:
    """``content_authors`` of many terms in two queries."""
    last_approval = dict(
        TermEvent.objects.filter(
            term_id__in=term_ids, action=EventAction.APPROVE, pending=False
        )
        .values("term_id")
        .annotate(last=Max("version"))
        .values_list("term_id", "last")
    )
    authors: dict[int, set[int]] = {pk: set() for pk in term_ids}
    revisions = TermRevision.objects.filter(
        term_id__in=term_ids, status_only=False, author__isnull=False
    ).values_list("term_id", "version", "author_id")
    for term_id, version, author_id in revisions:
        if version > (last_approval.get(term_id) or 0):
            authors[term_id].add(author_id)
    return authors


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


def gate_problems(document_data: dict[str, Any], roles: set[str]) -> list[str]:
    """Structural validity plus the editorial rules of term-format.md."""
    document, problems = validate_term_data(document_data, known_roles=roles)
    if problems:
        return [str(problem) for problem in problems]
    return editorial_problems(document)


@dataclass
class Facts:
    """What deciding a step on one term needs; built per term or in bulk."""

    pending: PendingChange | None
    #: Who wrote the content the step would act on (four-eyes).
    authors: Callable[[], set[int]]
    #: The document the step would act on, as data (quality gates).
    document: Callable[[], dict[str, Any]]
    roles: Callable[[], set[str]]


def _facts(term: Term) -> Facts:
    return Facts(
        pending=_pending(term),
        authors=lambda: content_authors(term),
        document=lambda: document_from_term(term).to_data(),
        roles=known_roles,
    )


def check_transition(
    term: Term, name: str, actor, facts: Facts | None = None
) -> Transition:
    """Raise ``Forbidden`` or ``NotAllowed`` unless ``actor`` may take the step now."""
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise NotAllowed(
            f"There is no workflow step {name!r}; steps: {', '.join(TRANSITIONS)}."
        )
    _check_permission(actor, transition.permission, transition.label.lower())
    facts = facts or _facts(term)
    pending = facts.pending if transition.acts_on_pending else None
    state = pending.status if pending else term.status
    what = "the pending change" if pending else "the term"
    if state not in transition.sources:
        raise NotAllowed(
            f"Cannot {transition.label.lower()}: {what} is {state}; "
            f"this step needs {' or '.join(sorted(transition.sources))}.",
            [f"state is {state}"],
        )
    if transition.gated:
        # Four-eyes: nobody reviews or approves what they wrote, superusers included.
        authors = _contributors(pending) if pending else facts.authors()
        if actor.pk in authors:
            raise Forbidden(
                f"{_actor_label(actor)} wrote {what} and may not "
                f"{transition.label.lower()} it: another person must (four-eyes rule).",
                ["four-eyes: the author may not review or approve their own change"],
            )
        data = pending.document if pending else facts.document()
        problems = gate_problems(data, facts.roles())
        if problems:
            raise NotAllowed(
                f"Cannot {transition.label.lower()}: the term fails "
                f"{len(problems)} quality check(s): {'; '.join(problems)}",
                problems,
            )
    return transition


def _contributors(pending: PendingChange) -> set[int]:
    return {user.pk for user in pending.contributors.all()}


def allowed_transitions(
    term: Term, actor, facts: Facts | None = None
) -> dict[str, str | None]:
    """Each step and why it is refused (None when allowed), for buttons and lists."""
    facts = facts or _facts(term)
    result = {}
    for name in TRANSITIONS:
        try:
            check_transition(term, name, actor, facts)
        except WorkflowError as exc:
            result[name] = exc.message
        else:
            result[name] = None
    return result


@dataclass
class Waiting:
    """A term (or its pending change) that someone may review or approve now."""

    term: Term
    pending: PendingChange | None
    actions: list[str]


def waiting_for(actor, *, limit: int = 200) -> list[Waiting]:
    """What ``actor`` may review or approve now, oldest first.

    A fixed number of queries, whatever the number of candidates.
    """
    candidates = list(
        Term.objects.filter(
            Q(status__in=[Status.DRAFT, Status.REVIEWED])
            | Q(pk__in=PendingChange.objects.values("term_id"))
        )
        .select_related("pending")
        .prefetch_related("pending__contributors")
        .order_by("updated_at")[:limit]
    )
    ids = [term.pk for term in candidates]
    authors = content_authors_of(ids)
    documents = documents_for(Term.objects.filter(pk__in=ids))
    roles = known_roles()
    rows = []
    for term in candidates:
        facts = Facts(
            pending=_pending(term),
            authors=lambda pk=term.pk: authors[pk],
            document=lambda pk=term.pk: documents[pk].to_data(),
            roles=lambda: roles,
        )
        actions = []
        for name in ("review", "approve"):
            try:
                check_transition(term, name, actor, facts)
            except WorkflowError:
                continue
            actions.append(TRANSITIONS[name].label)
        if actions:
            rows.append(Waiting(term, facts.pending, actions))
    return rows


@transaction.atomic
def term_transition(
    *,
    term: Term,
    name: str,
    actor,
    comment: str = "",
    replaced_by: Term | None = None,
    source: ChangeSource = ChangeSource.API,
    precondition: Precondition | None = None,
) -> Term:
    """Take workflow step ``name`` on ``term`` (or on its pending change)."""
    term = _load(term)
    if precondition is not None:
        precondition(term)
    transition = check_transition(term, name, actor)
    comment = (comment or "").strip()
    if transition.needs_comment and not comment:
        raise Invalid(
            f"{transition.label} needs a comment saying what to change.",
            field="comment",
        )
    if replaced_by is not None:
        if not transition.takes_replacement:
            raise Invalid(
                f"Only deprecation takes a replacement term, not {name}.",
                field="replaced_by",
            )
        if replaced_by.pk == term.pk:
            raise Invalid("A term cannot replace itself.", field="replaced_by")
    pending = _pending(term) if transition.acts_on_pending else None
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
    event = history.event_for(
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
    pending.status = PendingStatus(transition.target)
    pending.reviewed_by = actor if transition.target == Status.REVIEWED else None
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
    _check_permission(actor, "terms.add_term", "create terms")
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
    precondition: Precondition | None = None,
) -> EditResult:
    """Edit a term: directly while it is a draft, as a pending change otherwise.

    ``precondition`` is called with the locked, current term (an ``If-Match``
    check) and may raise to refuse the edit.
    """
    _check_permission(actor, "terms.change_term", "edit terms")
    term = _load(term)
    if precondition is not None:
        precondition(term)
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
    pending = _pending(term)
    if term.status == Status.DRAFT and pending is None:
        if document == live:
            return EditResult("unchanged", term)
        services.terms_write(changes=[(document, term)], actor=actor, source=source)
        return EditResult("updated", Term.objects.get(pk=term.pk))
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
    services.glossary_touch()
    return EditResult("proposed", term, pending)


@transaction.atomic
def pending_withdraw(
    *, term: Term, actor, source: ChangeSource, comment: str = ""
) -> None:
    """Drop a term's pending change: its author and approvers may."""
    pending = _pending(term)
    if pending is None:
        raise NotAllowed("The term has no pending change.", ["no pending change"])
    if actor is None or not actor.is_authenticated:
        raise Forbidden("You must be signed in to withdraw a change.")
    if pending.author_id != actor.pk and not actor.has_perm("terms.approve_term"):
        raise Forbidden(
            f"{_actor_label(actor)} did not open this change and may not withdraw "
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
    services.glossary_touch()


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
def term_delete(
    *,
    term: Term,
    actor,
    source: ChangeSource,
    precondition: Precondition | None = None,
) -> None:
    """Delete a term (needs ``delete_term``); the audit trail keeps the deletion.

    The term's row is locked first, so a concurrent edit waits for the deletion
    (and then finds the term gone) instead of deadlocking on its part rows.
    """
    _check_permission(actor, "terms.delete_term", "delete terms")
    term = _load(term)
    if precondition is not None:
        precondition(term)
    services.terms_delete(terms=[term], actor=actor, source=source)
