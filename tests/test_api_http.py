"""The API over real HTTP and under load-related rules: query counts, caching,
conditional requests, CORS, throttling, health."""

import json
import os
import subprocess
import sys

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import ROOT, import_folders, restore_migration_data

pytestmark = pytest.mark.django_db


def queries_for(api, url: str) -> int:
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code in (200, 404), response.content
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("small", "large", "bound"),
    [
        ("/api/v1/terms/?page_size=2", "/api/v1/terms/?page_size=100", 8),
        (
            "/api/v1/terms/?q=model&page_size=2",
            "/api/v1/terms/?q=model&page_size=100",
            8,
        ),
        (
            "/api/v1/terms/?category=LLM Core&role=engineering&page_size=2",
            "/api/v1/terms/?category=LLM Core&role=engineering&page_size=100",
            10,
        ),
        ("/api/v1/terms/log-probability/", "/api/v1/terms/risk-register/", 11),
        ("/api/v1/lookup/?q=logprob", "/api/v1/lookup/?q=supervised fine-tuning", 3),
        ("/api/v1/lookup/?q=temperatur", "/api/v1/lookup/?q=halucination", 6),
        ("/api/v1/autocomplete/?q=a&limit=2", "/api/v1/autocomplete/?q=a&limit=50", 3),
        ("/api/v1/categories/", "/api/v1/roles/", 2),
        ("/api/v1/tags/", "/api/v1/roles/", 2),
        ("/api/v1/wanted/?page_size=2", "/api/v1/wanted/?page_size=100", 4),
        ("/api/v1/stats/", "/api/v1/stats/?x=1", 8),
        ("/api/v1/export/", "/api/v1/export/?format=yaml", 12),
    ],
)
def test_query_count_does_not_grow_with_result_size(
    corpus_db, api, small, large, bound
):
    few, many = queries_for(api, small), queries_for(api, large)
    assert few == many
    assert many <= bound


def test_fixed_query_count_for_writers_too(fixtures_db, django_user_model):
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    viewer = django_user_model.objects.create_user("viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_term"))

    def client():
        # A fresh user object per request, as a real request loads one.
        fresh = APIClient()
        fresh.force_authenticate(django_user_model.objects.get(pk=viewer.pk))
        return fresh

    few = queries_for(client(), "/api/v1/terms/?page_size=2")
    assert few == queries_for(client(), "/api/v1/terms/?page_size=100")
    assert few <= 10


def test_cached_read_costs_one_query(corpus_db, api, django_assert_num_queries):
    first = api.get("/api/v1/terms/?q=token")
    assert first.status_code == 200
    with django_assert_num_queries(1):
        again = api.get("/api/v1/terms/?q=token")
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    detail = api.get("/api/v1/terms/log-probability/")
    with django_assert_num_queries(1):
        assert api.get("/api/v1/terms/log-probability/").content == detail.content


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


# --- real HTTP ----------------------------------------------------------------------


@pytest.fixture
def served(transactional_db, live_server, corpus):
    restore_migration_data()
    import_folders(corpus / "ai-glossary", corpus / "ai-glossary-site")
    return live_server.url


def test_cors_headers_let_other_origins_read(served):
    origin = "https://docs.example.org"
    response = httpx.get(
        f"{served}/api/v1/lookup/?q=logprob", headers={"Origin": origin}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]
    preflight = httpx.options(
        f"{served}/api/v1/terms/",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert (
        "access-control-allow-origin" not in httpx.get(f"{served}/admin/login/").headers
    )


def test_anonymous_throttle_answers_429_with_retry_after(served, settings):
    settings.GLOSSARY_ANON_THROTTLE_RATE = "3/minute"
    with httpx.Client(base_url=served) as client:
        codes = [client.get("/api/v1/stats/").status_code for _ in range(3)]
        limited = client.get("/api/v1/terms/")
    assert codes == [200, 200, 200]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.json()["error"]["status"] == 429


def test_unthrottled_when_rate_is_empty(served, settings):
    settings.GLOSSARY_ANON_THROTTLE_RATE = ""
    with httpx.Client(base_url=served) as client:
        assert {client.get("/api/v1/stats/").status_code for _ in range(10)} == {200}


def test_detail_over_http_with_conditional_get(served):
    with httpx.Client(base_url=served) as client:
        first = client.get("/api/v1/terms/function-calling/")
        assert first.status_code == 200
        assert first.json()["term"] == "function calling"
        again = client.get(
            "/api/v1/terms/function-calling/",
            headers={"If-None-Match": first.headers["ETag"]},
        )
        assert again.status_code == 304


def test_healthz_is_503_when_the_database_is_down(tmp_path):
    script = (
        "import django, json;"
        "django.setup();"
        "from django.test import Client;"
        "r = Client(HTTP_HOST='localhost').get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "glossary.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none?connect_timeout=2",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 503
    assert outcome["body"]["status"] == "unavailable"
    assert outcome["body"]["error"]["code"] == "database_unavailable"
