"""Counting what readers look for (``terms.serving.usage``): per term, per source
and per kind, the searches that found nothing, cached reads counted at no
query's cost, nothing personal kept, and the figures for editors."""

import datetime
from urllib.parse import urlencode

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from terms.models import SearchUse, TermRequest, TermUse
from terms.serving import usage
from terms.serving.frontcache import FrontCache
from tests.helpers import api_client_for, make_user
from tests.serving.test_frontcache import (  # noqa: F401  (an autouse fixture)
    Counting,
    _keep_the_test_connection,
    call,
)

pytestmark = pytest.mark.django_db


def counts(**where) -> dict:
    """``{(slug, source, kind): count}`` after writing the buffer."""
    usage.flush()
    return {
        (row.slug, row.source, row.kind): row.count
        for row in TermUse.objects.filter(**where)
    }


def searched(**where) -> dict:
    """``{(query, source, found): count}`` after writing the buffer."""
    usage.flush()
    return {
        (row.query, row.source, row.found): row.count
        for row in SearchUse.objects.filter(**where)
    }


def reconcile(api, batch: str):
    """A batch as OpenRefine sends it: a form field."""
    return api.post(
        "/api/v1/reconcile/",
        urlencode({"queries": batch}),
        content_type="application/x-www-form-urlencoded",
    )


@pytest.fixture
def editor():
    return api_client_for(make_user("ed", "editors"))


def test_each_read_counts_its_terms_by_source_and_kind(fixtures_db, client):
    api = APIClient()
    assert api.get("/api/v1/lookup/", {"q": "Guardrails"}).status_code == 200
    assert api.get("/api/v1/terms/prompt/").status_code == 200
    assert api.get("/api/v1/terms/", {"q": "prompt injection"}).status_code == 200
    text = "A prompt can carry a prompt injection past the guardrail."
    assert (
        api.post("/api/v1/annotate/", {"text": text}, format="json").status_code == 200
    )
    widget = APIClient(HTTP_X_GLOSSARY_CLIENT="widget")
    assert (
        widget.post("/api/v1/annotate/", {"text": text}, format="json").status_code
        == 200
    )
    batch = '{"q0": {"query": "temperature"}}'
    assert reconcile(api, batch).status_code == 200
    assert client.get("/terms/embedding/").status_code == 200
    assert client.get("/", {"q": "tokenizer"}).status_code == 200

    found = counts()
    assert found[("guardrail", "api", "lookup")] == 1
    assert found[("prompt", "api", "view")] == 1
    # A search counts for the best term it shows, not for every one listed.
    assert found[("prompt-injection", "api", "search")] == 1
    assert ("prompt", "api", "search") not in found
    # Annotate counts each term once per text, whatever its occurrences.
    for slug in ("prompt", "prompt-injection", "guardrail"):
        assert found[(slug, "api", "annotate")] == 1
        assert found[(slug, "widget", "annotate")] == 1
    assert found[("temperature", "reconcile", "search")] == 1
    assert found[("embedding", "pages", "view")] == 1
    assert found[("tokenizer", "pages", "search")] == 1
    assert TermUse.objects.filter(day=datetime.date.today()).count() == len(found)


def test_searches_that_find_nothing_are_kept_normalised(fixtures_db, client):
    api = APIClient()
    assert api.get("/api/v1/lookup/", {"q": "Quantum  Annealing"}).status_code == 404
    assert api.get("/api/v1/lookup/", {"q": "quantum annealing"}).status_code == 404
    assert api.get("/api/v1/autocomplete/", {"q": "zzqx"}).json()["results"] == []
    # Partial words on the way to a term are not searches of their own.
    assert api.get("/api/v1/autocomplete/", {"q": "guard"}).json()["results"]
    assert api.get("/api/v1/terms/", {"q": "photosynthesis"}).json()["count"] == 0
    batch = '{"q0": {"query": "Blockchain"}, "q1": {"query": "prompt"}}'
    reconcile(api, batch)
    client.get("/", {"q": "Photosynthesis"})

    assert searched() == {
        ("quantum annealing", "api", False): 2,
        ("zzqx", "api", False): 1,
        ("photosynthesis", "api", False): 1,
        ("blockchain", "reconcile", False): 1,
        ("prompt", "reconcile", True): 1,
        ("photosynthesis", "pages", False): 1,
    }


def test_editors_read_the_missed_searches_with_first_and_last_day(fixtures_db, editor):
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    SearchUse.objects.create(
        day=yesterday, query="quantum annealing", source="api", found=False, count=3
    )
    SearchUse.objects.create(
        day=yesterday, query="prompt", source="api", found=True, count=9
    )
    APIClient().get("/api/v1/lookup/", {"q": "Quantum annealing"})
    APIClient().get("/api/v1/lookup/", {"q": "federated learning"})
    usage.flush()

    response = editor.get("/api/v1/stats/searches/", {"missing": "1"})
    assert response.status_code == 200, response.content
    assert response.json()["results"] == [
        {
            "query": "quantum annealing",
            "count": 4,
            "first_seen": yesterday.isoformat(),
            "last_seen": datetime.date.today().isoformat(),
        },
        {
            "query": "federated learning",
            "count": 1,
            "first_seen": datetime.date.today().isoformat(),
            "last_seen": datetime.date.today().isoformat(),
        },
    ]
    everything = editor.get("/api/v1/stats/searches/").json()["results"]
    assert everything[0]["query"] == "prompt"
    today_only = editor.get("/api/v1/stats/searches/", {"days": "1", "missing": "1"})
    assert today_only.json()["results"][0]["count"] == 1
    assert (
        editor.get("/api/v1/stats/searches/", {"missing": "maybe"}).status_code == 400
    )
    assert editor.get("/api/v1/stats/searches/", {"days": "0"}).status_code == 400
    assert editor.get("/api/v1/stats/searches/", {"source": "fax"}).status_code == 400
    # Present but empty is as wrong as any other value outside the schema's.
    for name in ("source", "missing", "days"):
        assert editor.get(f"/api/v1/stats/searches/?{name}=").status_code == 400
    assert editor.get("/api/v1/stats/terms/?source=").status_code == 400


def test_the_figures_are_for_editors_only(fixtures_db):
    assert APIClient().get("/api/v1/stats/searches/").status_code in (401, 403)
    reader = api_client_for(make_user("reader"))
    assert reader.get("/api/v1/stats/searches/").status_code == 403
    assert reader.get("/api/v1/stats/terms/").status_code == 403


def test_top_terms_by_use_with_their_sources(fixtures_db, editor, client):
    for _ in range(3):
        APIClient().get("/api/v1/terms/prompt/")
    APIClient(HTTP_X_GLOSSARY_CLIENT="widget").post(
        "/api/v1/annotate/", {"text": "the prompt"}, format="json"
    )
    APIClient().get("/api/v1/terms/embedding/")
    usage.flush()
    rows = editor.get("/api/v1/stats/terms/").json()
    assert rows[0] == {
        "slug": "prompt",
        "term": "prompt",
        "count": 4,
        "sources": {"api": 3, "widget": 1},
    }
    assert rows[1]["slug"] == "embedding"
    assert [
        r["slug"] for r in editor.get("/api/v1/stats/terms/?source=widget").json()
    ] == ["prompt"]
    page = client.get("/dashboard/").content.decode()
    top = page.split('class="top-terms"')[1].split("</ol>")[0]
    assert top.index("prompt") < top.index("embedding")


def test_cached_reads_are_counted_at_no_extra_query(fixtures_db, redis_cache, settings):
    api = APIClient()
    url = "/api/v1/lookup/?q=guardrail"
    assert api.get(url).status_code == 200  # rendered and cached
    with CaptureQueriesContext(connection) as counted:
        assert api.get(url).status_code == 200
    settings.GLOSSARY_USAGE = False
    with CaptureQueriesContext(connection) as uncounted:
        assert api.get(url).status_code == 200
    settings.GLOSSARY_USAGE = True
    assert len(counted) == len(uncounted)
    # The hit while counting was on counted; the one with counting off was not.
    assert counts() == {("guardrail", "api", "lookup"): 2}
    assert searched() == {("guardrail", "api", True): 2}


def test_front_cache_hits_are_counted(fixtures_db, redis_cache):
    from glossary.wsgi import django_application  # noqa: F401  (Django set up)
    from terms.serving.stamp import glossary_stamp

    glossary_stamp()
    front = FrontCache(Counting(), max_bytes=4 * 1024 * 1024)
    for _ in range(3):
        assert call(front, "/api/v1/lookup/?q=nothing+like+it")[0] == 404
    status, headers, _ = call(
        front, "/api/v1/lookup/?q=prompt", X_GLOSSARY_CLIENT="widget"
    )
    again = call(front, "/api/v1/lookup/?q=prompt", X_GLOSSARY_CLIENT="widget")
    assert again[0] == status == 200
    # A revalidation is not a new use: the reader had the answer.
    revalidated = call(front, "/api/v1/lookup/?q=prompt", IF_NONE_MATCH=headers["ETag"])
    assert revalidated[0] == 304
    assert front.app.calls == 2  # every other answer came from the front cache
    assert searched() == {
        ("nothing like it", "api", False): 3,
        ("prompt", "widget", True): 2,
    }
    assert counts() == {("prompt", "widget", "lookup"): 2}


def test_nothing_personal_is_stored(fixtures_db):
    person = make_user("alice")
    api = api_client_for(person)
    api.get("/api/v1/lookup/", {"q": "guardrail"}, REMOTE_ADDR="203.0.113.77")
    APIClient().get("/api/v1/lookup/", {"q": "alice.smith@example.org"})
    APIClient().get("/api/v1/terms/", {"q": "call +44 20 7946 0958"})
    APIClient().get(
        "/api/v1/lookup/",
        {"q": "no such words"},
        REMOTE_ADDR="198.51.100.23",
        HTTP_COOKIE="sessionid=abc123secret",
        HTTP_USER_AGENT="Secret-Agent/1.0",
    )
    usage.flush()
    columns = {f.name for f in TermUse._meta.fields} | {
        f.name for f in SearchUse._meta.fields
    }
    assert columns == {"id", "day", "slug", "source", "kind", "count", "query", "found"}
    stored = " ".join(
        str(value)
        for model in (TermUse, SearchUse)
        for row in model.objects.values()
        for value in row.values()
    )
    assert "guardrail" in stored
    assert "no such words" in stored
    assert SearchUse.objects.count() == 2  # the other two queries were not kept
    for personal in ("203.0.113.77", "198.51.100.23", "alice", "abc123secret",
                     "Secret-Agent", "example.org", "7946"):  # fmt: skip
        assert personal not in stored


def test_counts_add_up_over_flushes_and_survive_a_refused_write(fixtures_db):
    APIClient().get("/api/v1/terms/prompt/")
    assert counts() == {("prompt", "api", "view"): 1}

    APIClient().get("/api/v1/terms/prompt/")

    def refuse(execute, sql, params, many, context):
        if "INSERT INTO" in sql and "terms_termuse" in sql:
            raise OperationalError("the database refused the write")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse), pytest.raises(OperationalError):
        usage.flush()
    assert TermUse.objects.get(slug="prompt").count == 1  # nothing half-written
    APIClient().get("/api/v1/terms/prompt/")
    assert counts() == {("prompt", "api", "view"): 3}


def test_no_thread_of_the_test_process_writes_counts():
    import threading

    import glossary.wsgi  # noqa: F401  (loading the application starts none here)

    assert not [t for t in threading.enumerate() if t.name == "usage-flush"]


def test_usage_off_counts_nothing(fixtures_db, settings):
    settings.GLOSSARY_USAGE = False
    APIClient().get("/api/v1/lookup/", {"q": "guardrail"})
    APIClient().get("/api/v1/lookup/", {"q": "missing words"})
    assert counts() == {}
    assert searched() == {}


def test_the_backlog_offers_to_request_what_was_searched_in_vain(fixtures_db, client):
    for words in ("quantum annealing", "guardrails", "kappa"):
        SearchUse.objects.create(
            day=datetime.date.today(), query=words, source="api", found=False, count=2
        )
    TermRequest.objects.create(term="kappa", term_key="kappa")
    anonymous = client.get("/backlog/").content.decode()
    assert "Searched but missing" not in anonymous

    client.force_login(make_user("ed", "editors"))
    page = client.get("/backlog/").content.decode()
    section = page.split('class="history backlog-missing"')[1].split("</table>")[0]
    assert "quantum annealing" in section
    assert "guardrails" not in section  # names a term (an alias) now
    assert "kappa" not in section  # already requested
    response = client.post(
        "/backlog/request/", {"term": "quantum annealing", "count": "4"}
    )
    assert response.status_code == 302
    created = TermRequest.objects.get(term="quantum annealing")
    assert "Searched 4 times" in created.context
    after = client.get("/backlog/").content.decode()
    assert (
        "quantum annealing"
        not in after.split("backlog-missing")[1].split("</table>")[0]
    )
    assert "quantum annealing" in after  # now among the open requests


def test_only_editors_request_from_the_backlog(fixtures_db, client):
    client.force_login(make_user("reader"))
    response = client.post("/backlog/request/", {"term": "quantum annealing"})
    assert response.status_code == 403
    assert not TermRequest.objects.exists()


def test_prune_keeps_the_recent_days(fixtures_db):
    from django.core.management import call_command

    old = datetime.date.today() - datetime.timedelta(days=50)
    TermUse.objects.create(day=old, slug="prompt", source="api", kind="view", count=1)
    TermUse.objects.create(
        day=datetime.date.today(), slug="prompt", source="api", kind="view", count=1
    )
    SearchUse.objects.create(day=old, query="x", source="api", found=False, count=1)
    call_command("usage", "prune", "--keep-days", "30")
    assert list(TermUse.objects.values_list("day", flat=True)) == [
        datetime.date.today()
    ]
    assert not SearchUse.objects.exists()


def test_front_cache_hits_outlive_a_write_and_eviction(
    fixtures_db, redis_cache, tmp_path
):
    from terms.serving.stamp import glossary_stamp
    from tests.helpers import rewrite_prompt

    glossary_stamp()
    front = FrontCache(Counting(), max_bytes=4 * 1024 * 1024)
    for _ in range(3):
        call(front, "/api/v1/lookup/?q=embedding")
    rewrite_prompt(tmp_path, "Rewritten text.")  # a new stamp: entries go
    call(front, "/api/v1/lookup/?q=embedding")
    assert front.app.calls == 2
    small = FrontCache(Counting(), max_bytes=500)  # room for one answer
    for path in ("/api/v1/lookup/?q=prompt", "/api/v1/lookup/?q=prompt",
                 "/api/v1/lookup/?q=guardrail", "/api/v1/lookup/?q=tokenizer"):  # fmt: skip
        call(small, path)
    assert small.app.calls == 3  # the second prompt was a hit, then evicted
    assert counts() == {
        ("embedding", "api", "lookup"): 4,
        ("prompt", "api", "lookup"): 2,
        ("guardrail", "api", "lookup"): 1,
        ("tokenizer", "api", "lookup"): 1,
    }
