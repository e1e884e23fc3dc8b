"""Comments: threads on a term or on its pending change, for signed-in
people only. ``@username`` and ``@group`` mention (and, through
``terms.events.Commented``, notify); a thread can be resolved; each comment is
an event in the term's history."""

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from terms import events
from terms.models import ChangeSource, Comment, EventAction, Term
from terms.reads.selectors import visible_statuses
from terms.workflow import history
from terms.workflow.transitions import (
    Forbidden,
    Invalid,
    WorkflowError,
    actor_label,
    pending_of,
)

__all__ = [
    "MAX_BODY",
    "WorkflowError",
    "comment_from_form",
    "comment_post",
    "mentioned",
    "thread_of",
    "thread_resolve",
]

#: The longest comment, in characters.
MAX_BODY = 10_000
#: ``@name``: a username or a group name (not an email address).
MENTION = re.compile(r"(?<![\w@.])@([\w.+-]*\w)")


def mentioned(body: str) -> tuple[list, list[str], list[str]]:
    """Who ``@name`` mentions in ``body``: (users, group names, names that
    are neither). Usernames match without regard to case."""
    names = list(dict.fromkeys(MENTION.findall(body)))
    users = {}
    for name in names:
        found = (
            get_user_model()
            .objects.filter(username__iexact=name, is_active=True)
            .first()
        )
        if found is not None:
            users[name] = found
    groups = set(Group.objects.filter(name__in=names).values_list("name", flat=True))
    unknown = [n for n in names if n not in users and n not in groups]
    people = {user.pk: user for user in users.values()}
    return list(people.values()), sorted(groups), unknown


def _check_reader(term: Term, actor) -> None:
    if actor is None or not actor.is_authenticated:
        raise Forbidden("Sign in to read or write comments.")
    if term.status not in visible_statuses(actor):
        raise Forbidden(f"{actor_label(actor)} may not see {term.name!r}.")


def thread_of(term: Term, actor):
    """The term's comments (oldest first) for ``actor``; refused for
    readers who are not signed in."""
    _check_reader(term, actor)
    return term.comments.select_related("reply_to").order_by("id")


@transaction.atomic
def comment_post(
    *,
    term: Term,
    actor,
    body: str,
    reply_to: Comment | None = None,
    on_pending: bool = False,
    source: ChangeSource = ChangeSource.API,
) -> Comment:
    """Post a comment (a new thread, or a reply to one) and record it in the
    term's history; its mentions are announced."""
    _check_reader(term, actor)
    body = (body or "").strip()
    if not body:
        raise Invalid("A comment needs some text.", field="body")
    if len(body) > MAX_BODY:
        raise Invalid(
            f"A comment is at most {MAX_BODY:,} characters; "
            f"this one has {len(body):,}.",
            field="body",
        )
    users, groups, unknown = mentioned(body)
    if unknown:
        names = ", ".join(f"@{name}" for name in unknown)
        raise Invalid(f"{names} names no user or group.", field="body")
    if reply_to is not None:
        if reply_to.term_id != term.pk:
            raise Invalid("That comment is on another term.", field="reply_to")
        reply_to = reply_to.reply_to or reply_to  # replies join the thread
        on_pending = reply_to.on_pending
    elif on_pending and pending_of(term) is None:
        raise Invalid(f"{term.name!r} has no pending change.", field="on_pending")
    comment = Comment.objects.create(
        term=term,
        on_pending=on_pending,
        reply_to=reply_to,
        author=actor,
        author_name=actor.get_username(),
        body=body,
    )
    history.event_for(
        term=term,
        term_slug=term.slug,
        action=EventAction.COMMENT,
        source=source,
        actor=actor,
        version=term.version,
        comment=f"comment {comment.pk}",
        pending=on_pending,
    ).save()
    events.announce(
        events.Commented(comment.pk, tuple(u.pk for u in users), tuple(groups))
    )
    return comment


def comment_from_form(*, term: Term, actor, data, source: ChangeSource) -> Comment:
    """``comment_post`` from a page's form: ``body``, ``reply_to`` (a comment
    id on this term, ignored when it names none) and ``on_pending``."""
    reply = str(data.get("reply_to", ""))
    reply_to = (
        Comment.objects.filter(pk=int(reply), term=term).first()
        if reply.isdecimal()
        else None
    )
    return comment_post(
        term=term,
        actor=actor,
        body=data.get("body", ""),
        reply_to=reply_to,
        on_pending=bool(data.get("on_pending")),
        source=source,
    )


@transaction.atomic
def thread_resolve(*, comment: Comment, actor) -> Comment:
    """Mark a thread resolved: its starter, or a reviewer or approver."""
    _check_reader(comment.term, actor)
    start = comment.reply_to or comment
    may = start.author_id == actor.pk or actor.has_perm("terms.review_term")
    if not may:
        raise Forbidden(
            f"{actor_label(actor)} did not start this thread and may not review; "
            "its starter or a reviewer resolves it."
        )
    if start.resolved_at is None:
        start.resolved_at = timezone.now()
        start.resolved_by = actor
        start.save(update_fields=["resolved_at", "resolved_by"])
    return start
