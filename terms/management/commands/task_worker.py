"""``manage.py task_worker``: the task worker that delivers webhooks and
notifications and builds release snapshots, started by ``make serve``
(``terms.serving.supervisor``), ``make run`` and ``make worker``."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from terms.integrations import notifications, webhooks


class Command(BaseCommand):
    """Queue what a worker that died left undone, then run django-tasks' worker."""

    help = (
        "Deliver webhooks and notifications: queue what a worker that was "
        "killed mid-run left undone, then run the database task worker."
    )

    def add_arguments(self, parser):
        """How often the queue is polled."""
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args, **options):
        """Resume, then work until stopped."""
        queued = webhooks.resume()
        if queued:
            self.stdout.write(f"queued deliveries for {queued} subscription(s)")
        # What a worker that stopped left queued goes out now (never what it
        # was sending when it stopped: see terms.integrations.notifications).
        notifications.deliver.enqueue()
        call_command("db_worker", interval=options["interval"])
