"""Real clients against the production server (`make serve`: granian): the
official MCP SDK's client over Streamable HTTP, as agents connect to it, and
rdflib reading a term's URL. Under
granian every answer once came back as 200 without a Content-Type, and every
client stopped. The server runs on a SQLite file of its own (made here with
migrate and the sample glossary), so this runs on either database."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from rdflib import Graph

from tests.helpers import sample_site_env, start_make_serve
from tests.integrations.test_mcp import _body, _run_async
from tests.integrations.test_security_mcp import INITIALIZE

pytestmark = pytest.mark.slow  # a production server of its own


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mcp-serve")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = sample_site_env(folder)
    server = start_make_serve(port, env, "WORKER=0")
    base = f"http://127.0.0.1:{port}"
    try:
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def test_answers_carry_their_status_and_content_type(served):
    initialize = INITIALIZE
    accept = {"Accept": "application/json, text/event-stream"}
    answer = httpx.post(f"{served}/mcp", json=initialize, headers=accept, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["result"]["serverInfo"]["name"] == "Glossary"
    refused = httpx.post(
        f"{served}/mcp", json=initialize, headers={"Accept": "text/html"}, timeout=30
    )
    assert refused.status_code == 406
    assert refused.headers["Content-Type"].startswith("application/json")


def test_the_official_client_works_through_make_serve(served):
    async def session():
        async with Client(streamable_http_client(f"{served}/mcp")) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            found = _body(await client.call_tool("search_terms", {"query": "prompt"}))
            spans = _body(
                await client.call_tool(
                    "annotate_text", {"text": "Every prompt fills the context window."}
                )
            )
            page = await client.read_resource("glossary://terms/prompt")
            return tools, found, spans, page

    tools, found, spans, page = _run_async(session())
    assert {"search_terms", "get_term", "lookup", "annotate_text"} <= tools
    assert found[0]["slug"] == "prompt"
    assert [s["slug"] for s in spans["spans"]] == ["prompt", "context-window"]
    assert "# prompt" in page.contents[0].text


def test_rdflib_parsing_a_term_url_gets_its_triples(served):
    """rdflib asks for JSON-LD as ``application/ld+json, application/json;q=0.9``;
    before, quality values were ignored and it got plain JSON (0 triples)."""
    graph = Graph().parse(f"{served}/api/v1/terms/prompt/", format="json-ld")
    assert len(graph) > 10
    assert "prompt" in {str(o) for o in graph.objects()}


def test_a_generated_client_works(served, tmp_path):
    """openapi-python-client, as API users run it, on the schema the server
    serves: it generates (it once stopped at a duplicate enum key made from the
    data), and the generated code makes real calls."""
    schema = tmp_path / "schema.json"
    schema.write_bytes(
        httpx.get(
            f"{served}/api/schema/", params={"format": "json"}, timeout=30
        ).content
    )
    tool = Path(sys.executable).parent / "openapi-python-client"
    env = {**os.environ, "PATH": f"{tool.parent}{os.pathsep}{os.environ['PATH']}"}
    generated = subprocess.run(
        [str(tool), "generate", "--path", str(schema), "--output-path",
         str(tmp_path / "client")],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stdout + generated.stderr
    sys.path.insert(0, str(tmp_path / "client"))
    try:
        from glossary_api_client import AuthenticatedClient
        from glossary_api_client.api.v1 import (
            v1_lookup_retrieve,
            v1_terms_list,
            v1_terms_retrieve,
        )

        # Anonymous reads: no token is sent that the API would take.
        client = AuthenticatedClient(base_url=served, token="", prefix="")
        page = v1_terms_list.sync(client=client, q="prompt", page_size=5)
        assert page.results[0].slug == "prompt"
        looked = v1_lookup_retrieve.sync(client=client, q="prompts")
        assert looked.matches[0].slug == "prompt"
        term = v1_terms_retrieve.sync(client=client, slug="prompt")
        assert term.term == "prompt"
        assert term.status.value == "approved"
    finally:
        sys.path.remove(str(tmp_path / "client"))
        for name in [m for m in sys.modules if m.startswith("glossary_api_client")]:
            del sys.modules[name]
