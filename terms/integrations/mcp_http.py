"""The MCP server's Streamable HTTP transport inside the WSGI workers.

The SDK's transport is an ASGI (Starlette) application; a2wsgi runs it under
WSGI on an event loop of its own, so ``/mcp`` is served by the same processes
as the API (``glossary.wsgi`` sends it there). It runs stateless with JSON
responses: every request stands alone, as any worker may receive the next one.
The session manager the transport needs is started once, on that loop, by the
first request.
"""

import asyncio
import json

from a2wsgi import ASGIMiddleware
from django.conf import settings
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings

from terms.integrations.mcp_server import CALLER_HEADERS, build_server, token_user

__all__ = ["PATH", "guard", "mcp_wsgi_application"]

PATH = "/mcp"


def _security() -> TransportSecuritySettings:
    """Host and Origin checks against DNS rebinding, from ``ALLOWED_HOSTS``."""
    hosts = list(settings.ALLOWED_HOSTS)
    if "*" in hosts or any(host.startswith(".") for host in hosts):
        # Django's own wildcard rules: leave the check to the proxy in front.
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    allowed = [form for host in hosts for form in (host, f"{host}:*")]
    origins = [f"{scheme}://{form}" for scheme in ("http", "https") for form in allowed]
    return TransportSecuritySettings(allowed_hosts=allowed, allowed_origins=origins)


class _Started:
    """The transport's ASGI app, its session manager running on first use."""

    def __init__(self):
        self.server = build_server()
        self.app = self.server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            json_response=True,
            transport_security=_security(),
        )
        self.ready: asyncio.Event | None = None

    async def _run_manager(self) -> None:
        async with self.server.session_manager.run():
            self.ready.set()
            await asyncio.Event().wait()  # for the life of the process

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return
        if self.ready is None:
            self.ready = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run_manager())
        await self.ready.wait()
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope.get("headers", [])
        }
        # Resources read the caller from here (the SDK gives static ones no
        # context); tasks the transport starts for this request inherit it.
        token = CALLER_HEADERS.set(headers)
        try:
            await self.app(scope, receive, send)
        finally:
            CALLER_HEADERS.reset(token)


def buffered(app):
    """WSGI middleware: run ``app`` to the end before answering.

    a2wsgi calls ``start_response`` only as its body is iterated, which WSGI
    allows but granian (the production server) does not follow: it sent every
    ``/mcp`` answer as ``200`` without a ``Content-Type``, and the MCP clients
    refused them. The transport answers JSON (never a stream: ``guard`` refuses
    ``GET``), so the whole body is read first, then status, headers and body
    are handed over in the usual order.
    """

    def call(environ, start_response):
        answer: dict = {}

        def capture(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            return lambda data: answer.setdefault("written", []).append(data)

        iterable = app(environ, capture)
        try:
            body = b"".join(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        body = b"".join(answer.get("written", [])) + body
        headers = [
            (k, v) for k, v in answer["headers"] if k.lower() != "content-length"
        ]
        start_response(answer["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return call


def mcp_wsgi_application():
    """A WSGI application answering ``/mcp``."""
    return guard(buffered(ASGIMiddleware(_Started())))


def _answer(start_response, status: str, message: str, headers=()):
    """A JSON-RPC error body (no request id) with an HTTP status."""
    code = -32600 if status.startswith("4") else -32603
    body = json.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
    ).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            *headers,
        ],
    )
    return [body]


def _token_owner_active(environ) -> bool:
    """Whether the request carries the API token of an active user (the
    tools' own check, ``mcp_server.token_user``)."""
    from django.db import close_old_connections

    close_old_connections()
    try:
        return token_user(environ.get("HTTP_AUTHORIZATION", "")) is not None
    except ToolError:
        return False


def guard(app):
    """WSGI middleware in front of the transport: what a worker must not be
    held by or spend without limit.

    - Only ``POST`` is served. The transport runs stateless with JSON answers,
      so it has no server-to-client stream to offer: a ``GET`` (which would
      otherwise open an event stream and pin the worker until the client
      leaves) or any other method is answered 405 at once, as the Streamable
      HTTP transport allows.
    - A body larger than Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is 413.
    - Callers without a valid API token count against the anonymous rate
      (``terms.serving.throttle``, the API's counter): past it, 429 with
      ``Retry-After``.
    """
    from terms.serving import throttle

    def guarded(environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(
                start_response,
                "405 Method Not Allowed",
                "Only POST is served at /mcp (stateless Streamable HTTP).",
                [("Allow", "POST")],
            )
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return _answer(
                start_response,
                "413 Content Too Large",
                f"The request body is over "
                f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
            )
        if throttle.rate() is not None and not _token_owner_active(environ):
            counted = throttle.count_request(environ)
            if counted is not None and not counted.allowed:
                return _answer(
                    start_response,
                    "429 Too Many Requests",
                    throttle.refusal(counted),
                    [("Retry-After", str(counted.retry_after))],
                )
        return app(environ, start_response)

    return guarded
