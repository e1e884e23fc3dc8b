"""``manage.py usage flush|prune``: the counts of what readers look for."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from terms.models import SearchUse, TermUse
from terms.reads.usage import since
from terms.serving import usage


class Command(BaseCommand):
    """Flush or prune the usage counts."""

    help = (
        "flush: every serving process writes the counts it holds now (they are "
        "written every GLOSSARY_USAGE_FLUSH_SECONDS anyway). prune: delete daily "
        "counts older than --keep-days (GLOSSARY_USAGE_KEEP_DAYS)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["flush", "prune"])
        parser.add_argument(
            "--keep-days",
            type=int,
            default=None,
            help="prune: keep this many days, today included.",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=10.0,
            help="flush: seconds to wait for the serving processes.",
        )

    def handle(self, *args, action, keep_days, timeout, **options):
        if action == "prune":
            return self._prune(keep_days or settings.GLOSSARY_USAGE_KEEP_DAYS)
        try:
            usage.flush()  # this process's own, if it counted anything
        except DatabaseError as exc:
            raise CommandError(f"The counts could not be written: {exc}") from exc
        answered = usage.ask_to_flush(timeout)
        if answered is None:
            self.stdout.write(
                "No Redis to reach the serving processes through: each writes its "
                f"counts every {settings.GLOSSARY_USAGE_FLUSH_SECONDS:g} seconds."
            )
            return
        written, asked = answered
        self.stdout.write(f"{written} of {asked} serving processes wrote their counts.")
        if written < asked:
            raise CommandError(
                f"{asked - written} processes did not answer within {timeout:g} s."
            )

    def _prune(self, keep: int) -> None:
        if keep < 1:
            raise CommandError("--keep-days must be at least 1.")
        first = since(keep)
        terms, _ = TermUse.objects.filter(day__lt=first).delete()
        searches, _ = SearchUse.objects.filter(day__lt=first).delete()
        self.stdout.write(
            f"Deleted {terms} term counts and {searches} search counts before {first}."
        )
