"""SQL queries per request: one row per endpoint, each proving that the count does
not grow with the size of the answer (page size, term size, text length, history).

Every row names the status it must answer with, so a row cannot pass by failing.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from terms.models import ChangeSource, GlossaryState, Term
from terms.reads.selectors import known_roles
from terms.serving import stamp
from terms.serving.stamp import glossary_stamp, shared_cache
from terms.workflow import services
from tests.helpers import api_client_for, base_term, import_folders, make_user

pytestmark = pytest.mark.django_db

# A term with few parts and one with many: the same representation must cost the
# same queries.
FEW, MANY = "log-probability", "risk-register"


def count(client, method: str, url: str, body=None, status: int = 200) -> int:
    """Queries one uncached request takes; fails unless it answers ``status``.

    Nothing cached, and no stamp known in Redis or to this process's watch.
    """
    cache.clear()
    stamp.forget()
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, body, format="json")
    assert response.status_code == status, response.content[:500]
    return len(captured.captured_queries)


def fresh(user):
    """A client with a fresh user object, as each real request loads one."""
    return api_client_for(type(user).objects.get(pk=user.pk))


READS = [
    # (row, small, large, status, bound)
    ("list", "/api/v1/terms/?page_size=2", "/api/v1/terms/?page_size=100", 200, 8),
    (
        "search",
        "/api/v1/terms/?q=model&page_size=2",
        "/api/v1/terms/?q=model&page_size=100",
        200,
        8,
    ),
    (
        "filtered list",
        "/api/v1/terms/?category=LLM Core&role=engineering&page_size=2",
        "/api/v1/terms/?category=LLM Core&role=engineering&page_size=100",
        200,
        10,
    ),
    ("detail", f"/api/v1/terms/{FEW}/", f"/api/v1/terms/{MANY}/", 200, 11),
    (
        "detail .yaml",
        f"/api/v1/terms/{FEW}.yaml",
        f"/api/v1/terms/{MANY}.yaml",
        200,
        11,
    ),
    # The detail's, and the names of the suggested related terms.
    ("detail .md", f"/api/v1/terms/{FEW}.md", f"/api/v1/terms/{MANY}.md", 200, 13),
    (
        # The stamp; whether anything has the name; names and slugs, aliases,
        # labels in other languages.
        "lookup",
        "/api/v1/lookup/?q=logprob",
        "/api/v1/lookup/?q=supervised fine-tuning",
        200,
        5,
    ),
    (
        # The stamp; one query finds that nothing has the name or another
        # form of it; suggestions (on PostgreSQL: one pool of close names,
        # aliases and labels, and when it is short the bar lowered, the pool
        # again and the bar restored; the best terms read whole).
        "lookup miss",
        "/api/v1/lookup/?q=temperatur",
        "/api/v1/lookup/?q=halucination",
        404,
        7,
    ),
    ("facets", "/api/v1/categories/", "/api/v1/roles/", 200, 2),
    ("tags", "/api/v1/tags/", "/api/v1/categories/", 200, 2),
    ("wanted", "/api/v1/wanted/?page_size=2", "/api/v1/wanted/?page_size=100", 200, 4),
    ("stats", "/api/v1/stats/", "/api/v1/stats/", 200, 9),
    ("export", "/api/v1/export/", "/api/v1/export/?format=yaml", 200, 13),
]


@pytest.mark.parametrize(
    ("small", "large", "status", "bound"),
    [row[1:] for row in READS],
    ids=[row[0] for row in READS],
)
def test_anonymous_reads(corpus_db, api, small, large, status, bound):
    # Built once per glossary version in the process, not per request: the
    # similar-terms index the Markdown page's suggestions come from.
    api.get(small)
    few = count(api, "get", small, status=status)
    many = count(api, "get", large, status=status)
    assert few == many
    assert many <= bound


def test_autocomplete_costs_a_few_queries_whatever_the_limit(corpus_db, api):
    # The stamp; names starting with the text; when they do not fill the
    # answer, names, aliases and labels containing a word that starts with it.
    for limit in (2, 10, 30, 50):
        assert count(api, "get", f"/api/v1/autocomplete/?q=a&limit={limit}") <= 5
    # Filled by names that start with the text: nothing else is searched.
    assert count(api, "get", "/api/v1/autocomplete/?q=a&limit=2") == 2
    body = api.get("/api/v1/autocomplete/?q=a&limit=2").json()
    assert len(body["results"]) == 2
    assert all(r["matched_on"] == "name" for r in body["results"])


@pytest.mark.parametrize(
    ("small", "large", "bound"),
    [
        ("/api/v1/terms/?page_size=2", "/api/v1/terms/?page_size=100", 10),
        (f"/api/v1/terms/{FEW}/", f"/api/v1/terms/{MANY}/", 13),
    ],
    ids=["list", "detail"],
)
def test_reads_of_a_user_who_sees_drafts(corpus_db, small, large, bound):
    viewer = make_user("viewer", perms=("view_term",))
    few = count(fresh(viewer), "get", small)
    assert few == count(fresh(viewer), "get", large)
    assert few <= bound


def test_annotate_does_not_grow_with_the_text(corpus_db, api):
    short = {"text": "A token."}
    long = {"text": "Log probability, tokens and temperature in a prompt. " * 200}
    count(api, "post", "/api/v1/annotate/", short)  # builds the shared matcher
    few = count(api, "post", "/api/v1/annotate/", short)
    assert few == count(api, "post", "/api/v1/annotate/", long)
    assert few <= 4


def _new_versions(slug: str, n: int, actor) -> None:
    """Give a term ``n`` more versions by editing its document."""
    from terms.documents.mapping import TERM_DOCUMENT_PREFETCH, document_from_term

    term = Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH).get(slug=slug)
    document = document_from_term(term)
    for index in range(n):
        from dataclasses import replace

        document = replace(document, short_def=f"Version {index} of the text.")
        services.terms_write(
            changes=[(document, Term.objects.get(pk=term.pk))],
            actor=actor,
            source=ChangeSource.API,
        )


def test_history_does_not_grow_with_versions(corpus_db):
    viewer = make_user("viewer", perms=("view_term",))
    _new_versions(MANY, 6, viewer)
    url = "/api/v1/terms/{}/history/?from=1"
    few = count(fresh(viewer), "get", url.format(FEW))
    assert few == count(fresh(viewer), "get", url.format(MANY))
    assert few <= 8


def test_pending_does_not_grow_with_contributors(corpus_db, people):
    editors = [people["author"], people["editor"], make_user("third", "editors")]
    for slug, writers in ((FEW, editors[:1]), (MANY, editors)):
        for index, writer in enumerate(writers):
            response = api_client_for(writer).patch(
                f"/api/v1/terms/{slug}/",
                {"short_def": f"Proposed text number {index}."},
                format="json",
            )
            assert response.status_code == 202, response.content
    approver = people["approver"]
    url = "/api/v1/terms/{}/pending/"
    few = count(fresh(approver), "get", url.format(FEW))
    assert few == count(fresh(approver), "get", url.format(MANY))
    assert few <= 13


def _document(name: str, aliases: int) -> dict:
    return base_term(name, aliases=[f"{name} alias {n}" for n in range(aliases)])


def test_create_does_not_grow_with_the_document(corpus_db, people):
    editor = people["editor"]
    # The first write also creates the category the test documents use.
    count(fresh(editor), "post", "/api/v1/terms/", _document("first", 1), 201)
    few = count(fresh(editor), "post", "/api/v1/terms/", _document("small", 1), 201)
    many = count(fresh(editor), "post", "/api/v1/terms/", _document("big", 30), 201)
    assert few == many
    # (among them: two statements delete the stored details it affects)
    assert many <= 44


def test_edit_and_delete_do_not_grow_with_the_term(corpus_db, people):
    editor = people["editor"]
    # "keeper" names the same missing terms, so each delete leaves as many
    # wanted targets to count again.
    for name, aliases in (("keeper", 1), ("small", 1), ("big", 30)):
        response = api_client_for(editor).post(
            "/api/v1/terms/", _document(name, aliases), format="json"
        )
        assert response.status_code == 201
    edits = [
        count(
            fresh(editor),
            "put",
            f"/api/v1/terms/{name}/",
            {**_document(name, aliases), "short_def": "Changed."},
        )
        for name, aliases in (("small", 2), ("big", 31))
    ]
    assert edits[0] == edits[1]
    # (among them: which webhook subscriptions to queue a delivery for; the
    # keys the term answered to and linked to, and the wanted targets of those
    # counted again: a delete, one grouping query, an insert; two statements
    # deleting the stored details the write affects)
    assert edits[0] <= 46
    root = people["superuser"]
    deletes = [
        count(fresh(root), "delete", f"/api/v1/terms/{name}/", status=204)
        for name in ("small", "big")
    ]
    assert deletes[0] == deletes[1]
    # One query per table that cascades from a term: approvals, comments and
    # watches came with this round (42 before them).
    assert deletes[0] <= 45


def test_transitions_do_not_grow_with_the_term(corpus_db, people):
    approver = people["approver"]
    steps = [
        count(fresh(approver), "post", f"/api/v1/terms/{slug}/transitions/deprecate/")
        for slug in (FEW, MANY)
    ]
    assert steps[0] == steps[1]
    assert steps[0] <= 37


def test_known_roles_are_read_once_per_write(corpus_db):
    # The document check reads the role slugs with one query, whatever the roles.
    with CaptureQueriesContext(connection) as captured:
        roles = known_roles()
    assert "engineering" in roles
    assert len(captured.captured_queries) == 1


# --- cached reads -------------------------------------------------------------------


CACHED_READS = [
    "/api/v1/terms/?q=token",
    "/api/v1/terms/?category=LLM Core&role=engineering",
    f"/api/v1/terms/{FEW}/",
    f"/api/v1/terms/{FEW}.yaml",
    f"/api/v1/terms/{FEW}.md",
    "/api/v1/lookup/?q=logprob",
    "/api/v1/lookup/?q=nothing at all",
    "/api/v1/autocomplete/?q=tok",
    "/api/v1/categories/",
    "/api/v1/roles/",
    "/api/v1/tags/",
    "/api/v1/stats/",
    "/api/v1/wanted/",
    "/api/v1/export/",
]


@pytest.mark.parametrize("url", CACHED_READS)
def test_a_cached_read_issues_no_sql_with_a_shared_cache(corpus_db, api, url):
    """With Redis the glossary's stamp is read from the cache too: no SQL at all.
    A per-process memory cache cannot carry the stamp: one small query."""
    first = api.get(url)
    assert first.status_code in (200, 404)
    with CaptureQueriesContext(connection) as captured:
        again = api.get(url)
    assert len(captured.captured_queries) == (0 if shared_cache() else 1)
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]


def test_conditional_get_returns_304(corpus_db, api):
    first = api.get("/api/v1/terms/log-probability/")
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag
    assert modified
    not_modified = api.get("/api/v1/terms/log-probability/", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    from django.core.cache import cache

    cache.clear()  # also answered without a cached copy
    assert (
        api.get("/api/v1/terms/log-probability/", HTTP_IF_NONE_MATCH=etag).status_code
        == 304
    )
    assert (
        api.get(
            "/api/v1/terms/log-probability/", HTTP_IF_NONE_MATCH='"other"'
        ).status_code
        == 200
    )
    listed = api.get("/api/v1/terms/")
    assert (
        api.get("/api/v1/terms/", HTTP_IF_NONE_MATCH=listed["ETag"]).status_code == 304
    )


def test_import_invalidates_cache_and_etags(corpus_db, api, tmp_path):
    first = api.get("/api/v1/terms/token/")
    path = tmp_path / "token.yml"
    text = (corpus_db / "ai-glossary" / "token.yml").read_text("utf-8")
    path.write_text(text.replace("status: approved", "status: reviewed"), "utf-8")
    import_folders(path)
    second = api.get("/api/v1/terms/token/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second.json()["status"] == "reviewed"


def test_if_none_match_on_a_list_is_answered_before_anything_is_read(corpus_db, api):
    first = api.get("/api/v1/terms/?q=token")
    cache.clear()  # no rendered copy left: the answer still needs no rendering
    glossary_stamp()  # but the stamp is back, as in steady state
    with CaptureQueriesContext(connection) as captured:
        again = api.get("/api/v1/terms/?q=token", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    # At most the glossary's stamp (without a shared cache); no term is read.
    assert len(captured.captured_queries) == (0 if shared_cache() else 1)
    assert (
        api.get("/api/v1/terms/?q=token", HTTP_IF_NONE_MATCH='"g0.x"').status_code
        == 200
    )


def _listed(client, url: str) -> tuple[int, list[str]]:
    """The list's count, and the SQL of one uncached request for it."""
    cache.clear()
    stamp.forget()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return response.json()["count"], [q["sql"] for q in captured.captured_queries]


def test_an_unfiltered_list_takes_its_length_from_the_last_write(
    corpus_db, api, people
):
    visible = ["reviewed", "approved", "deprecated"]
    total, queries = _listed(api, "/api/v1/terms/?page=2&page_size=5")
    assert total == Term.objects.filter(status__in=visible).count()
    assert not any("COUNT(" in sql for sql in queries)
    # A filter narrows the list: that length is counted.
    narrowed, queries = _listed(api, "/api/v1/terms/?category=LLM Core")
    assert narrowed < total
    assert any("COUNT(" in sql for sql in queries)
    # Writes keep the stored length true, whoever reads it.
    editor = api_client_for(people["editor"])
    created = editor.post("/api/v1/terms/", base_term("counted draft"), format="json")
    assert created.status_code == 201
    assert _listed(api, "/api/v1/terms/")[0] == total  # a draft: not for anonymous
    assert _listed(editor, "/api/v1/terms/")[0] == total + 1
    gone = api_client_for(people["superuser"]).delete(f"/api/v1/terms/{FEW}/")
    assert gone.status_code == 204
    assert _listed(api, "/api/v1/terms/")[0] == total - 1
    assert _listed(api, "/api/v1/terms/")[0] == (
        Term.objects.filter(status__in=visible).count()
    )
    # No write has stored the counts yet: the list counts its rows.
    GlossaryState.objects.update(status_counts=None)
    total, queries = _listed(api, "/api/v1/terms/")
    assert total == Term.objects.filter(status__in=visible).count()
    assert any("COUNT(" in sql for sql in queries)
