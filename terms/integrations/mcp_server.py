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


def visible(actor) -> list[str]:
    """The statuses ``actor`` (None: anonymous) may see."""
    from terms.reads.selectors import visible_statuses

    return visible_statuses(actor)


def statuses_for(actor, wanted: list[str] | None) -> list[str]:
    """The statuses a search asked for (default approved), all of them visible."""
    seen = visible(actor)
    if not wanted:
        return ["approved"]
    hidden = [s for s in wanted if s not in seen]
    if hidden:
        raise ToolError(f"status: {', '.join(hidden)} is not visible to this caller")
    return wanted


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
            lambda: _search(
                query, category, role, status, lang, limit, caller(ctx), statuses_for
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
            lambda: _get_term(slug, format, visible(caller(ctx)), release), release
        )

    @server.tool(annotations=READ)
    async def lookup(
        name: str, release: str | None = None, ctx: Context = None
    ) -> LookupResult:
        """Resolve any name, slug, alias or label (any language) to terms; several
        matches mean the name is ambiguous; none gives close suggestions.
        release: a release name or "latest" to resolve as of that release."""
        return await in_django(lambda: _lookup(name, visible(caller(ctx))), release)

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
        return await in_django(lambda: _annotate(text, release, format), release)


def _add_write_tools(server: MCPServer, caller) -> None:
    @server.tool(annotations=WRITE)
    async def propose_term(document: dict, ctx: Context = None) -> ProposeResult:
        """Propose a new term as a draft. ``document`` is a term document as in
        the API (term, short_def, ...; a draft needs only ``term``)."""
        return await in_django(lambda: _propose_term(document, caller(ctx)))

    @server.tool(annotations=WRITE)
    async def propose_change(
        slug: str, changes: dict, ctx: Context = None
    ) -> ProposeResult:
        """Propose changes to a term: the keys of the term document to replace.
        A draft changes at once; a reviewed or approved term gets a pending change
        for an editor to review."""
        return await in_django(lambda: _propose_change(slug, changes, caller(ctx)))


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
            statuses = visible(reader())
            try:
                return _get_term(slug, "markdown", statuses)
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
        return await in_django(lambda: _export_yaml(visible(reader())))

    @server.completion()
    async def complete(ref, argument, context):
        if isinstance(ref, ResourceTemplateReference) and argument.name == "slug":
            slugs = await in_django(
                lambda: _complete_slugs(argument.value, visible(reader()))
            )
            return Completion(values=slugs, has_more=False)
        return None


# --- the work, in Django's synchronous world -------------------------------------


def _count(kind: str, slugs, words: str | None = None) -> None:
    """Count a tool's read as the API counts its own (``terms.serving.usage``)."""
    from terms.models import UsageSource
    from terms.serving import usage

    use = (
        usage.terms_used(kind, slugs)
        if words is None
        else usage.search(kind, words, slugs)
    )
    usage.record(UsageSource.MCP.value, [use])


def _search(query, category, role, status, lang, limit, actor, statuses_for):
    from django.utils.text import slugify

    from terms.models import Term
    from terms.reads.languages import LanguageError, localize, preference
    from terms.text import search

    statuses = statuses_for(actor, status)
    try:
        wanted = preference(lang) if lang else ()
    except LanguageError as exc:
        raise ToolError(f"lang: {exc}") from None
    terms = Term.objects.filter(status__in=statuses)
    if category:
        terms = terms.filter(categories__slug=slugify(category))
    if role:
        terms = terms.filter(roles__slug=role)
    ids = search.ranked_ids(terms.order_by(), query)[: max(1, min(limit, 50))]
    found = {
        t.pk: t for t in Term.objects.filter(pk__in=ids).prefetch_related("labels")
    }
    results = []
    for pk in ids:
        term = found[pk]
        shown = localize(term, wanted)
        results.append(
            {
                "slug": term.slug,
                "term": shown.name,
                "language": shown.name_language,
                "short_def": shown.short_def,
                "status": term.status,
            }
        )
    _count("search", [r["slug"] for r in results[:1]], query)
    return results


def _term(slug: str, statuses):
    from terms.models import Term

    term = Term.objects.filter(slug=slug, status__in=statuses).first()
    if term is None:
        raise ToolError(f"slug: no term {slug!r} is visible here")
    return term


def _get_term(slug, fmt, statuses, release=None):
    from terms.documents.mapping import TERM_DOCUMENT_PREFETCH, document_from_term
    from terms.models import Term
    from terms.web.rendering import render_markdown, term_page, with_suggestions

    term = _term(slug, statuses)
    term = Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH).get(pk=term.pk)
    _count("view", [term.slug])
    if release is not None:  # as the release holds it; no suggestions of today's
        if fmt == "json":
            return {
                "slug": term.slug,
                "release": release,
                **document_from_term(term).to_data(),
            }
        return render_markdown(term_page(term, statuses))
    if fmt == "json":
        return {
            "slug": term.slug,
            "version": term.version,
            **document_from_term(term).to_data(),
        }
    return render_markdown(with_suggestions(term_page(term, statuses), statuses))


def _lookup(name, statuses):
    from terms.models import Term
    from terms.text import search

    terms = Term.objects.filter(status__in=statuses)
    matches = search.lookup(terms, name)
    body: dict[str, Any] = {
        "query": name,
        "matches": [
            {
                "slug": m.term.slug,
                "term": m.term.name,
                "short_def": m.term.short_def,
                "status": m.term.status,
                "matched_on": m.matched_on,
                "alias": m.alias,
                "language": m.language,
            }
            for m in matches
        ],
    }
    body["ambiguous"] = len(body["matches"]) > 1
    _count("lookup", [m.term.slug for m in matches], name)
    if not matches:
        body["suggestions"] = [
            {"slug": t.slug, "term": t.name} for t in search.suggestions(terms, name)
        ]
    return body


def _annotate(text, release=None, fmt="text"):
    from django.conf import settings

    from terms.models import Term
    from terms.serving import derived, snapshots
    from terms.serving.stamp import glossary_stamp
    from terms.text.annotation import BudgetSpent, find_spans, release_matcher
    from terms.text.documents import prose

    scanned = prose(text, fmt).text
    try:
        if release is not None:  # the release's snapshot is the database here
            found = snapshots.reading()
            key = (snapshots.identity(found),)
            matcher = release_matcher(["approved"], key)
            budget = settings.GLOSSARY_ANNOTATE_BUDGET_SECONDS
            spans = find_spans(matcher, scanned, budget=budget)
        else:
            state = glossary_stamp()
            spans = derived.annotate_spans(
                ["approved"], (state.version, state.changed_at.timestamp()), scanned
            )
    except BudgetSpent as spent:
        raise ToolError(f"text: {spent}") from spent
    slugs = {span.best.slug for span in spans}
    terms = {t.slug: t for t in Term.objects.filter(slug__in=slugs, status="approved")}
    _count("annotate", terms)
    return {
        "spans": [
            {
                "start": span.start,
                "end": span.end,
                "text": text[span.start : span.end],
                "slug": span.best.slug,
                "term": terms[span.best.slug].name,
                "short_def": terms[span.best.slug].short_def,
                "match": span.best.match,
                "ambiguous": [c.slug for c in span.candidates]
                if len(span.candidates) > 1
                else [],
            }
            for span in spans
            if span.best.slug in terms
        ]
    }


def _problems_error(problems) -> ToolError:
    """Every problem, each naming its field."""
    return ToolError(
        "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in problems)
    )


def _refusal(exc) -> ToolError:
    """A refused workflow step as a tool error."""
    if getattr(exc, "problems", None):
        return _problems_error(exc.problems)
    return ToolError(getattr(exc, "message", str(exc)))


def _document(data, base=None):
    from terms.documents.document import validate_term_data
    from terms.reads.selectors import known_roles

    if not isinstance(data, dict):
        raise ToolError("document: must be an object holding a term document")
    document, problems = validate_term_data(
        {**base, **data} if base is not None else data, known_roles=known_roles()
    )
    if problems:
        raise _problems_error(problems)
    return document


def _need_user(actor):
    if actor is None:
        raise ToolError(
            "authorization: writing needs an API token (Authorization: Token <key>)"
        )


def _propose_term(data, actor):
    from terms.models import ChangeSource
    from terms.workflow import steps as workflow
    from terms.workflow.transitions import WorkflowError, check_permission

    if not isinstance(data, dict):
        raise ToolError("document: must be an object holding a term document")
    if data.get("status", "draft") != "draft":
        raise ToolError(
            "status: a proposed term is a draft; editors review and approve it"
        )
    _need_user(actor)
    try:
        check_permission(actor, "terms.add_term", "create terms")
    except WorkflowError as exc:
        raise _refusal(exc) from None
    data = {"status": "draft", **data}
    if "last_reviewed" not in data:
        import datetime

        data["last_reviewed"] = datetime.date.today().isoformat()
    document = _document(data)
    try:
        result = workflow.term_create(
            document=document, actor=actor, source=ChangeSource.API
        )
    except WorkflowError as exc:
        raise _refusal(exc) from None
    return {
        "slug": result.term.slug,
        "status": result.term.status,
        "outcome": result.outcome,
    }


def _propose_change(slug, changes, actor):
    from django.db import transaction

    from terms.documents.mapping import document_from_term
    from terms.models import ChangeSource, Term
    from terms.workflow import steps as workflow
    from terms.workflow.transitions import WorkflowError, check_permission

    _need_user(actor)
    # Permission first, then only terms the caller may see: a caller who may
    # not write learns nothing about drafts from what is refused and why.
    try:
        check_permission(actor, "terms.change_term", "edit terms")
    except WorkflowError as exc:
        raise _refusal(exc) from None
    if not isinstance(changes, dict) or not changes:
        raise ToolError("changes: an object of document keys to replace")
    term = Term.objects.filter(slug=slug, status__in=visible(actor)).first()
    if term is None:
        raise ToolError(f"slug: no term {slug!r}")
    with transaction.atomic():
        pending = getattr(term, "pending", None)
        base = pending.document if pending else document_from_term(term).to_data()
        document = _document(changes, base=base)
        try:
            result = workflow.term_edit(
                term=term, document=document, actor=actor, source=ChangeSource.API
            )
        except WorkflowError as exc:
            raise _refusal(exc) from None
    return {
        "slug": result.term.slug,
        "outcome": result.outcome,
        "status": result.term.status,
    }


def _export_yaml(statuses):
    from terms.formats.exporter import term_documents

    return "".join(f"---\n{d.to_yaml()}" for d in term_documents(statuses))


def _complete_slugs(prefix, statuses):
    from terms.models import Term
    from terms.text import search

    if not prefix.strip():
        return list(
            Term.objects.filter(status__in=statuses)
            .order_by("slug")
            .values_list("slug", flat=True)[:20]
        )
    terms = Term.objects.filter(status__in=statuses)
    return [m.term.slug for m in search.autocomplete(terms, prefix, limit=20)]
