"""Create the editors, reviewers and approvers groups with their permissions.

Permissions are normally created after migrations; they are created here first so
the groups can be given them on a fresh database. Existing groups get any missing
permissions added and keep the rest.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CHILDREN = ["alias", "example", "citation", "relationship", "termcategory", "termrole", "termtag"]
VIEW = ["view_term", "view_category", "view_role", "view_governancetag", "view_termrevision"]
EDIT = ["add_term", "change_term"] + [
    f"{action}_{model}" for model in CHILDREN for action in ("add", "change", "delete", "view")
]
REVIEW = ["review_term", "request_changes_term"]
APPROVE = ["approve_term", "deprecate_term", "restore_term"]

GROUPS = {
    "editors": VIEW + EDIT,
    "reviewers": VIEW + REVIEW,
    "approvers": VIEW + REVIEW + APPROVE,
}


def create_groups(apps, schema_editor):
    for app_label in ("auth", "contenttypes", "terms"):
        config = apps.get_app_config(app_label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="terms", codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"permissions not found: {sorted(missing)}")
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("terms", "0005_workflow"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
