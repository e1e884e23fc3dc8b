"""Shared fixtures: paths to the reference corpus, term factories, write counting."""

import copy
import os
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GLOSSARY_SHARED_DIR", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
FIXTURES = ROOT / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_sessionstart(session):
    """Fail the run when the suite is not on the database CI asked for.

    Guards against a PostgreSQL run that silently falls back to SQLite.
    """
    expected = os.environ.get("GLOSSARY_EXPECT_DB")
    if expected and connection.vendor != expected:
        pytest.exit(
            f"GLOSSARY_EXPECT_DB={expected} but the tests use {connection.vendor}; "
            "check DATABASE_URL",
            returncode=3,
        )


def need(path: Path, what: str) -> Path:
    """Return ``path``, or skip (fail in CI) when it is missing."""
    if path.exists():
        return path
    message = f"{what} not found at {path}"
    if IN_CI:
        pytest.fail(f"{message}; CI must run this test")
    pytest.skip(message)


@pytest.fixture
def corpus() -> Path:
    """The reference corpus folder (../shared/corpus)."""
    return need(CORPUS / "ai-glossary", "reference corpus").parent


def base_term(name: str = "sample term", **overrides) -> dict:
    """A valid term document as data, in the project's own words."""
    data = {
        "term": name,
        "aliases": [f"{name} alias"],
        "categories": ["Testing"],
        "roles": ["engineering"],
        "part_of_speech": "noun",
        "short_def": "A short definition used by the tests.",
        "long_def": " ".join(["word"] * 90),
        "audiences": {"exec": "Why leaders care.", "engineer": "How builders use it."},
        "examples": {"do": ["Do this."], "dont": ["Not that."]},
        "governance": {"nist_rmf_tags": ["validity"], "risk_notes": "Some risk."},
        "relationships": {"related": ["another term"]},
        "citations": [
            {"source": "Example source", "url": "https://example.org/source"}
        ],
        "license": "CC BY-SA 4.0",
        "status": "draft",
        "last_reviewed": "2026-01-15",
    }
    data.update(copy.deepcopy(overrides))
    return data


def write_term(
    folder: Path, data: dict | None = None, *, filename: str | None = None, **kw
):
    """Write a term document as YAML into ``folder`` and return its path."""
    from terms.naming import term_slug

    data = data if data is not None else base_term(**kw)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (filename or f"{term_slug(data['term'])}.yml")
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    return path


@pytest.fixture
def term_dir(tmp_path) -> Path:
    return tmp_path / "terms"


class WriteCounter(CaptureQueriesContext):
    """Captures queries and tells which of them wrote to the database."""

    @property
    def writes(self) -> list[str]:
        verbs = ("INSERT", "UPDATE", "DELETE", "REPLACE")
        return [
            query["sql"]
            for query in self.captured_queries
            if query["sql"].lstrip().upper().startswith(verbs)
        ]


@pytest.fixture
def count_writes():
    return lambda: WriteCounter(connection)


@pytest.fixture(autouse=True)
def _isolated_cache_and_no_throttle(settings):
    """Each test starts with an empty cache and no anonymous throttling.

    The glossary version restarts with every test's rolled-back database, so
    cached responses from one test must not leak into the next.
    """
    from django.core.cache import cache

    settings.GLOSSARY_ANON_THROTTLE_RATE = ""
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


def import_folders(*folders) -> None:
    """Import folders quietly through the management command."""
    import io

    from django.core.management import call_command

    call_command(
        "import_terms", *map(str, folders), stdout=io.StringIO(), stderr=io.StringIO()
    )


@pytest.fixture
def corpus_db(corpus, db):
    """The reference corpus (112 approved terms) and its site data, imported."""
    import_folders(corpus / "ai-glossary", corpus / "ai-glossary-site")
    return corpus


@pytest.fixture
def fixtures_db(db):
    """The project's own sample glossary (all statuses), imported."""
    import_folders(FIXTURES)
    return FIXTURES


CHROMIUM = Path(os.environ.get("GLOSSARY_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("GLOSSARY_TEST_ARTIFACTS", ROOT / "test-artifacts"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under the test artifacts folder."""
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def restore_migration_data() -> None:
    """Re-create what data migrations made (roles, groups, glossary state).

    Live-server tests flush the database afterwards. Django's serialized rollback
    would restore it, but not under Playwright, whose event loop gives the test a
    database connection of its own, so the tests that need the rows call this.
    """
    import importlib

    from django.apps import apps
    from django.utils import timezone

    from terms.models import GlossaryState

    importlib.import_module("terms.migrations.0002_default_roles").seed_roles(
        apps, None
    )
    importlib.import_module("terms.migrations.0006_workflow_groups").create_groups(
        apps, None
    )
    GlossaryState.objects.get_or_create(pk=1, defaults={"changed_at": timezone.now()})
