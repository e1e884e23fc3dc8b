"""``manage.py serve``: the production server and the processes beside it,
supervised (``terms.serving.supervisor``); ``make serve`` and ``make run`` call it."""

import os
import secrets
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from terms.serving.supervisor import (
    Child,
    Supervisor,
    python_argv,
    remove_file,
    wait_for_socket,
)


class Command(BaseCommand):
    """Run granian, the derived process and the task worker, restarting any
    that dies."""

    help = (
        "Serve with granian, beside the derived process (annotate and similar "
        "terms) and the task worker (webhooks), each restarted if it dies."
    )

    def add_arguments(self, parser):
        """Address, workers, and which companions to start."""
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
        parser.add_argument(
            "--no-derived",
            action="store_true",
            help="no derived process: each worker keeps its own matcher and index",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="no task worker (webhook deliveries wait in the database)",
        )

    def handle(self, *args, **options):
        """Start everything; return when stopped."""
        env = dict(os.environ)
        # One key for every worker when none is configured (sessions then end
        # when the server stops).
        env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
        env.setdefault("GLOSSARY_STATEMENT_TIMEOUT_MS", "15000")
        children = []
        if not options["no_derived"]:
            run = Path(settings.BASE_DIR) / ".run"
            run.mkdir(exist_ok=True)
            socket_path = env.get("GLOSSARY_DERIVED_SOCKET") or str(
                run / f"derived-{options['port']}.sock"
            )
            env["GLOSSARY_DERIVED_SOCKET"] = socket_path
            children.append(
                Child(
                    "derived process",
                    python_argv("derived"),
                    ready=wait_for_socket(socket_path),
                    cleanup=remove_file(socket_path),
                )
            )
        else:
            env["GLOSSARY_DERIVED_SOCKET"] = ""
        if not options["no_worker"]:
            children.append(
                Child("task worker", python_argv("task_worker", "--interval", "1"))
            )
        granian = shutil.which("granian", path=os.path.dirname(sys.executable))
        argv = [granian or "granian", "--interface", "wsgi"]
        argv += ["glossary.wsgi:application"]
        argv += ["--host", options["host"], "--port", str(options["port"])]
        argv += ["--workers", str(options["workers"]), "--blocking-threads", "1"]
        argv += ["--workers-kill-timeout", "30", "--access-log"]
        # A worker that dies (killed, out of memory) is replaced.
        argv += ["--respawn-failed-workers", "--respawn-interval", "1"]
        children.append(Child("granian", argv, essential=True))
        sys.exit(Supervisor(children, env).run())
