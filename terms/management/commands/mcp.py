"""``manage.py mcp``: the glossary's MCP server over stdio, for desktop agents."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from terms.integrations.mcp_server import build_server


class Command(BaseCommand):
    """``manage.py mcp [--user NAME]``."""

    help = (
        "Serve the glossary to an MCP client over stdin/stdout. Reads see approved "
        "terms (every status with --user having the view permission); proposals "
        "are made as --user, with that user's permissions."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            metavar="NAME",
            help="Act as this user (needed for propose_term and propose_change).",
        )

    def handle(self, *args, **options):
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None or not user.is_active:
                raise CommandError(f"no active user {options['user']!r}")
        # stdout carries the protocol: nothing else may be written to it.
        build_server(user=user).run("stdio")
