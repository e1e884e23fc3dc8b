"""Fixtures: datasets imported once per module, a clean cache per test, browsers.

Helpers that tests call directly are in ``tests/helpers.py``.
"""

import contextlib
import os
import tempfile

import pytest
from django.db import connection, transaction

from .helpers import (
    ARTIFACTS,
    CHROMIUM,
    CORPUS,
    FIXTURES,
    IN_CI,
    WriteCounter,
    import_folders,
    make_user,
    need,
    restore_migration_data,
)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_sessionstart(session):
    """Fail the run when the suite is not on the database CI asked for.

    Guards against a PostgreSQL run that silently falls back to SQLite.
    """
    from django.conf import settings

    # Usage counts are written when a test flushes them, never by a thread of
    # the test process (importing glossary.wsgi would start one): it could not
    # see a test's rows, nor they its writes.
    settings.GLOSSARY_USAGE_FLUSH_SECONDS = 0
    # Each test process builds release snapshots in a folder of its own.
    settings.GLOSSARY_RELEASE_SNAPSHOTS = tempfile.mkdtemp(prefix="glossary-releases-")
    settings.GLOSSARY_IMPORT_UPLOADS = tempfile.mkdtemp(prefix="glossary-uploads-")
    expected = os.environ.get("GLOSSARY_EXPECT_DB")
    if expected and connection.vendor != expected:
        pytest.exit(
            f"GLOSSARY_EXPECT_DB={expected} but the tests use {connection.vendor}; "
            "check DATABASE_URL",
            returncode=3,
        )


# The longest modules start first, so parallel workers (one module each at a
# time, ``--dist loadfile``) finish together rather than waiting on a late one.
SLOW_FIRST = (
    "test_browser_workflow.py",
    "test_browser_embed.py",
    "test_workflow.py",
    "test_concurrency.py",
    "test_api_http.py",
    "test_import.py",
    "test_api_read.py",
    "test_query_counts.py",
    "test_export.py",
    "test_admin.py",
)


def _database_group(item) -> int:
    """pytest-django's order: tests in a transaction, then ones that flush the
    database (live servers), then ones without a database.

    A flush also removes what data migrations made, so no test in a transaction
    may run after one.
    """
    marker = item.get_closest_marker("django_db")
    names = set(getattr(item, "fixturenames", ()))
    if (
        marker is not None
        and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    ) or names & {"transactional_db", "live_server"}:
        return 1
    if marker is not None or names & {"db", "corpus_db", "fixtures_db"}:
        return 0
    return 2


def pytest_collection_modifyitems(session, config, items):
    """Longest modules first (``_migration_data`` repairs what a flush removes,
    so tests in a transaction need not run before the flushing ones)."""

    def rank(item) -> int:
        name = item.path.name
        return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)  # a real browser each


@pytest.fixture(autouse=True)
def _migration_data(request):
    """Re-create what data migrations made (roles, groups, the glossary state)
    when a live-server test's flush removed it, before a test that needs it."""
    if _database_group(request.node) == 2:
        return
    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    from terms.models import GlossaryState

    with blocker.unblock():
        if not GlossaryState.objects.filter(pk=1).exists():
            restore_migration_data()


@pytest.fixture(scope="session", autouse=True)
def _cache_per_worker():
    """Parallel workers (pytest-xdist) each get a Redis database of their own.

    Tests clear the cache; with one shared Redis database a worker would clear
    another's cached responses in the middle of a test.
    """
    from django.conf import settings
    from django.test.utils import override_settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    location = settings.CACHES["default"].get("LOCATION", "")
    if not worker or not str(location).startswith("redis://"):
        yield
        return
    base, _, number = str(location).rpartition("/")
    index = int(number) - int(worker.removeprefix("gw") or 0)
    caches = {"default": {**settings.CACHES["default"], "LOCATION": f"{base}/{index}"}}
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(autouse=True)
def _isolated_cache_and_no_throttle(settings):
    """Each test starts with an empty cache and no anonymous throttling.

    The glossary version restarts with every test's rolled-back database, so
    cached responses from one test must not leak into the next.
    """
    from django.core.cache import cache

    from terms.serving import stamp, throttle, usage

    settings.GLOSSARY_ANON_THROTTLE_RATE = ""
    # Counts are written when a test flushes them, never by a thread of its
    # own (it could not see the test's rows, nor they its writes).
    settings.GLOSSARY_USAGE_FLUSH_SECONDS = 0
    usage.forget()
    # A thread of its own cannot see a test's uncommitted rows: build on the
    # request (test_annotate covers building aside with committed data).
    settings.GLOSSARY_BUILD_ASIDE = False
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Every test client builds its own middleware; WhiteNoise would index every
    # static file each time (about 30 ms). Its development mode finds a file
    # when it is asked for instead, with the same responses.
    settings.WHITENOISE_AUTOREFRESH = True
    cache.clear()
    # The emptied Redis numbers stamp changes from zero again.
    stamp.forget()
    throttle.forget()
    yield
    cache.clear()
    stamp.forget()
    throttle.forget()


@pytest.fixture
def redis_cache(settings):
    """The Redis cache backend on a database of this test worker's own."""
    import redis
    from django.test.utils import override_settings

    from terms.serving import stamp, throttle

    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    location = f"redis://127.0.0.1:6379/{12 - worker}"
    try:
        redis.Redis.from_url(location, socket_connect_timeout=1).flushdb()
        stamp.forget()
    except redis.ConnectionError:
        if IN_CI:
            pytest.fail("Redis is not running on 127.0.0.1:6379; CI must run this")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
        }
    }
    with override_settings(CACHES=caches):
        yield
        redis.Redis.from_url(location).flushdb()
        stamp.forget()
        throttle.forget()


@pytest.fixture
def corpus():
    """The reference corpus folder (../shared/corpus)."""
    return need(CORPUS / "ai-glossary", "reference corpus").parent


@pytest.fixture
def term_dir(tmp_path):
    """A folder for term files a test writes."""
    return tmp_path / "terms"


@pytest.fixture
def count_writes():
    """Make a context manager that records the statements run inside it."""
    return WriteCounter


@pytest.fixture
def people(db):
    """One person per workflow group, plus a superuser."""
    return {
        "author": make_user("author", "editors"),
        "editor": make_user("editor", "editors"),
        "reviewer": make_user("reviewer", "reviewers"),
        "approver": make_user("approver", "approvers"),
        "superuser": make_user("root", superuser=True),
    }


@pytest.fixture
def api():
    """An anonymous DRF test client."""
    from rest_framework.test import APIClient

    return APIClient()


# --- datasets imported once per module ----------------------------------------------


@contextlib.contextmanager
def _module_dataset(request, django_db_blocker, name: str, *folders):
    """Import ``folders`` once for the whole module, inside a transaction that is
    rolled back after its last test.

    Each test's own transaction nests inside it (a savepoint), so what a test
    writes is undone after it and the next test sees the dataset as imported.
    A module uses one dataset: a second would silently mix with the first.
    """
    module = request.module
    other = getattr(module, "_glossary_dataset", None)
    if other is not None and other != name:
        raise pytest.UsageError(
            f"{module.__name__} uses the {other} dataset; {name} tests belong in "
            "a module of their own"
        )
    module._glossary_dataset = name
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            restore_migration_data()  # a live-server test may have flushed it
            import_folders(*folders)
        except BaseException:
            outer.__exit__(None, None, None)
            raise
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
        module._glossary_dataset = None


@pytest.fixture(scope="module")
def _corpus_module(request, django_db_setup, django_db_blocker):
    corpus = need(CORPUS / "ai-glossary", "reference corpus").parent
    with _module_dataset(
        request,
        django_db_blocker,
        "corpus",
        corpus / "ai-glossary",
        corpus / "ai-glossary-site",
    ):
        yield corpus


@pytest.fixture(scope="module")
def _unesco_module(request, django_db_setup, django_db_blocker):
    path = need(
        CORPUS / "unesco-thesaurus" / "unesco-thesaurus.ttl", "UNESCO Thesaurus"
    )
    with _module_dataset(request, django_db_blocker, "unesco", path):
        yield path


@pytest.fixture
def unesco_db(_unesco_module, db):
    """The UNESCO Thesaurus (SKOS, five languages) imported as drafts."""
    return _unesco_module


@pytest.fixture(scope="module")
def _fixtures_module(request, django_db_setup, django_db_blocker):
    with _module_dataset(request, django_db_blocker, "fixtures", FIXTURES):
        yield FIXTURES


@pytest.fixture
def corpus_db(_corpus_module, db):
    """The reference corpus (112 approved terms) and its site data, imported."""
    return _corpus_module


@pytest.fixture
def fixtures_db(_fixtures_module, db):
    """The project's own sample glossary (all statuses), imported."""
    return _fixtures_module


# --- browsers --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (skips locally when missing)."""
    need(CHROMIUM, "Chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - installed by requirements-dev.txt
        if IN_CI:
            pytest.fail("playwright is not installed; CI must run the browser tests")
        pytest.skip("playwright is not installed")
    # Playwright runs an event loop in this thread; the ORM calls the tests make
    # around it are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()
