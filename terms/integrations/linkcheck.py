"""Checking citation URLs: concurrent, polite, and never on a request path.

``check_urls`` fetches each URL with ``httpx`` (asyncio): a global limit on
requests in flight and a smaller one per host, a timeout per attempt, retries
with exponential backoff for answers that may pass (timeouts, connection
errors, 429 and 5xx; ``Retry-After`` honoured up to the backoff ceiling), and a
User-Agent that says what is asking. Redirects are followed and the final URL
kept. Only the status line and headers are read, never the body.

``manage.py check_citations`` runs it and stores one ``LinkCheck`` per URL.
"""

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from terms.integrations import outbound

__all__ = ["CheckSettings", "LinkResult", "check_urls"]

#: Answers worth asking again: the server may be busy or briefly broken.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class CheckSettings:
    """How hard and how politely to check."""

    user_agent: str
    timeout: float = 10.0
    retries: int = 2
    backoff: float = 1.0
    backoff_max: float = 30.0
    concurrency: int = 16
    per_host: int = 2
    max_redirects: int = 10


@dataclass(frozen=True)
class LinkResult:
    """What one URL answered, on its last attempt."""

    url: str
    ok: bool
    status_code: int | None
    final_url: str
    error: str
    elapsed_ms: int
    attempts: int


def _retry_after(response: httpx.Response, ceiling: float) -> float | None:
    value = response.headers.get("retry-after", "")
    return min(float(value), ceiling) if value.isdecimal() else None


async def _attempt(client: httpx.AsyncClient, url: str) -> httpx.Response:
    # Streaming reads the status and headers; the body is never downloaded.
    async with client.stream("GET", url) as response:
        return response


async def _check_one(
    client: httpx.AsyncClient,
    url: str,
    settings: CheckSettings,
    hosts: dict[str, asyncio.Semaphore],
    limit: asyncio.Semaphore,
) -> LinkResult:
    host = (urlsplit(url).hostname or "").lower()
    attempts, started = 0, time.monotonic()
    while True:
        attempts += 1
        status, final_url, error, wait = None, url, "", None
        refused = False
        async with limit, hosts[host]:
            started = time.monotonic()
            try:
                response = await _attempt(client, url)
            except httpx.TooManyRedirects:
                error = f"more than {settings.max_redirects} redirects"
            except httpx.TimeoutException:
                error = f"no answer within {settings.timeout:g} s"
            except outbound.Refused as exc:
                error, refused = str(exc), True
            except httpx.HTTPError as exc:
                error = (
                    f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                )
            else:
                status, final_url = response.status_code, str(response.url)
                wait = _retry_after(response, settings.backoff_max)
            elapsed_ms = round((time.monotonic() - started) * 1000)
        ok = status is not None and status < 400
        retryable = (status is None and not refused and "redirects" not in error) or (
            status in RETRY_STATUSES
        )
        if ok or not retryable or attempts > settings.retries:
            return LinkResult(url, ok, status, final_url, error, elapsed_ms, attempts)
        delay = settings.backoff * 2 ** (attempts - 1)
        await asyncio.sleep(
            min(wait if wait is not None else delay, settings.backoff_max)
        )


async def _check_all(urls: list[str], settings: CheckSettings) -> list[LinkResult]:
    limit = asyncio.Semaphore(settings.concurrency)
    hosts: dict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(settings.per_host)
    )
    # Public addresses only, at every redirect hop (terms.integrations.outbound).
    async with outbound.async_client(
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        timeout=settings.timeout,
        headers={"User-Agent": settings.user_agent},
        limits=httpx.Limits(max_connections=settings.concurrency),
    ) as client:
        return await asyncio.gather(
            *(_check_one(client, url, settings, hosts, limit) for url in urls)
        )


def check_urls(urls: Iterable[str], settings: CheckSettings) -> list[LinkResult]:
    """Check each distinct URL once; results in the order of first mention."""
    distinct = list(dict.fromkeys(urls))
    if not distinct:
        return []
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_check_all(distinct, settings))
    # Called where an event loop already runs (an async caller, a notebook, a
    # browser driver in the same thread): run on a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _check_all(distinct, settings)).result()
