"""``manage.py derived``: the process that keeps annotate's matcher and the
similar-terms index for every server process (``terms.serving.derived``)."""

import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from terms.serving import derived
from terms.text import inflection


class Command(BaseCommand):
    """Serve annotate spans and similar terms on a Unix socket."""

    help = (
        "Keep annotate's matcher and the similar-terms index for every server "
        "process, answering on a Unix socket (GLOSSARY_DERIVED_SOCKET)."
    )

    def add_arguments(self, parser):
        """The socket (default: GLOSSARY_DERIVED_SOCKET)."""
        parser.add_argument("--socket", default="", help="the Unix socket's path")

    def handle(self, *args, **options):
        """Serve until SIGTERM or SIGINT."""
        path = options["socket"] or settings.GLOSSARY_DERIVED_SOCKET
        if not path:
            raise CommandError("give --socket or set GLOSSARY_DERIVED_SOCKET")
        inflection.warm()
        # Leave serve_forever through its finally (which removes the socket).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        derived.serve(
            path, ready=lambda: self.stdout.write(f"answering on {path}", ending="\n")
        )
