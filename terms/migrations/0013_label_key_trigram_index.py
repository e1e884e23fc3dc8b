"""PostgreSQL: a trigram index on label keys, for suggestions and autocomplete in
other languages (as ``alias_key_trgm_idx`` does for aliases). Nothing on SQLite."""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX label_key_trgm_idx ON terms_label USING gin (key gin_trgm_ops)"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS label_key_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("terms", "0012_term_labels")]

    operations = [migrations.RunPython(forward, backward)]
