"""The front cache: anonymous API reads answered before Django runs.

A WSGI wrapper around the Django application (``glossary.wsgi``). Each worker
process keeps the rendered bytes of the anonymous reads it has served, keyed on
what the response depends on (path, query, ``Accept``, ``Accept-Language``,
``Origin``) and on the glossary's stamp. A request it can answer costs a look
at the process's watch on the stamp (``terms.serving.stamp.watched``: a non-blocking
check of a Redis subscription), a count for the anonymous throttle (from
numbers the process holds, or one Redis round trip: ``terms.serving.throttle``) and a
dictionary lookup: no middleware, no view, no SQL, no rendering.
``If-None-Match`` is compared with the stored ETag first.

Freshness: the stamp changes with every write in any process
(``terms.workflow.services.glossary_touch``), is published to every watch, and is gone
while a write is in flight, so an entry made for an older stamp is never served
after the write commits, on any worker. Only responses the API marks as
shareable are kept: anonymous reads that its own cache tier
(``terms.api.caching``) stores, rendered for the stamp the front cache read
before passing the request on.

It is inactive without Redis (nowhere to share a stamp through), while Redis
does not answer (``terms.serving.stamp``'s outage rule: Django reads the database), for
requests with credentials (``Authorization`` or a session cookie) and for
anything but ``GET`` under ``/api/v1/``; those go to Django as before.
"""

import threading
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.utils.http import parse_etags

from terms.serving import stamp, throttle, usage

__all__ = [
    "MARK_HEADER",
    "TOKEN_KEY",
    "FrontCache",
    "counted_allowed",
    "etag_matches",
    "has_credentials",
]

#: Set by the API on a response the front cache may keep: the stamp it is for.
MARK_HEADER = "X-Glossary-Shareable"
_MARK = MARK_HEADER.lower()
#: Set in the WSGI environ as a request goes on: the stamp an entry would be for.
TOKEN_KEY = "glossary.front_token"
_PREFIX = "/api/v1/"
#: Bodies above this size are left to the shared cache (a whole large export).
MAX_BODY_BYTES = 8 * 1024 * 1024


#: Hosts already judged, for the ``ALLOWED_HOSTS`` list they were judged by
#: (a third of this path's time went to judging the same host again).
_hosts: dict[str, bool] = {}
_hosts_for: list = [None]


def _host_allowed(environ) -> bool:
    """Whether Django would accept the request's host (``ALLOWED_HOSTS``);
    nothing is served from or kept in the cache for one it refuses."""
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    allowed = settings.ALLOWED_HOSTS
    if _hosts_for[0] is not allowed:
        _hosts.clear()
        _hosts_for[0] = allowed
    known = _hosts.get(host)
    if known is None:
        from django.http.request import split_domain_port, validate_host

        domain, _ = split_domain_port(host)
        if settings.DEBUG and not allowed:
            allowed = [".localhost", "127.0.0.1", "[::1]"]
        known = bool(domain) and validate_host(domain, allowed)
        if len(_hosts) >= 256:
            _hosts.clear()
        _hosts[host] = known
    return known


@dataclass(frozen=True)
class _Entry:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    #: What the read counted (``terms.serving.usage``), and where such a read
    #: comes from unless from the widget.
    uses: tuple = ()
    source: str = ""
    #: Hits since the last harvest: from elsewhere, from the widget.
    hits: list = field(default_factory=lambda: [0, 0])


class FrontCache:
    """WSGI middleware: serve stored anonymous API reads while the stamp holds."""

    def __init__(self, app, *, max_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes or settings.GLOSSARY_FRONT_CACHE_MB * 1024 * 1024
        self.token: str | None = None
        self.entries: dict[tuple, _Entry] = {}
        self.size = 0
        self.lock = threading.Lock()
        usage.harvested_by(self)

    def __call__(self, environ, start_response):
        if not self._eligible(environ):
            return self.app(environ, start_response)
        redis_client = stamp.client()
        if redis_client is None or not stamp.reachable():
            return self.app(environ, start_response)
        counted = throttle.count(environ.get("REMOTE_ADDR", ""))
        if counted is not None:
            environ[throttle.ENVIRON_KEY] = counted
        try:
            # Usually no round trip: the process's watch on the stamp.
            token = stamp.watched(redis_client)
        except redis.RedisError as error:
            stamp.failed(error)
            return self.app(environ, start_response)
        if token is None or not counted_allowed(counted):
            # No stamp (a write is in flight), or over the limit (DRF answers 429).
            return self.app(environ, _without_mark(start_response))
        if not _host_allowed(environ):
            return self.app(environ, start_response)  # Django answers 400
        key = (
            # The origin as Django builds absolute URLs from it.
            environ.get("wsgi.url_scheme", ""),
            environ.get("HTTP_HOST", ""),
            environ.get("HTTP_X_FORWARDED_HOST", ""),
            environ.get("HTTP_X_FORWARDED_PROTO", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT", ""),
            environ.get("HTTP_ACCEPT_LANGUAGE", ""),
            environ.get("HTTP_ORIGIN", ""),
        )
        with self.lock:
            if token != self.token:
                self._harvest(self.entries.values())
                self.token, self.entries, self.size = token, {}, 0
            entry = self.entries.get(key)
        if entry is not None:
            return self._serve(entry, environ, start_response)
        return self._fill(key, token, environ, start_response)

    @staticmethod
    def _eligible(environ) -> bool:
        if environ.get("REQUEST_METHOD") != "GET":
            return False
        if not environ.get("PATH_INFO", "").startswith(_PREFIX):
            return False
        return not has_credentials(environ)

    def _serve(self, entry: _Entry, environ, start_response):
        header = environ.get("HTTP_IF_NONE_MATCH")
        if header and entry.etag and etag_matches(header, entry.etag):
            kept = [(k, v) for k, v in entry.headers if k.lower() != "content-type"]
            kept = [(k, v) for k, v in kept if k.lower() != "content-length"]
            start_response("304 Not Modified", kept)
            return [b""]
        if entry.uses:
            with self.lock:
                entry.hits[usage.from_widget(environ)] += 1
        start_response(entry.status, entry.headers)
        return [entry.body]

    def harvest(self) -> None:
        """Count the hits the entries kept (``terms.serving.usage``)."""
        with self.lock:
            self._harvest(self.entries.values())

    @staticmethod
    def _harvest(entries) -> None:
        """Count the hits of ``entries`` and start them again (lock held)."""
        for entry in entries:
            elsewhere, widget = entry.hits
            if elsewhere:
                usage.record(entry.source, entry.uses, elsewhere)
            if widget:
                usage.record(usage.WIDGET, entry.uses, widget)
            entry.hits[:] = [0, 0]

    def _fill(self, key, token: str, environ, start_response):
        seen: dict = {}
        environ[TOKEN_KEY] = token

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return _without_mark(start_response)(status, headers, exc_info)

        result = self.app(environ, capture)
        headers = seen.get("headers") or []
        mark = next((v for k, v in headers if k.lower() == _MARK), None)
        if mark != token:
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if len(body) <= MAX_BODY_BYTES:
            shown = [(k, v) for k, v in headers if k.lower() != _MARK]
            etag = next((v for k, v in shown if k.lower() == "etag"), "")
            source = usage.path_source(environ.get("PATH_INFO", ""))
            entry = _Entry(
                seen["status"], shown, body, etag, usage.kept(environ), source
            )
            self._store(key, token, entry)
        return [body]

    def _store(self, key, token: str, entry: _Entry) -> None:
        with self.lock:
            if token != self.token or key in self.entries:
                return
            while self.entries and self.size + len(entry.body) > self.max_bytes:
                oldest = self.entries.pop(next(iter(self.entries)))
                self._harvest([oldest])
                self.size -= len(oldest.body)
            if len(entry.body) <= self.max_bytes:
                self.entries[key] = entry
                self.size += len(entry.body)


def has_credentials(environ) -> bool:
    """Whether a request carries a token or a session cookie (Django decides
    what such a reader sees)."""
    if environ.get("HTTP_AUTHORIZATION"):
        return True
    return f"{settings.SESSION_COOKIE_NAME}=" in environ.get("HTTP_COOKIE", "")


def counted_allowed(counted) -> bool:
    """Whether a request may go on (always, when the throttle is off)."""
    return counted is None or counted.allowed


def _without_mark(start_response):
    """``start_response`` that drops the API's internal mark."""

    def strip(status, headers, exc_info=None):
        return start_response(
            status, [(k, v) for k, v in headers if k.lower() != _MARK], exc_info
        )

    return strip


def etag_matches(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak or strong)."""
    if header.strip() == "*":
        return True
    mine = etag.removeprefix("W/").strip('"')
    return mine in {item.removeprefix("W/").strip('"') for item in parse_etags(header)}
