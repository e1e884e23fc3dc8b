"""The glossary's version stamp in Redis, and each process's watch on it.

Cached reads are keyed on the stamp (version and change time). With Redis as
the cache, the stamp lives there as ``"<version>:<microseconds>"`` under one
key, outside Django's cache serialisation. Writers drop it as they write and
set the new one when their transaction commits
(``terms.workflow.services.glossary_touch``);
a reader that finds none asks the database and puts it back. Every stamp
expires after ``lifetime()`` seconds, so one that went stale (its writer died
at commit, or Redis refused the new one) heals within that time.

Every change of the key is also published, numbered by a counter the same Lua
script increments, so each process can keep the current stamp in memory
instead of asking Redis on every request (``watched``): it subscribes, reads
the key once, then applies the numbered messages as they arrive, ignoring any
older than what it holds (a process that changed the stamp itself applies the
change at once, before its own message comes back). Reading the stamp then
costs one non-blocking check of the subscription's socket. A message cannot be
lost unnoticed: a broken subscription raises, and the watch starts over; the
key is read again at least every ``RECHECK_SECONDS`` all the same (a flushed
Redis, a restored database).

Without Redis (the zero-setup memory cache) there is no shared place for it,
and readers ask the database (one small query).

While Redis does not answer (an outage), reads carry on from the database and
the cache tiers are skipped: a process that saw Redis fail leaves it alone for
``OUTAGE_SECONDS`` (``reachable``/``failed``), so no request waits on it. A
write is refused instead (``Unreachable``, a 503 with nothing written): it
could not drop the stamp, and other processes would go on serving what it
changed once Redis answers again.
"""

import contextlib
import datetime
import logging
import os
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import transaction

from terms.events import GlossaryChanged

__all__ = [
    "KEY",
    "OUTAGE_SECONDS",
    "Stamp",
    "Unreachable",
    "client",
    "decode",
    "drop",
    "encode",
    "failed",
    "forget",
    "lifetime",
    "put_back",
    "reachable",
    "replace",
    "watched",
]

KEY = "glossary:stamp:v3"
#: The number of the latest change of ``KEY``.
SEQUENCE_KEY = "glossary:stamp:sequence"
#: Where changes of ``KEY`` are published, as ``"<number> <stamp or nothing>"``;
#: followed by the Redis database's number, as channels span databases.
CHANNEL = "glossary:stamp:changes"
#: How long a watch trusts its messages alone before it reads the key again.
RECHECK_SECONDS = 1.0

#: After Redis fails to answer, this process reads without it this long.
OUTAGE_SECONDS = 5.0

_clients: dict[str, redis.Redis] = {}
_down_until = 0.0
_log = logging.getLogger(__name__)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


@dataclass(frozen=True)
class Stamp:
    """The glossary's version and change time: what cached reads are keyed on;
    with the version and time anonymous readers are shown (they move only
    with writes those readers can see)."""

    version: int
    changed_at: datetime.datetime
    public_version: int
    public_changed_at: datetime.datetime

    @property
    def token(self) -> str:
        """The stamp as text (``encode``)."""
        return encode(self)

    def shown(self, signed_in: bool) -> tuple[int, datetime.datetime]:
        """The version and change time a reader is told: signed-in people see
        every write, anonymous readers only those they can see."""
        if signed_in:
            return self.version, self.changed_at
        return self.public_version, self.public_changed_at

    @classmethod
    def of(cls, state) -> "Stamp":
        """The stamp of a ``GlossaryState`` row."""
        return cls(
            state.version,
            state.changed_at,
            state.public_version,
            state.public_changed_at or state.changed_at,
        )


def _micros(moment: datetime.datetime) -> int:
    # Integer arithmetic: a float timestamp can be a microsecond off.
    return (moment - _EPOCH) // _MICROSECOND


def encode(stamp: Stamp) -> str:
    """The stamp as stored: ``"<version>:<microseconds>:<public version>:
    <microseconds>"``."""
    return (
        f"{stamp.version}:{_micros(stamp.changed_at)}:"
        f"{stamp.public_version}:{_micros(stamp.public_changed_at)}"
    )


def decode(raw: bytes | str) -> Stamp:
    """The stamp from its stored text."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    version, micros, public_version, public_micros = text.split(":")
    return Stamp(
        int(version),
        _EPOCH + int(micros) * _MICROSECOND,
        int(public_version),
        _EPOCH + int(public_micros) * _MICROSECOND,
    )


def client() -> redis.Redis | None:
    """A Redis client on the cache's server and database, or None without Redis.

    One per location and process (the location can change in tests).
    """
    config = settings.CACHES["default"]
    if "redis" not in config["BACKEND"].lower():
        return None
    location = config["LOCATION"]
    found = _clients.get(location)
    if found is None:
        found = _clients[location] = redis.Redis.from_url(
            location, socket_timeout=2, socket_connect_timeout=2
        )
    return found


class Unreachable(RuntimeError):
    """Redis did not answer as a write tried to drop the stamp: the write is
    refused (rolled back), as no other process could learn of it."""


def reachable() -> bool:
    """Whether reads should use Redis: false for ``OUTAGE_SECONDS`` after it
    last failed to answer in this process."""
    return time.monotonic() >= _down_until


def failed(error: Exception) -> None:
    """Note that Redis did not answer: reads skip it for a while."""
    global _down_until
    if reachable():
        _log.warning("Redis did not answer (%s); reading from the database", error)
    _down_until = time.monotonic() + OUTAGE_SECONDS


def channel(redis_client: redis.Redis) -> str:
    """The channel of the stamp's changes in the client's database."""
    return f"{CHANNEL}:{redis_client.connection_pool.connection_kwargs.get('db', 0)}"


# --- changing the stamp: the key, its number and the message, in one script ---

#: KEYS: the stamp, its number. ARGV: the new stamp ("" drops it), "nx" to set
#: it only where there is none, the channel, its lifetime in milliseconds.
#: Returns [number, stamp or ""] as they are then.
_CHANGE = """
if ARGV[2] == 'nx' and redis.call('EXISTS', KEYS[1]) == 1 then
  return {tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('GET', KEYS[1])}
end
if ARGV[1] == '' then redis.call('DEL', KEYS[1])
else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4]) end
local number = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[3], number .. ' ' .. ARGV[1])
return {number, ARGV[1]}
"""
_scripts: dict[int, object] = {}


def _change(redis_client: redis.Redis, token: str, *, only_if_absent=False) -> str:
    script = _scripts.get(id(redis_client))
    if script is None:
        script = _scripts[id(redis_client)] = redis_client.register_script(_CHANGE)
    number, current = script(
        keys=[KEY, SEQUENCE_KEY],
        args=[
            token,
            "nx" if only_if_absent else "",
            channel(redis_client),
            int(lifetime() * 1000),
        ],
    )
    current = current.decode() if isinstance(current, bytes) else current
    _watch(redis_client).learn(int(number), current or None)
    return current


def lifetime() -> float:
    """Seconds a stamp stays in Redis (``GLOSSARY_STAMP_SECONDS``).

    Whoever set it, it then expires and the next reader asks the database: a
    stamp that no longer matches the database (a reader put back what it read
    just before a write committed, and the writer died or Redis refused its
    new stamp at that moment) is gone within this time, however the writer
    fared. It costs one small query per lifetime, not per request; the
    version in it is unchanged, so nothing cached is lost.
    """
    return settings.GLOSSARY_STAMP_SECONDS


def drop(redis_client: redis.Redis) -> None:
    """Remove the stamp (a write is in flight): readers go to the database.

    Raises ``Unreachable`` when Redis does not answer; always tried, even in a
    process that saw Redis fail a moment ago.
    """
    try:
        _change(redis_client, "")
    except redis.RedisError as error:
        failed(error)
        raise Unreachable(
            "The cache server (Redis) did not answer, so the other server "
            "processes could not learn of this change; nothing was written. "
            "Try again once Redis is back."
        ) from error


def replace(redis_client: redis.Redis, token: str) -> None:
    """Set the stamp a committed write made. When Redis does not answer the
    stamp stays dropped, which is safe: readers ask the database and put it
    back."""
    try:
        _change(redis_client, token)
    except redis.RedisError as error:
        failed(error)


def put_back(redis_client: redis.Redis, token: str) -> str:
    """Set the stamp a reader read from the database, unless a writer's is
    there already; the stamp now in place."""
    return _change(redis_client, token, only_if_absent=True)


# --- reading it: each process's watch ---


class _Watch:
    """The stamp as this process last learned it, kept current by messages."""

    def __init__(self, redis_client: redis.Redis):
        self.client = redis_client
        self.subscription = None
        self.number = -1
        self.token: str | None = None
        self.read_at = 0.0
        self.lock = threading.Lock()

    def current(self) -> str | None:
        """The stamp's token, or None while there is none."""
        with self.lock:
            try:
                return self._current()
            except redis.RedisError:
                # A broken subscription (Redis restarted, say): start over once.
                self._close()
                try:
                    return self._current()
                except redis.RedisError:
                    self._close()
                    raise

    def _current(self) -> str | None:
        if self.subscription is None:
            self._subscribe()
        elif time.monotonic() - self.read_at > RECHECK_SECONDS:
            self._read()
        while message := self.subscription.get_message(timeout=0):
            if message["type"] == "message":
                number, _, token = message["data"].decode().partition(" ")
                self._apply(int(number), token or None)
        return self.token

    def learn(self, number: int, token: str | None) -> None:
        """A change this process made or saw, numbered by Redis."""
        with self.lock:
            self._apply(number, token)

    def _apply(self, number: int, token: str | None) -> None:
        if number > self.number:
            self.number, self.token = number, token

    def _subscribe(self) -> None:
        subscription = self.client.pubsub()
        subscription.subscribe(channel(self.client))
        # Subscribed before the key is read: no change can fall in between.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            message = subscription.get_message(timeout=1)
            if message and message["type"] == "subscribe":
                break
        else:
            subscription.close()
            raise redis.ConnectionError("no confirmation of the stamp subscription")
        self.subscription = subscription
        self._read()

    def _read(self) -> None:
        token, number = self.client.mget(KEY, SEQUENCE_KEY)
        number = int(number or 0)
        # The key, read at once with its number, is the truth as of that number
        # (a smaller number: the counter restarted, Redis was emptied).
        self.number, self.token = number, token.decode() if token else None
        self.read_at = time.monotonic()

    def _close(self) -> None:
        if self.subscription is not None:
            with contextlib.suppress(redis.RedisError):
                self.subscription.close()
        self.subscription, self.number, self.token = None, -1, None


_watches: dict[tuple[int, int], _Watch] = {}
_watches_lock = threading.Lock()


def _watch(redis_client: redis.Redis) -> _Watch:
    # Per process as well: a subscription's socket must not cross a fork.
    key = (os.getpid(), id(redis_client))
    found = _watches.get(key)
    if found is None:
        with _watches_lock:
            found = _watches.setdefault(key, _Watch(redis_client))
    return found


def watched(redis_client: redis.Redis) -> str | None:
    """The current stamp's token (None while a write is in flight), usually
    without a round trip to Redis."""
    return _watch(redis_client).current()


def forget() -> None:
    """Close every watch of this process (after Redis was emptied on purpose)
    and forget any outage it saw."""
    global _down_until
    _down_until = 0.0
    with _watches_lock:
        for found in _watches.values():
            with found.lock:
                found._close()
        _watches.clear()


def shared_cache() -> bool:
    """Whether the cache is shared by every process (Redis), so it can carry the
    stamp; a per-process memory cache cannot."""
    return client() is not None


def glossary_stamp() -> Stamp:
    """The current stamp: from this process's watch on Redis when the cache is
    there (no SQL, and usually no round trip), else from the database (one
    small query).

    Writers replace the stamp in Redis when they commit (``services.glossary_touch``)
    and drop it as they write, so every process sees a change at once.
    """
    redis_client = client()
    if redis_client is not None and not reachable():
        redis_client = None  # an outage: read without it for a while
    if redis_client is not None:
        try:
            token = watched(redis_client)
        except redis.RedisError as error:
            failed(error)
            redis_client = token = None
        if token is not None:
            return decode(token)
    from terms.reads.selectors import glossary_state  # the models need Django set up

    current = Stamp.of(glossary_state())
    if redis_client is not None:
        # Only where there is none: a writer's newer stamp is never overwritten.
        try:
            put_back(redis_client, current.token)
        except redis.RedisError as error:
            failed(error)
    return current


def on_glossary_change(change) -> None:
    """Publish a write's new stamp (``GLOSSARY_EVENTS_PIPELINE``).

    The stamp in Redis is dropped now (readers fall back to the database, which
    shows the change once it commits) and replaced by the new one when the
    transaction commits, so every process serves fresh reads without asking
    the database on each request.
    """
    if not isinstance(change, GlossaryChanged):
        return  # a release publishes no change to the glossary's content
    redis_client = client()
    if redis_client is None:
        return
    drop(redis_client)
    token = Stamp(
        change.version,
        change.changed_at,
        change.public_version,
        change.public_changed_at,
    ).token
    transaction.on_commit(lambda: replace(redis_client, token))
