"""Helpers the tests import: paths, term documents, imports, users, browsers.

Fixtures live in ``conftest.py``; everything a test calls directly lives here.
"""

import copy
import functools
import io
import json
import os
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GLOSSARY_SHARED_DIR", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
FIXTURES = ROOT / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = Path(os.environ.get("GLOSSARY_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("GLOSSARY_TEST_ARTIFACTS", ROOT / "test-artifacts"))
PASSWORD = "pw-for-tests-123"


def need(path: Path, what: str) -> Path:
    """Return ``path``, or skip (fail in CI) when it is missing."""
    if path.exists():
        return path
    message = f"{what} not found at {path}"
    if IN_CI:
        pytest.fail(f"{message}; CI must run this test")
    pytest.skip(message)


# --- term documents and imports ----------------------------------------------------


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


# libyaml's parser, as the application uses: the pure-Python one is ten times slower.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str | bytes):
    """Parse YAML as plain data (no line numbers, no strictness)."""
    return yaml.load(text, Loader=_YAML_LOADER)


@functools.cache
def _corpus_documents(folder: Path) -> dict[str, dict]:
    return {path.stem: read_yaml(path.read_bytes()) for path in folder.glob("*.yml")}


def corpus_documents(corpus: Path) -> dict[str, dict]:
    """Every term document of the reference corpus as data, by slug (read once)."""
    return copy.deepcopy(_corpus_documents(corpus / "ai-glossary"))


def write_term(
    folder: Path, data: dict | None = None, *, filename: str | None = None, **kw
):
    """Write a term document as YAML into ``folder`` and return its path."""
    from terms.documents.naming import term_slug

    data = data if data is not None else base_term(**kw)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (filename or f"{term_slug(data['term'])}.yml")
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    return path


def run_import(*paths, **options) -> tuple[dict, str]:
    """Run ``import_terms --json``; return its report and stderr.

    A refused import (exit status 1) still returns its report.
    """
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "import_terms",
            *map(str, paths),
            "--json",
            stdout=out,
            stderr=err,
            **options,
        )
    except CommandError as exc:
        return json.loads(out.getvalue()), f"{err.getvalue()}{exc}"
    return json.loads(out.getvalue()), err.getvalue()


def import_folders(*folders) -> dict:
    """Import files and folders, failing the test when the import is refused."""
    report, _ = run_import(*folders)
    assert not report["errors"], report["errors"]
    return report


def export(folder: Path, *args) -> dict[str, bytes]:
    """Run ``export_terms`` into ``folder``; return every file's bytes by name."""
    call_command(
        "export_terms", str(folder), *args, stdout=io.StringIO(), stderr=io.StringIO()
    )
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def seed_term(name: str, status: str, author, **overrides):
    """A term in ``status`` whose content ``author`` wrote (passes the gates),
    written through the one write path."""
    from terms.documents.document import validate_term_data
    from terms.models import ChangeSource
    from terms.reads.selectors import known_roles
    from terms.workflow import services

    document, problems = validate_term_data(
        base_term(name, status=status, **overrides), known_roles=known_roles()
    )
    assert not problems, problems
    [term] = services.terms_write(
        changes=[(document, None)], actor=author, source=ChangeSource.API
    )
    return term


def get_without_database(path: str) -> dict:
    """GET ``path`` in a fresh process whose database does not answer: its
    status, ``Retry-After`` and JSON body."""
    import subprocess
    import sys

    script = (
        "import django, json;"
        "django.setup();"
        "from django.test import Client;"
        f"r = Client(HTTP_HOST='localhost').get({path!r});"
        "print(json.dumps({'status': r.status_code, 'retry': r.get('Retry-After'),"
        " 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "glossary.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none?connect_timeout=2",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- people --------------------------------------------------------------------------


def make_user(
    name: str,
    *groups: str,
    perms: tuple[str, ...] = (),
    superuser: bool = False,
    staff: bool = False,
):
    """A user in the workflow groups given (``editors``, ``reviewers``, ...) with
    the extra permissions ``perms`` (codenames of the terms app)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    model = get_user_model()
    if superuser:
        return model.objects.create_superuser(name, f"{name}@example.org", PASSWORD)
    user = model.objects.create_user(name, password=PASSWORD, is_staff=staff)
    user.groups.add(*Group.objects.filter(name__in=groups))
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="terms", codename__in=perms)
    )
    return user


def api_client_for(user):
    """A DRF client signed in as ``user`` (anonymous for None)."""
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


# --- API responses ---


def slugs(response) -> list[str]:
    """Slugs of one page of the term list."""
    return [item["slug"] for item in response.json()["results"]]


def all_slugs(api, url: str) -> list[str]:
    """Slugs of every page of a term list URL."""
    found, page = [], 1
    while True:
        joiner = "&" if "?" in url else "?"
        response = api.get(f"{url}{joiner}page={page}&page_size=100")
        assert response.status_code == 200, response.content
        found += slugs(response)
        if not response.json()["next"]:
            return found
        page += 1


# --- queries -------------------------------------------------------------------------


class WriteCounter(CaptureQueriesContext):
    """Captures queries and tells which of them wrote to the database."""

    def __init__(self):
        super().__init__(connection)

    @property
    def writes(self) -> list[str]:
        """The statements that changed rows."""
        verbs = ("INSERT", "UPDATE", "DELETE", "REPLACE")
        return [
            query["sql"]
            for query in self.captured_queries
            if query["sql"].lstrip().upper().startswith(verbs)
        ]


# --- browsers and live servers -------------------------------------------------------


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
    importlib.import_module(
        "terms.migrations.0017_request_permissions"
    ).grant_request_permissions(apps, None)
    importlib.import_module("terms.migrations.0026_releases").grant_publishing(
        apps, None
    )
    GlossaryState.objects.get_or_create(pk=1, defaults={"changed_at": timezone.now()})


def other_sessions_gone() -> None:
    """Until the stopped processes' database sessions have ended (the test
    database is dropped after the tests, which they would prevent)."""
    import time

    from django.db import connection

    for _ in range(100):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.1)


def wait_for_health(base: str, tries: int = 300) -> None:
    """Until a server started at ``base`` answers ``/healthz`` (or ``tries``
    tenths of a second have gone by: the test's own requests then fail)."""
    import time

    import httpx

    for _ in range(tries):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)


def rewrite_prompt(folder: Path, short_def: str) -> None:
    """Import the sample glossary's "prompt" with a new short definition."""
    from terms.models import Term

    document = base_term("prompt", status="approved", short_def=short_def)
    document["categories"] = list(
        Term.objects.get(slug="prompt").categories.values_list("name", flat=True)
    )
    import_folders(write_term(folder, document))


def sample_site_env(folder: Path, **overrides: str) -> dict:
    """The environment of a server on its own SQLite file in ``folder``, with
    the sample glossary migrated and imported there (``overrides`` win)."""
    import subprocess
    import sys

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "GLOSSARY_CACHE_URL": "none",
        "GLOSSARY_DERIVED_SOCKET": str(folder / "derived.sock"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "GLOSSARY_ANON_THROTTLE_RATE": "",
        **overrides,
    }
    for command in (["migrate", "--noinput"], ["import_terms", "fixtures"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip
    return env


def start_make_serve(port: int, env: dict, *variables: str):
    """``make serve`` on ``port`` with 2 workers (and ``variables`` such as
    ``WORKER=0``), in a process group of its own; the process, once the
    server answers."""
    import subprocess

    server = subprocess.Popen(
        ["make", "--no-print-directory", "serve", f"PORT={port}", "WORKERS=2",
         *variables],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_health(f"http://127.0.0.1:{port}")
    return server
