"""``manage.py check_citations``: fetch citation URLs, store what each answered."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from terms.integrations.linkcheck import CheckSettings, check_urls
from terms.models import Citation, LinkCheck
from terms.workflow.services import store_link_checks


class Command(BaseCommand):
    """``manage.py check_citations``."""

    help = (
        "Check every citation URL (concurrently, with timeouts, retries with "
        "backoff and a per-host limit) and store status, final URL and time. "
        "Broken links show in the admin, the term history and /api/v1/stats/."
    )

    def add_arguments(self, parser):
        """Limits and which URLs to check."""
        parser.add_argument(
            "--timeout", type=float, default=10.0, help="Seconds per attempt (10)."
        )
        parser.add_argument(
            "--retries",
            type=int,
            default=2,
            help="Attempts after the first for timeouts, 429 and 5xx (2).",
        )
        parser.add_argument(
            "--backoff",
            type=float,
            default=1.0,
            help="First wait before a retry in seconds, doubled each time (1).",
        )
        parser.add_argument(
            "--concurrency", type=int, default=16, help="Requests in flight (16)."
        )
        parser.add_argument(
            "--per-host", type=int, default=2, help="Requests in flight per host (2)."
        )
        parser.add_argument(
            "--broken-only",
            action="store_true",
            help="Check again only the URLs whose last check failed.",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print the results as JSON."
        )

    def handle(self, *args, **options):
        """Check, store, report; exit status 1 when a link is broken."""
        for name in ("timeout", "backoff"):
            if options[name] < 0:
                raise CommandError(f"--{name} must not be negative")
        for name in ("concurrency", "per_host"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        if options["retries"] < 0:
            raise CommandError("--retries must not be negative")
        urls = Citation.objects.order_by("url").values_list("url", flat=True)
        if options["broken_only"]:
            urls = urls.filter(url__in=LinkCheck.objects.filter(ok=False).values("url"))
        results = check_urls(
            list(urls.distinct()),
            CheckSettings(
                user_agent=settings.GLOSSARY_LINKCHECK_USER_AGENT,
                timeout=options["timeout"],
                retries=options["retries"],
                backoff=options["backoff"],
                concurrency=options["concurrency"],
                per_host=options["per_host"],
            ),
        )
        store_link_checks(results)
        broken = [r for r in results if not r.ok]
        if options["json"]:
            self.stdout.write(
                json.dumps([r.__dict__ for r in results], indent=2, ensure_ascii=False)
            )
        else:
            for result in broken:
                what = result.status_code or result.error
                self.stdout.write(f"  broken  {result.url}: {what}")
            self.stdout.write(
                f"Checked {len(results)} URL(s): {len(results) - len(broken)} ok, "
                f"{len(broken)} broken."
            )
        if broken:
            raise SystemExit(1)
