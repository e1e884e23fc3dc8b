"""Read endpoints of the JSON API on the real corpus and the fixtures."""

import io
import zipfile

import pytest
import yaml
from django.contrib.auth.models import Permission

from terms.models import Term

pytestmark = pytest.mark.django_db


def corpus_documents(corpus):
    return {
        path.stem: yaml.safe_load(path.read_text("utf-8"))
        for path in (corpus / "ai-glossary").glob("*.yml")
    }


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.json()["results"]]


def all_slugs(api, url: str) -> list[str]:
    found, page = [], 1
    while True:
        joiner = "&" if "?" in url else "?"
        response = api.get(f"{url}{joiner}page={page}&page_size=100")
        assert response.status_code == 200, response.content
        found += slugs(response)
        if not response.json()["next"]:
            return found
        page += 1


# --- list, filters, pagination ----------------------------------------------------


def test_list_is_paginated(corpus_db, api):
    response = api.get("/api/v1/terms/", {"page_size": 5})
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 112
    assert len(body["results"]) == 5
    assert "page=2" in body["next"]
    assert body["previous"] is None
    first = body["results"][0]
    assert set(first) >= {
        "slug",
        "term",
        "url",
        "aliases",
        "categories",
        "roles",
        "status",
        "short_def",
    }
    names = [item["term"] for item in body["results"]]
    assert names == sorted(names, key=str.lower)


def test_category_and_role_filter_matches_files(corpus_db, api):
    expected = {
        slug
        for slug, doc in corpus_documents(corpus_db).items()
        if "LLM Core" in doc["categories"] and "engineering" in doc["roles"]
    }
    found = all_slugs(api, "/api/v1/terms/?category=LLM Core&role=engineering")
    assert set(found) == expected
    assert len(found) == len(expected) > 5
    assert (
        set(all_slugs(api, "/api/v1/terms/?category=llm-core&role=engineering"))
        == expected
    )


def test_multi_value_filters_repeat_or_comma(corpus_db, api):
    docs = corpus_documents(corpus_db)
    expected = {s for s, d in docs.items() if {"legal", "security"} & set(d["roles"])}
    assert set(all_slugs(api, "/api/v1/terms/?role=legal,security")) == expected
    assert set(all_slugs(api, "/api/v1/terms/?role=legal&role=security")) == expected
    tagged = {
        s
        for s, d in docs.items()
        if "privacy" in d["governance"].get("nist_rmf_tags", [])
    }
    assert set(all_slugs(api, "/api/v1/terms/?tag=privacy")) == tagged
    nouns = {s for s, d in docs.items() if d["part_of_speech"] == "noun"}
    assert set(all_slugs(api, "/api/v1/terms/?part_of_speech=noun")) == nouns


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


@pytest.mark.parametrize(
    ("query", "param", "fragment"),
    [
        ("status=published", "status", "unknown value 'published'"),
        ("status=draft", "status", "you may not list draft"),
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
        ("ordering=relevance", "ordering", "cannot order by 'relevance'"),
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


# --- search -----------------------------------------------------------------------


def test_search_ranks_name_hits_first(corpus_db, api):
    response = api.get("/api/v1/terms/", {"q": "hallucination"})
    results = slugs(response)
    assert results[0] == "hallucination"
    assert len(results) > 1  # definitions mentioning it follow


def test_search_is_typo_tolerant(corpus_db, api):
    assert slugs(api.get("/api/v1/terms/", {"q": "halucination"}))[0] == "hallucination"


def test_search_finds_words_in_long_definitions(corpus_db, api):
    assert slugs(api.get("/api/v1/terms/", {"q": "underflow"}))[0] == "log-probability"


def test_search_respects_filters_and_explicit_ordering(corpus_db, api):
    docs = corpus_documents(corpus_db)
    results = all_slugs(api, "/api/v1/terms/?q=model&category=Governance %26 Risk")
    assert results
    assert all("Governance & Risk" in docs[slug]["categories"] for slug in results)
    ordered = all_slugs(api, "/api/v1/terms/?q=model&ordering=name")
    assert ordered == sorted(ordered)


def test_search_never_shows_drafts_to_anonymous(fixtures_db, api):
    assert "grounding" not in slugs(api.get("/api/v1/terms/", {"q": "grounding"}))


# --- detail -----------------------------------------------------------------------


def test_detail_has_every_field_and_derived_relationships(corpus_db, api):
    response = api.get("/api/v1/terms/log-probability/")
    assert response.status_code == 200
    body = response.json()
    doc = corpus_documents(corpus_db)["log-probability"]
    assert body["term"] == doc["term"]
    assert body["aliases"] == doc["aliases"]
    assert body["categories"] == doc["categories"]
    assert body["roles"] == doc["roles"]
    assert body["long_def"] == doc["long_def"]
    assert body["audiences"] == doc["audiences"]
    assert body["examples"] == doc["examples"]
    assert body["governance"] == doc["governance"]
    assert body["citations"] == doc["citations"]
    assert body["license"] == doc["license"]
    assert body["status"] == "approved"
    assert body["last_reviewed"] == doc["last_reviewed"]
    assert {"created_at", "updated_at", "version", "links"} <= set(body)
    assert body["role_details"][0]["title"] == "Data Science & Research"
    assert body["category_details"][0]["apply_guidance"]
    broader = body["relationships"]["broader"]
    assert broader == [
        {
            "target": "decoding",
            "slug": "decoding",
            "url": "http://testserver/api/v1/terms/decoding/",
            "derived": False,
        }
    ]
    # decoding is broader of log probability, so log probability is narrower of decoding.
    decoding = api.get("/api/v1/terms/decoding/").json()
    narrower = {
        (r["slug"], r["derived"]) for r in decoding["relationships"]["narrower"]
    }
    assert ("log-probability", True) in narrower
    # related is symmetric
    temperature = api.get("/api/v1/terms/temperature/").json()
    related = {r["slug"] for r in temperature["relationships"]["related"]}
    assert "log-probability" in related


def test_detail_keeps_unresolved_targets_as_written(corpus_db, api):
    body = api.get("/api/v1/terms/activation-function/").json()
    assert {
        "target": "model architecture",
        "slug": None,
        "url": None,
        "derived": False,
    } in body["relationships"]["broader"]


def test_detail_yaml_is_the_exported_document(corpus_db, api):
    response = api.get("/api/v1/terms/log-probability.yaml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    original = (corpus_db / "ai-glossary" / "log-probability.yml").read_bytes()
    assert response.content == original


def test_unknown_term_is_404_json(corpus_db, api):
    response = api.get("/api/v1/terms/no-such-term/")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No term with slug 'no-such-term'."


def test_drafts_are_hidden_from_anonymous_but_not_from_viewers(
    fixtures_db, api, django_user_model
):
    assert api.get("/api/v1/terms/grounding/").status_code == 404
    assert "grounding" not in all_slugs(api, "/api/v1/terms/")
    viewer = django_user_model.objects.create_user("viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_term"))
    api.force_authenticate(viewer)
    assert api.get("/api/v1/terms/grounding/").status_code == 200
    assert "grounding" in all_slugs(api, "/api/v1/terms/")
    plain = django_user_model.objects.create_user("plain")
    api.force_authenticate(plain)
    assert api.get("/api/v1/terms/grounding/").status_code == 404


# --- lookup and autocomplete ----------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "LogProb",
        "log-probability",
        "Log Probability",
        "log_probability",
        " LOG probability ",
    ],
)
def test_lookup_is_case_space_hyphen_underscore_insensitive(corpus_db, api, query):
    response = api.get("/api/v1/lookup/", {"q": query})
    assert response.status_code == 200
    [match] = response.json()["matches"]
    assert match["slug"] == "log-probability"
    assert match["matched_on"] in {"name", "alias", "slug"}
    assert set(match) == {
        "slug",
        "term",
        "short_def",
        "status",
        "url",
        "matched_on",
        "alias",
    }


def test_lookup_ambiguous_alias_returns_every_candidate(corpus_db, api):
    body = api.get("/api/v1/lookup/", {"q": "supervised fine-tuning"}).json()
    assert {m["slug"] for m in body["matches"]} == {"fine-tuning", "instruction-tuning"}
    assert {m["matched_on"] for m in body["matches"]} == {"alias"}


def test_lookup_puts_exact_name_first(corpus_db, api):
    docs = corpus_documents(corpus_db)
    also_alias = [
        s
        for s, d in docs.items()
        if "function calling" in [a.lower() for a in d["aliases"]]
    ]
    body = api.get("/api/v1/lookup/", {"q": "function calling"}).json()
    assert body["matches"][0]["slug"] == "function-calling"
    assert body["matches"][0]["matched_on"] == "name"
    assert [m["slug"] for m in body["matches"][1:]] == sorted(also_alias)


def test_lookup_miss_is_404_with_suggestions(corpus_db, api):
    response = api.get("/api/v1/lookup/", {"q": "halucination"})
    assert response.status_code == 404
    body = response.json()
    assert body["matches"] == []
    assert body["suggestions"][0]["slug"] == "hallucination"
    assert len(body["suggestions"]) <= 5
    assert body["error"]["status"] == 404


def test_lookup_defaults_to_approved_and_status_widens(
    fixtures_db, api, django_user_model
):
    assert api.get("/api/v1/lookup/", {"q": "vector store"}).status_code == 404
    body = api.get(
        "/api/v1/lookup/", {"q": "vector store", "status": "reviewed,approved"}
    ).json()
    assert body["matches"][0]["slug"] == "vector-database"
    response = api.get("/api/v1/lookup/", {"q": "grounding", "status": "draft"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "status"
    assert api.get("/api/v1/lookup/").status_code == 400


def test_autocomplete_prefix_and_alias(corpus_db, api):
    body = api.get("/api/v1/autocomplete/", {"q": "hallu"}).json()
    assert body["results"][0]["slug"] == "hallucination"
    assert body["results"][0]["matched_on"] == "name"
    word_start = api.get("/api/v1/autocomplete/", {"q": "prob", "limit": 50}).json()
    assert "log-probability" in [r["slug"] for r in word_start["results"]]
    by_alias = api.get("/api/v1/autocomplete/", {"q": "logpr"}).json()
    assert by_alias["results"][0] == {
        "slug": "log-probability",
        "term": "log probability",
        "short_def": by_alias["results"][0]["short_def"],
        "matched_on": "alias",
        "alias": "logprob",
    }
    # "ability" starts no word of any name or alias: only fuzzy matches come back.
    inside = api.get("/api/v1/autocomplete/", {"q": "ability", "limit": 50}).json()
    assert {r["matched_on"] for r in inside["results"]} <= {"fuzzy"}


def test_autocomplete_falls_back_to_typo_tolerance_and_limits(corpus_db, api):
    body = api.get("/api/v1/autocomplete/", {"q": "halucinaton"}).json()
    assert body["results"][0]["slug"] == "hallucination"
    assert body["results"][0]["matched_on"] == "fuzzy"
    limited = api.get("/api/v1/autocomplete/", {"q": "a", "limit": 3}).json()
    assert len(limited["results"]) == 3
    assert api.get("/api/v1/autocomplete/", {"q": "a", "limit": 51}).status_code == 400


# --- facets, stats, wanted, export ------------------------------------------------------


def test_facets_count_terms(corpus_db, api):
    docs = corpus_documents(corpus_db)
    categories = {c["name"]: c for c in api.get("/api/v1/categories/").json()}
    assert categories["LLM Core"]["term_count"] == sum(
        "LLM Core" in d["categories"] for d in docs.values()
    )
    assert categories["LLM Core"]["apply_guidance"]
    roles = {r["slug"]: r["term_count"] for r in api.get("/api/v1/roles/").json()}
    assert roles["legal"] == sum("legal" in d["roles"] for d in docs.values())
    tags = {t["name"]: t["term_count"] for t in api.get("/api/v1/tags/").json()}
    assert tags["privacy"] == sum(
        "privacy" in d["governance"].get("nist_rmf_tags", []) for d in docs.values()
    )


def test_stats(fixtures_db, api):
    body = api.get("/api/v1/stats/").json()
    visible = Term.objects.exclude(status="draft")
    assert body["terms"] == visible.count()
    assert body["by_status"]["approved"] == visible.filter(status="approved").count()
    assert "draft" not in body["by_status"]
    assert body["glossary_version"] >= 1
    assert body["last_change"]


def test_wanted_lists_unresolved_targets(corpus_db, api):
    page = api.get("/api/v1/wanted/?page_size=100").json()
    assert page["count"] == len(page["results"])
    body = page["results"]
    targets = [w["target"] for w in body]
    assert "model architecture" in targets
    assert "tool-use" not in targets
    counts = [w["count"] for w in body]
    assert counts == sorted(counts, reverse=True)
    top = body[0]
    assert top["count"] == len(top["referenced_by"]) > 1


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
    assert yaml.safe_load(archive.read("glossary/prompt.yml"))["term"] == "prompt"


# --- schema, docs, health ----------------------------------------------------------------


def test_openapi_schema_documents_every_endpoint(db, api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/api/v1/terms/",
        "/api/v1/terms/{slug}/",
        "/api/v1/lookup/",
        "/api/v1/autocomplete/",
        "/api/v1/categories/",
        "/api/v1/roles/",
        "/api/v1/tags/",
        "/api/v1/stats/",
        "/api/v1/wanted/",
        "/api/v1/export/",
    ):
        assert path in paths, path
        for operation in paths[path].values():
            assert operation["responses"], path
    list_params = {p["name"] for p in paths["/api/v1/terms/"]["get"]["parameters"]}
    assert {
        "q",
        "status",
        "category",
        "role",
        "tag",
        "part_of_speech",
        "reviewed_after",
        "reviewed_before",
        "updated_since",
        "ordering",
        "page",
        "page_size",
    } <= list_params
    assert "404" in paths["/api/v1/lookup/"]["get"]["responses"]


def test_interactive_docs_are_served_locally(db, api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html


def test_healthz(db, api):
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
