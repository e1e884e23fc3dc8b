"""Seed the reference role slugs so term files using them import on a fresh database.

Only slugs and titles are seeded; summaries and takeaways come from a roles.yml
(fixtures/roles.yml or your own), which may also rename, reorder or add roles.
Existing roles are never touched.
"""

from django.db import migrations

DEFAULT_ROLES = [
    ("product", "Product management"),
    ("engineering", "Engineering"),
    ("data_science", "Data science"),
    ("policy", "Policy and risk"),
    ("legal", "Legal"),
    ("security", "Security"),
    ("communications", "Communications"),
]


def seed_roles(apps, schema_editor):
    Role = apps.get_model("terms", "Role")
    for position, (slug, title) in enumerate(DEFAULT_ROLES):
        Role.objects.get_or_create(slug=slug, defaults={"title": title, "position": position})


class Migration(migrations.Migration):
    dependencies = [("terms", "0001_initial")]

    operations = [migrations.RunPython(seed_roles, migrations.RunPython.noop)]
