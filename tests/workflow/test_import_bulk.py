"""Large imports on PostgreSQL (``terms.workflow.importer``): into a nearly empty glossary
the search indexes and foreign keys are dropped, the rows copied (the terms'
rows on a thread of their own) and both made again; into a fuller one they are
kept. Either way the database ends with the same indexes and keys and every
row in place."""

import pytest
from django.db import connection

from terms.models import Alias, Relationship, Term, TermRevision
from terms.workflow import bulk_load
from tests.helpers import base_term, import_folders, write_term

# Autouse: the read below goes through WSGI, which would close the test's
# connection (and its transaction) as the request starts and ends.
from tests.serving.test_frontcache import _keep_the_test_connection  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

COUNT = 1100  # over the 1,000 rows that make an import a bulk load


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("bulk loading is PostgreSQL's; the PostgreSQL run covers it")


def schema() -> tuple[set, set]:
    """The foreign keys and GIN indexes of the glossary's tables."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid::regclass::text LIKE 'terms_%%'"
        )
        keys = set(cursor.fetchall())
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename LIKE 'terms_%%' AND indexdef LIKE '%% USING gin %%'"
        )
        indexes = set(cursor.fetchall())
    return keys, indexes


def write_batch(folder, suffix: str = "") -> None:
    for number in range(COUNT):
        document = base_term(
            f"bulk term {number}",
            status="approved",
            aliases=[f"bulk alias {number}", f"bk{number}"],
            short_def=f"The {number}th bulk term{suffix}, for loading many at once.",
        )
        document["relationships"] = {
            "related": [f"bulk term {(number + 1) % COUNT}", "nothing by this name"]
        }
        write_term(folder, document)


def test_a_first_large_import_rebuilds_indexes_and_keys(tmp_path, api):
    before = schema()
    assert before[0]
    assert before[1]
    dropped = []
    original = bulk_load.drop_for_bulk_load

    def spy():
        dropped.append(original())
        return dropped[-1]

    bulk_load.drop_for_bulk_load = spy
    try:
        write_batch(tmp_path / "one")
        report = import_folders(tmp_path / "one")
    finally:
        bulk_load.drop_for_bulk_load = original
    assert len(report["created"]) == COUNT
    assert dropped, "a first import of this size drops and rebuilds"
    assert len(dropped[0]) == len(before[0]) - _unrelated(before[0]) + len(before[1])
    assert schema() == before  # every key and index made again, as it was
    assert Term.objects.count() == COUNT
    assert Alias.objects.count() == 2 * COUNT
    assert TermRevision.objects.count() == COUNT
    resolved = Relationship.objects.filter(target__isnull=False).count()
    assert resolved == COUNT
    # Reads find them: full-text search, an alias.
    found = api.get("/api/v1/terms/", {"q": "517th"}).json()["results"]
    assert [term["slug"] for term in found] == ["bulk-term-517"]
    matches = api.get("/api/v1/lookup/", {"q": "BK517"}).json()["matches"]
    assert [match["slug"] for match in matches] == ["bulk-term-517"]

    # A second large import into a glossary that holds terms keeps them.
    write_batch(tmp_path / "two", suffix=" again")
    dropped.clear()
    bulk_load.drop_for_bulk_load = spy
    try:
        report = import_folders(tmp_path / "two")
    finally:
        bulk_load.drop_for_bulk_load = original
    assert len(report["updated"]) == COUNT
    assert dropped == []
    assert schema() == before
    assert "again" in Term.objects.get(slug="bulk-term-9").short_def


def _unrelated(keys: set) -> int:
    """Foreign keys on tables that hold no key to a term (left alone)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid::regclass::text LIKE 'terms_%%' AND conrelid NOT IN ("
            "SELECT conrelid FROM pg_constraint WHERE contype = 'f' "
            "AND confrelid = 'terms_term'::regclass)"
        )
        return cursor.fetchone()[0]


def test_a_large_import_after_a_stored_read_goes_through(tmp_path):
    """A stored detail (the read model) and its dependency rows are deleted by
    the import; their deferred checks must not stop the keys being made again
    (before: "cannot ALTER TABLE terms_termread because it has pending trigger
    events", and nothing written)."""
    from terms.models import TermRead
    from terms.serving import readmodel
    from tests.helpers import FIXTURES
    from tests.serving.test_frontcache import Counting, call

    import_folders(FIXTURES)
    # An anonymous read through the read model stores the detail.
    assert call(readmodel.ReadModelApp(Counting()), "/api/v1/terms/prompt/")[0] == 200
    assert TermRead.objects.filter(slug="prompt").exists()
    before = schema()
    write_batch(tmp_path / "big")
    report = import_folders(tmp_path / "big")
    assert len(report["created"]) == COUNT
    assert not TermRead.objects.filter(slug="prompt").exists()
    assert schema() == before
