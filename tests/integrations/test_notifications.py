"""Notifications: a real SMTP server on loopback (aiosmtpd) receives the mails
the task worker sends; a local HTTP receiver stands in for a group's chat.

The story: an editor proposes an import, the reviewers are mailed and one
reviews, the approvers are mailed and one approves, the author and the term's
watchers are mailed; a comment mentioning a reviewer mails them. A daily
digest gathers a person's messages into one mail; "off" sends nothing."""

import json
import socket
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from terms.models import (
    Category,
    GroupChannel,
    Notification,
    NotificationMode,
    NotificationSettings,
    Term,
    Watch,
)
from terms.workflow import comments
from terms.workflow import steps as workflow
from tests.helpers import api_client_for, base_term, make_user, run_import, write_term
from tests.integrations.test_webhooks import run_worker


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[str]:
        """The subjects of the mails sent to ``address``."""
        return [m["Subject"] for rcpt, m in self.messages if address in rcpt]

    def body_to(self, address: str) -> str:
        return "\n".join(
            m.get_payload(decode=True).decode()
            for rcpt, m in self.messages
            if address in rcpt
        )


def free_port() -> int:
    """A port nothing listens on now (aiosmtpd checks its own by connecting)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.GLOSSARY_SITE_URL = "https://glossary.example"
    yield inbox
    controller.stop()


@pytest.fixture
def team(db):
    people = {
        "editor": make_user("edna", "editors"),
        "reviewer": make_user("rita", "reviewers"),
        "approver": make_user("abe", "approvers"),
        "watcher": make_user("wally"),
    }
    for user in people.values():
        user.email = f"{user.username}@team.example"
        user.save(update_fields=["email"])
    return people


def _approved(name: str, author) -> Term:
    from tests.helpers import seed_term

    term = seed_term(name, "approved", author)
    return term


@pytest.mark.django_db(transaction=True)
def test_the_review_story_is_told_by_mail(smtp, team, tmp_path):
    author = make_user("olda", "editors")
    term = _approved("alpha", author)
    Watch.objects.create(user=team["watcher"], term=term)
    from terms.integrations import notifications

    notifications.start_after_now()  # what happened before is nobody's news

    write_term(tmp_path, base_term("alpha", status="approved", short_def="Better."))
    report, _ = run_import(tmp_path, propose=True, user="edna")
    assert report["proposed"] == ["alpha"]
    run_worker()
    assert smtp.to("rita@team.example") == [
        "[Glossary] Ready for review: a change to alpha"
    ]
    assert f"https://glossary.example/admin/terms/term/{term.pk}/change/" in (
        smtp.body_to("rita@team.example")
    )
    assert smtp.to("abe@team.example") == []  # not theirs yet
    assert smtp.to("edna@team.example") == []  # nobody is told of their own step

    workflow.term_transition(term=term, name="review", actor=team["reviewer"])
    run_worker()
    assert smtp.to("abe@team.example") == [
        "[Glossary] Waiting for approval: a change to alpha"
    ]

    workflow.term_transition(term=term, name="approve", actor=team["approver"])
    run_worker()
    assert smtp.to("edna@team.example") == ["[Glossary] alpha was approved"]
    assert smtp.to("wally@team.example") == ["[Glossary] alpha was approved"]
    assert "https://glossary.example/terms/alpha/" in smtp.body_to("wally@team.example")

    comments.comment_post(
        term=term, actor=team["approver"], body="Thanks @rita, and the @editors too."
    )
    run_worker()
    assert smtp.to("rita@team.example")[-1] == "[Glossary] abe mentioned you on alpha"
    assert smtp.to("edna@team.example")[-1] == "[Glossary] abe mentioned you on alpha"
    run_worker()  # a second run sends nothing again
    assert len(smtp.messages) == 6
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_changes_requested_tell_the_authors_with_the_comment(smtp, team, tmp_path):
    term = _approved("beta", make_user("olda", "editors"))
    from terms.documents.document import validate_term_data
    from terms.integrations import notifications

    notifications.start_after_now()
    changed, _ = validate_term_data(
        base_term("beta", status="approved", short_def="B.")
    )
    workflow.term_edit(term=term, document=changed, actor=team["editor"], source="api")
    workflow.term_transition(term=term, name="review", actor=team["reviewer"])
    workflow.term_transition(
        term=term,
        name="request_changes",
        actor=team["approver"],
        comment="Please cite the standard.",
    )
    run_worker()
    assert smtp.to("edna@team.example") == [
        "[Glossary] Changes requested: a change to beta"
    ]
    assert "Please cite the standard." in smtp.body_to("edna@team.example")


@pytest.mark.django_db(transaction=True)
def test_a_daily_digest_gathers_and_off_sends_nothing(smtp, team):
    from terms.integrations import notifications
    from tests.helpers import seed_term

    notifications.start_after_now()
    NotificationSettings.objects.create(
        user=team["reviewer"], mode=NotificationMode.DAILY
    )
    NotificationSettings.objects.create(
        user=team["approver"], mode=NotificationMode.OFF
    )
    seed_term("one", "draft", team["editor"])
    seed_term("two", "draft", team["editor"])
    for slug in ("one", "two"):
        comments.comment_post(
            term=Term.objects.get(slug=slug), actor=team["editor"], body="See @abe."
        )
    run_worker()
    [subject] = smtp.to("rita@team.example")
    assert subject == "[Glossary] Your daily digest: 2 item(s)"
    assert "one" in smtp.body_to("rita@team.example")
    assert "two" in smtp.body_to("rita@team.example")
    assert smtp.to("abe@team.example") == []  # off
    seed_term("three", "draft", team["editor"])
    run_worker()
    assert len(smtp.to("rita@team.example")) == 1  # the next digest waits a day
    assert Notification.objects.filter(state="queued", digest=True).count() == 1


class _Chat(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Chat.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.django_db(transaction=True)
def test_a_group_chat_hears_what_waits_for_the_group(smtp, team, settings):
    from django.contrib.auth.models import Group

    from terms.integrations import notifications
    from tests.helpers import seed_term

    settings.GLOSSARY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Chat)
    _Chat.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        GroupChannel.objects.create(
            group=Group.objects.get(name="reviewers"),
            webhook_url=f"http://127.0.0.1:{server.server_port}/hook",
        )
        notifications.start_after_now()
        seed_term("gamma", "draft", team["editor"])
        run_worker()
    finally:
        server.shutdown()
    [message] = _Chat.received
    assert message["text"].startswith("*Ready for review: gamma*")
    assert "/admin/terms/term/" in message["text"]


@pytest.mark.django_db(transaction=True)
def test_a_category_watcher_hears_of_approvals(smtp, team):
    from terms.integrations import notifications
    from tests.helpers import seed_term

    term = seed_term("delta", "reviewed", team["editor"])
    Watch.objects.create(
        user=team["watcher"], category=Category.objects.get(slug="testing")
    )
    notifications.start_after_now()
    workflow.term_transition(term=term, name="approve", actor=team["approver"])
    run_worker()
    assert smtp.to("wally@team.example") == ["[Glossary] delta was approved"]


@pytest.mark.django_db
def test_a_mention_of_nobody_is_refused_and_writes_nothing(team):
    from tests.helpers import seed_term

    seed_term("epsilon", "draft", team["editor"])
    client = api_client_for(team["reviewer"])
    response = client.post(
        "/api/v1/terms/epsilon/comments/", {"body": "Ask @nobody."}, format="json"
    )
    assert response.status_code == 400
    assert "@nobody names no user or group" in str(response.json())
    assert not Notification.objects.exists()
    assert not Term.objects.get(slug="epsilon").comments.exists()


class _KillingInbox(Inbox):
    """Kills the worker process once it has handed over its third mail, before
    the worker hears that it was accepted."""

    victim: int | None = None

    async def handle_DATA(self, server, session, envelope):
        import os
        import signal

        answer = await super().handle_DATA(server, session, envelope)
        if len(self.messages) == 3 and self.victim is not None:
            os.kill(self.victim, signal.SIGKILL)
            self.victim = None
        return answer


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_sends_nothing_twice(team):
    """The real task worker process, killed in the middle of a batch of eight
    mails and started again: every mail arrives once."""
    import os
    import signal
    import subprocess
    import sys

    from tests.helpers import ROOT, other_sessions_gone
    from tests.serving.test_faults_processes import (
        _database_url,
        _postgresql_only,
        _wait,
    )

    _postgresql_only()
    inbox = _KillingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    people = [make_user(f"reader{n}") for n in range(8)]
    Notification.objects.bulk_create(
        Notification(
            key=f"test:{person.pk}",
            channel=Notification.Channel.EMAIL,
            recipient=person,
            kind="test",
            subject=f"Hello {person.username}",
            body="A message.",
        )
        for person in people
    )
    for person in people:
        person.email = f"{person.username}@team.example"
        person.save(update_fields=["email"])
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "GLOSSARY_CACHE_URL": "none",
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
    }

    def start_worker():
        return subprocess.Popen(
            [sys.executable, "manage.py", "task_worker", "--interval", "0.2"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    first = start_worker()
    inbox.victim = first.pid
    second = None
    try:
        assert first.wait(timeout=60) == -signal.SIGKILL
        assert len(inbox.messages) == 3
        second = start_worker()  # what the supervisor does
        assert _wait(lambda: len(inbox.messages) == 8, seconds=60), inbox.messages
        assert _wait(
            lambda: not Notification.objects.filter(state="queued").exists(),
            seconds=30,
        )
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        controller.stop()
        other_sessions_gone()
    received = [rcpt[0] for rcpt, _ in inbox.messages]
    assert sorted(received) == sorted(f"{p.username}@team.example" for p in people)
    # The one in flight when the worker died stays "sending": never sent again.
    assert Notification.objects.filter(state="sending").count() == 1
    assert Notification.objects.filter(state="sent").count() == 7


@pytest.mark.django_db
def test_people_choose_how_they_are_told_and_what_they_watch(team, api):
    from tests.helpers import seed_term

    seed_term("zeta", "approved", team["editor"])
    client = api_client_for(team["watcher"])
    assert client.get("/api/v1/me/notifications/").json() == {
        "mode": "immediate",
        "email": "wally@team.example",
    }
    changed = client.put("/api/v1/me/notifications/", {"mode": "daily"}, format="json")
    assert changed.json()["mode"] == "daily"
    assert (
        client.put(
            "/api/v1/me/notifications/", {"mode": "hourly"}, format="json"
        ).status_code
        == 400
    )
    assert client.put("/api/v1/watch/term/zeta/").json() == {"watching": True}
    assert client.get("/api/v1/watch/term/zeta/").json() == {"watching": True}
    assert client.put("/api/v1/watch/category/testing/").json() == {"watching": True}
    assert client.put("/api/v1/watch/glossary/").json() == {"watching": True}
    assert Watch.objects.filter(user=team["watcher"]).count() == 3
    assert client.delete("/api/v1/watch/term/zeta/").json() == {"watching": False}
    assert client.put("/api/v1/watch/term/nope/").status_code == 404
    assert api.put("/api/v1/watch/glossary/").status_code in (401, 403)


@pytest.mark.django_db
def test_term_requests_tell_the_editors_and_then_the_requester(team, api):
    from terms.models import TermRequest
    from terms.workflow import requests

    filed = api.post(
        "/api/v1/requests/",
        {"term": "model card", "contact": "asker@example.org", "context": "In audits."},
        format="json",
    )
    assert filed.status_code == 201, filed.content
    [told] = Notification.objects.filter(kind="request.filed")
    assert told.recipient == team["editor"]
    assert "model card" in told.subject
    request = TermRequest.objects.get()
    requests.decline(request, "Out of scope.", actor=team["editor"])
    [answer] = Notification.objects.filter(kind="request.answered")
    assert answer.address == "asker@example.org"
    assert "declined" in answer.subject


@pytest.mark.django_db(transaction=True)
def test_a_published_release_tells_the_glossarys_watchers(smtp, team):
    from terms.integrations import notifications
    from terms.workflow.releases import release_create
    from tests.helpers import seed_term

    seed_term("eta", "approved", team["editor"])
    Watch.objects.create(user=team["watcher"])  # the whole glossary
    notifications.start_after_now()
    release_create(name="2026.12", notes="Quarterly.", actor=team["approver"])
    run_worker()
    assert smtp.to("wally@team.example") == [
        "[Glossary] A new release of the glossary was published"
    ]
    body = smtp.body_to("wally@team.example")
    assert "https://glossary.example/releases/" in body
    assert "published release 2026.12" in body
    assert "Quarterly." in body
    assert smtp.to("rita@team.example") == []
