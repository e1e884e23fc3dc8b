"""The glossary's version stamp in Redis, as plain text every process can read.

Cached reads are keyed on the stamp (version and change time). With Redis as
the cache, the stamp lives there as ``"<version>:<microseconds>"`` under one
key, outside Django's cache serialisation, so the front cache
(``terms.frontcache``) can read it in the same round trip as the request
counter of the throttle. Writers drop it as they write and set the new one when
their transaction commits (``terms.services.glossary_touch``); a reader that
finds none asks the database and puts it back.

Without Redis (the zero-setup memory cache) there is no shared place for it,
and readers ask the database (one small query).
"""

import datetime
from dataclasses import dataclass

import redis
from django.conf import settings

__all__ = ["KEY", "Stamp", "client", "decode", "encode"]

KEY = "glossary:stamp:v2"

_clients: dict[str, redis.Redis] = {}
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


@dataclass(frozen=True)
class Stamp:
    """The glossary's version and change time: what cached reads are keyed on."""

    version: int
    changed_at: datetime.datetime

    @property
    def token(self) -> str:
        """The stamp as text: ``"<version>:<microseconds since the epoch>"``."""
        return encode(self.version, self.changed_at)


def encode(version: int, changed_at: datetime.datetime) -> str:
    """The stamp as stored: ``"<version>:<microseconds>"``."""
    # Integer arithmetic: a float timestamp can be a microsecond off.
    return f"{version}:{(changed_at - _EPOCH) // _MICROSECOND}"


def decode(raw: bytes | str) -> Stamp:
    """The stamp from its stored text."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    version, micros = text.split(":")
    return Stamp(int(version), _EPOCH + int(micros) * _MICROSECOND)


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
