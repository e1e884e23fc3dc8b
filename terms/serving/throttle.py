"""The anonymous request counter, shared by the front cache and the API.

``GLOSSARY_ANON_THROTTLE_RATE`` (``120/minute``) allows an address that many
requests in a window that starts with its first request. With Redis the count
is shared by every process: a process takes numbers from the address's counter
in blocks of ``block(limit)`` (one for limits under 200, so the usual limits are
counted exactly, request by request) and hands them out itself until the block
is used up or the window ends. A block is at most 1% of the limit, so with high
limits a client may be refused up to 1% early per server process, never late,
and most requests cost no round trip. The front cache (``terms.serving.frontcache``)
counts before it answers; when it passes a request on to Django it leaves the
count in the WSGI environ, so DRF's throttle (``terms.api.throttling``) decides
on the same count instead of counting twice. Without Redis, or while it does
not answer (``terms.serving.stamp``'s outage rule), each process counts in its own
memory: during an outage a client may then make the allowed number of
requests once per process.

Written here rather than taken from DRF: DRF's throttles keep a list of
timestamps per address in the cache (a read and a write of a growing pickled
list per request), a round trip and a rewrite on every request.
"""

import math
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings

from terms.serving import stamp

__all__ = [
    "ENVIRON_KEY",
    "Count",
    "block",
    "count",
    "count_request",
    "forget",
    "parse_rate",
    "rate",
    "refusal",
]

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


#: Takes a block of numbers from an address's counter: KEYS: the counter;
#: ARGV: the block, the window in seconds. Returns [the block's last number,
#: seconds left]. The window starts with the first request (EXPIRE ... NX).
_TAKE = """
local last = redis.call('INCRBY', KEYS[1], ARGV[1])
if last == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return {last, redis.call('TTL', KEYS[1])}
"""
_scripts: dict[int, object] = {}
#: Addresses with numbers in hand, at most this many per process.
MAX_HELD = 10_000


def block(limit: int) -> int:
    """How many numbers a process takes at once: 1% of the limit, at least one."""
    return max(1, limit // 100)


@dataclass
class _Held:
    """Numbers a process took for one address and has not handed out yet."""

    next: int
    last: int
    ends: float


_held: dict[str, _Held] = {}
#: Counts kept in this process without Redis: address -> (requests, window end).
_local: dict[str, tuple[int, float]] = {}
_held_lock = threading.Lock()


def _take(redis_client, counter: str, size: int, seconds: int) -> tuple[int, int]:
    script = _scripts.get(id(redis_client))
    if script is None:
        script = _scripts[id(redis_client)] = redis_client.register_script(_TAKE)
    last, ttl = script(keys=[counter], args=[size, seconds])
    return int(last), int(ttl) if int(ttl) > 0 else seconds


def _from_hand(counter: str, limit: int, now: float) -> "Count | None":
    with _held_lock:
        held = _held.get(counter)
        if held is None or held.next > held.last or held.ends <= now:
            return None
        number, held.next = held.next, held.next + 1
        return Count(number, limit, max(1, math.ceil(held.ends - now)))


def _keep(counter: str, held: _Held, now: float) -> None:
    with _held_lock:
        if len(_held) >= MAX_HELD:
            for stale in [k for k, v in _held.items() if v.ends <= now]:
                del _held[stale]
            if len(_held) >= MAX_HELD:
                _held.clear()
        _held[counter] = held


def count(address: str, limits: tuple[int, int] | None = None) -> Count | None:
    """Count one request from ``address`` against ``limits`` (by default the
    anonymous read rate); None when throttling is off."""
    limits = limits or rate()
    if limits is None:
        return None
    limit, seconds = limits
    redis_client = stamp.client()
    if redis_client is not None and stamp.reachable():
        try:
            return _shared_count(redis_client, address, limit, seconds)
        except redis.RedisError as error:
            stamp.failed(error)
    return _local_count(address, limit, seconds)


def _shared_count(redis_client, address: str, limit: int, seconds: int) -> Count:
    counter, now = key(address), time.monotonic()
    counted = _from_hand(counter, limit, now)
    if counted is not None:
        return counted
    size = block(limit)
    last, ttl = _take(redis_client, counter, size, seconds)
    first = last - size + 1
    if first < min(last, limit):  # numbers left to hand out, all allowed
        _keep(counter, _Held(first + 1, min(last, limit), now + ttl), now)
    return Count(first, limit, ttl)


def _local_count(address: str, limit: int, seconds: int) -> Count:
    counter, now = key(address), time.monotonic()
    with _held_lock:
        requests, ends = _local.get(counter) or (0, now + seconds)
        if ends <= now:
            requests, ends = 0, now + seconds
        if counter not in _local and len(_local) >= MAX_HELD:
            for stale in [k for k, (_, end) in _local.items() if end <= now]:
                del _local[stale]
            if len(_local) >= MAX_HELD:
                _local.clear()
        _local[counter] = (requests + 1, ends)
    return Count(requests + 1, limit, max(1, round(ends - now)))


def count_request(environ) -> Count | None:
    """Count a request (WSGI environ or Django's ``META``) against the
    anonymous rate, unless the front cache counted it already."""
    counted = environ.get(ENVIRON_KEY)
    if counted is None:
        counted = count(environ.get("REMOTE_ADDR", ""))
    return counted


def refusal(counted: Count) -> str:
    """What a client past the limit is told."""
    return (
        f"Too many requests from this address; try again in "
        f"{counted.retry_after} seconds."
    )


def forget() -> None:
    """Let go of every number this process holds (after Redis was emptied) and
    of its own counts."""
    with _held_lock:
        _held.clear()
        _local.clear()


def over_request_rate(user, address: str) -> Count | None:
    """Count one term request submission (``GLOSSARY_REQUEST_RATE``, per user
    or address; staff are not counted); the count when it is over the limit."""
    if user is not None and user.is_authenticated and user.is_staff:
        return None
    from django.conf import settings

    limits = parse_rate(settings.GLOSSARY_REQUEST_RATE)
    if limits is None:
        return None
    who = f"user:{user.pk}" if user is not None and user.is_authenticated else address
    counted = count(f"requests:{who}", limits)
    return None if counted is None or counted.allowed else counted
