"""Requests this server makes to addresses others chose: webhook receivers and
cited links. Only public addresses are reached.

A URL's host is resolved once, every address it resolves to is checked, and
the connection goes to the checked address (the ``Host`` header and TLS name
stay the host's), so a name that resolves to a public address when checked and
to a private one when connecting (DNS rebinding) gains nothing. Each redirect
hop goes through the same transport and is checked the same way. Spellings
such as ``127.1``, ``0x7f000001``, ``2130706433``, ``[::ffff:127.0.0.1]`` and
``0.0.0.0`` are resolved by the system exactly as a connection would be, then
refused for what they are.

Refused: loopback, private (RFC 1918, unique-local), link-local (cloud
metadata), shared (carrier-grade NAT), unspecified, multicast and reserved
addresses, and IPv6 forms that carry one of those (IPv4-mapped, 6to4,
Teredo). ``GLOSSARY_OUTBOUND_ALLOW`` lists networks (CIDR) to allow all the
same, for a private deployment whose receivers live on its own network.
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx
from django.conf import settings

__all__ = [
    "Refused",
    "async_client",
    "check_url",
    "client",
    "failure_kind",
    "public_address",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(httpx.TransportError):
    """The URL's host is not a public address (nor an allowed one)."""


def _allowed_networks() -> list:
    return [
        ipaddress.ip_network(item, strict=False)
        for item in settings.GLOSSARY_OUTBOUND_ALLOW
    ]


def _embedded(address: Address) -> Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo), if any."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
    return None


def public_address(address: Address) -> bool:
    """Whether ``address`` may be reached: global, or in an allowed network."""
    if any(address in network for network in _allowed_networks()):
        return True
    inner = _embedded(address)
    if inner is not None and not public_address(inner):
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _resolve(host: str, port: int) -> list[Address]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise Refused(f"{host!r} does not resolve ({error})") from error
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]


def _checked_address(host: str, port: int) -> Address:
    addresses = _resolve(host, port)
    blocked = [a for a in addresses if not public_address(a)]
    if blocked or not addresses:
        raise Refused(
            f"{host!r} is not a public address ({blocked[0] if blocked else 'none'}); "
            "requests to loopback, private and link-local addresses are refused "
            "(GLOSSARY_OUTBOUND_ALLOW lists networks to allow)"
        )
    return addresses[0]


def check_url(url: str) -> str | None:
    """Why ``url`` may not be requested (not http(s), no host, or not a public
    address), or None. For validating URLs as they are stored."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return f"not a valid URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    try:
        _checked_address(parts.hostname, port or _default_port(parts.scheme))
    except Refused as error:
        return str(error)
    return None


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _pinned(request: httpx.Request) -> httpx.Request:
    """A copy of the request aimed at the checked address of its host (the
    original, with its URL, is what the client sees: redirects resolve
    against it and responses report it)."""
    host = request.url.host
    port = request.url.port or _default_port(request.url.scheme)
    address = _checked_address(host, port)
    extensions = dict(request.extensions)
    if request.url.scheme == "https":
        extensions["sni_hostname"] = host
    return httpx.Request(
        request.method,
        request.url.copy_with(host=str(address)),
        headers=request.headers,  # with the original Host
        stream=request.stream,
        extensions=extensions,
    )


class _Transport(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return super().handle_request(_pinned(request))


class _AsyncTransport(httpx.AsyncHTTPTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # Resolving blocks: off the event loop.
        pinned = await asyncio.to_thread(_pinned, request)
        return await super().handle_async_request(pinned)


def client(**options) -> httpx.Client:
    """An ``httpx.Client`` that reaches public addresses only."""
    return httpx.Client(transport=_Transport(), **options)


def async_client(**options) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` that reaches public addresses only."""
    limits = options.pop("limits", None)
    transport = _AsyncTransport(limits=limits) if limits else _AsyncTransport()
    return httpx.AsyncClient(transport=transport, **options)


_KINDS = (
    (httpx.ConnectTimeout, "could not connect in time"),
    (httpx.TimeoutException, "timed out"),
    (httpx.ConnectError, "could not connect"),
    (httpx.RemoteProtocolError, "the answer was not valid HTTP"),
)


def failure_kind(error: httpx.HTTPError) -> str:
    """A coarse description of a failed request, without the system's own
    message (which names addresses and ports)."""
    if isinstance(error, Refused):
        return str(error)
    for kind, text in _KINDS:
        if isinstance(error, kind):
            return text
    return "the request failed"
