"""Signed webhooks: a real local receiver, the real task worker; a receiver
killed during a burst of approvals and brought back gets every event once, in
order, each signature valid."""

import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker

from terms.integrations import webhooks
from terms.models import WebhookDelivery, WebhookSubscription
from terms.workflow import steps as workflow
from tests.helpers import seed_term

SECRET = "s3cret-for-tests"


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    """The receivers here listen on loopback: allowed as a private deployment
    allows its own network (tests/test_security_faults.py checks that by
    default such addresses are refused)."""
    settings.GLOSSARY_OUTBOUND_ALLOW = ["127.0.0.0/8"]


class Receiver:
    """An HTTP server that records what it is sent; it can be stopped and
    started again on the same port, as a crashed receiver would be."""

    def __init__(self):
        self.received: list[tuple[dict, dict]] = []
        self.server = None
        self.port = None
        self.start()

    def start(self):
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
        self.server.allow_reuse_address = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.stop()


def run_worker() -> None:
    """The task worker (``manage.py db_worker``) until no task is ready."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    ).run()


def _valid(headers: dict, body: bytes) -> bool:
    expected = webhooks.sign(SECRET, int(headers["X-Glossary-Timestamp"]), body)
    return hmac.compare_digest(expected, headers["X-Glossary-Signature"])


def _subscribe(receiver, events=("term.approved",)) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name="pipeline",
        url=receiver.url,
        secret=SECRET,
        events=list(events),
        start_after=webhooks.latest_event_id(),
    )


@pytest.mark.django_db(transaction=True)
def test_a_change_is_delivered_signed_with_its_details(people, receiver, settings):
    term = seed_term("data drift", "reviewed", people["author"])
    _subscribe(receiver, events=())
    workflow.term_transition(term=term, name="approve", actor=people["approver"])
    run_worker()
    [(headers, body)] = receiver.received
    assert _valid(headers, body)
    assert not _valid({**headers, "X-Glossary-Timestamp": "1"}, body)  # replayed
    event = json.loads(body)
    assert headers["X-Glossary-Event"] == event["type"] == "term.approved"
    assert headers["X-Glossary-Delivery"] == str(event["id"])
    assert event["term"] == "data-drift"
    assert (event["from_status"], event["to_status"]) == ("reviewed", "approved")
    assert event["actor"] == "approver"
    # Approving sets the status and the review date.
    assert event["changed_fields"] == ["status", "last_reviewed"]
    assert event["version"] == event["previous_version"] + 1
    # What was sent is what the OpenAPI document says is sent.
    assert _as_described(body, "termEvent") == []
    assert _as_described(body, "importFinished") != []  # a check that can fail
    [log] = WebhookDelivery.objects.all()
    assert log.delivered
    assert log.status_code == 204


def _time_passes(subscription) -> None:
    """The backoff elapses without waiting for it: the retry the worker
    scheduled, and the task queued for it, fall due now."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(retry_at=now)
    DBTaskResult.objects.filter(run_after__gt=now).update(run_after=now)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_was_down_gets_every_event_once_in_order(
    people, receiver, settings
):
    settings.GLOSSARY_WEBHOOK_BACKOFF_SECONDS = 60  # passes by _time_passes
    terms = [
        seed_term(f"term {n:03}", "reviewed", people["author"]) for n in range(100)
    ]
    subscription = _subscribe(receiver)
    approver = people["approver"]
    for term in terms[:40]:
        workflow.term_transition(term=term, name="approve", actor=approver)
    run_worker()
    assert len(receiver.received) == 40
    receiver.stop()  # the receiver dies in the middle of the burst
    for term in terms[40:]:
        workflow.term_transition(term=term, name="approve", actor=approver)
    run_worker()  # every attempt fails; nothing is lost
    assert len(receiver.received) == 40
    failed = WebhookDelivery.objects.filter(delivered=False)
    assert failed.exists()
    assert WebhookSubscription.objects.get(pk=subscription.pk).failures >= 1
    receiver.start()  # back on the same port
    assert WebhookSubscription.objects.get(pk=subscription.pk).retry_at > timezone.now()
    run_worker()  # not due yet: nothing more is sent
    assert len(receiver.received) == 40
    _time_passes(subscription)
    run_worker()  # the retry, now due, sends the rest
    bodies = [json.loads(body) for _, body in receiver.received]
    ids = [event["id"] for event in bodies]
    assert len(ids) == len(set(ids)) == 100  # each once (the idempotency key)
    assert ids == sorted(ids)  # in the order they happened
    assert [event["term"] for event in bodies] == [t.slug for t in terms]
    assert all(_valid(headers, body) for headers, body in receiver.received)
    assert WebhookDelivery.objects.filter(delivered=True).count() == 100
    assert WebhookSubscription.objects.get(pk=subscription.pk).failures == 0


@pytest.mark.django_db(transaction=True)
def test_a_subscription_gets_only_its_event_types(people, receiver):
    term = seed_term("data drift", "draft", people["author"])
    _subscribe(receiver, events=("term.reviewed",))
    workflow.term_transition(term=term, name="review", actor=people["reviewer"])
    workflow.term_transition(term=term, name="approve", actor=people["approver"])
    run_worker()
    assert [json.loads(body)["type"] for _, body in receiver.received] == [
        "term.reviewed"
    ]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_sends_nothing(people, receiver):
    from django.db import transaction

    term = seed_term("data drift", "reviewed", people["author"])
    _subscribe(receiver)

    def approve_then_fail():
        with transaction.atomic():
            workflow.term_transition(
                term=term, name="approve", actor=people["approver"]
            )
            raise RuntimeError("the request failed after the change")

    with pytest.raises(RuntimeError):
        approve_then_fail()
    run_worker()
    assert receiver.received == []


@pytest.mark.django_db(transaction=True)
def test_staff_manage_subscriptions_through_the_api(people, receiver):
    from tests.helpers import api_client_for

    staff = api_client_for(people["superuser"])
    body = {
        "name": "ci",
        "url": receiver.url,
        "secret": SECRET,
        "events": ["term.approved"],
    }
    created = staff.post("/api/v1/webhooks/", body, format="json")
    assert created.status_code == 201, created.content
    assert "secret" not in created.json()
    assert staff.get("/api/v1/webhooks/").json()[0]["events"] == ["term.approved"]
    bad = staff.post(
        "/api/v1/webhooks/", {**body, "events": ["term.eaten"]}, format="json"
    )
    assert bad.status_code == 400
    assert "events" in bad.content.decode()
    editor = api_client_for(people["editor"])
    assert editor.get("/api/v1/webhooks/").status_code == 403
    term = seed_term("data drift", "reviewed", people["author"])
    workflow.term_transition(term=term, name="approve", actor=people["approver"])
    run_worker()
    assert [json.loads(b)["term"] for _, b in receiver.received] == ["data-drift"]


@pytest.mark.django_db(transaction=True)
def test_an_import_that_writes_sends_import_finished(receiver, tmp_path):
    from tests.helpers import base_term, import_folders, write_term

    _subscribe(receiver, events=("import.finished",))
    write_term(tmp_path, base_term("one"))
    write_term(tmp_path, base_term("two"))
    import_folders(tmp_path)
    import_folders(tmp_path)  # unchanged: writes nothing, sends nothing
    run_worker()
    [(headers, body)] = receiver.received
    event = json.loads(body)
    assert headers["X-Glossary-Event"] == event["type"] == "import.finished"
    assert event["term"] is None
    assert event["summary"] == {"created": 2, "updated": 0, "deleted": 0}
    assert _valid(headers, body)
    assert _as_described(body, "importFinished") == []


def _as_described(body: bytes, webhook: str) -> list[str]:
    """What the OpenAPI document's description of ``webhook`` finds wrong
    with a delivered body (JSON Schema 2020-12, as OpenAPI 3.1 uses)."""
    from drf_spectacular.generators import SchemaGenerator
    from jsonschema import Draft202012Validator

    document = SchemaGenerator().get_schema(request=None, public=True)
    assert document["openapi"].startswith("3.1")
    operation = document["webhooks"][webhook]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    validator = Draft202012Validator(
        {**schema, "components": document["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return [error.message for error in validator.iter_errors(json.loads(body))]


def _standard_valid(secret, headers: dict, body: bytes) -> bool:
    """What a receiver using the Standard Webhooks library concludes."""
    from standardwebhooks import Webhook
    from standardwebhooks.webhooks import WebhookVerificationError

    try:
        Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})
    except WebhookVerificationError:
        return False
    return True


@pytest.mark.django_db(transaction=True)
def test_deliveries_verify_with_the_standard_webhooks_library(people, receiver):
    """A subscription made through the API without a secret gets a whsec_ one,
    shown once; a receiver verifies each delivery with the standardwebhooks
    package. An older plain-text secret verifies as its own bytes."""
    from tests.helpers import api_client_for

    root = api_client_for(people["superuser"])
    created = root.post(
        "/api/v1/webhooks/",
        {"name": "standard", "url": receiver.url, "events": ["term.approved"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    listed = root.get(f"/api/v1/webhooks/{created.json()['id']}/").json()
    assert "secret" not in listed  # shown once
    _subscribe(receiver)  # the plain-text SECRET of the first scheme
    term = seed_term("data drift", "reviewed", people["author"])
    workflow.term_transition(term=term, name="approve", actor=people["approver"])
    run_worker()
    assert len(receiver.received) == 2
    verdicts = sorted(
        (_standard_valid(secret, h, b), _standard_valid(SECRET.encode(), h, b))
        for h, b in receiver.received
    )
    assert verdicts == [(False, True), (True, False)]
    for headers, body in receiver.received:
        assert headers["webhook-id"] == str(json.loads(body)["id"])
        tampered = body.replace(b"data-drift", b"data-drifT")
        assert not _standard_valid(secret, headers, tampered)
        assert not _standard_valid(SECRET.encode(), headers, tampered)


@pytest.mark.django_db(transaction=True)
def test_a_published_release_sends_release_published_and_is_snapshotted(
    people, receiver
):
    """Publishing a release sends ``release.published`` (as the OpenAPI
    document describes it), and the same worker run builds the release's
    snapshot, so its first reader finds it there."""
    from terms.serving import snapshots
    from terms.workflow.releases import release_create

    seed_term("data drift", "approved", people["author"])
    _subscribe(receiver, events=("release.published",))
    release = release_create(name="2026.12", notes="First.", actor=people["approver"])
    assert not snapshots.path_for(release).exists()
    run_worker()
    [(headers, body)] = receiver.received
    event = json.loads(body)
    assert headers["X-Glossary-Event"] == event["type"] == "release.published"
    assert event["release"]["name"] == "2026.12"
    assert event["release"]["counts"] == {"approved": 1}
    assert event["actor"] == "approver"
    assert _as_described(body, "releasePublished") == []
    assert _as_described(body, "termEvent") != []
    assert snapshots.path_for(release).exists()
