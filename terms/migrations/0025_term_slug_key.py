"""Terms keep the lookup key of their slug, so a write finds the terms a
changed key may name by an index instead of reading every term."""

from django.db import migrations, models

from terms.documents.naming import lookup_key


def fill_slug_keys(apps, schema_editor):
    Term = apps.get_model("terms", "Term")
    batch = []
    for term in Term.objects.only("pk", "slug").iterator(chunk_size=2000):
        term.slug_key = lookup_key(term.slug)
        batch.append(term)
        if len(batch) == 2000:
            Term.objects.bulk_update(batch, ["slug_key"])
            batch = []
    Term.objects.bulk_update(batch, ["slug_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("terms", "0024_webhook_lease_public_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="term",
            name="slug_key",
            field=models.CharField(
                default="", help_text="Lookup key of the slug.", max_length=200
            ),
        ),
        migrations.RunPython(fill_slug_keys, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="term",
            index=models.Index(fields=["slug_key"], name="term_slug_key_idx"),
        ),
    ]
