"""Concurrent writers over real HTTP against PostgreSQL: row locks, If-Match
checked under the lock, no deadlock between an edit and a deletion.

SQLite serializes whole-database writes and has no row locks, so these tests run
in the PostgreSQL run of the suite.
"""

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from terms.models import Term
from tests.helpers import (
    FIXTURES,
    ROOT,
    import_folders,
    make_user,
    restore_migration_data,
    seed_term,
    wait_for_health,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

#: Races per test: each lost update reproduced in every trial before the fix.
TRIALS = int(__import__("os").environ.get("GLOSSARY_RACE_TRIALS", "4"))


@pytest.fixture
def server(live_server):
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL; its run covers this")
    restore_migration_data()
    return live_server.url


def _headers(user, **extra) -> dict:
    token, _ = Token.objects.get_or_create(user=user)
    # One request per connection, so each server thread ends with its request.
    return {"Authorization": f"Token {token.key}", "Connection": "close", **extra}


_seed = seed_term


def _together(*calls) -> list:
    """Run the calls at the same moment on threads of their own; their results.

    The calls must not touch the database (a thread would keep a connection).
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [
        threading.Thread(target=run, args=(index, call))
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.parametrize("status", ["draft", "approved"])
def test_two_patches_with_one_if_match_let_exactly_one_win(server, status):
    author = make_user("writer", "editors", "approvers")
    outcomes = []
    with httpx.Client(base_url=server, timeout=30) as client:
        for trial in range(TRIALS):
            slug = _seed(f"raced {status} {trial}", status, author).slug
            etag = client.get(
                f"/api/v1/terms/{slug}/", headers=_headers(author)
            ).headers["ETag"]

            headers = _headers(author, **{"If-Match": etag})

            def patch(text, slug=slug, headers=headers):
                return client.patch(
                    f"/api/v1/terms/{slug}/", json={"short_def": text}, headers=headers
                ).status_code

            outcomes.append(
                sorted(_together(lambda: patch("One."), lambda: patch("Two.")))
            )
    winner = 200 if status == "draft" else 202
    assert outcomes == [[winner, 412]] * TRIALS


def test_patch_and_delete_at_once_never_fail_with_a_server_error(server):
    root = make_user("root", superuser=True)
    seen = set()
    with httpx.Client(base_url=server, timeout=30) as client:
        for trial in range(TRIALS):
            slug = _seed(f"doomed {trial}", "draft", root).slug
            url, headers = f"/api/v1/terms/{slug}/", _headers(root)
            patch, delete = _together(
                lambda url=url, headers=headers: client.patch(
                    url, json={"short_def": "Changed."}, headers=headers
                ),
                lambda url=url, headers=headers: client.delete(url, headers=headers),
            )
            assert delete.status_code == 204
            assert patch.status_code in (200, 404), patch.text
            if patch.status_code == 404:
                assert patch.json()["error"]["code"] == "not_found"
            seen.add(patch.status_code)
            assert not Term.objects.filter(slug=slug).exists()
    assert seen  # every trial ended in a clean answer


@contextlib.contextmanager
def production_server(port: str, **env_extra):
    """granian with 2 workers on the test database, as `make serve` runs it."""
    settings_dict = connection.settings_dict
    # The server's connections carry a name of their own, to be counted.
    url = (
        f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:"
        f"{settings_dict['PORT']}/{settings_dict['NAME']}?application_name=burst"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GLOSSARY_ANON_THROTTLE_RATE": "",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        **env_extra,
    }
    granian = Path(sys.executable).with_name("granian")
    process = subprocess.Popen(
        [str(granian), "--interface", "wsgi", "glossary.wsgi:application",
         "--host", "127.0.0.1", "--port", port, "--workers", "2",
         "--blocking-threads", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, tries=100)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_burst_of_64_connections_twice_on_the_production_server(server):
    """Two bursts of 64 concurrent requests on granian (2 workers): every one
    answered 200, and the database never sees more than a connection a worker."""
    import_folders(FIXTURES)
    with production_server("8941", GLOSSARY_CACHE_URL="") as base:
        peak = 0
        for _burst in range(2):
            with httpx.Client(base_url=base, timeout=30) as client:
                codes = _together(
                    *[
                        lambda n=n: (
                            client.get(
                                "/api/v1/terms/" if n % 2 else "/api/v1/terms/prompt/"
                            ).status_code
                        )
                        for n in range(64)
                    ]
                )
            assert codes == [200] * 64
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = 'burst'"
                )
                peak = max(peak, cursor.fetchone()[0])
        assert 1 <= peak <= 2  # one connection per worker, whatever the burst


def test_every_worker_serves_a_write_at_once(server, tmp_path):
    """Cached reads on two server processes see a change the moment it commits,
    whether it was written through the server or by another process (an import)."""
    from django.conf import settings

    from tests.helpers import base_term, write_term

    location = str(settings.CACHES["default"].get("LOCATION", ""))
    if not location.startswith("redis://"):
        pytest.skip("needs GLOSSARY_CACHE_URL=redis://... (the PostgreSQL CI run)")
    import_folders(FIXTURES)
    approver = make_user("approver", "approvers")
    with (
        production_server("8942", GLOSSARY_CACHE_URL=location) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):

        def statuses() -> set[str]:
            return {
                client.get("/api/v1/terms/prompt/").json()["status"] for _ in range(12)
            }

        assert statuses() == {"approved"}  # cached on both workers now
        step = client.post(
            "/api/v1/terms/prompt/transitions/deprecate/", headers=_headers(approver)
        )
        assert step.status_code == 200
        assert statuses() == {"deprecated"}
        # A write by another process: an import in this one.
        write_term(
            tmp_path,
            base_term("fresh term", status="approved", short_def="First words."),
        )
        import_folders(tmp_path)
        assert client.get("/api/v1/terms/fresh-term/").status_code == 200
        write_term(
            tmp_path,
            base_term("fresh term", status="approved", short_def="Second words."),
        )
        import_folders(tmp_path)
        seen = {
            client.get("/api/v1/terms/fresh-term/").json()["short_def"]
            for _ in range(12)
        }
        assert seen == {"Second words."}
