"""Approvals that fit the team: ``GLOSSARY_APPROVALS_REQUIRED`` distinct
approvers, none an author; an edit or another step makes earlier approvals
lapse. Sending a pending change back leaves what the public reads unchanged,
to the byte."""

import pytest

from terms.documents.document import validate_term_data
from terms.models import Approval, EventAction, Status, Term, TermEvent
from terms.workflow import steps as workflow
from tests.helpers import api_client_for, base_term, make_user, seed_term

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_needed(settings, people):
    settings.GLOSSARY_APPROVALS_REQUIRED = 2
    people["second"] = make_user("second", "approvers")
    return people


def _approve(term, actor):
    return workflow.term_transition(term=term, name="approve", actor=actor)


def test_a_term_is_approved_after_two_distinct_approvers(two_needed):
    people = two_needed
    term = seed_term("alpha", "reviewed", people["author"])
    _approve(term, people["approver"])
    assert Term.objects.get(pk=term.pk).status == Status.REVIEWED
    event = TermEvent.objects.filter(term=term).latest("id")
    assert event.action == EventAction.APPROVAL
    assert event.actor == people["approver"]

    with pytest.raises(workflow.NotAllowed, match="already approved"):
        _approve(term, people["approver"])
    from django.contrib.auth.models import Group

    people["author"].groups.add(Group.objects.get(name="approvers"))
    author = type(people["author"]).objects.get(pk=people["author"].pk)
    with pytest.raises(workflow.Forbidden, match="four-eyes"):
        _approve(term, author)  # an approver too, but its author

    _approve(term, people["second"])
    assert Term.objects.get(pk=term.pk).status == Status.APPROVED
    assert not Approval.objects.exists()


def test_an_edit_makes_earlier_approvals_lapse(two_needed):
    people = two_needed
    term = seed_term("beta", "approved", people["author"])
    changed, _ = validate_term_data(
        base_term("beta", status="approved", short_def="Beta, first try.")
    )
    workflow.term_edit(
        term=term, document=changed, actor=people["editor"], source="api"
    )
    workflow.term_transition(term=term, name="review", actor=people["reviewer"])
    _approve(term, people["approver"])
    assert Approval.objects.filter(term=term).count() == 1

    again, _ = validate_term_data(
        base_term("beta", status="approved", short_def="Beta, second try.")
    )
    workflow.term_edit(term=term, document=again, actor=people["editor"], source="api")
    assert not Approval.objects.filter(term=term).exists()
    workflow.term_transition(term=term, name="review", actor=people["reviewer"])
    _approve(term, people["approver"])
    live = Term.objects.get(pk=term.pk)
    assert live.short_def != "Beta, second try."  # one approval is not enough
    _approve(term, people["second"])
    assert Term.objects.get(pk=term.pk).short_def == "Beta, second try."


def test_the_api_answers_a_partial_approval(two_needed):
    people = two_needed
    seed_term("gamma", "reviewed", people["author"])
    client = api_client_for(people["approver"])
    response = client.post("/api/v1/terms/gamma/transitions/approve/", format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "reviewed"


def test_sending_a_pending_change_back_leaves_the_public_version_untouched(people, api):
    term = seed_term("delta", "approved", people["author"])
    paths = [
        "/api/v1/terms/delta/",
        "/api/v1/terms/delta.yaml",
        "/api/v1/terms/delta.md",
        "/api/v1/terms/delta.ttl",
        "/api/v1/export/",
    ]
    before = {path: api.get(path).content for path in paths}
    changed, _ = validate_term_data(
        base_term("delta", status="approved", short_def="Delta, rewritten.")
    )
    workflow.term_edit(
        term=term, document=changed, actor=people["editor"], source="api"
    )
    workflow.term_transition(term=term, name="review", actor=people["reviewer"])
    workflow.term_transition(
        term=term,
        name="request_changes",
        actor=people["approver"],
        comment="Keep the old wording.",
    )
    after = {path: api.get(path).content for path in paths}
    assert after == before
    assert Term.objects.get(pk=term.pk).pending.status == "draft"


def test_many_pending_changes_are_approved_or_sent_back_at_once(people):
    """One request for many terms; each checked as if alone (four-eyes)."""
    for name in ("one", "two", "three"):
        term = seed_term(name, "approved", people["author"])
        changed, _ = validate_term_data(
            base_term(name, status="approved", short_def=f"{name}, improved.")
        )
        author = people["superuser"] if name == "three" else people["editor"]
        workflow.term_edit(term=term, document=changed, actor=author, source="api")
    reviewer = api_client_for(people["reviewer"])
    reviewed = reviewer.post(
        "/api/v1/transitions/",
        {"step": "review", "terms": ["one", "two", "three"]},
        format="json",
    ).json()
    assert reviewed["done"] == ["one", "two", "three"]
    approver = api_client_for(people["superuser"])  # who wrote "three"
    answer = approver.post(
        "/api/v1/transitions/",
        {"step": "approve", "terms": ["one", "two", "three", "nope"]},
        format="json",
    ).json()
    assert answer["done"] == ["one", "two"]
    refused = {item["slug"]: item["message"] for item in answer["refused"]}
    assert "four-eyes" in refused["three"]  # they wrote it
    assert "nope" in refused["nope"]
    assert Term.objects.get(slug="one").short_def == "one, improved."
    back = approver.post(
        "/api/v1/transitions/",
        {"step": "request-changes", "terms": ["three"], "comment": ""},
        format="json",
    ).json()
    assert "comment" in back["refused"][0]["message"]


def test_many_drafts_are_reviewed_at_once_each_through_its_gates(people):
    seed_term("ready one", "draft", people["author"])
    seed_term("ready two", "draft", people["author"])
    seed_term("too short", "draft", people["author"], long_def="Not enough words.")
    client = api_client_for(people["reviewer"])
    answer = client.post(
        "/api/v1/transitions/",
        {"step": "review", "terms": ["ready-one", "too-short", "ready-two"]},
        format="json",
    ).json()
    assert answer["done"] == ["ready-one", "ready-two"]
    [(slug, message)] = [(r["slug"], r["message"]) for r in answer["refused"]]
    assert slug == "too-short"
    assert "long_def" in message
    statuses = dict(Term.objects.values_list("slug", "status"))
    assert statuses == {
        "ready-one": "reviewed",
        "ready-two": "reviewed",
        "too-short": "draft",
    }
    # A review is a status-only step: it does not make the reviewer an author.
    events = TermEvent.objects.filter(
        action=EventAction.REVIEW, actor=people["reviewer"]
    )
    assert events.count() == 2
    approver = api_client_for(people["approver"])
    approved = approver.post(
        "/api/v1/transitions/",
        {"step": "approve", "terms": ["ready-one", "ready-two"]},
        format="json",
    ).json()
    assert approved["done"] == ["ready-one", "ready-two"]


def test_many_with_two_approvals_needed_records_each(two_needed):
    people = two_needed
    seed_term("epsilon", "reviewed", people["author"])
    seed_term("zeta", "reviewed", people["author"])
    body = {"step": "approve", "terms": ["epsilon", "zeta"]}
    first = api_client_for(people["approver"]).post(
        "/api/v1/transitions/", body, format="json"
    )
    assert first.json()["done"] == ["epsilon", "zeta"]
    assert set(Term.objects.values_list("status", flat=True)) == {"reviewed"}
    api_client_for(people["second"]).post("/api/v1/transitions/", body, format="json")
    assert set(Term.objects.values_list("status", flat=True)) == {"approved"}


def test_many_deprecated_at_once(people):
    seed_term("old one", "approved", people["author"])
    seed_term("old two", "approved", people["author"])
    answer = api_client_for(people["approver"]).post(
        "/api/v1/transitions/",
        {"step": "deprecate", "terms": ["old-one", "old-two"]},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["done"] == ["old-one", "old-two"]
    assert set(Term.objects.values_list("status", flat=True)) == {"deprecated"}
