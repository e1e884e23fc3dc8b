"""Releases for people: the list, what changed between two as a page, each
term page's releases with what changed in each, and the dashboard's latest
release with what changed since."""

import pytest
from django.test import Client

from terms.models import Term
from terms.workflow.releases import release_create
from tests.helpers import seed_term

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_releases(people):
    author, approver = people["author"], people["approver"]
    seed_term("alpha", "approved", author)
    seed_term("beta", "approved", author)
    release_create(name="2026.11", actor=approver)
    Term.objects.get(slug="alpha").delete()
    Term.objects.get(slug="beta").delete()
    seed_term("beta", "approved", author, short_def="Beta, defined better now.")
    seed_term("gamma", "approved", author)
    release_create(name="2026.12", actor=approver)
    seed_term("delta", "approved", author)  # since the latest release
    return approver


def test_the_release_list_links_each_to_its_changes(two_releases):
    page = Client().get("/releases/").content.decode()
    assert page.index("2026.12") < page.index("2026.11")  # newest first
    assert 'href="/releases/2026.11...2026.12/"' in page
    assert "first release" in page


def test_the_diff_page_shows_what_changed_word_by_word(two_releases):
    response = Client().get("/releases/2026.11...2026.12/")
    assert response.status_code == 200
    page = response.content.decode()
    added = page[page.index('id="added"') : page.index('id="removed"')]
    assert "gamma" in added
    assert "alpha" not in added
    removed = page[page.index('id="removed"') : page.index('id="changed"')]
    assert "alpha" in removed
    changed = page[page.index('id="changed"') :]
    assert "short_def" in changed
    assert "<ins>Beta, defined better now.</ins>" in changed
    assert "<del>" in changed
    since = Client().get("/releases/latest...current/").content.decode()
    assert "delta" in since
    assert "gamma" not in since
    missing = Client().get("/releases/2026.11...nope/")
    assert missing.status_code == 404


def test_a_term_page_lists_its_releases_and_what_changed(two_releases):
    page = Client().get("/terms/beta/").content.decode()
    section = page[page.index('id="releases"') :]
    assert section.index("2026.12") < section.index("2026.11")
    assert "changed short_def" in section
    assert "added" in section
    assert Client().get("/terms/delta/").content.decode().count('id="releases"') == 0


def test_the_dashboard_shows_the_latest_release_and_what_changed_since(two_releases):
    page = Client().get("/dashboard/").content.decode()
    section = page[page.index('id="release"') : page.index('id="recent"')]
    assert "2026.12" in section
    assert "1 added, 0 changed, 0 removed" in section
    assert "delta" in section
