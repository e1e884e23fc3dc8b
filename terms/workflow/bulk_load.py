"""A large import on PostgreSQL: the database made ready before the rows go
in, and tidied after (``terms.workflow.importer`` wraps its writes in
``prepared``). Elsewhere, and for small imports, nothing changes.
"""

import contextlib

from django.db import connection, transaction

from terms.models import Term

__all__ = ["LARGE", "NEARLY_EMPTY", "drop_for_bulk_load", "prepared"]

#: From this many rows written or deleted, an import is a large one.
LARGE = 1000


@contextlib.contextmanager
def prepared(rows: int):
    """Around a transaction's writes of ``rows`` terms: for a large import into
    a nearly empty glossary, the search indexes and foreign keys to terms are
    dropped and made again after; into a fuller one, new search-index entries
    wait in their pending lists. Either way the tables are vacuumed once the
    transaction commits."""
    bulk = connection.vendor == "postgresql" and rows >= LARGE
    rebuilt = drop_for_bulk_load() if bulk and _nearly_empty() else None
    if bulk and rebuilt is None:
        # New entries of the GIN (search) indexes wait in their pending lists
        # instead of being merged row by row; the VACUUM after the commit
        # merges them in one pass.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL gin_pending_list_limit = '1GB'")
    yield
    if rebuilt:
        _make_again(rebuilt)
    if bulk:
        transaction.on_commit(_vacuum)


#: A glossary with fewer terms than this is (nearly) empty: a large import into
#: it rebuilds the search indexes instead of adding to them.
NEARLY_EMPTY = 1000
#: Tables whose GIN (search) indexes a first import rebuilds.
_SEARCH_TABLES = ("terms_term", "terms_alias", "terms_label")


def _nearly_empty() -> bool:
    return not Term.objects.all()[NEARLY_EMPTY - 1 : NEARLY_EMPTY].exists()


def drop_for_bulk_load() -> list[str]:
    """Before a large import into a nearly empty glossary: drop the search (GIN)
    indexes and the foreign keys to terms, to be made again once the rows are
    in (with every other foreign key of the tables those point from); the
    statements that make them again.

    Built in one pass from the loaded rows, the indexes take a fraction of the
    time of adding 100,000 terms' entries to them (and of merging pending lists
    afterwards), and end up several times smaller; a foreign key added to full
    tables is checked by one join instead of a lookup per inserted row (1.5
    million of them). Dropping them locks the tables until the import commits,
    which only a glossary that holds next to nothing can afford.
    """
    with connection.cursor() as cursor:
        # Checks deferred by earlier writes of this transaction run now: a table
        # with trigger events pending cannot be altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, "
            "pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.contype = 'f' AND c.conrelid IN (SELECT conrelid "
            "FROM pg_constraint WHERE contype = 'f' "
            "AND confrelid = 'terms_term'::regclass) ORDER BY 1, 2"
        )
        keys = cursor.fetchall()
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = ANY(%s) "
            "AND indexdef LIKE '%% USING gin %%' ORDER BY indexname",
            [list(_SEARCH_TABLES)],
        )
        indexes = cursor.fetchall()
        quote = connection.ops.quote_name
        for table, name, _ in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return [
        *(
            f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}"
            for table, name, definition in keys
        ),
        *(definition for _, definition in indexes),
    ]


def _make_again(statements: list[str]) -> None:
    """Add the dropped foreign keys and build the dropped indexes again.

    Deferred foreign-key checks queued by this transaction (deleting stored
    details, whose dependencies point at them) are run first: PostgreSQL
    refuses to alter a table with trigger events still pending on it."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in statements:
            cursor.execute(statement)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _vacuum() -> None:
    """After a bulk load (PostgreSQL, once committed): fresh statistics, so the
    planner uses the search indexes rather than guessing from an empty table,
    and a fresh visibility map, so counting terms reads the index alone (a page
    of 100,000 terms: 39 ms to count before, 3 ms after). VACUUM cannot run
    inside a transaction, hence after the commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM (ANALYZE) terms_term, terms_alias, terms_label, "
            "terms_relationship, terms_termcategory, terms_termrole"
        )
