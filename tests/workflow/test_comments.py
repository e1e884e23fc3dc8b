"""Comments: threads on a term and on its pending change, through the API, on
the term page and in the admin; Markdown shown safely; resolved threads; part
of the history for signed-in people, never shown to anonymous readers."""

import pytest
from django.test import Client

from terms.models import Comment, EventAction, TermEvent, Watch
from tests.helpers import api_client_for, make_user, seed_term

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha(people):
    return seed_term("alpha", "approved", people["author"])


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_thread_through_the_api(alpha, people):
    reviewer = api_client_for(people["reviewer"])
    started = reviewer.post(
        "/api/v1/terms/alpha/comments/",
        {"body": "Is **this** [right](https://example.org)? <script>x()</script>"},
        format="json",
    )
    assert started.status_code == 201, started.content
    thread = started.json()
    assert "<strong>this</strong>" in thread["html"]
    assert 'href="https://example.org"' in thread["html"]
    assert "<script>" not in thread["html"]
    author = api_client_for(people["author"])
    reply = author.post(
        "/api/v1/terms/alpha/comments/",
        {"body": "Yes, @reviewer.", "reply_to": thread["id"]},
        format="json",
    )
    assert reply.status_code == 201, reply.content
    assert reply.json()["reply_to"] == thread["id"]
    listed = author.get("/api/v1/terms/alpha/comments/").json()
    assert [c["id"] for c in listed] == [thread["id"], reply.json()["id"]]
    resolved = author.post(f"/api/v1/terms/alpha/comments/{thread['id']}/resolve/")
    assert resolved.status_code == 403  # neither its starter nor a reviewer
    resolved = reviewer.post(f"/api/v1/terms/alpha/comments/{thread['id']}/resolve/")
    assert resolved.json()["resolved"] is True
    events = TermEvent.objects.filter(action=EventAction.COMMENT, term=alpha)
    assert events.count() == 2  # part of the term's history


def test_anonymous_readers_see_no_comments(alpha, people, api, client):
    Comment.objects.create(
        term=alpha, author=people["reviewer"], author_name="x", body="Secret note."
    )
    assert api.get("/api/v1/terms/alpha/comments/").status_code in (401, 403)
    assert api.post(
        "/api/v1/terms/alpha/comments/", {"body": "hi"}, format="json"
    ).status_code in (401, 403)
    page = client.get("/terms/alpha/").content.decode()
    assert "Secret note." not in page
    assert 'id="comments-heading"' not in page


def test_comments_on_a_pending_change_need_one(alpha, people):
    reviewer = api_client_for(people["reviewer"])
    refused = reviewer.post(
        "/api/v1/terms/alpha/comments/",
        {"body": "About the change.", "on_pending": True},
        format="json",
    )
    assert refused.status_code == 400
    assert "no pending change" in str(refused.json())
    assert not Comment.objects.exists()


def test_the_term_page_shows_threads_and_takes_comments(alpha, people):
    reader = make_user("reader")
    client = _signed_in(reader)
    posted = client.post("/terms/alpha/comments/", {"body": "Looks _fine_."})
    assert posted.status_code == 302
    page = client.get("/terms/alpha/").content.decode()
    assert "<em>fine</em>" in page
    assert "Watch this term" in page
    client.post("/terms/alpha/watch/")
    assert Watch.objects.filter(user=reader, term=alpha).exists()
    assert "Stop watching" in client.get("/terms/alpha/").content.decode()
    bad = client.post("/terms/alpha/comments/", {"body": "Ask @nobody."}, follow=True)
    assert "@nobody names no user or group" in bad.content.decode()
    assert Comment.objects.count() == 1
    history = Client().get("/terms/alpha/history/").content.decode()
    assert "Commented" not in history
    assert "Commented" in client.get("/terms/alpha/history/").content.decode()


def test_the_admin_shows_comments_beside_the_pending_change(alpha, people):
    from terms.documents.document import validate_term_data
    from terms.workflow import steps as workflow
    from tests.helpers import base_term

    changed, _ = validate_term_data(
        base_term("alpha", status="approved", short_def="New words.")
    )
    workflow.term_edit(
        term=alpha, document=changed, actor=people["editor"], source="api"
    )
    reviewer = make_user("revie", "reviewers", staff=True)
    client = _signed_in(reviewer)
    done = client.post(
        f"/admin/terms/term/{alpha.pk}/comment/",
        {"body": "Why the new words?", "on_pending": "1"},
        follow=True,
    ).content.decode()
    assert "Comment posted." in done
    assert "pending-change" in done
    assert "Why the new words?" in done
    assert "on the pending change" in done
    comment = Comment.objects.get()
    assert comment.on_pending
    client.post(f"/admin/terms/term/{alpha.pk}/comment/{comment.pk}/resolve/")
    comment.refresh_from_db()
    assert comment.resolved_by == reviewer
