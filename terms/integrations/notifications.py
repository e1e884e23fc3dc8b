"""Telling people when something waits for them: by email and in their
group's chat, at once, in a daily digest, or not at all.

Two halves, both run by the task worker (never inside a request):

1. **What to tell whom.** The audit trail is read from a cursor
   (``NotificationCursor``), like webhooks read it: a draft or a pending
   change opened tells the reviewers; a review tells the approvers; changes
   requested tell the authors (with the comment); an approval or a
   deprecation tells the authors and the term's watchers (and its categories'
   watchers); a published release tells the glossary's watchers. Comments
   that mention people, and term requests filed (editors) or answered (the
   requester's address), are queued where they happen. Each message is one
   ``Notification`` row with a unique ``key``, so reading the same event twice
   queues nothing twice.
2. **Sending.** Each queued row is claimed (marked ``sending`` and committed)
   before its mail or chat post goes out and marked ``sent`` after, so a
   worker killed mid-batch and started again sends nothing twice: a row in
   flight when it died stays ``sending`` and is reported as failed after the
   lease, not sent again. Daily digests gather a person's queued messages
   into one mail once a day.
"""

import datetime
import json
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from terms import events
from terms.integrations import outbound
from terms.models import (
    EventAction,
    GroupChannel,
    Notification,
    NotificationCursor,
    NotificationMode,
    NotificationSettings,
    PendingChange,
    Term,
    TermEvent,
    Watch,
)
from terms.workflow.transitions import content_authors_of

_log = logging.getLogger(__name__)

#: Which group hears of which step (the workflow's groups, by name).
REVIEWERS, APPROVERS, EDITORS = "reviewers", "approvers", "editors"
#: Events read per run.
BATCH = 500
#: How long a claimed message may stay "sending" before it counts as lost.
LEASE = datetime.timedelta(minutes=5)


# --- what to tell whom ---------------------------------------------------------------


def on_glossary_change(change) -> None:
    """Every write may add audit events to tell people of
    (``GLOSSARY_EVENTS_PIPELINE``): a run is queued when it commits. Comments
    and term requests queue their messages here, in their transaction."""
    from terms.models import Comment, TermRequest

    if isinstance(change, events.Commented):
        comment = Comment.objects.select_related("term").get(pk=change.comment_id)
        users = list(get_user_model().objects.filter(pk__in=change.users))
        queue_mentions(comment, users, change.groups)
    elif isinstance(change, events.RequestFiled):
        queue_request_filed(TermRequest.objects.get(pk=change.request_id))
    elif isinstance(change, events.RequestAnswered):
        request = TermRequest.objects.get(pk=change.request_id)
        queue_request_answered(request, change.outcome)
    transaction.on_commit(lambda: deliver.enqueue())


def _site(path: str) -> str:
    return settings.GLOSSARY_SITE_URL.rstrip("/") + path


def _admin_url(term: Term) -> str:
    return _site(f"/admin/terms/term/{term.pk}/change/")


def _term_url(term: Term) -> str:
    return _site(f"/terms/{term.slug}/")


def _group_members(name: str) -> list:
    return list(
        get_user_model().objects.filter(groups__name=name, is_active=True).distinct()
    )


def _authors(term: Term, pending: PendingChange | None) -> list:
    """Who wrote what a step was taken on: the pending change's author and
    contributors, or the live content's authors since its last approval."""
    users = get_user_model().objects
    if pending is not None:
        ids = {pending.author_id, *pending.contributors.values_list("pk", flat=True)}
    else:
        ids = content_authors_of([term.pk])[term.pk]
    return list(users.filter(pk__in=[i for i in ids if i], is_active=True))


def _watchers(term: Term) -> list:
    categories = list(term.categories.values_list("pk", flat=True))
    watching = Watch.objects.filter(Q(term=term) | Q(category__in=categories))
    users = get_user_model().objects
    return list(users.filter(pk__in=watching.values("user"), is_active=True).distinct())


def _queue(
    key: str, people, *, kind: str, subject: str, body: str, url: str, groups=()
) -> None:
    """One message per person (by their choice) and per group chat."""
    modes = dict(
        NotificationSettings.objects.filter(user__in=people).values_list(
            "user_id", "mode"
        )
    )
    rows = []
    for person in people:
        mode = modes.get(person.pk, NotificationMode.IMMEDIATE)
        if mode == NotificationMode.OFF or not person.email:
            continue
        rows.append(
            Notification(
                key=f"{key}:email:{person.pk}",
                channel=Notification.Channel.EMAIL,
                recipient=person,
                kind=kind,
                subject=subject,
                body=body,
                url=url,
                digest=mode == NotificationMode.DAILY,
            )
        )
    for channel in GroupChannel.objects.filter(group__name__in=groups, active=True):
        rows.append(
            Notification(
                key=f"{key}:chat:{channel.pk}",
                channel=Notification.Channel.CHAT,
                group_channel=channel,
                kind=kind,
                subject=subject,
                body=body,
                url=url,
            )
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)


def _from_event(event: TermEvent) -> None:
    """Queue what one audit event tells people."""
    term = event.term
    if event.action == EventAction.PUBLISH:
        watchers = get_user_model().objects.filter(
            pk__in=Watch.objects.filter(term=None, category=None).values("user"),
            is_active=True,
        )
        summary = json.loads(event.comment or "{}")
        name = summary.get("name", "")
        _queue(
            f"event:{event.pk}",
            list(watchers),
            kind="release.published",
            subject="A new release of the glossary was published",
            body=f"{event.actor_name or 'Someone'} published release {name}.\n\n"
            f"{summary.get('notes', '')}",
            url=_site("/releases/"),
        )
        return
    if term is None:
        return
    pending = PendingChange.objects.filter(term=term).first() if event.pending else None
    actor = event.actor_id
    name, what = term.name, ("a change to " if event.pending else "")
    if event.action in (EventAction.PROPOSE, EventAction.REVERT) or (
        event.action == EventAction.CREATE and event.to_status == "draft"
    ):
        people = [p for p in _group_members(REVIEWERS) if p.pk != actor]
        _queue(
            f"event:{event.pk}",
            people,
            kind="review.wanted",
            subject=f"Ready for review: {what}{name}",
            body=f"{event.actor_name or 'Someone'} wrote {what}{name!r}; it waits "
            "for a reviewer.",
            url=_admin_url(term),
            groups=[REVIEWERS],
        )
    elif event.action in (EventAction.REVIEW, EventAction.APPROVAL):
        people = [p for p in _group_members(APPROVERS) if p.pk != actor]
        _queue(
            f"event:{event.pk}",
            people,
            kind="approval.wanted",
            subject=f"Waiting for approval: {what}{name}",
            body=f"{event.actor_name or 'Someone'} "
            f"{'reviewed' if event.action == EventAction.REVIEW else 'approved'} "
            f"{what}{name!r}; it waits for an approver.",
            url=_admin_url(term),
            groups=[APPROVERS],
        )
    elif event.action == EventAction.REQUEST_CHANGES:
        _queue(
            f"event:{event.pk}",
            [p for p in _authors(term, pending) if p.pk != actor],
            kind="changes.requested",
            subject=f"Changes requested: {what}{name}",
            body=f"{event.actor_name or 'Someone'} asks for changes to "
            f"{what}{name!r}:\n\n{event.comment}",
            url=_admin_url(term),
        )
    elif event.action in (EventAction.APPROVE, EventAction.DEPRECATE):
        done = "approved" if event.action == EventAction.APPROVE else "deprecated"
        authors = _authors_of_version(term, event)
        people = {p.pk: p for p in [*authors, *_watchers(term)] if p.pk != actor}
        _queue(
            f"event:{event.pk}",
            list(people.values()),
            kind=f"term.{done}",
            subject=f"{name} was {done}",
            body=f"{event.actor_name or 'Someone'} {done} {name!r}.",
            url=_term_url(term),
        )


def _authors_of_version(term: Term, event: TermEvent) -> list:
    """Who wrote the content an approval put live (the revisions since the
    approval before it)."""
    from terms.models import TermRevision

    earlier = (
        TermEvent.objects.filter(
            term=term, action=EventAction.APPROVE, pending=False, pk__lt=event.pk
        )
        .order_by("-pk")
        .values_list("version", flat=True)
        .first()
    ) or 0
    ids = TermRevision.objects.filter(
        term=term,
        status_only=False,
        author__isnull=False,
        version__gt=earlier,
        version__lte=event.version or 0,
    ).values_list("author_id", flat=True)
    return list(get_user_model().objects.filter(pk__in=set(ids), is_active=True))


def queue_mentions(comment, users, groups) -> None:
    """Tell the people a comment mentions (the members of mentioned groups,
    and their chat)."""
    term = comment.term
    people = {u.pk: u for u in users}
    for name in groups:
        people.update({u.pk: u for u in _group_members(name)})
    people.pop(comment.author_id, None)
    _queue(
        f"comment:{comment.pk}",
        list(people.values()),
        kind="comment.mention",
        subject=f"{comment.author_name} mentioned you on {term.name}",
        body=f"{comment.author_name} wrote on {term.name!r}:\n\n{comment.body}",
        url=_admin_url(term),
        groups=groups,
    )


def queue_request_filed(request) -> None:
    """Tell the editors that a reader asked for a term."""
    _queue(
        f"request:{request.pk}:filed",
        _group_members(EDITORS),
        kind="request.filed",
        subject=f"A term was requested: {request.term}",
        body=f"A reader asked for {request.term!r}.\n\n{request.context}",
        url=_site(f"/admin/terms/termrequest/{request.pk}/change/"),
        groups=[EDITORS],
    )


def queue_request_answered(request, outcome: str) -> None:
    """Tell the requester (when they left an address) what became of it."""
    if "@" not in (request.contact or ""):
        return
    Notification.objects.bulk_create(
        [
            Notification(
                key=f"request:{request.pk}:{outcome}",
                channel=Notification.Channel.EMAIL,
                address=request.contact,
                kind="request.answered",
                subject=f"Your request for {request.term!r}: {outcome}",
                body=f"Your request for {request.term!r} was {outcome}.",
                url=_site(request.get_absolute_url()),
            )
        ],
        ignore_conflicts=True,
    )


def read_events() -> int:
    """Turn the audit events after the cursor into queued messages; how many
    events were read."""
    with transaction.atomic():
        cursor, _ = NotificationCursor.objects.select_for_update().get_or_create(pk=1)
        events = list(
            TermEvent.objects.filter(pk__gt=cursor.last_event_id)
            .select_related("term")
            .order_by("pk")[:BATCH]
        )
        for event in events:
            _from_event(event)
        if events:
            cursor.last_event_id = events[-1].pk
            cursor.save(update_fields=["last_event_id"])
    return len(events)


def start_after_now() -> None:
    """Begin with the events to come (a new installation, or a glossary
    imported before notifications existed, tells nobody of its past)."""
    last = TermEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    NotificationCursor.objects.update_or_create(pk=1, defaults={"last_event_id": last})


# --- sending -------------------------------------------------------------------------


def _claim(pk: int) -> Notification | None:
    """Mark one queued message as being sent (committed before it is sent)."""
    with transaction.atomic():
        found = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, state=Notification.State.QUEUED)
            .first()
        )
        if found is None:
            return None
        found.state = Notification.State.SENDING
        found.claimed_at = timezone.now()
        found.save(update_fields=["state", "claimed_at"])
        return found


def _finish(notifications, error: str = "") -> None:
    Notification.objects.filter(pk__in=[n.pk for n in notifications]).update(
        state=Notification.State.FAILED if error else Notification.State.SENT,
        error=error[:500],
        sent_at=timezone.now(),
    )


def _mail(subject: str, body: str, to: str) -> None:
    send_mail(
        f"[Glossary] {subject}",
        body,
        settings.DEFAULT_FROM_EMAIL,
        [to],
        fail_silently=False,
    )


def _chat(notification: Notification) -> None:
    text = f"*{notification.subject}*\n{notification.body}\n{notification.url}"
    with outbound.client(timeout=settings.GLOSSARY_WEBHOOK_TIMEOUT_SECONDS) as http:
        answer = http.post(notification.group_channel.webhook_url, json={"text": text})
        answer.raise_for_status()


def _send_one(notification: Notification) -> None:
    try:
        if notification.channel == Notification.Channel.CHAT:
            _chat(notification)
        else:
            to = notification.address or notification.recipient.email
            _mail(
                notification.subject,
                f"{notification.body}\n\n{notification.url}\n",
                to,
            )
    except Exception as error:
        _log.warning("notification %s not sent: %s", notification.pk, error)
        _finish([notification], error=f"{type(error).__name__}: {error}")
    else:
        _finish([notification])


def send_queued() -> int:
    """Send every message due now; how many were sent or failed."""
    lost = timezone.now() - LEASE
    Notification.objects.filter(
        state=Notification.State.SENDING, claimed_at__lt=lost
    ).update(
        state=Notification.State.FAILED,
        error="the worker stopped while sending it; not sent again",
    )
    count = 0
    due = Notification.objects.filter(
        state=Notification.State.QUEUED, digest=False
    ).values_list("pk", flat=True)
    for pk in list(due.order_by("pk")):
        found = _claim(pk)
        if found is not None:
            _send_one(found)
            count += 1
    return count + _send_digests()


def _send_digests() -> int:
    """One mail per person whose daily digest is due, with everything queued
    for it."""
    now = timezone.now()
    waiting = (
        Notification.objects.filter(state=Notification.State.QUEUED, digest=True)
        .values_list("recipient", flat=True)
        .distinct()
    )
    count = 0
    for user_id in list(waiting):
        with transaction.atomic():
            choice, _ = NotificationSettings.objects.select_for_update().get_or_create(
                user_id=user_id
            )
            last = choice.last_digest_at
            if last is not None and now - last < datetime.timedelta(days=1):
                continue
            items = list(
                Notification.objects.select_for_update(skip_locked=True).filter(
                    recipient_id=user_id, state=Notification.State.QUEUED, digest=True
                )
            )
            if not items:
                continue
            Notification.objects.filter(pk__in=[n.pk for n in items]).update(
                state=Notification.State.SENDING, claimed_at=now
            )
            choice.last_digest_at = now
            choice.save(update_fields=["last_digest_at"])
        lines = [f"- {n.subject}\n  {n.url}" for n in items]
        try:
            _mail(
                f"Your daily digest: {len(items)} item(s)",
                "\n".join(lines) + "\n",
                items[0].recipient.email,
            )
        except Exception as error:
            _finish(items, error=f"{type(error).__name__}: {error}")
        else:
            _finish(items)
        count += len(items)
    return count


@task()
def deliver() -> int:
    """The worker's run: read new events, send what is due, and come back for
    the next digests."""
    while read_events() == BATCH:
        pass
    sent = send_queued()
    _schedule_digests()
    return sent


def _schedule_digests() -> None:
    """While digests wait, keep one run queued an hour ahead (not one per
    run: the cursor row remembers the one queued)."""
    if not Notification.objects.filter(
        state=Notification.State.QUEUED, digest=True
    ).exists():
        return
    now = timezone.now()
    with transaction.atomic():
        cursor, _ = NotificationCursor.objects.select_for_update().get_or_create(pk=1)
        if cursor.digest_run_at is not None and cursor.digest_run_at > now:
            return
        cursor.digest_run_at = now + datetime.timedelta(hours=1)
        cursor.save(update_fields=["digest_run_at"])
        deliver.using(run_after=cursor.digest_run_at).enqueue()
