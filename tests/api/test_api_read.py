"""Read endpoints of the JSON API on the reference corpus."""

import pytest

from tests.helpers import all_slugs, corpus_documents, slugs

pytestmark = pytest.mark.django_db


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
        "matched_language",
        "language",
        "short_def_language",
    }
    assert match["language"] == match["short_def_language"] == "en"
    assert match["matched_language"] is None


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
        "matched_language": None,
        "language": "en",
        "short_def_language": "en",
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
