"""Inserting many rows at once: PostgreSQL's COPY, ``bulk_create`` elsewhere.

Django's ``bulk_create`` on PostgreSQL sends each batch as one INSERT whose
values travel as arrays; for tens of thousands of rows (a thesaurus import:
~40,000 labels, ~20,000 links) most of the time goes into building those
statements. COPY streams the rows instead, several times faster. It is used
only for rows whose primary keys nobody reads back (a term's parts, revisions,
events); the values are prepared by each field as ``bulk_create`` would.
"""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

__all__ = ["insert_rows"]


def insert_rows(model: type[Model], instances: Sequence[Model]) -> None:
    """Insert unsaved ``instances`` of ``model``; generated primary keys stay
    unset (a key that is a field of its own, like a one-to-one link, is written)."""
    if not instances:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances, batch_size=1000)
        return
    fields = [
        f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for instance in instances:
            copy.write_row(
                [
                    f.get_db_prep_save(f.pre_save(instance, True), connection)
                    for f in fields
                ]
            )
