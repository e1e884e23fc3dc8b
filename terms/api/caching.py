"""Conditional and cached reads keyed on the glossary version.

Every write bumps the glossary version (``terms.workflow.services.glossary_touch``). A
read
looks up that version (one cheap query), and serves a rendered response cached
under a key made of the version, the URL, the renderer and what the reader may
see. A write therefore invalidates every cached response at once, without
tracking which responses it affected.

While Redis does not answer, the cache is skipped (``_cached``/``_keep``): the
read is rendered from the database, never a 500.

Responses carry ``ETag`` and ``Last-Modified``; a matching ``If-None-Match``
gets ``304 Not Modified``. A term's ETag starts with a token of that term's own
version, which is what ``If-Match`` on a write is compared with, so a change to
another term does not make a client's ETag stale.
"""

import hashlib
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import http_date, parse_etags
from rest_framework.response import Response

from terms.api.params import reader_languages
from terms.reads.selectors import term_token
from terms.serving import snapshots, stamp, usage
from terms.serving.frontcache import MARK_HEADER
from terms.serving.stamp import glossary_stamp

#: Reads as of a release never change: any cache may keep them for a year.
IMMUTABLE = "public, max-age=31536000, immutable"


def term_etag(
    term, glossary_version: int, *, signed_in: bool = True, fmt: str = "json"
) -> str:
    """The ETag of a term's representation in ``fmt``: its own token, then the
    glossary's (for anonymous readers, both as they can see them), then the
    format for any but JSON, so a client holding the JSON's ETag is not told
    its Turtle is unchanged (RFC 9110: one ETag per representation)."""
    suffix = "" if fmt == "json" else f".{fmt}"
    return f'"{term_token(term, pending=signed_in)}.g{glossary_version}{suffix}"'


def if_match(request) -> set[str] | None:
    """The term versions ``If-Match`` names (the workflow's ``expected``); None
    when it names none (no header, or ``*``)."""
    header = request.headers.get("If-Match")
    if not header or header.strip() == "*":
        return None
    return {_opaque(etag).split(".g")[0] for etag in parse_etags(header)}


class _CachedResponse(Exception):
    """Carries a cached response out of ``initial``, past the handler."""

    def __init__(self, response):
        super().__init__("cached response")
        self.response = response


@dataclass
class _Entry:
    status: int
    content: bytes
    content_type: str
    etag: str
    last_modified: str
    #: The uses the read noted (``terms.serving.usage``), noted again per hit.
    uses: tuple = ()


def _etag_matches(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    return header.strip() == "*" or _opaque(etag) in {
        _opaque(item) for item in parse_etags(header)
    }


def _cached(key: str):
    """The cached entry under ``key``; None when absent or Redis is down."""
    if not stamp.reachable():
        return None
    try:
        return cache.get(key)
    except redis.RedisError as error:
        stamp.failed(error)
        return None


def _keep(key: str, entry) -> None:
    """Cache ``entry`` unless Redis is down."""
    if not stamp.reachable():
        return
    try:
        cache.set(key, entry, settings.GLOSSARY_CACHE_SECONDS)
    except redis.RedisError as error:
        stamp.failed(error)


def _opaque(etag: str) -> str:
    """An ETag without its weak prefix and quotes."""
    return etag.removeprefix("W/").strip('"')


class GlossaryCacheMixin:
    """Add to a DRF view to cache and validate its GET responses (after
    ``terms.api.base.GlossaryAPIMixin``, which says what the reader may see)."""

    #: Set by a view when it rendered a single term, for a per-term ETag.
    etag_term = None
    #: Response statuses worth caching.
    cached_statuses = (200,)
    #: The view shows terms in the reader's languages (``?lang=``).
    localized = False
    #: The reader's languages other than the default (set in ``initial``).
    languages: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.cache_key = None
        if self.localized:
            self.languages = reader_languages(request)
        if request.method not in ("GET", "HEAD"):
            return
        state = glossary_stamp()
        #: The stamp, and the version and time this reader is shown (an
        #: anonymous reader's move only with writes they can see).
        self.stamp = state
        shown_version, shown_at = state.shown(request.user.is_authenticated)
        self.glossary_version = shown_version
        self.last_modified = http_date(shown_at.timestamp())
        parts = [
            # Bodies hold absolute URLs built from the request's origin: one
            # reader's Host must never shape what another is served.
            request.build_absolute_uri("/"),
            request.path,
            request.META.get("QUERY_STRING", ""),
            getattr(request.accepted_renderer, "format", ""),
            # The full media type: its parameters (indent=8) change the body.
            getattr(request, "accepted_media_type", ""),
            ",".join(self.statuses),
            ",".join(self.languages),
        ]
        digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
        # The change time guards against a version number seen twice (a restored
        # database backup, say).
        self.stamp_token = state.token
        self.cache_key = f"glossary:v{state.token}:{digest}"
        self.list_etag = f'"g{shown_version}.{digest[:16]}"'
        release = getattr(self, "release", None)
        if release is not None:
            # As of a release: the same answer for ever, whatever is written.
            edition = snapshots.identity(release)
            self.cache_key = f"glossary:release:{edition}:{digest}"
            self.list_etag = f'"r{release.sequence}.{digest[:16]}"'
            self.last_modified = http_date(release.published_at.timestamp())
        if getattr(self, "action", None) != "retrieve" and _etag_matches(
            request, self.list_etag
        ):
            # The ETag is known before anything is read or rendered (one term's
            # depends on that term's own version, so it needs the term first).
            self.cache_key = None
            response = HttpResponseNotModified()
            self._set_headers(request, response, self.list_etag, self.last_modified)
            raise _CachedResponse(response)
        entry = _cached(self.cache_key)
        if entry is not None:
            self.cache_key = None
            # Leave through DRF's own exception path: the handler never runs.
            raise _CachedResponse(self._from_entry(request, entry))

    def handle_exception(self, exc):
        """Serve a cached response found in ``initial``; other errors as usual."""
        if isinstance(exc, _CachedResponse):
            return exc.response
        return super().handle_exception(exc)

    def _from_entry(self, request, entry: _Entry):
        if _etag_matches(request, entry.etag):
            response = HttpResponseNotModified()
        else:
            response = HttpResponse(
                entry.content, status=entry.status, content_type=entry.content_type
            )
            self._mark_shareable(request, response)
            usage.note(request.META, entry.uses)
        self._set_headers(request, response, entry.etag, entry.last_modified)
        return response

    def _mark_shareable(self, request, response) -> None:
        """Let the front cache keep an anonymous reader's full response."""
        if not request.user.is_authenticated:
            response[MARK_HEADER] = self.stamp_token

    def _set_headers(self, request, response, etag: str, last_modified: str) -> None:
        response["ETag"] = etag
        response["Last-Modified"] = last_modified
        private = request.user.is_authenticated
        if getattr(self, "release", None) is not None:
            response["Cache-Control"] = IMMUTABLE
        else:
            shared = "private" if private else "public"
            response["Cache-Control"] = f"{shared}, no-cache"
        response["Vary"] = "Accept, Accept-Language, Authorization, Cookie, Origin"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        key = getattr(self, "cache_key", None)
        if (
            not key
            or response.status_code not in self.cached_statuses
            or not isinstance(response, Response)
        ):
            return response
        etag = (
            term_etag(
                self.etag_term,
                self.glossary_version,
                signed_in=request.user.is_authenticated,
                fmt=getattr(request.accepted_renderer, "format", None) or "json",
            )
            if self.etag_term is not None and getattr(self, "release", None) is None
            else self.list_etag
        )
        response.render()
        entry = _Entry(
            status=response.status_code,
            content=response.content,
            content_type=response["Content-Type"],
            etag=etag,
            last_modified=self.last_modified,
            uses=usage.kept(request.META),
        )
        _keep(key, entry)
        if _etag_matches(request, etag):
            return self._from_entry(request, entry)
        self._set_headers(request, response, etag, self.last_modified)
        self._mark_shareable(request, response)
        return response
