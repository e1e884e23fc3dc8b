"""PostgreSQL: sample fewer values of ``search_names`` for the planner.

The planner estimates how many rows a trigram operator (``%>``) keeps by
running it on the column's most common values and histogram, which for these
long texts (every name, alias and label of a term) costs about 1.5 ms of
planning per query with the default 100 of each; lookup suggestions plan two
such queries. Ten keep the estimates rough and planning near 0.2 ms; the
suggestion queries choose the trigram index either way (``terms.text.search``).
"""

from django.db import migrations


def fewer_samples(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE terms_term ALTER COLUMN search_names SET STATISTICS 10"
        )


def default_samples(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE terms_term ALTER COLUMN search_names SET STATISTICS -1"
        )


class Migration(migrations.Migration):
    dependencies = [("terms", "0021_read_model")]

    operations = [migrations.RunPython(fewer_samples, default_samples)]
