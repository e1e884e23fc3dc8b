"""Workflow steps declared once, and the rules that decide whether one may be taken.

``TRANSITIONS`` is read by the API (one route per step), the admin (buttons
and bulk actions) and the schema. ``check_transition`` applies, in order: the
step's permission, the state it leaves, the four-eyes rule and the quality
gates, and says every reason when it refuses. ``waiting_for`` answers the same
question for many terms at once with a fixed number of queries. The writes that
take a step live in ``terms.workflow.steps``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Q

from terms.documents.document import Problem, editorial_checks, validate_term_data
from terms.documents.mapping import document_from_term, documents_for
from terms.models import (
    EventAction,
    PendingChange,
    Status,
    Term,
    TermEvent,
    TermRevision,
)
from terms.reads.selectors import known_roles


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
        problems: list[Problem] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.reasons = reasons or []
        #: The request field the refusal is about, when there is one.
        self.field = field
        #: Problems with the fields they are about (failed gates, say).
        self.problems = problems or []


class Forbidden(WorkflowError):
    """The actor may not take this step (permission or four-eyes)."""

    kind = "forbidden"


class NotAllowed(WorkflowError):
    """The step does not apply to the term's state, or a quality gate fails."""

    kind = "conflict"


class Gone(NotAllowed):
    """The term was deleted while the request waited for it."""

    kind = "gone"


class Stale(WorkflowError):
    """The caller read another version of the term than the one stored now."""

    kind = "stale"


class Missing(WorkflowError):
    """Something the request names does not exist (a replacement term)."""

    kind = "missing"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(
            message, [message], field=field, problems=[Problem(message, field=field)]
        )


class Invalid(WorkflowError):
    """The request itself is incomplete or wrong: a missing comment, a renaming
    edit, a category spelled unlike the stored one. ``problems`` name the fields."""

    kind = "invalid"

    def __init__(self, message: str, *, field: str | None = None, problems=None):
        problems = problems or [Problem(message, field=field)]
        super().__init__(
            message, [p.message for p in problems], field=field, problems=problems
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
    #: How refusals say the step ("may not request changes on it").
    verb_phrase: str = ""

    @property
    def verb(self) -> str:
        """The step as a verb in a sentence."""
        return self.verb_phrase or self.name

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
            verb_phrase="request changes on",
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


def pending_of(term: Term) -> PendingChange | None:
    """The term's pending change, or None."""
    try:
        return term.pending
    except PendingChange.DoesNotExist:
        return None


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


def actor_label(actor) -> str:
    """How refusals name the acting user."""
    return actor.get_username() if actor is not None else "nobody"


def check_permission(actor, permission: str, what: str) -> None:
    """Refuse (``Forbidden``) an anonymous actor or one without ``permission``."""
    if actor is None or not actor.is_authenticated:
        raise Forbidden(f"You must be signed in to {what}.")
    if not actor.has_perm(permission):
        raise Forbidden(
            f"{actor_label(actor)} lacks the permission to {what} ({permission}).",
            [f"missing permission {permission}"],
        )


def gate_problems(document_data: dict[str, Any], roles: set[str]) -> list[Problem]:
    """Every value a reviewed term needs (a draft may lack some), plus the
    editorial rules of term-format.md: all failures at once."""
    document, problems = validate_term_data(
        document_data, known_roles=roles, complete=True
    )
    if document is None:
        # An incomplete draft is still a valid draft: check the rest of it too.
        document, _ = validate_term_data(document_data, known_roles=roles)
    if document is None:
        return problems
    reported = {problem.field for problem in problems}
    return problems + [
        problem
        for problem in editorial_checks(document)
        if problem.field not in reported
    ]


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
        pending=pending_of(term),
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
    check_permission(actor, transition.permission, transition.label.lower())
    facts = facts or _facts(term)
    pending = facts.pending if transition.acts_on_pending else None
    state = pending.status if pending else term.status
    what = "the pending change" if pending else "the term"
    if state not in transition.sources:
        raise NotAllowed(
            f"Cannot {transition.verb} {what}: it is {state}, and this step needs "
            f"{' or '.join(sorted(transition.sources))}.",
            [f"state is {state}"],
            field="status",
        )
    if transition.gated:
        # Four-eyes: nobody reviews or approves what they wrote, superusers included.
        authors = _contributors(pending) if pending else facts.authors()
        if actor.pk in authors:
            raise Forbidden(
                f"{actor_label(actor)} wrote {what} and may not {transition.verb} it; "
                "another person must (four-eyes rule).",
                ["four-eyes: the author may not review or approve their own change"],
            )
        data = pending.document if pending else facts.document()
        problems = gate_problems(data, facts.roles())
        if problems:
            failures = [
                f"{p.field} {p.message}" if p.field else p.message for p in problems
            ]
            checks = "check" if len(problems) == 1 else "checks"
            raise NotAllowed(
                f"Cannot {transition.verb}: the term fails {len(problems)} quality "
                f"{checks}: {'; '.join(failures)}.",
                failures,
                problems=problems,
            )
    return transition


def _contributors(pending: PendingChange) -> set[int]:
    return {user.pk for user in pending.contributors.all()}


def allowed_transitions(
    term: Term, actor, facts: Facts | None = None
) -> dict[str, WorkflowError | None]:
    """Each step and its refusal (None when allowed), for buttons and lists."""
    facts = facts or _facts(term)
    result = {}
    for name in TRANSITIONS:
        try:
            check_transition(term, name, actor, facts)
        except WorkflowError as exc:
            result[name] = exc
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
            pending=pending_of(term),
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
