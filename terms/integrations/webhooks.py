"""Signed change webhooks for pipelines.

The outbox is the audit trail itself: every change writes ``TermEvent`` rows in
its own transaction, so nothing that happened can be missed. The same
transaction queues a delivery task per active subscription (the task queue is
django-tasks with its database backend, chosen because its queue is a table
of this database: the job commits or rolls back with the change, which a
Redis queue such as RQ or Celery cannot promise). A worker
(``manage.py db_worker``) runs ``deliver``: it sends the subscription's
undelivered events in the order they happened, each once, and stops at the
first failure, to retry later with a doubling backoff; a receiver that is down
loses nothing and receives every event in order once it is back.

Each request is a JSON ``POST`` signed by the Standard Webhooks scheme, so a
receiver can verify it with that project's libraries: ``webhook-id`` (the
event id: the receiver's idempotency key), ``webhook-timestamp`` (Unix
seconds) and ``webhook-signature: v1,<base64>``, the HMAC-SHA256 of
``"{id}.{timestamp}.{body}"`` under the secret (``whsec_<base64 key>``; an
older secret of plain text is its own UTF-8 bytes). ``X-Glossary-Event`` names
the type; the first scheme's ``X-Glossary-Delivery``, ``X-Glossary-Timestamp``
and ``X-Glossary-Signature: sha256=<hex>`` (over ``"{timestamp}.{body}"``) are
still sent for receivers written against it.
"""

import base64
import contextlib
import datetime
import hashlib
import hmac
import json
import secrets
import time
import uuid

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from terms import events
from terms.integrations import outbound
from terms.models import (
    EVENT_TYPES,
    EventAction,
    TermEvent,
    TermRevision,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "EVENT_TYPES",
    "deliver",
    "event_type",
    "new_secret",
    "payload",
    "queue",
    "resume",
    "sign",
    "standard_signature",
]

_TYPES = {
    EventAction.CREATE: "term.created",
    EventAction.UPDATE: "term.updated",
    EventAction.REVIEW: "term.reviewed",
    EventAction.APPROVE: "term.approved",
    EventAction.APPROVAL: "term.approval_recorded",
    EventAction.REQUEST_CHANGES: "term.changes_requested",
    EventAction.DEPRECATE: "term.deprecated",
    EventAction.RESTORE: "term.restored",
    EventAction.DELETE: "term.deleted",
    EventAction.PROPOSE: "pending.opened",
    EventAction.REVERT: "pending.opened",
    EventAction.WITHDRAW: "pending.withdrawn",
    EventAction.IMPORT: "import.finished",
    EventAction.PUBLISH: "release.published",
    EventAction.COMMENT: "term.commented",
}
#: Events sent per task run before it queues a successor.
BATCH = 200
MAX_BACKOFF_SECONDS = 3600


def event_type(event: TermEvent) -> str:
    """The webhook type of an audit event."""
    return _TYPES.get(event.action, f"term.{event.action}")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` over ``"{timestamp}." + body``: the first scheme's
    ``X-Glossary-Signature``, still sent for receivers written against it."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


#: How a Standard Webhooks secret is written: the prefix, then the key in base64.
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh Standard Webhooks secret: ``whsec_`` and 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a subscription's secret: a ``whsec_`` secret's bytes
    (as the ``standardwebhooks`` package reads it), else the secret's own
    UTF-8 bytes (what a receiver passes as ``Webhook(secret.encode())``)."""
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret[len(SECRET_PREFIX) :] + "==")
    return secret.encode()


def standard_signature(
    secret: str, message_id: str, timestamp: int, body: bytes
) -> str:
    """``webhook-signature`` of the Standard Webhooks scheme: ``v1,`` and the
    base64 HMAC-SHA256 of ``"{id}.{timestamp}." + body``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _changed_fields(event: TermEvent) -> list[str]:
    """Document keys that differ between the event's version and the one before."""
    from terms.documents.document import validate_term_data

    if event.version is None or event.term_id is None:
        return []
    revisions = dict(
        TermRevision.objects.filter(
            term_id=event.term_id, version__in=[event.version, event.version - 1]
        ).values_list("version", "document")
    )
    new, old = revisions.get(event.version), revisions.get(event.version - 1)
    if new is None or old is None:
        return sorted(new) if new else []
    new_doc, _ = validate_term_data(new)
    old_doc, _ = validate_term_data(old)
    if new_doc is None or old_doc is None:
        return sorted(k for k in new if new.get(k) != old.get(k))
    return new_doc.changed_keys(old_doc)


def payload(event: TermEvent) -> dict:
    """What a receiver gets for one audit event."""
    previous = None
    if event.version is not None and event.action not in (
        EventAction.CREATE,
        EventAction.PROPOSE,
        EventAction.WITHDRAW,
    ):
        previous = event.version - 1 if event.version > 1 else None
    if event.action == EventAction.PUBLISH:
        return {
            "id": event.pk,
            "type": event_type(event),
            "term": None,
            "release": json.loads(event.comment or "{}"),
            "actor": event.actor_name,
            "source": event.source,
            "time": event.created_at.isoformat(),
        }
    if event.action == EventAction.IMPORT:
        return {
            "id": event.pk,
            "type": event_type(event),
            "term": None,
            "summary": json.loads(event.comment or "{}"),
            "actor": event.actor_name,
            "source": event.source,
            "time": event.created_at.isoformat(),
        }
    return {
        "id": event.pk,
        "type": event_type(event),
        "term": event.term_slug,
        "previous_version": previous,
        "version": event.version,
        "from_status": event.from_status or None,
        "to_status": event.to_status or None,
        "changed_fields": _changed_fields(event),
        "actor": event.actor_name,
        "source": event.source,
        "comment": event.comment,
        "time": event.created_at.isoformat(),
    }


def latest_event_id() -> int:
    """The newest audit event: a new subscription starts after it."""
    return TermEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def on_glossary_change(change) -> None:
    """Every write, release published and comment adds audit events to
    deliver (``GLOSSARY_EVENTS_PIPELINE``); term requests add none."""
    if isinstance(
        change, (events.GlossaryChanged, events.ReleasePublished, events.Commented)
    ):
        queue()


def queue() -> None:
    """Queue a delivery run for every active subscription, in the current
    transaction (so it is queued exactly when the change commits)."""
    for pk in WebhookSubscription.objects.filter(active=True).values_list(
        "pk", flat=True
    ):
        deliver.enqueue(pk)


def _pending_events(subscription: WebhookSubscription):
    delivered = WebhookDelivery.objects.filter(
        subscription=subscription, delivered=True
    ).values("event_id")
    events = TermEvent.objects.filter(pk__gt=subscription.start_after).exclude(
        pk__in=delivered
    )
    wanted = set(subscription.events or ())
    if wanted:
        actions = [action for action, kind in _TYPES.items() if kind in wanted]
        events = events.filter(action__in=actions)
    return events.order_by("pk")


def _send(
    client: httpx.Client, subscription, event: TermEvent
) -> tuple[bool, int | None, str]:
    body = json.dumps(payload(event), ensure_ascii=False).encode("utf-8")
    timestamp = int(time.time())
    message_id = str(event.pk)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "glossary-webhooks/1.0",
        # Standard Webhooks: verifiable with any of its libraries.
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(
            subscription.secret, message_id, timestamp, body
        ),
        "X-Glossary-Event": event_type(event),
        "X-Glossary-Delivery": str(event.pk),
        "X-Glossary-Timestamp": str(timestamp),
        "X-Glossary-Signature": sign(subscription.secret, timestamp, body),
    }
    try:
        response = client.post(subscription.url, content=body, headers=headers)
    except outbound.Refused as exc:
        return False, None, str(exc)
    except httpx.HTTPError as exc:
        # Only the kind of failure is kept: the system's own message would tell
        # whoever reads the log which ports answer where (a port scanner).
        return False, None, outbound.failure_kind(exc)
    ok = 200 <= response.status_code < 300
    return ok, response.status_code, "" if ok else f"HTTP {response.status_code}"


def _lease() -> datetime.datetime:
    """When a hold taken now ends: one attempt's timeout and a margin
    (``GLOSSARY_WEBHOOK_LEASE_SECONDS``), so a run whose worker died frees
    the subscription soon after."""
    seconds = (
        settings.GLOSSARY_WEBHOOK_LEASE_SECONDS
        + settings.GLOSSARY_WEBHOOK_TIMEOUT_SECONDS
    )
    return timezone.now() + datetime.timedelta(seconds=seconds)


def _claim(subscription_id: int, owner: str, *, retry: bool):
    """Take the subscription's lease (one run at a time) without holding a
    transaction: None when another run holds it, the subscription is gone or
    inactive, or a scheduled retry is not due yet."""
    now = timezone.now()
    claimable = WebhookSubscription.objects.filter(pk=subscription_id, active=True)
    claimable = claimable.filter(Q(leased_until=None) | Q(leased_until__lt=now))
    if not retry:
        # A retry is scheduled: new events wait for it, in order.
        claimable = claimable.filter(Q(retry_at=None) | Q(retry_at__lte=now))
    if not claimable.update(leased_until=_lease(), lease_owner=owner):
        held = (
            WebhookSubscription.objects.filter(pk=subscription_id, active=True)
            .values_list("leased_until", flat=True)
            .first()
        )
        if held is not None and held > now:
            # Whoever holds it may die before it ends: look again then.
            deliver.using(run_after=held).enqueue(subscription_id, retry=retry)
        return None
    return WebhookSubscription.objects.get(pk=subscription_id)


def _renew(subscription, owner: str) -> bool:
    """Extend this run's lease; False when it was lost (it ran out)."""
    return bool(
        WebhookSubscription.objects.filter(
            pk=subscription.pk, lease_owner=owner
        ).update(leased_until=_lease())
    )


def _release(subscription, owner: str) -> None:
    WebhookSubscription.objects.filter(pk=subscription.pk, lease_owner=owner).update(
        leased_until=None, lease_owner=""
    )


@task()
def deliver(subscription_id: int, retry: bool = False) -> int:
    """Send a subscription's undelivered events in order; on a failure, stop and
    queue one retry after the backoff (runs queued meanwhile wait for it, so
    the order holds). Returns how many were delivered.

    No transaction or row lock is held while a request is out: one run at a
    time holds a lease on the subscription (a column with an expiry), and each
    attempt is recorded in its own commit as soon as its answer is in. A worker
    killed mid-run therefore loses at most the attempt in flight, which the
    next run makes again with the same ``webhook-id`` (receivers use it to
    ignore a repeat); nothing it had recorded is sent twice.
    """
    owner = uuid.uuid4().hex
    subscription = _claim(subscription_id, owner, retry=retry)
    if subscription is None:
        return 0
    try:
        sent, more = _deliver(subscription, owner)
    finally:
        _release(subscription, owner)
    if more:
        # Released first: a run queued by a write meanwhile found the lease
        # held and left; this look after the release sends what it would have.
        deliver.enqueue(subscription.pk)
    return sent


def _deliver(subscription: WebhookSubscription, owner: str) -> tuple[int, bool]:
    """``(sent, more)``: how many were delivered, and whether events may still
    wait (a full batch, or events that came while this run sent)."""
    sent = 0
    timeout = settings.GLOSSARY_WEBHOOK_TIMEOUT_SECONDS
    with outbound.client(timeout=timeout) as client:
        for event in _pending_events(subscription)[:BATCH]:
            started = time.monotonic()
            ok, code, error = _send(client, subscription, event)
            attempt = (
                WebhookDelivery.objects.filter(
                    subscription=subscription, event_id=event.pk
                ).count()
                + 1
            )
            # Recorded as delivered already: a run whose lease ran out.
            with contextlib.suppress(IntegrityError), transaction.atomic():
                WebhookDelivery.objects.create(
                    subscription=subscription,
                    event_id=event.pk,
                    event_type=event_type(event),
                    term_slug=event.term_slug,
                    attempt=attempt,
                    delivered=ok,
                    status_code=code,
                    error=error,
                    elapsed_ms=int((time.monotonic() - started) * 1000),
                )
            if not ok:
                failures = subscription.failures + 1
                wait = min(
                    settings.GLOSSARY_WEBHOOK_BACKOFF_SECONDS * 2 ** (failures - 1),
                    MAX_BACKOFF_SECONDS,
                )
                later = timezone.now() + datetime.timedelta(seconds=wait)
                WebhookSubscription.objects.filter(pk=subscription.pk).update(
                    failures=failures, retry_at=later
                )
                deliver.using(run_after=later).enqueue(subscription.pk, retry=True)
                return sent, False
            sent += 1
            if subscription.failures or subscription.retry_at:
                subscription.failures, subscription.retry_at = 0, None
                WebhookSubscription.objects.filter(pk=subscription.pk).update(
                    failures=0, retry_at=None
                )
            if not _renew(subscription, owner):
                return sent, True  # the lease ran out: another run goes on
    return sent, _pending_events(subscription).exists()


def resume() -> int:
    """Queue a run for every active subscription with events waiting (the task
    worker does this as it starts: runs of a worker that died are not retried
    by the queue). Returns how many were queued."""
    queued = 0
    for subscription in WebhookSubscription.objects.filter(active=True):
        if _pending_events(subscription).exists():
            due = subscription.retry_at
            if due is not None and due > timezone.now():
                deliver.using(run_after=due).enqueue(subscription.pk, retry=True)
            else:
                deliver.enqueue(subscription.pk)
            queued += 1
    return queued
