"""The glossary as it stood in a release, as a database of its own.

A release stores each term's revision, which is enough for one term's document
or an export. The term list with its filters and ``q``, lookup, autocomplete,
annotate and the Markdown page are queries over rows (aliases, labels, links,
categories), so a read as of a release runs those same queries against a
**snapshot**: a SQLite file holding the glossary built from the release's
documents by the same write path an import takes. Inside ``as_of(release)``
the thread's default database connection is the snapshot's, so every read
(ORM, raw SQL, ``transaction.atomic``) answers as of the release without a
line of it knowing.

A release never changes, so its snapshot is built once per machine: on the
first read that needs it, or ahead of time by ``manage.py release snapshot``
(the worker builds each new release's after it is published). Building takes
a file lock, writes a temporary file and renames it into place, so concurrent
processes build it once and never read a half-built one. The file's name
carries the release's identity and the schema's (the last migration of each
app), so a code upgrade that changes the tables builds it again.

Snapshots are SQLite on every deployment: on PostgreSQL, a ``q`` over a
release ranks with the portable ranking SQLite deployments use
(``terms.text.search``), not PostgreSQL's full-text search.

Written here, not taken from a library: Django has no "read this database
for the length of a block" switch; swapping the thread's connection object is
what makes the unchanged read code answer from the snapshot.
"""

import contextlib
import contextvars
import fcntl
import functools
import hashlib
import logging
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.utils import load_backend
from django_tasks import task

from terms import events
from terms.models import Release

_log = logging.getLogger(__name__)

__all__ = ["as_of", "build", "identity", "path_for", "reading", "snapshot_dir"]


def snapshot_dir() -> Path:
    """Where snapshots are kept (``GLOSSARY_RELEASE_SNAPSHOTS``)."""
    return Path(settings.GLOSSARY_RELEASE_SNAPSHOTS)


@functools.cache
def _schema_tag() -> str:
    """The schema the snapshot's tables follow: each app's last migration."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    leaves = sorted(f"{app}.{name}" for app, name in loader.graph.leaf_nodes())
    return hashlib.sha256("|".join(leaves).encode()).hexdigest()[:12]


def identity(release: Release) -> str:
    """What tells ``release`` from any other, in this database or another
    (one restored from elsewhere, a test database): its id, name, number,
    the glossary version it was cut at and the instant it was published.
    Whatever is kept per release (files, matchers, cached answers) is keyed
    on it."""
    parts = f"{release.pk}|{release.sequence}|{release.name}|"
    parts += f"{release.glossary_version}|{release.published_at.isoformat()}"
    return hashlib.sha256(parts.encode()).hexdigest()[:16]


def path_for(release: Release) -> Path:
    """The snapshot file of ``release``: named by its identity and the schema."""
    name = f"{release.name}-{identity(release)}-{_schema_tag()}.sqlite3"
    return snapshot_dir() / name


def _wrapper(path: Path, *, building: bool = False):
    """A database connection object for the SQLite file at ``path``, under
    the default alias (the transaction helpers look connections up by it).
    ``building``: a file no one reads yet, written without a journal or
    syncs (a crash leaves a partial file that the next build replaces)."""
    options = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}
    if building:
        pragmas = "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
        options["OPTIONS"] = {"init_command": pragmas}
    configured = connections.configure_settings({DEFAULT_DB_ALIAS: options})
    engine = load_backend(configured[DEFAULT_DB_ALIAS]["ENGINE"])
    return engine.DatabaseWrapper(configured[DEFAULT_DB_ALIAS], DEFAULT_DB_ALIAS)


@contextlib.contextmanager
def _default_is(wrapper):
    """Make ``wrapper`` this thread's default connection for the block."""
    previous = connections[DEFAULT_DB_ALIAS]
    connections[DEFAULT_DB_ALIAS] = wrapper
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS] = previous
        wrapper.close()


def _template() -> Path:
    """An empty, migrated snapshot database for this schema (made once)."""
    path = snapshot_dir() / f"empty-{_schema_tag()}.sqlite3"
    if path.exists():
        return path
    with _locked(path):
        if path.exists():
            return path
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        from django.core.management import call_command

        with _default_is(_wrapper(partial, building=True)):
            call_command("migrate", verbosity=0, interactive=False)
        os.replace(partial, path)
    return path


@contextlib.contextmanager
def _locked(path: Path):
    """Hold an exclusive lock named after ``path`` (between processes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(release: Release) -> Path:
    """The snapshot of ``release``, built now if it is not there yet."""
    path = path_for(release)
    if path.exists():
        return path
    with _locked(path):
        if path.exists():
            return path
        _build_into(release, path)
    return path


def _build_into(release: Release, path: Path) -> None:
    from terms.models import (
        Category,
        GovernanceTag,
        Role,
        SiteText,
        TermEvent,
        TermRevision,
    )
    from terms.reads.releases import term_documents

    # Read from the working database before the connection is swapped.
    documents = term_documents(release)
    shared = {
        model: [
            {f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields}
            for row in model.objects.all()
        ]
        for model in (Role, Category, GovernanceTag, SiteText)
    }
    partial = path.with_suffix(".partial")
    shutil.copyfile(_template(), partial)
    building = _wrapper(partial, building=True)
    with _default_is(building), events.muted(), transaction.atomic():
        from terms.models import ChangeSource
        from terms.workflow import services

        for model, rows in shared.items():
            model.objects.all().delete()  # what the migrations seeded
            model.objects.bulk_create([model(**row) for row in rows])
        services.terms_write(
            changes=[(document, None) for document in documents],
            actor=None,
            source=ChangeSource.IMPORT,
            comment=f"release {release.name}",
        )
        # The write path's own records: no read as of a release looks at them.
        TermEvent.objects.all().delete()
        TermRevision.objects.all().delete()
    vacuuming = _wrapper(partial, building=True)
    with _default_is(vacuuming), vacuuming.cursor() as cursor:
        cursor.execute("VACUUM")
    os.replace(partial, path)
    _log.info("built release %s's snapshot (%d terms)", release.name, len(documents))


#: The release whose snapshot this thread (or task) reads now.
_reading: contextvars.ContextVar[Release | None] = contextvars.ContextVar(
    "glossary_release_read", default=None
)


def reading() -> Release | None:
    """The release ``as_of`` made the database of this block, if any."""
    return _reading.get()


@contextlib.contextmanager
def as_of(release: Release):
    """Inside the block, this thread's database reads answer as of ``release``."""
    path = build(release)
    token = _reading.set(release)
    try:
        with _default_is(_wrapper(path)):
            yield
    finally:
        _reading.reset(token)


def on_glossary_change(change) -> None:
    """A published release's snapshot is built by the task worker once the
    release commits, so its first reader does not wait for it
    (``GLOSSARY_EVENTS_PIPELINE``)."""
    if isinstance(change, events.ReleasePublished):
        release_id = change.release_id
        transaction.on_commit(lambda: build_snapshot.enqueue(release_id))


@task()
def build_snapshot(release_id: int) -> str:
    """The task: build the snapshot of a release (if it is still there)."""
    release = Release.objects.filter(pk=release_id).first()
    return "" if release is None else str(build(release))
