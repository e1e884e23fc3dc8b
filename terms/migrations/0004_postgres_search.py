"""PostgreSQL search: pg_trgm, a weighted full-text column and the indexes behind them.

Runs only on PostgreSQL; on SQLite the search module falls back to LIKE matching.
The tsvector column is GENERATED from the term's own columns, so it can never fall
out of step with them; Django's model does not declare it and reads it by name.
"""

from django.db import migrations
from django.utils import timezone

SEARCH_VECTOR = """
    setweight(to_tsvector('english'::regconfig, coalesce(search_names, '')), 'A') ||
    setweight(to_tsvector('english'::regconfig, coalesce(short_def, '')), 'B') ||
    setweight(to_tsvector('english'::regconfig, coalesce(search_categories, '')), 'C') ||
    setweight(to_tsvector('english'::regconfig, coalesce(long_def, '')), 'D')
"""

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"ALTER TABLE terms_term ADD COLUMN search_vector tsvector "
    f"GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED",
    "CREATE INDEX term_search_vector_idx ON terms_term USING gin (search_vector)",
    "CREATE INDEX term_search_names_trgm_idx ON terms_term "
    "USING gin (search_names gin_trgm_ops)",
    "CREATE INDEX term_name_key_trgm_idx ON terms_term USING gin (name_key gin_trgm_ops)",
    "CREATE INDEX alias_key_trgm_idx ON terms_alias USING gin (key gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS alias_key_trgm_idx",
    "DROP INDEX IF EXISTS term_name_key_trgm_idx",
    "DROP INDEX IF EXISTS term_search_names_trgm_idx",
    "DROP INDEX IF EXISTS term_search_vector_idx",
    "ALTER TABLE terms_term DROP COLUMN IF EXISTS search_vector",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)
    State = apps.get_model("terms", "GlossaryState")
    State.objects.get_or_create(pk=1, defaults={"changed_at": timezone.now()})


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("terms", "0003_search_and_state")]

    operations = [migrations.RunPython(forward, backward)]
