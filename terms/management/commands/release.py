"""``manage.py release``: publish, list and compare releases.

manage.py release create 2026.12 --notes "Quarterly edition"
manage.py release list
manage.py release diff 2026.09 2026.12 [--json]
manage.py release snapshot [2026.12 ...]
"""

import json

from django.core.management.base import BaseCommand, CommandError

from terms.models import ChangeSource
from terms.reads import releases
from terms.serving import snapshots
from terms.workflow.releases import ReleaseRefused, release_create
from terms.workflow.transitions import WorkflowError


class Command(BaseCommand):
    """``manage.py release``."""

    help = "Publish a release of the public glossary, list releases, compare two."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Publish a release now.")
        create.add_argument("name", help="2026.12, v3, ...")
        create.add_argument("--notes", default="", help="Release notes (Markdown).")
        create.add_argument(
            "--force",
            action="store_true",
            help="Publish even if the integrity gate finds problems (kept as "
            "warnings of the release).",
        )
        actions.add_parser("list", help="Every release, newest first.")
        diff = actions.add_parser(
            "diff", help="What changed from A to B (names, latest or current)."
        )
        diff.add_argument("a")
        diff.add_argument("b")
        diff.add_argument("--json", action="store_true", help="JSON, not Markdown.")
        snapshot = actions.add_parser(
            "snapshot",
            help="Build the snapshot that reads as of a release use (the task "
            "worker builds each new release's; this builds them ahead on a new "
            "machine).",
        )
        snapshot.add_argument("names", nargs="*", help="Releases (default: all).")

    def handle(self, *args, **options):
        getattr(self, f"do_{options['action']}")(options)

    def do_create(self, options):
        try:
            release = release_create(
                name=options["name"],
                notes=options["notes"],
                actor=None,  # the command line is the administrator's
                force=options["force"],
                source=ChangeSource.ADMIN,
            )
        except ReleaseRefused as exc:
            for finding in exc.findings:
                self.stderr.write(
                    f"  {finding.term}: {finding.field}: {finding.message}"
                )
            raise CommandError(
                f"{exc.message} Nothing was published (--force publishes anyway)."
            ) from exc
        except WorkflowError as exc:
            raise CommandError(exc.message) from exc
        for warning in release.warnings:
            self.stderr.write(
                self.style.WARNING(
                    f"warning: {warning['term']}: {warning['field']}: "
                    f"{warning['message']}"
                )
            )
        total = sum(release.counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Published release {release.name} (#{release.sequence}): "
                f"{total} term(s), {len(release.warnings)} warning(s)."
            )
        )

    def do_list(self, options):
        for release in releases.listed():
            total = sum(release.counts.values())
            self.stdout.write(
                f"{release.name}\t#{release.sequence}\t"
                f"{release.published_at:%Y-%m-%d %H:%M}\t{total} terms\t"
                f"{release.published_by_name}"
            )

    def do_snapshot(self, options):
        try:
            wanted = [releases.find(name) for name in options["names"]]
        except releases.UnknownRelease as exc:
            raise CommandError(str(exc)) from exc
        for release in wanted or releases.listed():
            path = snapshots.build(release)
            self.stdout.write(f"{release.name}\t{path}")

    def do_diff(self, options):
        try:
            for name in (options["a"], options["b"]):
                if name != releases.CURRENT:
                    releases.find(name)
        except releases.UnknownRelease as exc:
            raise CommandError(str(exc)) from exc
        found = releases.diff(options["a"], options["b"])
        if options["json"]:
            self.stdout.write(
                json.dumps(found.as_dict(), ensure_ascii=False, indent=2, default=str)
            )
        else:
            self.stdout.write(releases.diff_markdown(found))
