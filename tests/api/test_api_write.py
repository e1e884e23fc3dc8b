"""Write endpoints: permissions, validation shared with the importer, ETag/If-Match."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from terms.documents.document import validate_term_data
from terms.models import Role, Term, TermEvent, TermRevision
from tests.helpers import PASSWORD, api_client_for, base_term, make_user, read_yaml

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(db):
    return make_user(
        "editor", perms=("add_term", "change_term", "delete_term", "view_term")
    )


@pytest.fixture
def editor_api(editor):
    return api_client_for(editor)


def test_anonymous_writes_are_refused(db, api):
    response = api.post("/api/v1/terms/", base_term("new"), format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert Term.objects.count() == 0


def test_user_without_model_permission_is_forbidden(db):
    client = api_client_for(make_user("reader"))
    response = client.post("/api/v1/terms/", base_term("new"), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["status"] == 403
    assert Term.objects.count() == 0


def test_create_returns_the_term_with_etag_and_records_history(editor_api, editor):
    response = editor_api.post("/api/v1/terms/", base_term("fresh idea"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "fresh-idea"
    assert response["ETag"].startswith('"t')
    assert response["Location"].endswith("/api/v1/terms/fresh-idea/")
    term = Term.objects.get(slug="fresh-idea")
    event = TermEvent.objects.get(term=term)
    assert (event.action, event.source, event.actor) == ("create", "api", editor)
    assert TermRevision.objects.get(term=term).document["term"] == "fresh idea"


def test_create_validation_uses_the_importer_messages(editor_api):
    data = base_term(
        "bad one",
        status="published",
        citations=[{"source": "x", "url": "javascript:alert(1)"}],
    )
    response = editor_api.post("/api/v1/terms/", data, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_document"
    _, problems = validate_term_data(
        data, known_roles=set(Role.objects.values_list("slug", flat=True))
    )
    expected = {(p.field, p.message) for p in problems}
    assert {(d["field"], d["message"]) for d in error["details"]} == expected
    assert any("http:// or https://" in d["message"] for d in error["details"])
    assert Term.objects.count() == 0


def test_create_refuses_non_object_bodies_and_duplicates(editor_api):
    response = editor_api.post(
        "/api/v1/terms/", ["not", "a", "document"], format="json"
    )
    assert response.status_code == 400
    assert "JSON object" in response.json()["error"]["details"][0]["message"]
    response = editor_api.post(
        "/api/v1/terms/", "{broken", content_type="application/json"
    )
    assert response.status_code == 400
    assert (
        editor_api.post("/api/v1/terms/", base_term("twice"), format="json").status_code
        == 201
    )
    again = editor_api.post("/api/v1/terms/", base_term("twice"), format="json")
    assert again.status_code == 409
    assert "already exists" in again.json()["error"]["message"]


def test_put_with_stale_if_match_is_412_and_changes_nothing(editor_api):
    created = editor_api.post("/api/v1/terms/", base_term("versioned"), format="json")
    etag = created["ETag"]
    first = editor_api.put(
        "/api/v1/terms/versioned/",
        base_term("versioned", short_def="Second wording."),
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert first.status_code == 200
    assert first.json()["short_def"] == "Second wording."
    assert first["ETag"] != etag
    stale = editor_api.put(
        "/api/v1/terms/versioned/",
        base_term("versioned", short_def="Third wording."),
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    assert Term.objects.get(slug="versioned").short_def == "Second wording."
    assert Term.objects.get(slug="versioned").version == 2


def test_etag_from_a_read_is_accepted_for_a_write(editor_api):
    editor_api.post("/api/v1/terms/", base_term("readable"), format="json")
    read = editor_api.get("/api/v1/terms/readable/")
    # Another term changing does not make this term's ETag stale.
    editor_api.post("/api/v1/terms/", base_term("unrelated"), format="json")
    response = editor_api.patch(
        "/api/v1/terms/readable/",
        {"short_def": "Patched."},
        format="json",
        HTTP_IF_MATCH=read["ETag"],
    )
    assert response.status_code == 200, response.content


def test_patch_changes_only_given_fields(editor_api):
    editor_api.post(
        "/api/v1/terms/", base_term("patchy", aliases=["p1", "p2"]), format="json"
    )
    response = editor_api.patch(
        "/api/v1/terms/patchy/", {"aliases": ["p3"]}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["aliases"] == ["p3"]
    assert body["short_def"] == base_term()["short_def"]
    bad = editor_api.patch("/api/v1/terms/patchy/", {"colour": "red"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "colour"


def test_unchanged_put_writes_nothing(editor_api, count_writes):
    editor_api.post("/api/v1/terms/", base_term("steady"), format="json")
    with count_writes() as counter:
        response = editor_api.put(
            "/api/v1/terms/steady/", base_term("steady"), format="json"
        )
    assert response.status_code == 200
    assert counter.writes == []
    assert Term.objects.get(slug="steady").version == 1


def test_put_cannot_rename(editor_api):
    editor_api.post("/api/v1/terms/", base_term("fixed name"), format="json")
    response = editor_api.put(
        "/api/v1/terms/fixed-name/", base_term("other name"), format="json"
    )
    assert response.status_code == 400
    assert (
        "create a new term to rename"
        in response.json()["error"]["details"][0]["message"]
    )


def test_delete_with_if_match(editor_api):
    created = editor_api.post("/api/v1/terms/", base_term("doomed"), format="json")
    assert (
        editor_api.delete(
            "/api/v1/terms/doomed/", HTTP_IF_MATCH='"t0-1-1.g1"'
        ).status_code
        == 412
    )
    assert (
        editor_api.delete(
            "/api/v1/terms/doomed/", HTTP_IF_MATCH=created["ETag"]
        ).status_code
        == 204
    )
    assert not Term.objects.filter(slug="doomed").exists()
    assert TermEvent.objects.filter(term_slug="doomed", action="delete").exists()
    assert editor_api.delete("/api/v1/terms/doomed/").status_code == 404


def test_token_authentication(editor):
    out = io.StringIO()
    call_command("drf_create_token", "editor", stdout=out)
    token = out.getvalue().split()[2]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert (
        client.post("/api/v1/terms/", base_term("by token"), format="json").status_code
        == 201
    )
    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert (
        client.post(
            "/api/v1/terms/", base_term("by bad token"), format="json"
        ).status_code
        == 401
    )


def test_session_authentication_needs_csrf(editor):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="editor", password=PASSWORD)
    response = client.post("/api/v1/terms/", base_term("by session"), format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_write_invalidates_cached_reads(editor_api):
    editor_api.post("/api/v1/terms/", base_term("cached"), format="json")
    first = editor_api.get("/api/v1/terms/cached/")
    assert first.json()["short_def"] == base_term()["short_def"]
    editor_api.patch("/api/v1/terms/cached/", {"short_def": "New text."}, format="json")
    second = editor_api.get("/api/v1/terms/cached/")
    assert second.json()["short_def"] == "New text."
    assert second["ETag"] != first["ETag"]
    listed = editor_api.get("/api/v1/terms/")
    assert listed.json()["results"][0]["short_def"] == "New text."


def test_wrong_method_is_405_json(editor_api):
    response = editor_api.post("/api/v1/lookup/?q=x", {}, format="json")
    assert response.status_code == 405
    error = response.json()["error"]
    assert error["status"] == 405
    assert error["code"] == "method_not_allowed"
    assert 'Method "POST" not allowed.' in error["message"]


def test_category_without_letters_is_refused_not_a_crash(editor_api):
    response = editor_api.post(
        "/api/v1/terms/", base_term("odd category", categories=["!!!"]), format="json"
    )
    assert response.status_code == 400
    assert "gives an empty slug" in response.json()["error"]["details"][0]["message"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/lookup/?q=%00x",
        "/api/v1/autocomplete/?q=%00",
        "/api/v1/terms/?role=%00",
        "/api/v1/terms/%00/",
        "/?q=%00",
        "/terms/%00/",
    ],
)
def test_nul_characters_in_urls_are_400(db, api, url):
    response = api.get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert "NUL character" in response.json()["error"]["message"]


def test_slugs_with_dots_work_and_unsafe_characters_become_hyphens(editor_api):
    assert (
        editor_api.post(
            "/api/v1/terms/", base_term("node.js"), format="json"
        ).status_code
        == 201
    )
    assert editor_api.get("/api/v1/terms/node.js/").json()["term"] == "node.js"
    assert (
        editor_api.get("/api/v1/terms/node.js.yaml")
        .content.decode()
        .startswith("term: node.js\n")
    )
    # Characters no file name or URL segment can hold become "-" in the slug.
    response = editor_api.post(
        "/api/v1/terms/", base_term("input/output: a?b"), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "input-output-a-b"
    assert editor_api.get("/api/v1/terms/input-output-a-b/").json()["term"] == (
        "input/output: a?b"
    )


def test_an_incomplete_draft_is_written_and_the_review_gate_lists_what_is_missing(
    people, tmp_path
):
    author = api_client_for(people["author"])
    bare = {"term": "data drift", "status": "draft", "last_reviewed": "2026-11-29"}
    response = author.post(
        "/api/v1/terms/",
        {**bare, "short_def": None, "long_def": "Only five words here now."},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["short_def"], body["citations"], body["part_of_speech"]) == (
        "",
        [],
        "",
    )
    # Claiming more than a draft needs the whole document.
    response = author.post(
        "/api/v1/terms/",
        {**bare, "term": "model drift", "status": "reviewed"},
        format="json",
    )
    assert response.status_code == 400
    assert "citations" in {d["field"] for d in response.json()["error"]["details"]}

    reviewer = api_client_for(people["reviewer"])
    response = reviewer.post("/api/v1/terms/data-drift/transitions/review/")
    assert response.status_code == 409
    error = response.json()["error"]
    fields = {d["field"] for d in error["details"]}
    assert {"short_def", "citations", "audiences.exec", "license"} <= fields, error
    # Editorial limits are checked in the same pass, not after the rest is fixed.
    assert "long_def has 5 words; it needs 80 to 220" in error["message"]
    assert Term.objects.get(slug="data-drift").status == "draft"
    # Its pages render for those who may see drafts.
    for path in ("/api/v1/terms/data-drift.md", "/api/v1/terms/data-drift.yaml"):
        response = author.get(path)
        assert response.status_code == 200, (path, response.content)
        assert b"data drift" in response.content

    # It exports as a draft and imports back unchanged.
    call_command("export_terms", str(tmp_path), stdout=io.StringIO())
    exported = (tmp_path / "data-drift.yml").read_text("utf-8")
    assert "short_def: ''" in exported
    document, problems = validate_term_data(read_yaml(exported), known_roles=set())
    assert problems == []
    assert document.status == "draft"
