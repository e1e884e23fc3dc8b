"""GET /api/v1/terms/{slug}/similar/: neighbours by content, linked or not."""

import pytest

from tests.helpers import base_term, import_folders, write_term

pytestmark = pytest.mark.django_db


def term(name, short_def, long_words, categories, related=()):
    return base_term(
        name,
        aliases=[f"{name} alias"],
        categories=list(categories),
        short_def=short_def,
        long_def=" ".join(long_words * 12),
        status="approved",
        relationships={"related": list(related)} if related else {},
    )


@pytest.fixture
def neighbours(tmp_path):
    for data in (
        term(
            "vector database",
            "Stores embeddings for nearest neighbour search.",
            ["embeddings", "index", "similarity", "search", "vectors"],
            ["Retrieval"],
            related=["embedding"],
        ),
        term(
            "embedding",
            "A vector that represents text for similarity search.",
            ["vectors", "similarity", "text", "search", "model"],
            ["Retrieval"],
        ),
        term(
            "reranker",
            "Orders retrieved passages; often after a vector database lookup.",
            ["search", "retrieved", "passages", "relevance", "order"],
            ["Retrieval"],
        ),
        term(
            "model card",
            "Documents what a model is for and how it was evaluated.",
            ["documentation", "evaluation", "intended", "use", "limits"],
            ["Governance"],
        ),
    ):
        write_term(tmp_path, data)
    import_folders(tmp_path)


def test_neighbours_are_ranked_by_content_and_say_if_linked(neighbours, api):
    response = api.get("/api/v1/terms/vector-database/similar/", {"limit": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "vector-database"
    slugs = [row["slug"] for row in body["results"]]
    assert "vector-database" not in slugs
    assert slugs[:2] == ["embedding", "reranker"]
    assert [row["linked"] for row in body["results"]][:2] == [True, False]
    scores = [row["score"] for row in body["results"]]
    assert scores == sorted(scores, reverse=True)
    # The link counts from the other side too.
    back = api.get("/api/v1/terms/embedding/similar/").json()["results"]
    assert {r["slug"]: r["linked"] for r in back}["vector-database"] is True


def test_limits_and_unknown_terms_are_clear(neighbours, api):
    assert (
        len(api.get("/api/v1/terms/embedding/similar/", {"limit": 1}).json()["results"])
        == 1
    )
    bad = api.get("/api/v1/terms/embedding/similar/", {"limit": 0})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "limit"
    missing = api.get("/api/v1/terms/no-such-term/similar/")
    assert missing.status_code == 404
    assert "no-such-term" in missing.json()["error"]["message"]


def test_a_change_is_reflected_at_once(neighbours, api, tmp_path):
    before = api.get("/api/v1/terms/model-card/similar/").json()["results"]
    assert "datasheet" not in [r["slug"] for r in before]
    import_folders(
        write_term(
            tmp_path / "more",
            term(
                "datasheet",
                "Documents a dataset: its intended use, evaluation and limits.",
                ["documentation", "evaluation", "intended", "use", "limits"],
                ["Governance"],
            ),
        )
    )
    after = api.get("/api/v1/terms/model-card/similar/").json()["results"]
    assert after[0]["slug"] == "datasheet"


def test_the_term_page_suggests_unlinked_neighbours(neighbours, client):
    page = client.get("/terms/vector-database/").content.decode()
    section = page[page.index('id="suggested"') :]
    section = section[: section.index("</section>")]
    # "embedding" is linked already: only the unlinked neighbour is suggested.
    assert "/terms/reranker/" in section
    assert "/terms/embedding/" not in section


def test_one_click_in_the_admin_adds_a_suggestion(neighbours, client):
    from terms.models import PendingChange, Term
    from tests.helpers import make_user

    client.force_login(make_user("edith", "editors", staff=True))
    term = Term.objects.get(slug="vector-database")
    page = client.get(f"/admin/terms/term/{term.pk}/change/").content.decode()
    relate = f"/admin/terms/term/{term.pk}/relate/reranker/"
    assert relate in page
    assert f"/admin/terms/term/{term.pk}/relate/embedding/" not in page  # linked
    response = client.post(relate, follow=True)
    assert "was added to the related terms in the pending change" in (
        response.content.decode()
    )
    # An approved term changes through review: the live term keeps its links.
    pending = PendingChange.objects.get(term=term)
    assert pending.document["relationships"]["related"] == ["embedding", "reranker"]
    again = client.post(relate, follow=True).content.decode()
    assert "is already linked" in again


@pytest.mark.django_db(transaction=True)
def test_after_a_change_the_old_index_answers_uncached_while_the_new_one_builds(
    api, tmp_path, settings
):
    from terms.text.similarity import INDEXES

    settings.GLOSSARY_BUILD_ASIDE = True
    INDEXES.clear()
    try:
        first = tmp_path / "first"
        for data in (
            term(
                "model card", "Documents a model.", ["documentation", "limits"], ["G"]
            ),
            term("audit log", "Records who did what.", ["records", "actions"], ["G"]),
        ):
            write_term(first, data)
        import_folders(first)
        url = "/api/v1/terms/model-card/similar/"
        assert [r["slug"] for r in api.get(url).json()["results"]] == ["audit-log"]
        import_folders(
            write_term(
                tmp_path / "more",
                term("datasheet", "Documents a dataset.", ["documentation"], ["G"]),
            )
        )
        # Served from the index of before: the change is not there yet...
        stale = api.get(url)
        assert [r["slug"] for r in stale.json()["results"]] == ["audit-log"]
        INDEXES.wait()
        # ...and that answer was not kept for this version: the next one has it.
        fresh = [r["slug"] for r in api.get(url).json()["results"]]
        assert fresh[0] == "datasheet"
    finally:
        INDEXES.wait()


def _around_rag(folder, *, store_links=(), loader_links=(), rag_links=()):
    """A small glossary around "retrieval augmented generation": a close
    neighbour (vector store), a weaker one (document loader), and terms that
    share little with it (chunking, reranking)."""
    for data in (
        term(
            "retrieval augmented generation",
            "Generation grounded in retrieved documents.",
            ["retrieval", "documents", "generation", "context", "grounding"],
            ["Retrieval"],
            related=rag_links,
        ),
        term(
            "vector store",
            "Holds documents for retrieval as context.",
            ["retrieval", "documents", "context", "grounding", "vectors"],
            ["Retrieval"],
            related=store_links,
        ),
        term(
            "document loader",
            "Reads files into documents for retrieval.",
            ["documents", "retrieval", "files", "parsing", "formats"],
            ["Retrieval"],
            related=loader_links,
        ),
        term(
            "chunking",
            "Splits documents into passages.",
            ["documents", "splitting", "passages", "size", "overlap"],
            ["Retrieval"],
        ),
        term(
            "reranking",
            "Orders passages by relevance.",
            ["ordering", "relevance", "scores", "passages", "models"],
            ["Retrieval"],
        ),
    ):
        write_term(folder, data)
    import_folders(folder)


def _ranked(api, slug):
    rows = api.get(f"/api/v1/terms/{slug}/similar/").json()["results"]
    return [row["slug"] for row in rows], {row["slug"]: row["score"] for row in rows}


def test_the_links_of_close_neighbours_vote(api, tmp_path):
    _around_rag(tmp_path)
    order, _ = _ranked(api, "retrieval-augmented-generation")
    assert order.index("document-loader") < order.index("chunking")
    # Once its closest neighbour links to chunking, chunking moves up.
    _around_rag(tmp_path, store_links=["chunking"])
    order, scores = _ranked(api, "retrieval-augmented-generation")
    assert order.index("chunking") < order.index("document-loader")
    assert "retrieval-augmented-generation" not in order
    assert scores == dict(sorted(scores.items(), key=lambda item: -item[1]))


def test_a_terms_own_links_do_not_sway_its_suggestions(api, tmp_path):
    links = {"store_links": ["chunking"], "loader_links": ["reranking"]}
    _around_rag(tmp_path, **links)
    before = _ranked(api, "retrieval-augmented-generation")
    # Linking the term to a neighbour whose links vote (from either side)
    # changes nothing in how its suggestions rank.
    _around_rag(tmp_path, rag_links=["vector store"], **links)
    assert _ranked(api, "retrieval-augmented-generation") == before
    _around_rag(
        tmp_path,
        store_links=["chunking", "retrieval augmented generation"],
        loader_links=["reranking"],
    )
    assert _ranked(api, "retrieval-augmented-generation") == before


def test_a_term_alone_gets_an_empty_answer(api, tmp_path):
    # Every word of a lone term is in every term: it has no weighted words.
    import_folders(
        write_term(tmp_path, term("audit log", "Records.", ["records"], ["G"]))
    )
    response = api.get("/api/v1/terms/audit-log/similar/")
    assert response.status_code == 200
    assert response.json()["results"] == []
    page = api.get("/api/v1/terms/audit-log.md")
    assert page.status_code == 200
    assert "Suggested related terms" not in page.content.decode()
