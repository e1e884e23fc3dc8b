"""Read endpoints of the JSON API on the project's sample glossary: statuses, filters, ordering, visibility, stats and export."""

import io
import zipfile

import pytest

from terms.models import Term
from tests.helpers import all_slugs, make_user, read_yaml, slugs

pytestmark = pytest.mark.django_db


def test_status_and_date_filters(fixtures_db, api, django_user_model):
    reviewed = set(
        Term.objects.filter(status="reviewed").values_list("slug", flat=True)
    )
    assert reviewed
    assert set(all_slugs(api, "/api/v1/terms/?status=reviewed")) == reviewed
    after = set(
        Term.objects.filter(last_reviewed__gte="2026-10-20").values_list(
            "slug", flat=True
        )
    )
    visible_after = set(
        Term.objects.filter(last_reviewed__gte="2026-10-20")
        .exclude(status="draft")
        .values_list("slug", flat=True)
    )
    assert visible_after < after  # drafts exist in that range and stay hidden
    assert (
        set(all_slugs(api, "/api/v1/terms/?reviewed_after=2026-10-20")) == visible_after
    )
    before = set(
        Term.objects.filter(last_reviewed__lte="2026-08-31")
        .exclude(status="draft")
        .values_list("slug", flat=True)
    )
    assert set(all_slugs(api, "/api/v1/terms/?reviewed_before=2026-08-31")) == before


def test_updated_since_supports_incremental_sync(fixtures_db, api):
    term = Term.objects.get(slug="prompt")
    Term.objects.filter(pk=term.pk).update(updated_at="2030-01-01T00:00:00Z")
    assert all_slugs(api, "/api/v1/terms/?updated_since=2029-12-31T00:00:00Z") == [
        "prompt"
    ]


def test_hidden_statuses_are_403_naming_the_parameter(fixtures_db, api):
    for url in ("/api/v1/terms/?status=draft", "/api/v1/lookup/?q=x&status=draft"):
        response = api.get(url)
        assert response.status_code == 403, url
        [detail] = response.json()["error"]["details"]
        assert detail["field"] == "status"
        assert "you may not" in detail["message"]


@pytest.mark.parametrize(
    ("query", "param", "fragment"),
    [
        ("status=published", "status", "unknown value 'published'"),
        ("category=Nope", "category", "unknown value 'Nope'"),
        ("role=astronaut", "role", "unknown value 'astronaut'"),
        ("tag=zzz", "tag", "unknown value 'zzz'"),
        ("part_of_speech=pronoun", "part_of_speech", "unknown value 'pronoun'"),
        ("reviewed_after=yesterday", "reviewed_after", "valid date"),
        ("updated_since=2026-13-01", "updated_since", "valid date"),
        ("page_size=101", "page_size", "at most 100"),
        ("page_size=0", "page_size", "positive whole number"),
        ("page=abc", "page", "positive whole number"),
        ("ordering=colour", "ordering", "cannot order by 'colour'"),
        ("ordering=", "ordering", "is empty"),
        ("ordering=-relevance", "ordering", "cannot order by '-relevance'"),
    ],
)
def test_invalid_parameters_are_400_naming_the_parameter(
    fixtures_db, api, query, param, fragment
):
    response = api.get(f"/api/v1/terms/?{query}")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["status"] == 400
    assert error["details"][0]["field"] == param
    assert fragment in error["details"][0]["message"]


def test_out_of_range_page_is_404_json(fixtures_db, api):
    response = api.get("/api/v1/terms/?page=99")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_ordering(fixtures_db, api):
    response = api.get(
        "/api/v1/terms/", {"ordering": "-last_reviewed,name", "page_size": 100}
    )
    dates = [item["last_reviewed"] for item in response.json()["results"]]
    assert dates == sorted(dates, reverse=True)


def test_search_never_shows_drafts_to_anonymous(fixtures_db, api):
    assert "grounding" not in slugs(api.get("/api/v1/terms/", {"q": "grounding"}))


def test_drafts_are_hidden_from_anonymous_but_not_from_viewers(
    fixtures_db, api, django_user_model
):
    assert api.get("/api/v1/terms/grounding/").status_code == 404
    assert "grounding" not in all_slugs(api, "/api/v1/terms/")
    viewer = make_user("viewer", perms=("view_term",))
    api.force_authenticate(viewer)
    assert api.get("/api/v1/terms/grounding/").status_code == 200
    assert "grounding" in all_slugs(api, "/api/v1/terms/")
    plain = make_user("plain")
    api.force_authenticate(plain)
    assert api.get("/api/v1/terms/grounding/").status_code == 404


def test_lookup_defaults_to_approved_and_status_widens(
    fixtures_db, api, django_user_model
):
    assert api.get("/api/v1/lookup/", {"q": "vector store"}).status_code == 404
    body = api.get(
        "/api/v1/lookup/", {"q": "vector store", "status": "reviewed,approved"}
    ).json()
    assert body["matches"][0]["slug"] == "vector-database"
    response = api.get("/api/v1/lookup/", {"q": "grounding", "status": "draft"})
    assert response.status_code == 403
    assert response.json()["error"]["details"][0]["field"] == "status"
    assert api.get("/api/v1/lookup/").status_code == 400


def test_stats(fixtures_db, api):
    body = api.get("/api/v1/stats/").json()
    visible = Term.objects.exclude(status="draft")
    assert body["terms"] == visible.count()
    assert body["by_status"]["approved"] == visible.filter(status="approved").count()
    assert "draft" not in body["by_status"]
    assert body["glossary_version"] >= 1
    assert body["last_change"]


def test_export_json_and_yaml_zip(fixtures_db, api):
    body = api.get("/api/v1/export/").json()
    visible = Term.objects.exclude(status="draft").count()
    assert len(body["terms"]) == visible
    assert body["roles"][0]["slug"] == "product"
    response = api.get("/api/v1/export/", {"format": "yaml"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert "glossary/prompt.yml" in names
    assert "glossary/grounding.yml" not in names
    assert read_yaml(archive.read("glossary/prompt.yml"))["term"] == "prompt"


def test_relevance_without_search_is_the_default_order(fixtures_db, api):
    default = all_slugs(api, "/api/v1/terms/")
    assert all_slugs(api, "/api/v1/terms/?ordering=relevance") == default


def test_a_lookup_miss_says_when_the_term_has_another_status(fixtures_db, api):
    reviewed = Term.objects.filter(status="reviewed").first()
    response = api.get("/api/v1/lookup/", {"q": reviewed.name})
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert f"{reviewed.name!r} is reviewed; add status=reviewed" in message
    # Drafts stay unmentioned for readers who may not see them.
    draft = Term.objects.filter(status="draft").first()
    hidden = api.get("/api/v1/lookup/", {"q": draft.name}).json()["error"]
    assert "draft" not in hidden["message"]


def test_autocomplete_says_when_terms_match_with_another_status(fixtures_db, api):
    assert Term.objects.get(slug="red-teaming").status == "reviewed"
    body = api.get("/api/v1/autocomplete/", {"q": "red tea"}).json()
    assert "red-teaming" not in [r["slug"] for r in body["results"]]
    assert body["hint"] == "'red tea' is reviewed; add status=reviewed to include it."
    # Asking for that status finds it, and needs no hint.
    body = api.get("/api/v1/autocomplete/", {"q": "red tea", "status": "reviewed"})
    assert "red-teaming" in [r["slug"] for r in body.json()["results"]]
    assert "hint" not in body.json()
    # A prefix that completes needs no hint either.
    assert "hint" not in api.get("/api/v1/autocomplete/", {"q": "prom"}).json()


def test_updated_since_with_any_utc_offset_is_compared_in_utc(fixtures_db, api):
    # Python takes offsets up to a day; PostgreSQL only up to 15:59.
    response = api.get("/api/v1/terms/", {"updated_since": "0183-06-18T03:57:03+22:43"})
    assert response.status_code == 200
    assert response.json()["count"] == api.get("/api/v1/terms/").json()["count"]
    edge = api.get("/api/v1/terms/", {"updated_since": "0001-01-01T00:00:00+22:00"})
    assert edge.status_code == 400
    assert edge.json()["error"]["details"][0]["field"] == "updated_since"
