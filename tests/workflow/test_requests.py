"""Term requests: the API, the form, the status page, the backlog, the admin."""

import re

import pytest

from terms.models import RequestStatus, Status, Term, TermEvent, TermRequest
from tests.helpers import PASSWORD, api_client_for, make_user, seed_term

pytestmark = pytest.mark.django_db

ASK = {
    "term": "Context window",
    "context": "Our vendor contract limits it to 128k tokens.",
    "why": "Legal and engineering read the clause differently.",
    "urgency": "high",
    "contact": "dana@example.org",
}


@pytest.fixture
def editor(db):
    return make_user("edna", "editors", staff=True)


def test_an_anonymous_request_is_stored_and_followed_on_its_page(api, client):
    response = api.post("/api/v1/requests/", ASK, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "open"
    assert body["term"] == "Context window"
    assert "contact" not in body  # only staff read it back
    assert response["Location"] == body["url"]
    stored = TermRequest.objects.get(public_id=body["id"])
    assert stored.contact == "dana@example.org"
    assert stored.term_key == "context window"
    assert stored.requested_by is None
    # The status page: readable by whoever holds the address, never the contact.
    page = client.get(body["url"]).content.decode()
    assert "Context window" in page
    assert "Open" in page
    assert "dana@example.org" not in page
    detail = api.get(f"/api/v1/requests/{body['id']}/").json()
    assert detail["status"] == "open"
    assert "contact" not in detail
    assert api.get("/api/v1/requests/nosuchrequest/").status_code == 404


def test_bad_requests_name_the_field_and_store_nothing(api):
    cases = [
        ({**ASK, "term": ""}, "term"),
        ({**ASK, "term": "x" * 201}, "term"),
        ({**ASK, "term": 42}, "term"),
        ({**ASK, "urgency": "yesterday"}, "urgency"),
        ({**ASK, "contact": "dana@"}, "contact"),
        ({**ASK, "context": "c" * 2001}, "context"),
        ({**ASK, "status": "drafted"}, "status"),
        ({**ASK, "website": "http://spam.example"}, "website"),
    ]
    for body, field in cases:
        response = api.post("/api/v1/requests/", body, format="json")
        assert response.status_code == 400, (field, response.content)
        fields = [d["field"] for d in response.json()["error"]["details"]]
        assert field in fields, (field, response.json())
    listed = api.post("/api/v1/requests/", [ASK], format="json")
    assert listed.status_code == 400
    assert TermRequest.objects.count() == 0


def test_asking_for_a_term_the_reader_can_look_up_points_to_it(api, people):
    seed_term("Context window", Status.APPROVED, people["author"], aliases=["CW"])
    for words in ("context window", "Context-Window", "CW"):
        response = api.post("/api/v1/requests/", {"term": words}, format="json")
        assert response.status_code == 409, response.content
        body = response.json()
        assert body["term"]["slug"] == "context-window"
        assert body["term"]["url"].endswith("/terms/context-window/")
    assert TermRequest.objects.count() == 0


def test_a_draft_the_reader_cannot_see_does_not_block_the_request(api, people):
    seed_term("Context window", Status.DRAFT, people["author"])
    response = api.post("/api/v1/requests/", {"term": "context window"}, format="json")
    assert response.status_code == 201


def test_requests_are_rate_limited_per_client_but_not_for_staff(api, settings):
    settings.GLOSSARY_REQUEST_RATE = "2/hour"
    codes = [
        api.post("/api/v1/requests/", {"term": f"term {n}"}, format="json")
        for n in range(3)
    ]
    assert [r.status_code for r in codes] == [201, 201, 429]
    assert int(codes[2]["Retry-After"]) > 0
    assert "Too many term requests" in codes[2].json()["error"]["message"]
    assert TermRequest.objects.count() == 2
    staff = api_client_for(make_user("sam", staff=True))
    for n in range(3):
        answer = staff.post("/api/v1/requests/", {"term": f"staff {n}"}, format="json")
        assert answer.status_code == 201


def test_only_those_who_handle_requests_list_them_with_their_contacts(api):
    created = api.post("/api/v1/requests/", ASK, format="json").json()
    assert api.get("/api/v1/requests/").status_code in (401, 403)
    # Staff in other roles (made staff by `manage.py grant`) see no personal data,
    # in the API exactly as in the admin.
    for name, group in (("rita", "reviewers"), ("alan", "approvers")):
        other = api_client_for(make_user(name, group, staff=True))
        assert other.get("/api/v1/requests/").status_code == 403
        detail = other.get(f"/api/v1/requests/{created['id']}/").json()
        assert "contact" not in detail
    staff = api_client_for(make_user("sam", "editors", staff=True))
    detail = staff.get(f"/api/v1/requests/{created['id']}/").json()
    assert detail["contact"] == "dana@example.org"
    listed = staff.get("/api/v1/requests/", {"status": "open"}).json()
    assert [r["contact"] for r in listed["results"]] == ["dana@example.org"]
    assert staff.get("/api/v1/requests/", {"status": "merged"}).json()["results"] == []
    assert staff.get("/api/v1/requests/", {"status": "nope"}).status_code == 400


def test_the_form_stores_a_request_and_redirects_to_its_page(client):
    page = client.get("/request/?term=Grounding").content.decode()
    assert 'value="Grounding"' in page
    response = client.post("/request/", {**ASK, "website": ""})
    assert response.status_code == 302
    stored = TermRequest.objects.get()
    assert response["Location"] == f"{stored.get_absolute_url()}?new=1"
    page = client.get(response["Location"]).content.decode()
    assert "Bookmark this page" in page


def test_the_form_shows_errors_and_keeps_bots_out(client, people):
    page = client.post("/request/", {**ASK, "contact": "dana@"}).content.decode()
    assert "is not an email address" in page
    # The trap: a bot sees thanks, and nothing is stored.
    page = client.post("/request/", {**ASK, "website": "spam"}).content.decode()
    assert "your request was received" in page
    seed_term("Context window", Status.APPROVED, people["author"])
    page = client.post("/request/", ASK).content.decode()
    assert '<a href="/terms/context-window/">Context window</a> is already' in page
    assert TermRequest.objects.count() == 0


def test_the_form_is_rate_limited_too(client, settings):
    settings.GLOSSARY_REQUEST_RATE = "1/hour"
    assert (
        client.post("/request/", {"term": "one", "urgency": "low"}).status_code == 302
    )
    response = client.post("/request/", {"term": "two", "urgency": "low"})
    assert response.status_code == 429
    assert "try again in" in response.content.decode()
    assert TermRequest.objects.count() == 1


def submit(api, term: str, urgency: str = "normal") -> TermRequest:
    response = api.post(
        "/api/v1/requests/", {"term": term, "urgency": urgency}, format="json"
    )
    assert response.status_code == 201, response.content
    return TermRequest.objects.get(public_id=response.json()["id"])


def test_merging_duplicates_counts_them_in_the_backlog(api, client, editor):
    from terms.workflow import requests as term_requests

    first = submit(api, "Grounding")
    second = submit(api, "grounding", "blocking")
    lone = submit(api, "Tool use", "blocking")
    term_requests.merge(first, [second], actor=editor)
    second.refresh_from_db()
    assert second.status == RequestStatus.MERGED
    assert second.merged_into == first
    page = client.get("/backlog/").content.decode()
    rows = re.findall(r'<tr><td><a href="[^"]+">([^<]+)</a></td>\s*<td>(\d+)', page)
    assert rows == [("Grounding", "2"), ("Tool use", "1")]
    assert "Open requests (2)" in page
    # The merged request's page points to the one editors follow.
    page = client.get(second.get_absolute_url()).content.decode()
    assert first.get_absolute_url() in page
    with pytest.raises(term_requests.RequestError):
        term_requests.merge(lone, [second], actor=editor)  # already merged


def test_declining_needs_a_reason_the_requester_reads(api, client, editor):
    from terms.workflow import requests as term_requests

    asked = submit(api, "Vibes")
    with pytest.raises(term_requests.RequestError, match="Say why"):
        term_requests.decline(asked, "  ", actor=editor)
    term_requests.decline(asked, "Not a term of the trade.", actor=editor)
    page = client.get(asked.get_absolute_url()).content.decode()
    assert "Declined" in page
    assert "Not a term of the trade." in page
    with pytest.raises(term_requests.RequestError, match="not open"):
        term_requests.convert(asked, actor=editor)


def test_converting_makes_a_draft_linked_back_with_its_duplicates(api, client, editor):
    from terms.workflow import requests as term_requests

    asked = submit(api, "Prompt caching")
    again = submit(api, "prompt-caching")
    term_requests.merge(asked, [again], actor=editor)
    term = term_requests.convert(asked, actor=editor)
    assert term.status == Status.DRAFT
    assert term.name == "Prompt caching"
    assert TermEvent.objects.filter(term=term, actor=editor).exists()
    asked.refresh_from_db()
    again.refresh_from_db()
    assert asked.status == RequestStatus.DRAFTED
    assert asked.draft == term
    assert again.draft == term  # the duplicate's requester follows it too
    page = client.get(asked.get_absolute_url()).content.decode()
    assert "Prompt caching" in page
    assert "Editors are writing it" in page
    assert f'href="/terms/{term.slug}/"' not in page
    # A reader who may see drafts gets a link to it.
    client.login(username="edna", password=PASSWORD)
    page = client.get(asked.get_absolute_url()).content.decode()
    assert f'href="/terms/{term.slug}/"' in page


def test_converting_a_request_for_an_existing_draft_links_to_it(api, editor, people):
    from terms.workflow import requests as term_requests

    draft = seed_term("Context window", Status.DRAFT, people["author"])
    asked = submit(api, "context window")
    assert term_requests.convert(asked, actor=editor) == draft
    assert Term.objects.count() == 1


def test_editors_decide_in_the_admin(api, client, editor):
    asked = submit(api, "Model collapse")
    client.login(username="edna", password=PASSWORD)
    listing = client.get("/admin/terms/termrequest/").content.decode()
    assert "Model collapse" in listing
    url = f"/admin/terms/termrequest/{asked.pk}/change/"
    form = client.get(url).content.decode()
    assert 'name="_convert"' in form
    assert asked.get_absolute_url() in form
    fields = {
        "term": asked.term,
        "context": "",
        "why": "",
        "urgency": asked.urgency,
        "contact": "",
        "reason": "",
    }
    response = client.post(url, {**fields, "_convert": "1"}, follow=True)
    assert "is now the draft" in response.content.decode()
    asked.refresh_from_db()
    assert asked.status == RequestStatus.DRAFTED
    assert asked.draft.name == "Model collapse"
    assert asked.handled_by == editor
    # Decided: no more decision buttons.
    assert 'name="_convert"' not in client.get(url).content.decode()
    other = submit(api, "Slop")
    url = f"/admin/terms/termrequest/{other.pk}/change/"
    response = client.post(
        url, {**fields, "term": "Slop", "_decline": "1"}, follow=True
    )
    assert "Say why" in response.content.decode()
    response = client.post(
        url,
        {**fields, "term": "Slop", "reason": "Too informal.", "_decline": "1"},
        follow=True,
    )
    other.refresh_from_db()
    assert other.status == RequestStatus.DECLINED
    assert other.reason == "Too informal."


def test_the_dashboard_counts_open_requests(api, client):
    submit(api, "Grounding")
    submit(api, "Tool use")
    page = client.get("/dashboard/").content.decode()
    assert "2 open term requests" in page


def test_reading_requests_costs_the_same_however_many_there_are(api, editor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from terms.workflow import requests as term_requests

    staff = api_client_for(make_user("sam", "editors", staff=True))

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff.get(url).status_code == 200
        return len(captured.captured_queries)

    first = submit(api, "Grounding")
    queries("/api/v1/requests/")  # the user's permissions are read once, then kept
    few = queries("/api/v1/requests/")
    for n in range(6):
        term_requests.merge(first, [submit(api, f"grounding {n}")], actor=editor)
    term_requests.convert(submit(api, "Tool use"), actor=editor)
    assert queries("/api/v1/requests/") == few
    assert queries(f"/api/v1/requests/{first.public_id}/") <= 3
