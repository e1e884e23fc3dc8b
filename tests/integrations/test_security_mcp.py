"""Issue 24, finding 1: ``/mcp`` cannot hold a worker, and is throttled like
the anonymous API. On a real HTTP server in a module of its own: a dataset
kept open by another module's tests would hold SQLite's table locks."""

import httpx
import pytest
from rest_framework.authtoken.models import Token

from tests.helpers import make_user
from tests.integrations.test_mcp import serving_the_application

pytestmark = pytest.mark.django_db


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
def live(transactional_db, settings):
    """The WSGI application (MCP mount included) on a real HTTP server."""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    with serving_the_application() as base:
        yield base


def test_a_get_on_mcp_is_refused_at_once_instead_of_holding_a_worker(live):
    # Before: an event stream that stayed open until the client left. A read
    # timeout here would mean the worker is held again.
    response = httpx.get(f"{live}/mcp", headers=MCP_HEADERS, timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["message"].startswith("Only POST")
    deleted = httpx.delete(f"{live}/mcp", timeout=10)
    assert deleted.status_code == 405


def test_mcp_is_throttled_like_the_anonymous_api_but_not_for_token_holders(
    live, settings
):
    settings.GLOSSARY_ANON_THROTTLE_RATE = "3/minute"
    answers = [
        httpx.post(f"{live}/mcp", json=INITIALIZE, headers=MCP_HEADERS, timeout=10)
        for _ in range(4)
    ]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert answers[3].status_code == 429
    assert int(answers[3].headers["Retry-After"]) > 0
    assert "Too many requests" in answers[3].json()["error"]["message"]
    token = Token.objects.create(user=make_user("tina", "editors"))
    signed = httpx.post(
        f"{live}/mcp",
        json=INITIALIZE,
        headers={**MCP_HEADERS, "Authorization": f"Token {token.key}"},
        timeout=10,
    )
    assert signed.status_code == 200, signed.text
    # A made-up token counts as anonymous.
    forged = httpx.post(
        f"{live}/mcp",
        json=INITIALIZE,
        headers={**MCP_HEADERS, "Authorization": "Token nothing"},
        timeout=10,
    )
    assert forged.status_code == 429
