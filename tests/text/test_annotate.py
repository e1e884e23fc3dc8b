"""POST /api/v1/annotate/: whole words, longest match, ambiguity, offsets, limits."""

import gc

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from terms.serving.stamp import shared_cache
from terms.text.annotation import MATCHERS, BudgetSpent, build_matcher, find_spans
from tests.helpers import base_term, import_folders, write_term

pytestmark = pytest.mark.django_db


@pytest.fixture
def glossary(tmp_path):
    terms = [
        base_term(
            "attention", aliases=["self-attention"], status="approved", relationships={}
        ),
        base_term(
            "retrieval",
            aliases=["document retrieval"],
            status="approved",
            relationships={},
        ),
        base_term(
            "retrieval-augmented generation",
            aliases=["RAG", "retrieval augmented generation"],
            status="approved",
            relationships={},
        ),
        base_term(
            "fine-tuning",
            aliases=["SFT", "supervised fine-tuning"],
            status="approved",
            relationships={},
        ),
        base_term(
            "instruction tuning",
            aliases=["supervised fine-tuning"],
            status="approved",
            relationships={},
        ),
        base_term(
            "café latte", aliases=["flat white"], status="approved", relationships={}
        ),
        base_term(
            "red teaming",
            aliases=["adversarial testing"],
            status="reviewed",
            relationships={},
        ),
        base_term(
            "secret plan", aliases=["hidden plan"], status="draft", relationships={}
        ),
    ]
    for data in terms:
        write_term(tmp_path, data)
    import_folders(tmp_path)
    return tmp_path


def annotate(api, text, **extra):
    response = api.post("/api/v1/annotate/", {"text": text, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def surfaces(body, text):
    return [(text[s["start"] : s["end"]], s["slug"]) for s in body["spans"]]


def test_whole_words_only(glossary, api):
    text = "Attention, please: inattention is not attention-seeking."
    body = annotate(api, text)
    assert surfaces(body, text) == [
        ("Attention", "attention"),
        ("attention", "attention"),
    ]
    assert body["spans"][0]["text"] == "Attention"


def test_longest_match_wins_and_variants_match(glossary, api):
    text = "Retrieval-Augmented Generation beats retrieval; so does retrieval augmented  generation and RAG."
    body = annotate(api, text)
    assert surfaces(body, text) == [
        ("Retrieval-Augmented Generation", "retrieval-augmented-generation"),
        ("retrieval", "retrieval"),
        ("retrieval augmented  generation", "retrieval-augmented-generation"),
        ("RAG", "retrieval-augmented-generation"),
    ]
    # "retrieval augmented generation" is the name's own lookup key, so a name match.
    assert [s["matched_on"] for s in body["spans"]] == ["name", "name", "name", "alias"]


def test_overlapping_aliases_take_the_longest(glossary, api):
    text = "We use document retrieval and self-attention."
    body = annotate(api, text)
    assert surfaces(body, text) == [
        ("document retrieval", "retrieval"),
        ("self-attention", "attention"),
    ]


def test_shared_alias_is_reported_once_with_every_candidate(glossary, api):
    text = "Supervised fine-tuning needs labels."
    body = annotate(api, text)
    [span] = body["spans"]
    assert span["text"] == "Supervised fine-tuning"
    assert span["ambiguous"] == ["fine-tuning", "instruction-tuning"]
    assert set(body["terms"]) == {"fine-tuning", "instruction-tuning"}


def test_offsets_are_python_indices_of_the_original_text(glossary, api):
    text = "Naïve 🙂 straße — CAFÉ LATTE, ﬁne: attention."
    body = annotate(api, text)
    assert surfaces(body, text) == [
        ("CAFÉ LATTE", "café-latte"),
        ("attention", "attention"),
    ]


def test_empty_and_termless_text(glossary, api):
    assert annotate(api, "") == {"spans": [], "terms": {}}
    assert annotate(api, "Nothing relevant here.")["spans"] == []


def test_statuses_default_to_approved(glossary, api, django_user_model):
    text = "Red teaming and the secret plan."
    assert annotate(api, text)["spans"] == []
    wider = annotate(api, text, status=["approved", "reviewed"])
    assert [s["slug"] for s in wider["spans"]] == ["red-teaming"]
    response = api.post(
        "/api/v1/annotate/", {"text": text, "status": ["draft"]}, format="json"
    )
    assert response.status_code == 403  # who the reader is, not what they sent
    assert response.json()["error"]["details"][0]["field"] == "status"


def test_plain_text_body(glossary, api):
    response = api.post(
        "/api/v1/annotate/?status=approved", "RAG helps.", content_type="text/plain"
    )
    assert response.status_code == 200
    assert response.json()["spans"][0]["slug"] == "retrieval-augmented-generation"


def test_size_cap_is_413(glossary, api, settings):
    settings.GLOSSARY_ANNOTATE_MAX_CHARS = 50
    response = api.post("/api/v1/annotate/", {"text": "x" * 51}, format="json")
    assert response.status_code == 413
    assert "the limit is 50" in response.json()["error"]["message"]


def test_bad_bodies_are_400(glossary, api):
    assert api.post("/api/v1/annotate/", {"nope": 1}, format="json").status_code == 400
    assert api.post("/api/v1/annotate/", [1, 2], format="json").status_code == 400
    bad = api.post("/api/v1/annotate/", b"\xff\xfe", content_type="text/plain")
    assert bad.status_code == 400


def test_matcher_is_built_once_per_version_and_rebuilt_on_change(
    glossary, api, tmp_path
):
    MATCHERS.clear()
    with CaptureQueriesContext(connection) as first:
        annotate(api, "attention")
    with CaptureQueriesContext(connection) as second:
        annotate(api, "attention")
    assert len(second.captured_queries) < len(first.captured_queries)
    # The matched terms, plus the glossary's version unless a shared cache has it.
    assert len(second.captured_queries) == (1 if shared_cache() else 2)
    assert annotate(api, "A brand new idea.")["spans"] == []
    folder = tmp_path / "more"
    write_term(folder, base_term("brand new idea", status="approved", relationships={}))
    import_folders(folder)
    assert [s["slug"] for s in annotate(api, "A brand new idea.")["spans"]] == [
        "brand-new-idea"
    ]


def test_matcher_core_without_database():
    matcher = build_matcher(
        [
            ("large language model", "llm", "name"),
            ("LLM", "llm", "alias"),
            ("model", "model", "name"),
        ]
    )
    text = "An LLM is a large-language model; a model too."
    assert [
        (text[s.start : s.end], s.candidates[0].slug) for s in find_spans(matcher, text)
    ] == [
        ("LLM", "llm"),
        ("large-language model", "llm"),
        ("model", "model"),
    ]


def test_a_scan_pauses_the_collector_and_always_turns_it_back_on():
    matcher = build_matcher([("model", "model", "name"), ("mode", "mode", "name")])
    # Thousands of key occurrences, each a tuple: with the collector on, they
    # would set off dozens of collections.
    text = "a model in its mode, " * 5_000
    assert gc.isenabled()
    before = gc.get_stats()[0]["collections"]
    assert len(find_spans(matcher, text)) == 10_000
    # At most the one that turning it back on may set off at once.
    assert gc.get_stats()[0]["collections"] - before <= 1
    assert gc.isenabled()
    # Stopped by its budget, it turns the collector back on all the same.
    with pytest.raises(BudgetSpent):
        find_spans(matcher, text * 20, budget=0)
    assert gc.isenabled()
    # Off before a scan (another scan's pause), it stays off after this one.
    gc.disable()
    try:
        find_spans(matcher, text)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.django_db(transaction=True)
def test_after_a_change_requests_use_the_old_matcher_while_the_new_one_builds(
    api, tmp_path, settings
):
    from terms.models import Alias, Term

    settings.GLOSSARY_BUILD_ASIDE = True
    MATCHERS.clear()
    import_folders(
        write_term(
            tmp_path / "a",
            base_term("vector store", status="approved", relationships={}),
        )
    )
    assert [s["slug"] for s in annotate(api, "a vector store")["spans"]] == [
        "vector-store"
    ]
    import_folders(
        write_term(
            tmp_path / "b", base_term("reranker", status="approved", relationships={})
        )
    )
    # No request builds: this one reads no term or alias rows for a matcher.
    with CaptureQueriesContext(connection) as captured:
        body = annotate(api, "a reranker after the vector store")
    tables = " ".join(q["sql"] for q in captured.captured_queries)
    assert Alias._meta.db_table not in tables
    assert [s["slug"] for s in body["spans"]] == ["vector-store"]  # the old matcher
    MATCHERS.wait()
    body = annotate(api, "a reranker after the vector store")
    assert [s["slug"] for s in body["spans"]] == ["reranker", "vector-store"]
    # A term that is gone is left out even by a matcher from before.
    Term.objects.filter(slug="reranker").delete()
    from terms.workflow.services import glossary_touch

    glossary_touch()
    body = annotate(api, "a reranker after the vector store")
    assert [s["slug"] for s in body["spans"]] == ["vector-store"]
    assert set(body["terms"]) == {"vector-store"}
    assert Alias.objects.filter(term__slug="vector-store").exists()
    # The build that request started ends before the test's data is torn down.
    MATCHERS.wait()


@pytest.mark.parametrize("lang", ["", "fr"])
def test_spans_and_terms_built_directly_equal_drf_field_by_field(glossary, api, lang):
    """The response's spans and terms are built without DRF's per-field path
    (for speed); they must say exactly what the declared fields say."""
    from rest_framework import serializers
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from terms.api.lookup_serializers import (
        AnnotatedTermSerializer,
        SpanSerializer,
    )
    from terms.models import Term

    # (The module's own glossary: the shared sample glossary's module-long
    # transaction would lock SQLite's tables against the build thread of the
    # transactional test above.)
    text = "RAG, supervised fine-tuning (SFT) and self-attention; a café latte."
    response = api.post(
        f"/api/v1/annotate/{'?lang=' + lang if lang else ''}",
        {"text": text},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    request = Request(APIRequestFactory().post("/api/v1/annotate/"))
    terms = {t.slug: t for t in Term.objects.filter(slug__in=body["terms"])}
    context = {
        "request": request,
        "languages": (lang,) if lang else (),
        "text": text,
        "terms": terms,
    }
    for slug, term in terms.items():
        fast = AnnotatedTermSerializer(term, context=dict(context)).data
        slow = serializers.Serializer.to_representation(
            AnnotatedTermSerializer(context=dict(context)), term
        )
        assert dict(fast) == dict(slow), slug
    from terms.text.annotation import _glossary_entries

    matcher = build_matcher(_glossary_entries(["approved"]))
    for span in find_spans(matcher, text):
        fast = SpanSerializer(span, context=dict(context)).data
        slow = serializers.Serializer.to_representation(
            SpanSerializer(context=dict(context)), span
        )
        assert dict(fast) == dict(slow)
