"""The glossary as a Model Context Protocol server, for LLM agents.

Built with the official Python SDK (``mcp``, its ``MCPServer``). The same
server runs over stdio (``manage.py mcp``, for desktop agents) and over
Streamable HTTP at ``/mcp`` (``glossary.wsgi`` mounts it; stateless, JSON
responses, so it runs in the same WSGI workers as the API).

Read tools (annotated read-only): ``search_terms``, ``get_term``, ``lookup``,
``annotate_text``. Governed write tools: ``propose_term`` (a new draft) and
``propose_change`` (an edit: at once on a draft, a pending change on a
reviewed or approved term), made as the caller's user through the workflow,
with its permissions; nothing here reviews, approves or deprecates. Over HTTP
the caller is the owner of the API token in ``Authorization: Token <key>``
(or ``Bearer <key>``); over stdio, the user given to ``manage.py mcp --user``.
Without one, reads see approved terms and writes are refused. Refusals come
back as tool results with ``isError`` whose text names the field.

Resources: ``glossary://terms/{slug}`` (the term's Markdown page, its slug
completed from autocomplete) and ``glossary://export.yaml`` (every visible
term document, one YAML document each).
"""

import contextlib
from contextvars import ContextVar
from typing import Any, Literal, NotRequired

from asgiref.sync import sync_to_async
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    Completion,
    ResourceTemplateReference,
    ToolAnnotations,
)

# Pydantic (which the SDK derives output schemas with) reads typing_extensions'
# TypedDict on Python before 3.12, not typing's.
from typing_extensions import TypedDict

from terms.integrations import mcp_work

__all__ = ["build_server"]

READ = ToolAnnotations(
    read_only_hint=True,
    destructive_hint=False,
    idempotent_hint=True,
    open_world_hint=False,
)
WRITE = ToolAnnotations(
    read_only_hint=False,
    destructive_hint=False,
    idempotent_hint=False,
    open_world_hint=False,
)
MAX_TEXT = 100_000


async def in_django(work, release: str | None = None):
    """Run ``work`` (ORM calls) in a worker thread, as Django requires outside
    an event loop, and close the thread's connection after it. ``release``:
    ``work`` reads the glossary as it stood in that release."""

    def run():
        from django.db import connections

        try:
            with _as_of(release):
                return work()
        finally:
            # The thread is a pool's, not a request's: leave no connection open.
            connections.close_all()

    return await sync_to_async(run, thread_sensitive=False)()


@contextlib.contextmanager
def _as_of(name: str | None):
    """Reads inside the block answer as of release ``name`` (None: now)."""
    if name is None:
        yield
        return
    from terms.reads import releases
    from terms.serving import snapshots

    try:
        release = releases.find(name)
    except releases.UnknownRelease as exc:
        raise ToolError(f"release: {exc}") from None
    with snapshots.as_of(release):
        yield release


def _user_from_headers(headers) -> Any:
    """The owner of the API token in the request's Authorization header."""
    return token_user((headers or {}).get("authorization", ""))


def token_user(authorization: str) -> Any:
    """The active owner of the API token in an ``Authorization`` value
    (``Token <key>`` or ``Bearer <key>``); None without one; ``ToolError``
    for a token that is not valid."""
    from rest_framework.authtoken.models import Token

    scheme, _, key = authorization.partition(" ")
    if scheme.lower() not in ("token", "bearer") or not key.strip():
        return None
    token = Token.objects.select_related("user").filter(key=key.strip()).first()
    if token is None or not token.user.is_active:
        raise ToolError("authorization: the token is not valid")
    return token.user


#: The headers of the HTTP request being answered (set by
#: ``terms.integrations.mcp_http``),
#: for what the SDK hands no context to: static resources.
CALLER_HEADERS: ContextVar[dict | None] = ContextVar("caller_headers", default=None)
#: JSON-RPC's code for a resource that does not exist (MCP 2025-06-18).
RESOURCE_NOT_FOUND = -32002


def project_version() -> str:
    """The project's version, from ``pyproject.toml``."""
    import tomllib

    from django.conf import settings

    with open(settings.BASE_DIR / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["version"]


class Match(TypedDict):
    """One term a name resolves to."""

    slug: str
    term: str
    short_def: str
    status: str
    matched_on: str
    alias: str | None
    language: str | None


class Suggestion(TypedDict):
    """A close name, when nothing matched."""

    slug: str
    term: str


class LookupResult(TypedDict):
    """What ``lookup`` answers."""

    query: str
    matches: list[Match]
    ambiguous: bool
    suggestions: NotRequired[list[Suggestion]]


class AnnotatedSpan(TypedDict):
    """One term found in a text."""

    start: int
    end: int
    text: str
    slug: str
    term: str
    short_def: str
    match: str
    ambiguous: list[str]


class AnnotateResult(TypedDict):
    """What ``annotate_text`` answers."""

    spans: list[AnnotatedSpan]


class ProposeResult(TypedDict):
    """What a proposal did: ``created``, ``updated`` (a draft) or ``proposed``
    (a pending change waiting for review)."""

    slug: str
    status: str
    outcome: str


def build_server(*, user=None) -> MCPServer:
    """The server; ``user`` acts for every call (stdio), else each HTTP
    request's token owner."""
    server = MCPServer(
        "Glossary",
        version=project_version(),
        instructions=(
            "A governed glossary of AI terms. Look terms up before defining them; "
            "propose new terms or changes as drafts for human editors to review."
        ),
    )

    def caller(ctx: Context | None):
        if user is not None:
            return user
        try:
            headers = ctx.headers if ctx is not None else None
        except ValueError:
            headers = None
        return _user_from_headers(headers)

    _add_read_tools(server, caller)
    _add_write_tools(server, caller)
    _add_resources(server, user)
    return server


def _add_read_tools(server: MCPServer, caller) -> None:
    @server.tool(annotations=READ)
    async def search_terms(
        query: str,
        category: str | None = None,
        role: str | None = None,
        status: list[str] | None = None,
        lang: str | None = None,
        limit: int = 10,
        release: str | None = None,
        ctx: Context = None,
    ) -> list[dict]:
        """Search the glossary: names, aliases, labels, definitions, categories.
        Optional filters: category (name), role (slug), status (default approved),
        lang (BCP 47: names and definitions shown in that language if known),
        release (a release name or "latest": search the glossary as it stood)."""
        return await in_django(
            lambda: mcp_work.search(
                query,
                category,
                role,
                status,
                lang,
                limit,
                caller(ctx),
                mcp_work.statuses_for,
            ),
            release,
        )

    @server.tool(annotations=READ)
    async def get_term(
        slug: str,
        format: Literal["markdown", "json"] = "markdown",
        release: str | None = None,
        ctx: Context = None,
    ) -> str | dict:
        """One term: its Markdown page, or its document as JSON (with status).
        release: a release name or "latest" for the term as it stood in it."""
        return await in_django(
            lambda: mcp_work.get_term(
                slug, format, mcp_work.visible(caller(ctx)), release
            ),
            release,
        )

    @server.tool(annotations=READ)
    async def lookup(
        name: str, release: str | None = None, ctx: Context = None
    ) -> LookupResult:
        """Resolve any name, slug, alias or label (any language) to terms; several
        matches mean the name is ambiguous; none gives close suggestions.
        release: a release name or "latest" to resolve as of that release."""
        return await in_django(
            lambda: mcp_work.lookup(name, mcp_work.visible(caller(ctx))), release
        )

    @server.tool(annotations=READ)
    async def annotate_text(
        text: str,
        format: Literal["text", "html", "markdown"] = "text",
        release: str | None = None,
        ctx: Context = None,
    ) -> AnnotateResult:
        """Find every approved glossary term in a text: spans with offsets, term
        slugs and short definitions. format: html or markdown finds terms in
        the prose only (not in code, links, attributes); offsets index the
        text as sent. release: a release name or "latest" to use the glossary
        as it stood in that release."""
        if len(text) > MAX_TEXT:
            raise ToolError(f"text: at most {MAX_TEXT:,} characters")
        return await in_django(
            lambda: mcp_work.annotate(text, release, format), release
        )


def _add_write_tools(server: MCPServer, caller) -> None:
    @server.tool(annotations=WRITE)
    async def propose_term(document: dict, ctx: Context = None) -> ProposeResult:
        """Propose a new term as a draft. ``document`` is a term document as in
        the API (term, short_def, ...; a draft needs only ``term``)."""
        return await in_django(lambda: mcp_work.propose_term(document, caller(ctx)))

    @server.tool(annotations=WRITE)
    async def propose_change(
        slug: str, changes: dict, ctx: Context = None
    ) -> ProposeResult:
        """Propose changes to a term: the keys of the term document to replace.
        A draft changes at once; a reviewed or approved term gets a pending change
        for an editor to review."""
        return await in_django(
            lambda: mcp_work.propose_change(slug, changes, caller(ctx))
        )


def _add_resources(server: MCPServer, user) -> None:
    def reader():
        """Who reads: the stdio user, else the HTTP request's token owner (a
        resource shows what that caller's tools would)."""
        if user is not None:
            return user
        try:
            return _user_from_headers(CALLER_HEADERS.get())
        except ToolError as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None

    @server.resource("glossary://terms/{slug}", mime_type="text/markdown")
    async def term_page(slug: str) -> str:
        """A term's page in Markdown."""

        def page():
            statuses = mcp_work.visible(reader())
            try:
                return mcp_work.get_term(slug, "markdown", statuses)
            except ToolError:
                raise MCPError(
                    code=RESOURCE_NOT_FOUND,
                    message=f"Resource not found: no term {slug!r} is visible here",
                    data={"uri": f"glossary://terms/{slug}"},
                ) from None

        return await in_django(page)

    @server.resource("glossary://export.yaml", mime_type="application/yaml")
    async def export_yaml() -> str:
        """Every visible term document, one YAML document each."""
        return await in_django(lambda: mcp_work.export_yaml(mcp_work.visible(reader())))

    @server.completion()
    async def complete(ref, argument, context):
        if isinstance(ref, ResourceTemplateReference) and argument.name == "slug":
            slugs = await in_django(
                lambda: mcp_work.complete_slugs(
                    argument.value, mcp_work.visible(reader())
                )
            )
            return Completion(values=slugs, has_more=False)
        return None
