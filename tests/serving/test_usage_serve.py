"""Usage counts under ``make serve``: granian's workers count what they serve
(front-cache hits too), write their counts on their own within seconds, and
all at once when ``manage.py usage flush`` asks through Redis."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest
import redis

from tests.helpers import IN_CI, ROOT, sample_site_env, start_make_serve
from tests.serving.test_make_serve import free_port

pytestmark = pytest.mark.slow  # a production server of its own


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("usage-serve")
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    location = f"redis://127.0.0.1:6379/{4 - worker}"
    try:
        redis.Redis.from_url(location, socket_connect_timeout=1).flushdb()
    except redis.ConnectionError:
        if IN_CI:
            pytest.fail("Redis is not running on 127.0.0.1:6379; CI must run this")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    database = folder / "db.sqlite3"
    env = sample_site_env(
        folder, GLOSSARY_CACHE_URL=location, GLOSSARY_USAGE_FLUSH_SECONDS="2"
    )
    port = free_port()
    server = start_make_serve(port, env, "WORKER=0")
    try:
        yield f"http://127.0.0.1:{port}", database, env
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        redis.Redis.from_url(location).flushdb()


def stored(database, sql: str, *params) -> int:
    with sqlite3.connect(database) as db:
        return db.execute(sql, params).fetchone()[0] or 0


def lookups(database, slug: str) -> int:
    return stored(
        database,
        "SELECT SUM(count) FROM terms_termuse WHERE slug = ? AND kind = 'lookup'",
        slug,
    )


def test_counts_are_written_within_seconds_cached_hits_included(served):
    base, database, _ = served
    with httpx.Client(base_url=base, timeout=30) as http:
        for _ in range(8):  # most of these are answered by the front cache
            assert (
                http.get("/api/v1/lookup/", params={"q": "embedding"}).status_code
                == 200
            )
    deadline = time.monotonic() + 20
    while lookups(database, "embedding") < 8 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert lookups(database, "embedding") == 8


def test_usage_flush_makes_every_process_write_at_once(served):
    base, database, env = served
    # A connection each, so that both of granian's workers serve some.
    close = {"Connection": "close", "X-Glossary-Client": "widget"}
    for _ in range(6):
        response = httpx.get(
            f"{base}/api/v1/lookup/", params={"q": "Quantum Annealing"}, headers=close
        )
        assert response.status_code == 404
    assert (
        httpx.get(f"{base}/api/v1/lookup/", params={"q": "prompt"}).status_code == 200
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "usage", "flush"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Every worker that has loaded the application answered.
    written, asked = map(int, re.search(r"(\d+) of (\d+)", done.stdout).groups())
    assert written == asked >= 1, done.stdout
    missed = stored(
        database,
        "SELECT SUM(count) FROM terms_searchuse WHERE query = 'quantum annealing' "
        "AND source = 'widget' AND found = 0",
    )
    assert missed == 6
    assert lookups(database, "prompt") == 1
