"""The glossary's row keeps how many terms each status holds (services.glossary_touch
counts them with every write); counted here once for the terms already stored."""

from django.db import migrations, models
from django.db.models import Count


def count_terms(apps, schema_editor):
    GlossaryState = apps.get_model("terms", "GlossaryState")
    Term = apps.get_model("terms", "Term")
    counts = dict(Term.objects.order_by().values_list("status").annotate(n=Count("pk")))
    GlossaryState.objects.filter(pk=1).update(status_counts=counts)


class Migration(migrations.Migration):
    dependencies = [
        ("terms", "0019_wanted_targets"),
    ]

    operations = [
        migrations.AddField(
            model_name="glossarystate",
            name="status_counts",
            field=models.JSONField(
                blank=True,
                help_text="Terms in each status as of this version; empty until a write.",
                null=True,
            ),
        ),
        migrations.RunPython(count_terms, migrations.RunPython.noop),
    ]
