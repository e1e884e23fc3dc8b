"""The API over real HTTP, against a live server: CORS, throttling, conditional
requests, health when the database is down."""

import httpx
import pytest

from tests.helpers import get_without_database, import_folders, restore_migration_data

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


def test_healthz_is_503_when_the_database_is_down():
    outcome = get_without_database("/healthz")
    assert outcome["status"] == 503
    assert outcome["body"]["status"] == "unavailable"
    assert outcome["body"]["error"]["code"] == "database_unavailable"
