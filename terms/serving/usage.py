"""Counting what readers look for, at the cost of a dictionary update per read.

Every read that finds terms, or looks for words, notes its *uses*
(``note``): which terms it showed, how (read an entry, looked up, searched,
annotated) and, for a search, the normalised words and whether they found
anything. The counts go into this process's buffer, keyed by day, term or
query, source and kind; nothing else is kept: no address, user, session or
time of day (``terms.models.usage``), and no query that holds an email address
or a long number (``_PERSONAL``).

Reads served from a cache count as well: the uses are left in the WSGI environ
(``USAGE_KEY``) as the view runs, and the Django cache tier
(``terms.api.caching``) and the front cache (``terms.serving.frontcache``)
keep them beside the bytes they store. The Django tier notes them again each
time it serves those bytes. A front-cache hit costs about 14 us, so noting
there (about 3 us) would cost a fifth of its throughput: each entry counts its
hits instead (one addition, under the lock the lookup takes anyway, apart for
the widget), and ``flush`` harvests them first (``harvested_by``), as does
the front cache for entries it drops. The read model notes the one term a
stored detail shows. A revalidation answered with 304 is not counted: the
reader already had the answer.

The source is told by the request: ``X-Glossary-Client: widget`` (the widget
sends it), the reconciliation endpoints, the rest of ``/api/``, and the pages;
the MCP tools say so themselves (``record``).

A thread per process writes the buffer to the database every
``GLOSSARY_USAGE_FLUSH_SECONDS`` (one upsert per table that adds to the day's
row), when the process exits, and at once when ``manage.py usage flush``
publishes on ``FLUSH_CHANNEL`` (each process answers on the list the message
names, so the command knows when all have written). A process killed outright
loses at most that many seconds of counts. While the database refuses the
write, counts stay in the buffer (up to ``MAX_KEYS`` keys; beyond that new
keys are dropped and logged).
"""

import atexit
import datetime
import logging
import os
import re
import threading
import time
import uuid
import weakref
from collections import Counter
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction

from terms.models import QUERY_MAX_CHARS, SearchUse, TermUse, UsageSource
from terms.serving import stamp

__all__ = [
    "CLIENT_HEADER",
    "USAGE_KEY",
    "WIDGET",
    "Use",
    "ask_to_flush",
    "flush",
    "forget",
    "from_widget",
    "harvested_by",
    "normalised",
    "note",
    "path_source",
    "record",
    "search",
    "source_of",
    "start",
    "terms_used",
]

#: Where a request's uses wait in the WSGI environ for the caches to keep.
USAGE_KEY = "glossary.usage"
#: The request header a client names itself with (``widget``).
CLIENT_HEADER = "X-Glossary-Client"
_CLIENT_META = "HTTP_X_GLOSSARY_CLIENT"
#: ``manage.py usage flush`` publishes a reply list's name here.
FLUSH_CHANNEL = "glossary:usage:flush"
#: The most keys a buffer holds while the database refuses its writes.
MAX_KEYS = 100_000

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Use:
    """What one read did: the terms it showed (``slugs``) as ``kind``, and for a
    search its normalised words and whether they found anything."""

    kind: str
    slugs: tuple[str, ...] = ()
    query: str = ""
    found: bool = True


def normalised(words: str) -> str:
    """A query as it is counted: case folded, spaces collapsed, cut."""
    return " ".join(str(words).casefold().split())[:QUERY_MAX_CHARS]


def _plain(kind) -> str:
    return getattr(kind, "value", kind)


def terms_used(kind: str, slugs) -> Use:
    """Terms shown without a query (an entry read, a text annotated)."""
    return Use(_plain(kind), tuple(dict.fromkeys(slugs)))


#: Words that may say who someone is (an email address, a phone or account
#: number): such a query is not kept, though the terms it found are counted.
_PERSONAL = re.compile(r"[^\s@]@[^\s@]|\d(?:[\s().+/-]?\d){6,}")


def search(kind: str, words: str, slugs=(), *, found: bool | None = None) -> Use:
    """A query and the terms it counts for; ``found`` defaults to whether any."""
    slugs = tuple(dict.fromkeys(slugs))
    found = bool(slugs) if found is None else found
    query = normalised(words)
    if _PERSONAL.search(query):
        query = ""
    return Use(_plain(kind), slugs, query, found)


WIDGET = _WIDGET = UsageSource.WIDGET.value
_RECONCILE, _API, _MCP, _PAGES = (
    UsageSource.RECONCILE.value,
    UsageSource.API.value,
    UsageSource.MCP.value,
    UsageSource.PAGES.value,
)


def from_widget(environ) -> bool:
    """Whether the request names itself as the widget."""
    client = environ.get(_CLIENT_META)
    return bool(client) and client.strip().lower() == _WIDGET


def path_source(path: str) -> str:
    """Where a request to ``path`` came from, when not from the widget."""
    if path.startswith("/api/"):
        return _RECONCILE if path.startswith("/api/v1/reconcile") else _API
    return _MCP if path.startswith("/mcp") else _PAGES


def source_of(environ) -> str:
    """Where a request came from, as far as counting goes."""
    if from_widget(environ):
        return _WIDGET
    return path_source(environ.get("PATH_INFO", ""))


def note(environ, uses) -> None:
    """Count ``uses`` for the request whose WSGI environ (``request.META``) this
    is, and leave them there for a cache that keeps the response."""
    if not uses or not settings.GLOSSARY_USAGE:
        return
    environ.setdefault(USAGE_KEY, []).extend(uses)
    record(source_of(environ), uses)


def kept(environ) -> tuple[Use, ...]:
    """The uses a request noted, for a cache to keep with its response."""
    return tuple(environ.get(USAGE_KEY, ()))


# --- the process's buffer ---

_lock = threading.Lock()
_terms: Counter = Counter()
_searches: Counter = Counter()
_dropped = [0]
#: The day counts go to, and the moment (``time.time()``) it ends.
_day: list = [None, 0.0]


def _today(now: float) -> datetime.date:
    if now >= _day[1]:  # the process's TZ is Django's TIME_ZONE
        today = datetime.date.today()
        midnight = datetime.datetime.combine(
            today + datetime.timedelta(days=1), datetime.time.min
        )
        _day[0], _day[1] = today, midnight.timestamp()
    return _day[0]


def _add(counts: Counter, key: tuple, times: int, full: bool) -> None:
    """Add to ``key``'s count; a new key is dropped (and counted as such) when
    the buffer is full."""
    if key in counts:
        counts[key] += times
    elif full:
        _dropped[0] += times
    else:
        counts[key] = times


def record(source: str, uses, times: int = 1) -> None:
    """Add ``uses`` from ``source`` (``times`` over) to this process's counts.

    Plain dictionaries of tuples of plain strings (an enum member's hash is a
    Python call), the day worked out once a day, the writer's start checked by
    one flag.
    """
    if not settings.GLOSSARY_USAGE:
        return
    day = _today(time.time())
    with _lock:
        full = len(_terms) + len(_searches) >= MAX_KEYS
        for use in uses:
            for slug in use.slugs:
                _add(_terms, (day, slug, source, use.kind), times, full)
            if use.query:
                _add(_searches, (day, use.query, source, use.found), times, full)
    if not _started[0]:
        _ensure_flusher()


def forget() -> None:
    """Drop this process's counts (tests)."""
    with _lock:
        _terms.clear()
        _searches.clear()


#: What keeps hits of its own to add before each write (the front caches).
_harvesters: "weakref.WeakSet" = weakref.WeakSet()


def harvested_by(keeper) -> None:
    """Have ``keeper.harvest()`` add the hits it kept before each write."""
    _harvesters.add(keeper)


def flush() -> int:
    """Write this process's counts to the database; how many rows were added
    to. On a database error the counts go back into the buffer."""
    for keeper in list(_harvesters):
        keeper.harvest()
    with _lock:
        terms, searches = Counter(_terms), Counter(_searches)
        _terms.clear()
        _searches.clear()
        dropped, _dropped[0] = _dropped[0], 0
    if dropped:
        _log.warning("%d uses were not counted: the buffer was full", dropped)
    if not terms and not searches:
        return 0
    try:
        _write(terms, searches)
    except DatabaseError:
        with _lock:
            _terms.update(terms)
            _searches.update(searches)
        raise
    return len(terms) + len(searches)


def _upsert(model, keys: tuple[str, ...], rows) -> None:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(name) for name in (*keys, "count"))
    marks = ", ".join(["%s"] * (len(keys) + 1))
    conflict = ", ".join(quote(name) for name in keys)
    count = quote("count")
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET "
        f"{count} = {table}.{count} + excluded.{count}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _write(terms: Counter, searches: Counter) -> None:
    # Django's bulk_create(update_conflicts=True) can only replace a count, not
    # add to it; this is the one upsert that adds, in both databases' syntax.
    with transaction.atomic():
        if terms:
            _upsert(
                TermUse,
                ("day", "slug", "source", "kind"),
                [(*key, n) for key, n in sorted(terms.items())],
            )
        if searches:
            _upsert(
                SearchUse,
                ("day", "query", "source", "found"),
                [(*key, n) for key, n in sorted(searches.items())],
            )


# --- the thread that writes the buffer ---

#: Whether this process's writer runs (a forked child has none, and no counts).
_started = [False]
_start_lock = threading.Lock()


def _after_fork() -> None:
    global _lock, _start_lock
    _lock, _start_lock = threading.Lock(), threading.Lock()
    _terms.clear()
    _searches.clear()
    _started[0] = False


os.register_at_fork(after_in_child=_after_fork)


def start() -> None:
    """Start this process's writer now (a serving process, as it loads the
    application), so that ``manage.py usage flush`` reaches it before it has
    counted anything."""
    if settings.GLOSSARY_USAGE:
        _ensure_flusher()


def _ensure_flusher() -> None:
    interval = settings.GLOSSARY_USAGE_FLUSH_SECONDS
    if interval <= 0 or _started[0]:
        return
    with _start_lock:
        if _started[0]:
            return
        _started[0] = True
        threading.Thread(
            target=_flusher, args=(interval,), name="usage-flush", daemon=True
        ).start()
        atexit.register(_flush_quietly)


def _flush_quietly() -> None:
    try:
        flush()
    except DatabaseError as error:
        _log.warning("usage counts not written: %s", error)
    except Exception:  # the thread must outlive any one failed write
        _log.exception("usage counts not written")
    finally:
        connections.close_all()  # this thread's own connections only


def _flusher(interval: float) -> None:
    """Write the counts every ``interval`` seconds, or at once when asked."""
    subscription = None
    while True:
        deadline = time.monotonic() + interval
        try:
            subscription = subscription or _subscribe()
            reply = _wait(subscription, deadline)
        except redis.RedisError as error:
            _log.info("usage: flush requests not heard (%s)", error)
            subscription, reply = None, None
            time.sleep(max(0.0, deadline - time.monotonic()))
        _flush_quietly()
        if reply:
            _acknowledge(reply)


def _subscribe():
    redis_client = stamp.client()
    if redis_client is None:
        return None
    subscription = redis_client.pubsub(ignore_subscribe_messages=True)
    subscription.subscribe(_channel(redis_client))
    return subscription


def _wait(subscription, deadline: float) -> str | None:
    """Sleep until ``deadline``; the reply list's name if asked to flush first."""
    while (left := deadline - time.monotonic()) > 0:
        if subscription is None:
            time.sleep(left)
            return None
        message = subscription.get_message(timeout=left)
        if message and message.get("type") == "message":
            data = message["data"]
            return data.decode() if isinstance(data, bytes) else str(data)
    return None


def _acknowledge(reply: str) -> None:
    redis_client = stamp.client()
    try:
        if redis_client is not None:
            redis_client.rpush(reply, os.getpid())
            redis_client.expire(reply, 60)
    except redis.RedisError as error:
        _log.info("usage: flush not acknowledged (%s)", error)


def _channel(redis_client) -> str:
    number = redis_client.connection_pool.connection_kwargs.get("db", 0)
    return f"{FLUSH_CHANNEL}:{number}"


def ask_to_flush(timeout: float = 10.0) -> tuple[int, int] | None:
    """Ask every serving process to write its counts now; ``(written, asked)``
    once they have answered (or ``timeout`` passed), None without Redis."""
    redis_client = stamp.client()
    if redis_client is None:
        return None
    reply = f"glossary:usage:flushed:{uuid.uuid4().hex}"
    asked = redis_client.publish(_channel(redis_client), reply)
    written = 0
    deadline = time.monotonic() + timeout
    while written < asked and time.monotonic() < deadline:
        # One second at a time: the client's socket times out after two.
        if redis_client.blpop([reply], timeout=1) is not None:
            written += 1
    redis_client.delete(reply)
    return written, asked
