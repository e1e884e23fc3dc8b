"""Inserting many rows at once: PostgreSQL's COPY, ``bulk_create`` elsewhere.

Django's ``bulk_create`` on PostgreSQL sends each batch as one INSERT whose
values travel as arrays; for tens of thousands of rows (a thesaurus import:
~40,000 labels, ~20,000 links) most of the time goes into building those
statements. COPY streams the rows instead, several times faster. Rows whose
generated keys are needed (new terms, which their parts point to) get them
from the table's sequence first, in one query, and are copied with them.

A COPY may also run on a thread of its own (``background``): the database
then computes what it computes per row (a term's search vector, its index
entries) while this process prepares the next rows; the caller waits for it
before its next query (the connection serves one statement at a time anyway).

Values are read as ``bulk_create`` would prepare them, except that text,
whole numbers, dates and foreign keys are passed to the driver as they are
(their preparation changes nothing; it cost more than the copy itself).
"""

import threading
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from django.db import connection, models
from django.db.models import Model

__all__ = ["Copying", "insert_rows"]

#: Fields whose Python value is what the database column takes.
_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
)


class Copying:
    """A COPY running on another thread; ``wait`` returns once it is done and
    raises what it raised."""

    def __init__(self, copy: Callable[[], None]):
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(copy,), daemon=True)
        self._thread.start()

    def _run(self, copy: Callable[[], None]) -> None:
        try:
            with connection.wrap_database_errors:
                copy()
        except BaseException as error:  # handed to the waiting thread
            self._error = error

    def wait(self) -> None:
        """Block until the copy is done; raise its error, if any."""
        self._thread.join()
        if self._error is not None:
            raise self._error


def insert_rows(
    model: type[Model],
    instances: Sequence[Model | dict],
    *,
    keys: bool = False,
    background: bool = False,
) -> Copying | None:
    """Insert unsaved ``instances`` of ``model``, or rows given as column values
    (dicts by attribute name, ``term_id``; no instances to build). Generated
    primary keys stay unset unless ``keys`` asks for them (a key that is a field
    of its own, like a one-to-one link, is always written). With ``background``
    on PostgreSQL the keys are set at once and the rows copied on a thread: the
    caller must ``wait()`` on what is returned before it uses the database
    again."""
    if not instances:
        return None
    if isinstance(instances[0], dict):
        _insert_values(model, instances)
        return None
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances, batch_size=1000)
        return None
    generated = model._meta.pk if model._meta.pk.auto_created else None
    if keys and generated is not None:
        _take_keys(model, instances)
    fields = [
        f
        for f in model._meta.concrete_fields
        if f is not generated or (keys and generated is not None)
    ]
    readers = [_reader(f) for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    # The driver's connection: the copy may run on another thread, where
    # Django's connection object is not this one.
    raw = connection.connection

    def copy_rows() -> None:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for instance in instances:
                copy.write_row([read(instance) for read in readers])

    if background:
        return Copying(copy_rows)
    with connection.wrap_database_errors:
        copy_rows()
    return None


def _insert_values(model: type[Model], rows: Sequence[dict]) -> None:
    """Rows of column values: copied as they are on PostgreSQL."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create((model(**row) for row in rows), batch_size=1000)
        return
    fields = [f for f in model._meta.concrete_fields if not f.auto_created]
    names = [f.attname for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row.get(name) for name in names])


def _take_keys(model: type[Model], instances: Sequence[Model]) -> None:
    """Give each instance the next value of its table's key sequence."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
            "FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, len(instances)],
        )
        for instance, (key,) in zip(instances, cursor.fetchall(), strict=True):
            instance.pk = key
            # Saved rows from here on, as bulk_create leaves them.
            instance._state.adding = False
            instance._state.db = connection.alias


def _reader(field) -> Callable[[Model], Any]:
    """How to read one field's column value from an unsaved instance."""
    automatic = getattr(field, "auto_now", False) or getattr(
        field, "auto_now_add", False
    )
    if isinstance(field, _PLAIN) and not automatic and not field.choices:
        return attrgetter(field.attname)
    if isinstance(field, models.DateField) and not automatic:
        return attrgetter(field.attname)

    def prepared(instance: Model) -> Any:
        return field.get_db_prep_save(field.pre_save(instance, True), connection)

    return prepared
