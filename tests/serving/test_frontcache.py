"""The front cache (``terms.serving.frontcache``) in front of the real Django application,
on a real Redis: repeated anonymous reads skip Django and SQL, stay fresh across
writes, honour If-None-Match, the throttle and credentials."""

import io
import wsgiref.util

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from glossary.wsgi import django_application
from terms.models import Term
from terms.serving import stamp, throttle
from terms.serving.frontcache import MARK_HEADER, FrontCache
from terms.serving.stamp import glossary_stamp
from tests.helpers import rewrite_prompt

pytestmark = pytest.mark.django_db


class Counting:
    """The Django application, counting the requests that reach it."""

    def __init__(self):
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return django_application(environ, start_response)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Django closes old database connections as a request starts and ends; the
    test's connection holds its transaction, so keep it (as Django's test client
    does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def front(redis_cache, fixtures_db):
    glossary_stamp()  # as in steady state: the stamp is in Redis
    return FrontCache(Counting(), max_bytes=4 * 1024 * 1024)


def call(app, path: str, method: str = "GET", **headers):
    """One request through the WSGI interface: status, headers, body."""
    path, _, query = path.partition("?")
    environ = {
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": "10.0.0.7",
        "REQUEST_METHOD": method,
    }
    environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    wsgiref.util.setup_testing_defaults(environ)
    environ["wsgi.input"] = io.BytesIO(b"")
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(response_headers)

    body = b"".join(app(environ, start_response))
    return int(seen["status"].split()[0]), seen["headers"], body


def test_a_repeated_read_skips_django_and_sql(front):
    status, headers, body = call(front, "/api/v1/terms/prompt/")
    assert status == 200
    assert front.app.calls == 1
    assert MARK_HEADER not in headers
    with CaptureQueriesContext(connection) as queries:
        again = call(front, "/api/v1/terms/prompt/")
    assert again == (status, headers, body)
    assert front.app.calls == 1
    assert queries.captured_queries == []
    # A 404 miss of a lookup is kept too; another Accept is another entry.
    call(front, "/api/v1/lookup/?q=nothing%20here")
    assert call(front, "/api/v1/lookup/?q=nothing%20here")[0] == 404
    assert front.app.calls == 2
    status, headers, _ = call(front, "/api/v1/terms/prompt/", accept="application/yaml")
    assert status == 200
    assert headers["Content-Type"].startswith("application/yaml")
    assert front.app.calls == 3


def test_if_none_match_is_answered_from_the_entry(front):
    _, headers, _ = call(front, "/api/v1/terms/prompt/")
    status, not_modified, body = call(
        front, "/api/v1/terms/prompt/", if_none_match=headers["ETag"]
    )
    assert (status, body) == (304, b"")
    assert not_modified["ETag"] == headers["ETag"]
    assert front.app.calls == 1
    assert call(front, "/api/v1/terms/prompt/", if_none_match='"other"')[0] == 200


def test_a_write_anywhere_makes_the_next_read_fresh(front, tmp_path):
    _, _, before = call(front, "/api/v1/terms/prompt/")
    rewrite_prompt(tmp_path, "Rewritten text.")
    status, _, after = call(front, "/api/v1/terms/prompt/")
    assert status == 200
    assert b"Rewritten text." in after
    assert after != before
    assert front.app.calls == 2


def test_without_a_stamp_reads_go_to_django_and_nothing_is_kept(front):
    stamp.drop(stamp.client())  # as while a write is in flight
    status, headers, _ = call(front, "/api/v1/terms/prompt/")
    assert status == 200
    assert MARK_HEADER not in headers
    assert front.entries == {}


def test_requests_with_credentials_always_reach_django(front):
    for _ in range(2):
        call(front, "/api/v1/terms/prompt/", authorization="Token nonsense")
    assert front.app.calls == 2
    for _ in range(2):
        call(front, "/api/v1/terms/prompt/", cookie="sessionid=abc")
    assert front.app.calls == 4
    # Only GET: HEAD and OPTIONS go to Django every time.
    for method in ("HEAD", "HEAD", "OPTIONS"):
        call(front, "/api/v1/stats/", method=method)
    assert front.app.calls == 7


def test_the_throttle_counts_each_request_once(front, settings):
    settings.GLOSSARY_ANON_THROTTLE_RATE = "3/minute"
    codes = [call(front, "/api/v1/stats/")[0] for _ in range(3)]
    assert codes == [200, 200, 200]
    status, headers, body = call(front, "/api/v1/stats/")
    assert status == 429
    assert int(headers["Retry-After"]) > 0
    assert b'"status":429' in body
    # The first request reached Django, the others did not: one count each.
    assert front.app.calls == 2  # the first read, and the refusal
    # Another address has its own count.
    assert throttle.count("10.0.0.8").requests == 1


def test_memory_stays_within_its_bound(redis_cache, fixtures_db):
    glossary_stamp()
    small = FrontCache(Counting(), max_bytes=6000)
    for slug in Term.objects.filter(status="approved").values_list("slug", flat=True):
        call(small, f"/api/v1/terms/{slug}/")
    assert 0 < small.size <= 6000
    assert small.size == sum(len(e.body) for e in small.entries.values())
