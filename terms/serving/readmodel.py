"""The read model: a term's anonymous JSON detail served by one query.

Most reads of the API are anonymous ``GET /api/v1/terms/{slug}/``. The caches
(``terms.serving.frontcache``, ``terms.api.caching``) are keyed on the glossary's stamp,
so any write anywhere empties them, and the next read of each term renders it
again (about ten queries and the serializers). The read model keeps each
term's rendered detail in the database (``TermRead``) instead, and a write
deletes only the details it changes:

- **Stored by a read.** When ``ReadModelApp`` finds no stored detail it lets
  Django answer and marks the request; the view stores what it rendered, with
  the ids of the other terms the detail shows something of (the targets of its
  links, the terms linking to it, its replacement: ``TermReadDependency``). It
  is stored only if the glossary's version is still the one the read started
  with, checked under a share lock on the version row (PostgreSQL) or the
  write lock (SQLite): a write that committed meanwhile, or is committing,
  leaves nothing stale behind.
- **Deleted by writes.** ``services.glossary_touch`` takes the ids of the terms
  a write changed and, after taking the version row's lock, deletes their
  stored details, those of terms whose links now point at them or that they
  now point at, and those that recorded one of them as a dependency. Writes
  that do not say which terms they changed (roles, categories, tags, site
  texts, large imports) delete them all.
- **Served before Django.** ``ReadModelApp`` (in ``glossary.wsgi``, behind the
  front cache) answers an anonymous ``GET`` of a term's detail asking for
  plain JSON (no query string, no ``Accept-Language``, no ``Origin``) from one
  query that joins the stored detail, the term (its version and status must
  still match) and the glossary's version (for ``ETag`` and
  ``Last-Modified``). The site's origin is put into the stored body, the
  headers are the ones Django sent for such a read in this process, and
  ``If-None-Match`` gets a 304. The anonymous throttle counts it as usual.

It needs no Redis, so it is the uncached read path too (``GLOSSARY_CACHE_URL=none``);
``GLOSSARY_READ_MODEL=off`` turns it off.
"""

import datetime
import functools
import json
import re
import time
from collections.abc import Iterable

import psycopg
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date

from terms.events import GlossaryChanged
from terms.models import Relationship, Term, TermRead, TermReadDependency, UsageKind
from terms.serving import throttle, usage
from terms.serving.frontcache import (
    MARK_HEADER,
    TOKEN_KEY,
    counted_allowed,
    etag_matches,
    has_credentials,
)

__all__ = [
    "MARKER_JSON",
    "MISSING",
    "TOKEN_KEY",
    "ReadModelApp",
    "invalidate",
    "marked_request",
    "origin_json",
    "store",
    "wanted",
]

#: Where the origin goes in a stored body: JSON writes it as ``\u0000origin\u0000``,
#: which no text of a term can produce (a backslash in a text is doubled).
MARKER = "\x00origin\x00"
MARKER_JSON = b"\\u0000origin\\u0000"
#: Set in the WSGI environ when no stored detail was found: the view stores one.
MISSING = "glossary.read_model_missing"
#: More changed terms than this delete every stored detail (a bulk write).
MANY = 1000

_DETAIL = re.compile(r"^/api/v1/terms/([^/]+)/$")
_PLAIN_JSON = frozenset({"", "*/*", "application/json"})
_DYNAMIC = frozenset({"etag", "last-modified", "content-length", MARK_HEADER.lower()})
_UTC = datetime.UTC


def enabled() -> bool:
    """Whether the read model is on (``GLOSSARY_READ_MODEL``)."""
    return settings.GLOSSARY_READ_MODEL


def _slug(environ) -> str | None:
    """The slug of an anonymous plain-JSON detail read, else None."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
        return None
    match = _DETAIL.match(environ.get("PATH_INFO", ""))
    if match is None:
        return None
    if environ.get("HTTP_ACCEPT", "").strip() not in _PLAIN_JSON:
        return None
    if environ.get("HTTP_ACCEPT_LANGUAGE") or environ.get("HTTP_ORIGIN"):
        return None
    if has_credentials(environ):
        return None
    try:  # WSGI hands the path over as Latin-1; slugs are UTF-8
        return match.group(1).encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None


def _statuses() -> list[str]:
    from terms.reads.selectors import public_statuses

    return public_statuses()


def _variant(statuses: list[str]) -> str:
    """What else a stored detail was rendered under: the statuses anonymous
    readers see (which links resolve) and the glossary's language. A detail
    stored under other settings is not served (a deployment changed them)."""
    from terms.reads.languages import default_language

    return f"{','.join(statuses)}|{default_language()}"


def _read(slug: str):
    """``(body, token, glossary version, changed at)`` or None: one query (on
    PostgreSQL a prepared statement, planned once per connection)."""
    if connection.close_at is not None and time.monotonic() >= connection.close_at:
        connection.close()  # CONN_MAX_AGE, as Django does between requests
    statuses = _statuses()
    sql = _sql(len(statuses))
    values = [slug, _variant(statuses), *statuses]
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        # Django's own cursors bind on the client, which cannot prepare.
        started = time.monotonic()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, values, prepare=True, binary=True)
            row = cursor.fetchone()
        if connection.queries_logged:  # as Django's debug cursor logs its own
            elapsed = time.monotonic() - started
            connection.queries_log.append({"sql": sql, "time": f"{elapsed:.3f}"})
        return row
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchone()


@functools.cache
def _sql(statuses: int) -> str:
    places = ", ".join(["%s"] * statuses)
    return (
        f"SELECT r.body, r.token, g.public_version, "
        f"COALESCE(g.public_changed_at, g.changed_at) "
        f"FROM {TermRead._meta.db_table} r "
        f"JOIN {Term._meta.db_table} t ON t.id = r.term_id "
        f"CROSS JOIN terms_glossarystate g "
        f"WHERE r.slug = %s AND r.variant = %s AND g.id = 1 "
        f"AND t.version = r.version "
        f"AND t.status IN ({places})"
    )


#: Origins by what decides them, so most requests skip building one.
_origins: dict[tuple, str] = {}


def _origin(environ) -> str:
    """The request's scheme and host as Django works them out (None: a host
    Django refuses)."""
    key = (
        environ.get("wsgi.url_scheme"),
        environ.get("HTTP_HOST"),
        environ.get("HTTP_X_FORWARDED_HOST"),
        environ.get("HTTP_X_FORWARDED_PROTO"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
    )
    found = _origins.get(key)
    if found is None:
        try:
            found = WSGIRequest(environ).build_absolute_uri("/")[:-1]
        except DisallowedHost:
            return None
        if len(_origins) >= 256:
            _origins.clear()
        _origins[key] = found
    return found


def _aware(value) -> datetime.datetime:
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=_UTC)


def origin_json(origin: str) -> bytes:
    """The origin as it goes into a JSON string."""
    return json.dumps(origin, ensure_ascii=False)[1:-1].encode()


class ReadModelApp:
    """WSGI middleware: answer anonymous detail reads from the stored details."""

    def __init__(self, app):
        self.app = app
        #: Django's headers for such a read, learned from its first answer.
        self.headers: list[tuple[str, str]] | None = None

    def __call__(self, environ, start_response):
        slug = _slug(environ) if enabled() else None
        if slug is None:
            return self.app(environ, start_response)
        counted = environ.get(throttle.ENVIRON_KEY)
        if counted is None:
            counted = throttle.count(environ.get("REMOTE_ADDR", ""))
            if counted is not None:
                environ[throttle.ENVIRON_KEY] = counted
        if not counted_allowed(counted):
            return self.app(environ, start_response)  # DRF answers 429
        origin = _origin(environ)
        if origin is None:
            return self.app(environ, start_response)  # Django answers 400
        try:
            row = _read(slug)
        except (DatabaseError, psycopg.Error):
            connection.close()
            return self.app(environ, start_response)  # 503 or a rendered read
        if row is None:
            environ[MISSING] = True
            return self._learning(environ, start_response)
        if self.headers is None:
            return self._learning(environ, start_response)
        return self._serve(slug, row, origin, environ, start_response)

    def _serve(self, slug: str, row, origin: str, environ, start_response):
        body, token, version, changed_at = row
        etag = f'"{token}.g{version}"'
        headers = [
            *self.headers,
            ("ETag", etag),
            ("Last-Modified", http_date(_aware(changed_at).timestamp())),
        ]
        front_token = environ.get(TOKEN_KEY)
        if front_token:
            headers.append((MARK_HEADER, front_token))
        header = environ.get("HTTP_IF_NONE_MATCH")
        if header and etag_matches(header, etag):
            kept = [(k, v) for k, v in headers if k.lower() != "content-type"]
            start_response("304 Not Modified", kept)
            return [b""]
        body = bytes(body).replace(MARKER_JSON, origin_json(origin))
        usage.note(environ, (usage.terms_used(UsageKind.VIEW, (slug,)),))
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [body]

    def _learning(self, environ, start_response):
        """Django answers; its headers for a 200 are kept for later answers."""
        if self.headers is not None:
            return self.app(environ, start_response)

        def capture(status, headers, exc_info=None):
            names = {name.lower() for name, _ in headers}
            if status.startswith("200 ") and "set-cookie" not in names:
                self.headers = [
                    (name, value)
                    for name, value in headers
                    if name.lower() not in _DYNAMIC
                ]
            return start_response(status, headers, exc_info)

        return self.app(environ, capture)


# --- stored by a read ---


def wanted(request) -> bool:
    """Whether the view should store what it renders for this request."""
    return enabled() and bool(request.META.get(MISSING))


class _MarkedRequest:
    """The request, with the origin left as ``MARKER`` in absolute URLs."""

    def __init__(self, request):
        self._request = request

    def __getattr__(self, name):
        return getattr(self._request, name)

    def build_absolute_uri(self, location=None):
        """``MARKER`` then the path: the origin goes in as it is served."""
        return MARKER + (location if location is not None else self._request.path)


def marked_request(request):
    """``request`` for serializers rendering a body to store."""
    return _MarkedRequest(request)


def _dependencies(term: Term) -> set[int]:
    """Other terms whose writes change what this term's detail shows."""
    found = set(
        Relationship.objects.filter(term_id=term.pk, target__isnull=False).values_list(
            "target_id", flat=True
        )
    )
    found |= set(
        Relationship.objects.filter(target_id=term.pk).values_list("term_id", flat=True)
    )
    if term.replaced_by_id:
        found.add(term.replaced_by_id)
    found.discard(term.pk)
    return found


def _version_locked() -> int | None:
    """The glossary's version, with its row share-locked on PostgreSQL (SQLite's
    transactions here take the write lock as they begin)."""
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM terms_glossarystate WHERE id = 1{lock}")
        row = cursor.fetchone()
    return row[0] if row else None


def store(term: Term, token: str, body: bytes, version_seen: int) -> bool:
    """Keep ``body`` (rendered with ``MARKER``) as ``term``'s detail, if the
    glossary is still at ``version_seen``; whether it was kept."""
    depends = _dependencies(term)
    variant = _variant(_statuses())
    with transaction.atomic():
        if _version_locked() != version_seen:
            return False
        # One stored under other settings (public statuses, language) goes.
        TermRead.objects.filter(pk=term.pk).exclude(variant=variant).delete()
        try:
            with transaction.atomic():
                TermRead.objects.create(
                    term_id=term.pk,
                    slug=term.slug,
                    version=term.version,
                    token=token,
                    variant=variant,
                    body=body,
                )
        except IntegrityError:  # another read stored it first
            return False
        TermReadDependency.objects.bulk_create(
            TermReadDependency(read_id=term.pk, depends_on=other) for other in depends
        )
    return True


# --- deleted by writes ---


def on_glossary_change(change) -> None:
    """Drop the stored details a write affects (``GLOSSARY_EVENTS_PIPELINE``).

    Announced after the version row is locked: a read storing a detail
    meanwhile either committed before (and is deleted here) or waits and then
    sees the new version (and stores nothing).
    """
    if isinstance(change, GlossaryChanged):
        invalidate(change.terms)


def invalidate(changed: Iterable[int] | None) -> None:
    """Delete the stored details that terms ``changed`` (ids; None: any term
    may have changed) affect, in the writing transaction."""
    ids = None if changed is None else set(changed)
    if ids is not None and not ids:
        return
    if ids is None or len(ids) > MANY:
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TermReadDependency._meta.db_table}")
            cursor.execute(f"DELETE FROM {TermRead._meta.db_table}")
        return
    # The stored details of the changed terms, of terms linking to them or
    # linked from them now, and of those that recorded showing one of them. Two
    # statements, details first: the second still finds what the first used
    # (the dependency's foreign key is checked when the transaction commits).
    places = ", ".join(["%s"] * len(ids))
    links = Relationship._meta.db_table
    affected = (
        f"SELECT term_id FROM {links} WHERE target_id IN ({places}) "
        f"UNION SELECT target_id FROM {links} "
        f"WHERE term_id IN ({places}) AND target_id IS NOT NULL "
        f"UNION SELECT read_id FROM {TermReadDependency._meta.db_table} "
        f"WHERE depends_on IN ({places})"
    )
    values = [*ids, *ids, *ids]
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {TermRead._meta.db_table} "
            f"WHERE term_id IN ({places}) OR term_id IN ({affected})",
            [*ids, *values],
        )
        cursor.execute(
            f"DELETE FROM {TermReadDependency._meta.db_table} "
            f"WHERE read_id IN ({places}) OR read_id IN ({affected})",
            [*ids, *values],
        )
