"""Releases in the admin: approvers publish through a form that runs the
integrity gate, the list links each release to what changed since the one
before, nobody edits or deletes one, administrators retire one."""

import pytest
from django.test import Client

from terms.models import Release, Term
from tests.helpers import make_user, seed_term

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def approver(people):
    user = make_user("publisher", "approvers", staff=True)
    seed_term("alpha", "approved", people["author"])
    return _client(user)


def test_an_approver_publishes_through_the_form(approver, people):
    done = approver.post(
        "/admin/terms/release/add/", {"name": "2026.11", "notes": "First."}, follow=True
    )
    assert done.status_code == 200
    release = Release.objects.get(name="2026.11")
    assert release.counts == {"approved": 1}
    assert release.published_by_name == "publisher"
    seed_term("beta", "approved", people["author"])
    approver.post("/admin/terms/release/add/", {"name": "2026.12", "notes": ""})
    listing = approver.get("/admin/terms/release/").content.decode()
    assert 'href="/releases/2026.11...2026.12/"' in listing
    assert "the first release" in listing
    page = approver.get(
        f"/admin/terms/release/{Release.objects.get(name='2026.12').pk}/change/"
    ).content.decode()
    assert "beta" in page  # added since 2026.11


def test_the_gate_shows_every_problem_on_the_form(approver, people):
    seed_term(
        "loop a", "approved", people["author"], relationships={"broader": ["loop b"]}
    )
    seed_term(
        "loop b", "approved", people["author"], relationships={"broader": ["loop a"]}
    )
    page = approver.post(
        "/admin/terms/release/add/", {"name": "2026.12", "notes": ""}
    ).content.decode()
    assert "loop" in page
    assert "broader" in page
    assert not Release.objects.exists()


def test_a_release_is_neither_edited_nor_deleted_and_only_admins_retire(
    approver, people
):
    approver.post("/admin/terms/release/add/", {"name": "r1", "notes": ""})
    release = Release.objects.get(name="r1")
    approver.post(f"/admin/terms/release/{release.pk}/change/", {"notes": "Edited."})
    assert Release.objects.get(pk=release.pk).notes == ""
    assert approver.get(f"/admin/terms/release/{release.pk}/delete/").status_code == 403
    action = {"action": "retire", "_selected_action": [str(release.pk)]}
    assert approver.post("/admin/terms/release/", action).status_code == 403
    assert not Release.objects.get(pk=release.pk).retired
    _client(people["superuser"]).post("/admin/terms/release/", action)
    assert Release.objects.get(pk=release.pk).retired
    assert Term.objects.filter(slug="alpha").exists()
