"""The MCP server, driven by the SDK's own client over both transports: an
agent-style session finds "log probability" by its alias, annotates a
paragraph and proposes a draft, which the API then shows with its author."""

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from rest_framework.authtoken.models import Token

from tests.helpers import CORPUS, ROOT, api_client_for, import_folders, make_user, need

PARAGRAPH = (
    "We compare the logprobs of each answer, then add guardrails before the "
    "retrieval-augmented generation step."
)


def _run_async(coroutine):
    """Run a coroutine to its end on a thread of its own: the session-wide
    browser fixture may keep an event loop running on this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _body(result) -> object:
    """A tool result's value: structured content, else its JSON text."""
    assert not result.is_error, result.content
    if result.structured_content is not None:
        value = result.structured_content
        return value.get("result", value) if isinstance(value, dict) else value
    return json.loads(result.content[0].text)


async def _agent_session(client: Client) -> dict:
    """What an agent does: list tools, search, resolve, read, annotate, propose."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    found = _body(await client.call_tool("search_terms", {"query": "probability"}))
    looked = _body(await client.call_tool("lookup", {"name": "logprob"}))
    page = await client.call_tool("get_term", {"slug": "log-probability"})
    spans = _body(await client.call_tool("annotate_text", {"text": PARAGRAPH}))
    anonymous_or_not = await client.call_tool(
        "propose_term",
        {
            "document": {
                "term": "model collapse",
                "short_def": "Quality lost by training on generated data.",
            }
        },
    )
    refused = await client.call_tool(
        "propose_term", {"document": {"term": "x", "status": "approved"}}
    )
    resource = await client.read_resource("glossary://terms/log-probability")
    export = await client.read_resource("glossary://export.yaml")
    completion = await client.complete(
        ref={"type": "ref/resource", "uri": "glossary://terms/{slug}"},
        argument={"name": "slug", "value": "log"},
    )
    return {
        "tools": tools,
        "found": found,
        "looked": looked,
        "page": page,
        "spans": spans,
        "proposed": anonymous_or_not,
        "refused": refused,
        "resource": resource,
        "export": export,
        "completion": completion,
    }


def _check_reads(session: dict) -> None:
    tools = session["tools"]
    read = {"search_terms", "get_term", "lookup", "annotate_text"}
    assert read | {"propose_term", "propose_change"} == set(tools)
    assert all(tools[name].annotations.read_only_hint for name in read)
    assert not tools["propose_term"].annotations.read_only_hint
    assert session["found"][0]["slug"] == "log-probability"
    [match] = session["looked"]["matches"]
    assert match["slug"] == "log-probability"
    assert match["matched_on"] == "alias"
    assert "# log probability" in session["page"].content[0].text
    spans = session["spans"]["spans"]
    assert [s["slug"] for s in spans][:1] == ["log-probability"]
    assert {"guardrails", "retrieval-augmented-generation"} <= {
        s["slug"] for s in spans
    }
    assert session["refused"].is_error
    assert "status" in session["refused"].content[0].text
    assert "# log probability" in session["resource"].contents[0].text
    export = session["export"].contents[0].text
    # Every term the caller may see (the stdio user also sees the new draft).
    assert export.count("---\n") >= 112
    assert "\nterm: log probability\n" in export
    assert "log-probability" in session["completion"].completion.values


# --- Streamable HTTP at /mcp, served by the WSGI application --------------------


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving_the_application():
    """The WSGI application (the MCP mount included) on a real HTTP server on
    loopback, in threads of this process; its base URL."""
    from glossary.wsgi import application

    server = make_server(
        "127.0.0.1", 0, application, server_class=_ThreadingServer, handler_class=_Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
def http_server(transactional_db, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    import_folders(need(CORPUS / "ai-glossary", "reference corpus"))
    with serving_the_application() as base:
        yield f"{base}/mcp"


def _http_client(url: str, token: str | None = None) -> Client:
    headers = {"Authorization": f"Token {token}"} if token else {}
    return Client(
        streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers))
    )


async def _run(url: str, token: str | None) -> dict:
    async with _http_client(url, token) as client:
        return await _agent_session(client)


def test_an_agent_session_over_http_proposes_a_draft_as_the_token_user(http_server):
    editor = make_user("edna", "editors")
    token = Token.objects.create(user=editor)
    session = _run_async(_run(http_server, token.key))
    _check_reads(session)
    assert not session["proposed"].is_error, session["proposed"].content
    body = api_client_for(editor).get("/api/v1/terms/model-collapse/").json()
    assert body["status"] == "draft"
    history = api_client_for(editor).get("/api/v1/terms/model-collapse/history/").json()
    assert json.dumps(history).count("edna") >= 1


def test_without_a_token_reads_work_and_writes_are_refused(http_server):
    session = _run_async(_run(http_server, None))
    _check_reads(session)
    assert session["proposed"].is_error
    assert "authorization" in session["proposed"].content[0].text


def test_a_proposed_change_to_an_approved_term_waits_for_review(http_server):
    editor = make_user("edna", "editors")
    token = Token.objects.create(user=editor)

    async def change():
        async with _http_client(http_server, token.key) as client:
            bad = await client.call_tool(
                "propose_change",
                {"slug": "log-probability", "changes": {"short_def": 3}},
            )
            good = await client.call_tool(
                "propose_change",
                {"slug": "log-probability", "changes": {"short_def": "A new wording."}},
            )
            return bad, good

    bad, good = _run_async(change())
    assert bad.is_error
    assert "short_def" in bad.content[0].text
    assert _body(good)["outcome"] == "proposed"
    api = api_client_for(editor)
    assert (
        api.get("/api/v1/terms/log-probability/").json()["short_def"]
        != "A new wording."
    )
    pending = api.get("/api/v1/terms/log-probability/pending/").json()
    assert pending["document"]["short_def"] == "A new wording."


# --- stdio: manage.py mcp, as a desktop agent starts it -----------------------------


@pytest.mark.slow
def test_an_agent_session_over_stdio(tmp_path):
    corpus = need(CORPUS / "ai-glossary", "reference corpus")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'mcp.db'}",
        "GLOSSARY_CACHE_URL": "none",
    }

    def manage(*args):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
            capture_output=True,
        )  # fmt: skip

    manage("migrate")
    manage("import_terms", str(corpus))
    manage("grant", "edna", "editors", "--create")
    parameters = StdioServerParameters(
        command=sys.executable,
        args=["manage.py", "mcp", "--user", "edna"],
        cwd=str(ROOT),
        env=env,
    )

    async def run():
        async with Client(parameters) as client:
            return await _agent_session(client)

    session = _run_async(run())
    _check_reads(session)
    assert not session["proposed"].is_error, session["proposed"].content
    shown = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from terms.models import TermRevision as R; "
         "r = R.objects.get(term_slug='model-collapse'); "
         "print(r.term.status, r.author.username)"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert shown.strip().splitlines()[-1].split() == ["draft", "edna"]


# --- what clients rely on: versions, schemas, resources per caller ----------------


def test_the_server_names_its_version_and_every_tool_its_output(http_server):
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

    async def inspect():
        async with _http_client(http_server) as client:
            info = client.server_info
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            looked = await client.call_tool("lookup", {"name": "logprob"})
            spans = await client.call_tool("annotate_text", {"text": PARAGRAPH})
            return info, tools, looked, spans

    info, tools, looked, spans = _run_async(inspect())
    assert info.version == version
    for name in ("lookup", "annotate_text", "propose_term", "propose_change"):
        schema = tools[name].output_schema
        assert schema is not None, name
        assert schema["type"] == "object", name
    assert set(tools["lookup"].output_schema["properties"]) >= {"query", "matches"}
    assert looked.structured_content["matches"][0]["slug"] == "log-probability"
    assert spans.structured_content["spans"][0]["slug"] == "log-probability"


def test_resources_show_what_the_callers_token_may_see(http_server):
    from mcp.shared.exceptions import MCPError

    from terms.models import Term

    editor = make_user("edna", "editors")
    token = Token.objects.create(user=editor)
    Term.objects.filter(slug="log-probability").update(status="draft")

    async def read(key):
        async with _http_client(http_server, key) as client:
            try:
                page = await client.read_resource("glossary://terms/log-probability")
            except MCPError as error:
                return error.error.code, error.error.message
            export = await client.read_resource("glossary://export.yaml")
            return page.contents[0].text, export.contents[0].text

    code, message = _run_async(read(None))
    assert code == -32002
    assert "log-probability" in message
    page, export = _run_async(read(token.key))
    assert "# log probability" in page
    assert "\nterm: log probability\n" in export
    missing = _run_async(read_missing(http_server))
    assert missing == -32002


async def read_missing(url):
    from mcp.shared.exceptions import MCPError

    async with _http_client(url) as client:
        try:
            await client.read_resource("glossary://terms/no-such-term")
        except MCPError as error:
            return error.error.code
    return None


def test_the_read_tools_answer_as_of_a_release(http_server):
    """``release`` on every read tool: the glossary as it stood, after the
    working glossary lost a term; an unknown release is an error naming it."""
    from terms.models import Term
    from terms.workflow.releases import release_create

    approver = make_user("aurora", "approvers")
    release_create(name="2026.12", actor=approver, force=True)
    Term.objects.filter(slug="log-probability").delete()
    then = {"release": "2026.12"}

    async def ask():
        async with _http_client(http_server) as client:
            call = client.call_tool
            return {
                "found": _body(
                    await call("search_terms", {"query": "logprob", **then})
                ),
                "now": _body(await call("search_terms", {"query": "logprob"})),
                "looked": _body(await call("lookup", {"name": "logprob", **then})),
                "page": await call("get_term", {"slug": "log-probability", **then}),
                "gone": await call("get_term", {"slug": "log-probability"}),
                "spans": _body(
                    await call("annotate_text", {"text": PARAGRAPH, **then})
                ),
                "spans_now": _body(await call("annotate_text", {"text": PARAGRAPH})),
                "unknown": await call("lookup", {"name": "x", "release": "1999"}),
            }

    answers = _run_async(ask())
    assert answers["found"][0]["slug"] == "log-probability"
    assert "log-probability" not in [t["slug"] for t in answers["now"]]
    assert answers["looked"]["matches"][0]["slug"] == "log-probability"
    assert "# log probability" in answers["page"].content[0].text
    assert answers["gone"].is_error
    assert answers["spans"]["spans"][0]["slug"] == "log-probability"
    assert "log-probability" not in {s["slug"] for s in answers["spans_now"]["spans"]}
    assert answers["unknown"].is_error
    assert "1999" in answers["unknown"].content[0].text


def test_annotate_text_takes_html_and_markdown(http_server):
    page = '<p>We add <a href="/guardrails">guardrails</a> and <em>guardrails</em>.</p>'
    notes = "We add `guardrails` and guardrails."

    async def ask():
        async with _http_client(http_server) as client:
            call = client.call_tool
            return (
                _body(await call("annotate_text", {"text": page, "format": "html"})),
                _body(
                    await call("annotate_text", {"text": notes, "format": "markdown"})
                ),
                _body(await call("annotate_text", {"text": notes})),
            )

    html_spans, markdown_spans, text_spans = _run_async(ask())
    [in_html] = [s for s in html_spans["spans"] if s["slug"] == "guardrails"]
    assert in_html["start"] == page.index("<em>") + len("<em>")
    assert page[in_html["start"] : in_html["end"]] == "guardrails"
    [in_markdown] = [s for s in markdown_spans["spans"] if s["slug"] == "guardrails"]
    assert in_markdown["start"] == notes.rindex("guardrails")
    assert len([s for s in text_spans["spans"] if s["slug"] == "guardrails"]) == 2


def test_tool_reads_are_counted_as_mcp(http_server):
    from terms.models import SearchUse, TermUse
    from terms.serving import usage

    async def ask():
        async with _http_client(http_server) as client:
            await client.call_tool("lookup", {"name": "guardrails"})
            await client.call_tool("search_terms", {"query": "zzqx quantum"})
            await client.call_tool("get_term", {"slug": "guardrails"})

    _run_async(ask())
    usage.flush()
    kinds = set(
        TermUse.objects.filter(source="mcp", slug="guardrails").values_list(
            "kind", flat=True
        )
    )
    assert kinds == {"lookup", "view"}
    missed = SearchUse.objects.get(source="mcp", found=False)
    assert (missed.query, missed.count) == ("zzqx quantum", 1)
