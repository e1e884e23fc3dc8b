"""Reads as of a release: the term list with its filters and ``q``, lookup,
autocomplete, annotate and the Markdown page answer from the release's
snapshot, exactly as the glossary stood, whatever was written since."""

import pytest

from terms.models import Term
from terms.serving import snapshots
from terms.workflow.releases import release_create
from tests.helpers import seed_term

pytestmark = pytest.mark.django_db


@pytest.fixture
def moved_on(people):
    """Release r1 of alpha and beta; then alpha is gone, beta renamed and
    recategorised, delta added (the working glossary)."""
    author = people["author"]
    seed_term("alpha", "approved", author, aliases=["first letter"])
    seed_term("beta", "approved", author, categories=["Greek"])
    seed_term("gamma", "draft", author)  # never public: in no release
    release = release_create(name="r1", notes="", actor=people["approver"], force=True)
    Term.objects.get(slug="alpha").delete()
    Term.objects.filter(slug="beta").update(name="Beta Prime")
    seed_term("delta", "approved", author)
    return release


def _slugs(response):
    assert response.status_code == 200, response.content
    return [term["slug"] for term in response.json()["results"]]


def test_the_list_filters_and_search_answer_as_of_the_release(moved_on, api):
    assert _slugs(api.get("/api/v1/terms/", {"release": "r1"})) == ["alpha", "beta"]
    assert _slugs(api.get("/api/v1/terms/")) == ["beta", "delta"]
    greek = api.get("/api/v1/terms/", {"release": "r1", "category": "greek"})
    assert _slugs(greek) == ["beta"]
    found = api.get("/api/v1/terms/", {"release": "r1", "q": "first letter"})
    assert _slugs(found) == ["alpha"]
    assert _slugs(api.get("/api/v1/terms/", {"q": "first letter"})) == []
    names = api.get("/api/v1/terms/", {"release": "latest"}).json()["results"]
    assert [t["term"] for t in names] == ["alpha", "beta"]  # not "Beta Prime"


def test_lookup_autocomplete_and_annotate_as_of_the_release(moved_on, api):
    old = api.get("/api/v1/lookup/", {"q": "first letter", "release": "r1"})
    assert old.status_code == 200, old.content
    assert [m["slug"] for m in old.json()["matches"]] == ["alpha"]
    assert api.get("/api/v1/lookup/", {"q": "first letter"}).status_code == 404

    typed = api.get("/api/v1/autocomplete/", {"q": "alp", "release": "r1"}).json()
    assert [m["slug"] for m in typed["results"]] == ["alpha"]
    now = api.get("/api/v1/autocomplete/", {"q": "alp"}).json()
    assert "alpha" not in [m["slug"] for m in now["results"]]

    text = {"text": "Alpha came before beta and delta, and Beta Prime after."}
    then = api.post("/api/v1/annotate/?release=r1", text, format="json").json()
    assert sorted(then["terms"]) == ["alpha", "beta"]
    assert [s["text"] for s in then["spans"]] == ["Alpha", "beta", "Beta"]
    later = api.post("/api/v1/annotate/", text, format="json").json()
    assert sorted(later["terms"]) == ["beta", "delta"]
    assert [s["text"] for s in later["spans"]] == ["delta", "Beta Prime"]


def test_the_markdown_page_as_of_the_release(moved_on, api):
    page = api.get("/api/v1/terms/alpha.md", {"release": "r1"})
    assert page.status_code == 200, page.content
    assert "\n# alpha\n" in page.content.decode()
    assert "first letter" in page.content.decode()
    assert api.get("/api/v1/terms/alpha.md").status_code == 404
    beta = api.get("/api/v1/terms/beta.md", {"release": "r1"}).content.decode()
    assert "\n# beta\n" in beta
    assert "Beta Prime" not in beta


def test_release_reads_are_immutable_and_survive_writes(moved_on, api, people):
    first = api.get("/api/v1/terms/", {"release": "r1"})
    assert first["Cache-Control"] == "public, max-age=31536000, immutable"
    assert first["ETag"].startswith('"r')
    seed_term("epsilon", "approved", people["author"])
    again = api.get("/api/v1/terms/", {"release": "r1"})
    assert again.content == first.content
    assert (
        api.get(
            "/api/v1/terms/", {"release": "r1"}, HTTP_IF_NONE_MATCH=first["ETag"]
        ).status_code
        == 304
    )
    # Built once: the snapshot file is there, and reads reuse it.
    assert snapshots.path_for(moved_on).exists()


def test_an_unknown_release_is_a_404_naming_it(moved_on, api):
    for response in (
        api.get("/api/v1/terms/", {"release": "nope"}),
        api.get("/api/v1/lookup/", {"q": "alpha", "release": "nope"}),
        api.get("/api/v1/autocomplete/", {"q": "al", "release": "nope"}),
        api.post("/api/v1/annotate/?release=nope", {"text": "x"}, format="json"),
        api.get("/api/v1/terms/alpha.md", {"release": "nope"}),
    ):
        assert response.status_code == 404, response.content
        assert "nope" in response.json()["error"]["message"]


def test_a_snapshot_is_the_glossary_built_from_the_release(moved_on):
    """The snapshot holds the release's terms with their parts; the working
    glossary is untouched by building it."""
    before = Term.objects.count()
    with snapshots.as_of(moved_on):
        stored = {t.slug: t for t in Term.objects.prefetch_related("aliases")}
        assert sorted(stored) == ["alpha", "beta"]
        assert [a.name for a in stored["alpha"].aliases.all()] == ["first letter"]
    assert Term.objects.count() == before
    assert not Term.objects.filter(slug="alpha").exists()
