"""Editors read term requests and decide on them (merge, decline, draft)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITORS = ["view_termrequest", "change_termrequest"]


def grant_request_permissions(apps, schema_editor):
    config = apps.get_app_config("terms")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="editors")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="terms", codename__in=EDITORS)
    )


class Migration(migrations.Migration):
    dependencies = [("terms", "0016_term_requests")]

    operations = [
        migrations.RunPython(grant_request_permissions, migrations.RunPython.noop)
    ]
