"""The review workflow through the API: permission matrix, four-eyes, gates,
pending changes and the audit trail."""

import itertools

import pytest
from django.utils import timezone

from terms.documents.document import validate_term_data
from terms.models import ChangeSource, Term
from terms.reads.selectors import known_roles
from terms.workflow import services
from tests.helpers import api_client_for as client_for
from tests.helpers import base_term, make_user, seed_term

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "editor", "reviewer", "approver", "superuser")
TRANSITIONS = ("review", "approve", "request_changes", "deprecate", "restore")
STATES = ("draft", "reviewed", "approved", "deprecated")

# The rules, written out independently of terms.workflow.steps.
MAY = {
    "review": {"reviewer", "approver", "superuser"},
    "approve": {"approver", "superuser"},
    "request_changes": {"reviewer", "approver", "superuser"},
    "deprecate": {"approver", "superuser"},
    "restore": {"approver", "superuser"},
}
FROM = {
    "review": {"draft"},
    "approve": {"reviewed"},
    "request_changes": {"reviewed"},
    "deprecate": {"reviewed", "approved"},
    "restore": {"deprecated"},
}
TO = {
    "review": "reviewed",
    "approve": "approved",
    "request_changes": "draft",
    "deprecate": "deprecated",
    "restore": "draft",
}


seed = seed_term


def step(client, slug: str, name: str, **body):
    url = f"/api/v1/terms/{slug}/{name.replace('_', '-')}/"
    return client.post(url, body, format="json")


@pytest.mark.parametrize(
    ("role", "transition", "state"), list(itertools.product(ROLES, TRANSITIONS, STATES))
)
def test_permission_matrix(people, role, transition, state):
    term = seed(f"matrix {role} {transition} {state}", state, people["author"])
    actor = None if role == "anonymous" else people[role]
    response = step(
        client_for(actor), term.slug, transition, comment="Please tighten the wording."
    )
    if role == "anonymous":
        expected = 401
    elif role not in MAY[transition]:
        expected = 403
    elif state not in FROM[transition]:
        expected = 409
    else:
        expected = 200
    assert response.status_code == expected, response.content
    term.refresh_from_db()
    if expected == 200:
        assert term.status == TO[transition]
        assert response.json()["status"] == TO[transition]
        event = term.events.order_by("-id").first()
        assert (event.action, event.actor, event.from_status, event.to_status) == (
            transition,
            actor,
            state,
            TO[transition],
        )
    else:
        assert term.status == state
        assert response.json()["error"]["status"] == expected


def test_refusals_say_why(people):
    term = seed("explained", "approved", people["author"])
    forbidden = step(client_for(people["editor"]), term.slug, "review")
    assert (
        "lacks the permission to mark reviewed (terms.review_term)"
        in forbidden.json()["error"]["message"]
    )
    conflict = step(client_for(people["reviewer"]), term.slug, "review")
    assert conflict.status_code == 409
    error = conflict.json()["error"]
    assert error["message"] == (
        "Cannot review the term: it is approved, and this step needs draft."
    )
    assert error["details"][0]["field"] == "status"


@pytest.mark.parametrize("transition", ["review", "approve"])
def test_nobody_reviews_or_approves_their_own_change(
    people, django_user_model, transition
):
    both = make_user("both", "editors", "approvers")
    state = "draft" if transition == "review" else "reviewed"
    term = seed(f"own {transition}", state, both)
    response = step(client_for(both), term.slug, transition)
    assert response.status_code == 403
    assert "four-eyes" in response.json()["error"]["message"]
    assert (
        step(client_for(people["approver"]), term.slug, transition).status_code == 200
    )


def test_superuser_is_bound_by_four_eyes(people):
    term = seed("root wrote it", "draft", people["superuser"])
    response = step(client_for(people["superuser"]), term.slug, "review")
    assert response.status_code == 403
    assert "four-eyes" in response.json()["error"]["message"]
    other = seed("someone else wrote it", "draft", people["author"])
    assert (
        step(client_for(people["superuser"]), other.slug, "review").status_code == 200
    )


def test_quality_gates_block_review_and_list_failures(people):
    roles = known_roles()
    document, _ = validate_term_data(
        base_term("thin", short_def=" ".join(["w"] * 45), long_def="Too short."),
        known_roles=roles,
    )
    [term] = services.terms_write(
        changes=[(document, None)], actor=people["author"], source=ChangeSource.API
    )
    response = step(client_for(people["reviewer"]), term.slug, "review")
    assert response.status_code == 409
    error = response.json()["error"]
    details = [(d["field"], d["message"]) for d in error["details"]]
    assert ("short_def", "has 45 words; at most 40 are allowed") in details
    assert ("long_def", "has 2 words; it needs 80 to 220") in details
    # The message itself names every failing check.
    assert "short_def has 45 words; at most 40 are allowed" in error["message"]
    term.refresh_from_db()
    assert term.status == "draft"


def test_request_changes_needs_a_comment(people):
    term = seed("needs comment", "reviewed", people["author"])
    response = step(client_for(people["reviewer"]), term.slug, "request_changes")
    # A missing input is the request's fault (400), and the details name it.
    assert response.status_code == 400
    error = response.json()["error"]
    assert "needs a comment" in error["message"]
    assert [d["field"] for d in error["details"]] == ["comment"]
    ok = step(
        client_for(people["reviewer"]),
        term.slug,
        "request_changes",
        comment="Cite a source.",
    )
    assert ok.status_code == 200
    assert (
        Term.objects.get(pk=term.pk).events.order_by("-id").first().comment
        == "Cite a source."
    )


def test_deprecate_names_the_replacement(people, api):
    old = seed("old word", "approved", people["author"])
    new = seed("new word", "approved", people["author"])
    response = step(
        client_for(people["approver"]), old.slug, "deprecate", replaced_by="new-word"
    )
    assert response.status_code == 200
    body = api.get("/api/v1/terms/old-word/").json()
    assert body["status"] == "deprecated"
    assert body["replaced_by"]["slug"] == new.slug
    bad = step(
        client_for(people["approver"]), new.slug, "deprecate", replaced_by="nope"
    )
    assert bad.status_code == 404  # names a term that does not exist
    assert bad.json()["error"]["details"][0]["field"] == "replaced_by"
    restored = step(client_for(people["approver"]), old.slug, "restore")
    assert restored.json()["status"] == "draft"
    assert restored.json()["replaced_by"] is None


def test_review_and_approval_date_the_review(people):
    term = seed("dated", "draft", people["author"])
    step(client_for(people["reviewer"]), term.slug, "review")
    term.refresh_from_db()
    # The workflow stamps the review date with Django's clock (TIME_ZONE).
    assert term.last_reviewed == timezone.localdate()


def test_the_whole_story_through_the_api(people, api):
    editor, reviewer, approver = (
        client_for(people[n]) for n in ("editor", "reviewer", "approver")
    )
    created = editor.post("/api/v1/terms/", base_term("story term"), format="json")
    assert created.status_code == 201
    assert created.json()["status"] == "draft"
    assert api.get("/api/v1/terms/story-term/").status_code == 404  # drafts stay hidden

    assert (
        step(editor, "story-term", "review").status_code == 403
    )  # editor cannot review
    assert step(reviewer, "story-term", "review").json()["status"] == "reviewed"
    assert step(approver, "story-term", "approve").json()["status"] == "approved"
    original = base_term()["short_def"]
    assert api.get("/api/v1/terms/story-term/").json()["short_def"] == original

    edited = editor.patch(
        "/api/v1/terms/story-term/",
        {"short_def": "A sharper definition."},
        format="json",
    )
    assert edited.status_code == 202
    pending = edited.json()
    assert pending["status"] == "draft"
    assert pending["diff"] == [
        {"field": "short_def", "before": original, "after": "A sharper definition."}
    ]
    assert api.get("/api/v1/terms/story-term/").json()["short_def"] == original
    assert (
        editor.get("/api/v1/terms/story-term/").json()["pending_change"]["status"]
        == "draft"
    )

    assert step(editor, "story-term", "approve").status_code == 403
    assert (
        step(approver, "story-term", "approve").status_code == 409
    )  # not reviewed yet
    assert step(reviewer, "story-term", "review").status_code == 200
    assert (
        editor.get("/api/v1/terms/story-term/pending/").json()["status"] == "reviewed"
    )
    assert api.get("/api/v1/terms/story-term/").json()["short_def"] == original
    assert step(approver, "story-term", "approve").status_code == 200
    live = api.get("/api/v1/terms/story-term/").json()
    assert live["short_def"] == "A sharper definition."
    assert live["status"] == "approved"
    assert editor.get("/api/v1/terms/story-term/pending/").status_code == 404

    history = editor.get("/api/v1/terms/story-term/history/").json()
    steps = [
        (e["action"], e["actor"], e["from"], e["to"], e["pending"])
        for e in history["events"]
    ]
    assert steps == [
        ("create", "editor", None, "draft", False),
        ("review", "reviewer", "draft", "reviewed", False),
        ("approve", "approver", "reviewed", "approved", False),
        ("propose", "editor", "approved", "draft", True),
        ("review", "reviewer", "draft", "reviewed", True),
        ("approve", "approver", "reviewed", "approved", False),
    ]
    versions = history["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3, 4]
    assert versions[-1]["author"] == "editor"  # the approver put the editor's text live


def test_pending_change_update_and_withdraw(people, api):
    term = seed("pending one", "approved", people["author"])
    editor, other = client_for(people["editor"]), client_for(people["author"])
    first = editor.patch(
        f"/api/v1/terms/{term.slug}/", {"short_def": "First idea."}, format="json"
    )
    assert first.status_code == 202
    assert step(client_for(people["reviewer"]), term.slug, "review").status_code == 200
    again = editor.patch(
        f"/api/v1/terms/{term.slug}/",
        {"long_def": " ".join(["fresh"] * 85)},
        format="json",
    )
    assert again.status_code == 202
    body = again.json()
    assert body["status"] == "draft"  # changed after review: needs review again
    assert {d["field"] for d in body["diff"]} == {"short_def", "long_def"}
    # author wrote the live text but not this change; reviewing is about the change
    withdraw = client_for(people["reviewer"]).delete(
        f"/api/v1/terms/{term.slug}/pending/"
    )
    assert withdraw.status_code == 403
    assert other.delete(f"/api/v1/terms/{term.slug}/pending/").status_code == 403
    assert editor.delete(f"/api/v1/terms/{term.slug}/pending/").status_code == 204
    assert editor.get(f"/api/v1/terms/{term.slug}/pending/").status_code == 404
    assert (
        api.get(f"/api/v1/terms/{term.slug}/").json()["short_def"]
        == base_term()["short_def"]
    )
    assert editor.delete(f"/api/v1/terms/{term.slug}/pending/").status_code == 409


def test_a_second_editor_is_a_contributor_not_the_author(people):
    term = seed("kept author", "approved", people["approver"])
    author, second = client_for(people["author"]), client_for(people["editor"])
    url = f"/api/v1/terms/{term.slug}/"
    assert author.patch(url, {"short_def": "Opened."}, format="json").status_code == 202
    later = second.patch(url, {"short_def": "Changed again."}, format="json")
    assert later.status_code == 202
    body = later.json()
    assert body["author"] == "author"
    assert body["contributors"] == ["author", "editor"]
    refused = second.delete(f"{url}pending/")
    assert refused.status_code == 403
    assert "its author or an approver" in refused.json()["error"]["message"]
    assert author.delete(f"{url}pending/").status_code == 204


def test_contributors_to_a_pending_change_cannot_approve_it(people, django_user_model):
    both = make_user("writer-approver", "editors", "approvers")
    term = seed("shared change", "approved", people["author"])
    client_for(both).patch(
        f"/api/v1/terms/{term.slug}/", {"short_def": "Mine."}, format="json"
    )
    client_for(people["editor"]).patch(
        f"/api/v1/terms/{term.slug}/", {"short_def": "Ours."}, format="json"
    )
    assert step(client_for(people["reviewer"]), term.slug, "review").status_code == 200
    response = step(client_for(both), term.slug, "approve")
    assert response.status_code == 403
    assert "four-eyes" in response.json()["error"]["message"]


def test_edits_keep_the_status_fixed(people):
    editor = client_for(people["editor"])
    response = editor.post(
        "/api/v1/terms/", base_term("jumpy", status="approved"), format="json"
    )
    assert response.status_code == 409
    assert (
        "status changes go through the review workflow"
        in response.json()["error"]["message"]
    )
    editor.post("/api/v1/terms/", base_term("steady one"), format="json")
    patch = editor.patch(
        "/api/v1/terms/steady-one/", {"status": "approved"}, format="json"
    )
    assert patch.status_code == 409
    assert patch.json()["error"]["details"][0]["field"] == "status"
    assert Term.objects.get(slug="steady-one").status == "draft"


def test_history_diff_and_restoring_an_old_version(people):
    term = seed("evolving text", "draft", people["author"])
    editor = client_for(people["editor"])
    editor.patch(f"/api/v1/terms/{term.slug}/", {"short_def": "Second."}, format="json")
    editor.patch(f"/api/v1/terms/{term.slug}/", {"short_def": "Third."}, format="json")
    history = editor.get(f"/api/v1/terms/{term.slug}/history/?from=1&to=3").json()
    assert history["diff"]["changes"] == [
        {"field": "short_def", "before": base_term()["short_def"], "after": "Third."}
    ]
    missing = editor.get(f"/api/v1/terms/{term.slug}/history/?from=9")
    assert missing.status_code == 404
    assert missing.json()["error"]["details"][0]["field"] == "from"
    bad = editor.get(f"/api/v1/terms/{term.slug}/history/?from=1&to=x")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "to"
    restored = editor.post(f"/api/v1/terms/{term.slug}/versions/1/restore/")
    assert restored.status_code == 200
    assert restored.json()["short_def"] == base_term()["short_def"]
    assert restored.json()["version"] == 4
    actions = [
        e["action"]
        for e in editor.get(f"/api/v1/terms/{term.slug}/history/").json()["events"]
    ]
    assert actions[-2:] == ["update", "revert"]


def test_restoring_a_version_of_an_approved_term_needs_review(people, api):
    term = seed("approved history", "draft", people["author"])
    client_for(people["author"]).patch(
        f"/api/v1/terms/{term.slug}/", {"short_def": "Later."}, format="json"
    )
    step(client_for(people["reviewer"]), term.slug, "review")
    step(client_for(people["approver"]), term.slug, "approve")
    response = client_for(people["editor"]).post(
        f"/api/v1/terms/{term.slug}/versions/1/restore/"
    )
    assert response.status_code == 202
    assert response.json()["document"]["short_def"] == base_term()["short_def"]
    assert api.get(f"/api/v1/terms/{term.slug}/").json()["short_def"] == "Later."


def test_history_is_for_people_who_may_see_drafts(people, api, django_user_model):
    term = seed("audited", "approved", people["author"])
    assert api.get(f"/api/v1/terms/{term.slug}/history/").status_code == 401
    plain = django_user_model.objects.create_user("plain")
    assert (
        client_for(plain).get(f"/api/v1/terms/{term.slug}/history/").status_code == 403
    )
    assert (
        client_for(people["reviewer"])
        .get(f"/api/v1/terms/{term.slug}/history/")
        .status_code
        == 200
    )


def test_importer_is_a_trusted_pipeline(tmp_path, people):
    from tests.helpers import import_folders, write_term

    write_term(tmp_path, base_term("imported", status="approved"))
    import_folders(tmp_path)
    term = Term.objects.get(slug="imported")
    assert term.status == "approved"
    event = term.events.get()
    assert (event.source, event.action, event.actor_name) == (
        "import",
        "create",
        "importer",
    )


def test_import_over_a_pending_change_warns(people, tmp_path):
    from tests.helpers import import_folders, write_term

    write_term(tmp_path, base_term("contested", status="approved"))
    import_folders(tmp_path)
    term = Term.objects.get(slug="contested")
    client_for(people["editor"]).patch(
        f"/api/v1/terms/{term.slug}/", {"short_def": "Proposed."}, format="json"
    )
    write_term(
        tmp_path, base_term("contested", status="approved", short_def="Imported.")
    )
    from terms.workflow.importer import import_paths

    report = import_paths([tmp_path])
    assert report.updated == ["contested"]
    assert any("pending change" in w.message for w in report.warnings)


def test_deprecated_terms_are_restored_before_editing(people):
    term = seed("retired word", "deprecated", people["author"])
    editor = client_for(people["editor"])
    response = editor.patch(
        f"/api/v1/terms/{term.slug}/", {"short_def": "New."}, format="json"
    )
    assert response.status_code == 409
    assert "restore it to draft before editing" in response.json()["error"]["message"]
    assert step(client_for(people["approver"]), term.slug, "restore").status_code == 200
    again = editor.patch(
        f"/api/v1/terms/{term.slug}/", {"short_def": "New."}, format="json"
    )
    assert again.status_code == 200
    assert again.json()["short_def"] == "New."
