"""``manage.py grant USERNAME GROUP``: give a person a workflow role.

The workflow groups (``editors``, ``reviewers``, ``approvers``) hold the
permissions; the admin also needs staff status to let a person sign in. This
command sets both, so giving someone a role is one step.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

WORKFLOW_GROUPS = ("editors", "reviewers", "approvers")


class Command(BaseCommand):
    """``manage.py grant``."""

    help = (
        "Put a user in a workflow group (editors, reviewers, approvers) and give "
        "them staff status so they can sign in to the admin."
    )

    def add_arguments(self, parser):
        """USERNAME GROUP [--create] [--revoke]."""
        parser.add_argument("username")
        parser.add_argument("group", choices=WORKFLOW_GROUPS)
        parser.add_argument(
            "--create",
            action="store_true",
            help="Create the user (without a password: set one with changepassword).",
        )
        parser.add_argument(
            "--revoke", action="store_true", help="Take the user out of the group."
        )

    def handle(self, *args, username, group, create, revoke, **options):
        """Grant (or revoke) the role; report what changed."""
        users = get_user_model().objects
        user = users.filter(**{users.model.USERNAME_FIELD: username}).first()
        if user is None:
            if not create:
                raise CommandError(
                    f"no user named {username!r}; add --create to create one"
                )
            user = users.create_user(username)
            user.set_unusable_password()
            self.stdout.write(
                f"Created {username}; set a password with "
                f"`manage.py changepassword {username}`."
            )
        role = Group.objects.filter(name=group).first()
        if role is None:
            raise CommandError(f"the group {group!r} is missing; run migrate first")
        if revoke:
            user.groups.remove(role)
            self.stdout.write(f"{username} is no longer in {group}.")
            return
        user.groups.add(role)
        user.is_staff = True
        user.save(update_fields=["is_staff", "password"])
        self.stdout.write(
            f"{username} is in {group} and may sign in to the admin (staff)."
        )
