"""The MCP server's Streamable HTTP transport inside the WSGI workers.

The SDK's transport is an ASGI (Starlette) application; a2wsgi runs it under
WSGI on an event loop of its own, so ``/mcp`` is served by the same processes
as the API (``glossary.wsgi`` sends it there). It runs stateless with JSON
responses: every request stands alone, as any worker may receive the next one.
The session manager the transport needs is started once, on that loop, by the
first request.
"""

import asyncio

from a2wsgi import ASGIMiddleware
from django.conf import settings
from mcp.server.transport_security import TransportSecuritySettings

from .mcp_server import build_server

__all__ = ["PATH", "mcp_wsgi_application"]

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
        await self.app(scope, receive, send)


def mcp_wsgi_application():
    """A WSGI application answering ``/mcp``."""
    return ASGIMiddleware(_Started())
