"""A Redis outage, on a Redis server of the test's own that it stops and starts:
reads keep answering from the database (never a 500, never stale), a write is
refused with a 503 and nothing written, and all is as before once Redis is back."""

import contextlib
import shutil
import socket
import subprocess
import time

import pytest
import redis
from django.test.utils import override_settings

from terms.models import Term
from terms.serving import stamp, throttle
from terms.serving.frontcache import FrontCache
from terms.serving.stamp import glossary_stamp
from tests.conftest import IN_CI
from tests.helpers import (
    api_client_for,
    base_term,
    make_user,
    rewrite_prompt,
    write_term,
)
from tests.serving.test_frontcache import Counting, _keep_the_test_connection, call  # noqa: F401

pytestmark = pytest.mark.django_db


class RedisServer:
    """A redis-server process on a free port, keeping nothing on disk."""

    def __init__(self, binary: str):
        self.binary = binary
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = None

    @property
    def location(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.location, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@contextlib.contextmanager
def redis_of_its_own():
    """A redis-server of the test's own as the cache (the settings pointed at
    it); stopped afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("redis-server is not installed; CI must run this")
        pytest.skip("redis-server is not installed")
    server = RedisServer(binary)
    server.start()
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.location,
            "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
        }
    }
    stamp.forget()
    with override_settings(CACHES=caches):
        yield server
        stamp.forget()
        throttle.forget()
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def own_redis(fixtures_db):
    with redis_of_its_own() as server:
        yield server


@pytest.fixture
def editor_api(db):
    user = make_user("editor", perms=("add_term", "change_term", "view_term"))
    return api_client_for(user)


def outage_over() -> None:
    """What a process does once its outage window has passed."""
    stamp.forget()


def test_reads_answer_from_the_database_while_redis_is_down(own_redis, api):
    front = FrontCache(Counting(), max_bytes=1024 * 1024)
    glossary_stamp()
    before = call(front, "/api/v1/terms/prompt/")
    assert before[0] == 200
    assert call(front, "/api/v1/terms/prompt/") == before
    assert front.app.calls == 1  # the second came from the front cache
    own_redis.stop()
    # Through the front cache: Django answers, from the database.
    status, _, body = call(front, "/api/v1/terms/prompt/")
    assert (status, body) == (200, before[2])
    assert front.app.calls == 2
    assert not stamp.reachable()  # this process now reads without Redis
    for url in (
        "/api/v1/terms/prompt/",
        "/api/v1/terms/?category=Language Models",
        "/api/v1/lookup/?q=prompts",
        "/api/v1/autocomplete/?q=pro",
        "/api/v1/stats/",
    ):
        assert api.get(url).status_code == 200, url
    # Past the outage window Redis is tried again: still down, still 200.
    outage_over()
    assert api.get("/api/v1/terms/prompt/").status_code == 200


def test_a_write_while_redis_is_down_is_refused_and_nothing_is_written(
    own_redis, editor_api, tmp_path
):
    glossary_stamp()
    own_redis.stop()
    before = Term.objects.count()
    document = base_term("outage term", status="draft")
    response = editor_api.post("/api/v1/terms/", document, format="json")
    assert response.status_code == 503
    assert response["Retry-After"]
    body = response.json()
    assert body["error"]["code"] == "cache_unavailable"
    assert "nothing was written" in body["error"]["message"]
    assert Term.objects.count() == before
    # The importer refuses the same way, naming the problem.
    from django.core.management import CommandError, call_command

    folder = write_term(tmp_path, document)
    with pytest.raises(CommandError, match="Redis"):
        call_command("import_terms", str(folder))
    assert not Term.objects.filter(slug="outage-term").exists()


def test_after_an_outage_reads_are_fresh_and_writes_go_through(
    own_redis, api, tmp_path
):
    front = FrontCache(Counting(), max_bytes=1024 * 1024)
    glossary_stamp()
    old = call(front, "/api/v1/terms/prompt/")[2]
    own_redis.stop()
    own_redis.start()  # an empty Redis, as after a restart
    outage_over()
    rewrite_prompt(tmp_path, "Written after.")
    status, _, body = call(front, "/api/v1/terms/prompt/")
    assert status == 200
    assert body != old
    assert b"Written after." in body
    assert api.get("/api/v1/terms/prompt/").json()["short_def"] == "Written after."


def test_the_throttle_counts_in_the_process_while_redis_is_down(own_redis, settings):
    settings.GLOSSARY_ANON_THROTTLE_RATE = "3/minute"
    own_redis.stop()
    front = FrontCache(Counting(), max_bytes=1024 * 1024)
    codes = [call(front, "/api/v1/stats/")[0] for _ in range(4)]
    assert codes == [200, 200, 200, 429]
