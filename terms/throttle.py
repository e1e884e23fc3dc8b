"""The anonymous request counter, shared by the front cache and the API.

``GLOSSARY_ANON_THROTTLE_RATE`` (``120/minute``) allows an address that many
requests in a window that starts with its first request. The front cache
(``terms.frontcache``) counts a request in the same Redis command (a small Lua
script) that reads the glossary's stamp; when it passes a request on to Django
it leaves the count in the WSGI environ, so DRF's throttle
(``terms.api.throttling``) decides on the same count instead of counting
twice. Without Redis the count lives in the process's memory cache.

Written here rather than taken from DRF: DRF's throttles keep a list of
timestamps per address in the cache (a read and a write of a growing pickled
list per request), which cannot share a round trip with anything else.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from . import stamp

__all__ = ["ENVIRON_KEY", "Count", "count", "parse_rate", "rate", "stamp_and_count"]

#: Where the front cache leaves a request's count for DRF.
ENVIRON_KEY = "glossary.throttle_count"

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Count:
    """Requests so far in the address's window, the limit, and seconds left."""

    requests: int
    limit: int
    retry_after: int

    @property
    def allowed(self) -> bool:
        """Whether this request is within the limit."""
        return self.requests <= self.limit


def parse_rate(text: str | None) -> tuple[int, int] | None:
    """``(requests, seconds)`` from a rate such as ``10/hour``; None: off."""
    text = (text or "").strip()
    if not text:
        return None
    number, _, period = text.partition("/")
    return int(number), _PERIODS[period.strip()[:1].lower()]


def rate() -> tuple[int, int] | None:
    """``(requests, seconds)`` from ``GLOSSARY_ANON_THROTTLE_RATE``; None: off."""
    return parse_rate(settings.GLOSSARY_ANON_THROTTLE_RATE)


def key(address: str) -> str:
    """The counter's key for one client address."""
    return f"glossary:throttle:{address}"


#: Reads the stamp and counts a request: one command, one reply. KEYS: the
#: stamp, the counter; ARGV: the window in seconds. The window starts with the
#: first request (EXPIRE ... NX).
_STAMP_AND_COUNT = """
local requests = redis.call('INCR', KEYS[2])
if requests == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
return {redis.call('GET', KEYS[1]) or '', requests, redis.call('TTL', KEYS[2])}
"""
_scripts: dict[int, object] = {}


def stamp_and_count(redis_client, address: str, limits: tuple[int, int]) -> list:
    """``[stamp or b"", requests, seconds left]`` for one request from ``address``."""
    script = _scripts.get(id(redis_client))
    if script is None:
        script = _scripts[id(redis_client)] = redis_client.register_script(
            _STAMP_AND_COUNT
        )
    return script(keys=[stamp.KEY, key(address)], args=[limits[1]])


def count(address: str, limits: tuple[int, int] | None = None) -> Count | None:
    """Count one request from ``address`` against ``limits`` (by default the
    anonymous read rate); None when throttling is off."""
    limits = limits or rate()
    if limits is None:
        return None
    limit, seconds = limits
    redis_client = stamp.client()
    if redis_client is not None:
        _, requests, ttl = stamp_and_count(redis_client, address, limits)
        return Count(int(requests), limit, ttl if ttl > 0 else seconds)
    # The memory cache is per process: no other process races this one.
    now = time.monotonic()
    requests, ends = cache.get(key(address)) or (0, now + seconds)
    if ends <= now:
        requests, ends = 0, now + seconds
    requests += 1
    cache.set(key(address), (requests, ends), timeout=seconds + 1)
    return Count(requests, limit, max(1, round(ends - now)))
