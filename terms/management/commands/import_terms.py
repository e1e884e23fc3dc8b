"""``manage.py import_terms``: import term files and directories as one batch."""

import json
import os
import sys
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from terms.models import Term
from terms.serving import stamp
from terms.workflow.importer import ImportReport, import_paths

MAX_WARNINGS_SHOWN = 10


class Command(BaseCommand):
    """``manage.py import_terms``."""

    help = (
        "Validate and import glossary YAML files (term documents plus roles.yml, "
        "categories.yml and site.yml) from files or directories, as one batch. A batch "
        "with any error writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths",
            nargs="+",
            metavar="PATH",
            help="A .yml file or a directory of them.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would change; write nothing.",
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Delete stored terms that are not in the given paths.",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON report on stdout."
        )
        parser.add_argument(
            "--user", metavar="USERNAME", help="Record the import as done by this user."
        )
        parser.add_argument(
            "--propose",
            action="store_true",
            help=(
                "Send the import through review as --user's edits: new terms "
                "arrive as drafts, changes to reviewed or approved terms become "
                "pending changes, changes to drafts are edits. The public "
                "glossary does not move until they are approved."
            ),
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            metavar="N",
            help=(
                "Parse files in N processes (default: one per CPU; used from "
                "2,000 files on)."
            ),
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=(
                "Import only into a glossary with no terms (how `make run` loads the "
                "sample glossary without undoing what users changed)."
            ),
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        actor = None
        if options["user"]:
            try:
                actor = get_user_model().objects.get_by_natural_key(options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"no user named {options['user']!r}") from None
        if options["if_empty"] and Term.objects.exists():
            self.stdout.write(
                f"The glossary already holds {Term.objects.count()} term(s); nothing "
                "was imported (--if-empty loads only into an empty glossary)."
            )
            return
        show_progress = not options["json"] and sys.stderr.isatty()
        started = time.perf_counter()
        try:
            report = import_paths(
                options["paths"],
                dry_run=options["dry_run"],
                prune=options["prune"],
                actor=actor,
                progress=self.progress if show_progress else None,
                workers=options["workers"] or os.cpu_count() or 1,
                propose=options["propose"],
            )
        except stamp.Unreachable as error:
            raise CommandError(str(error)) from None
        elapsed = time.perf_counter() - started
        if show_progress:
            sys.stderr.write("\r\033[K")
        if options["json"]:
            self.stdout.write(
                json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
            )
        else:
            self.write_report(report, elapsed)
        if not report.ok:
            raise CommandError(
                f"{len(report.errors)} problem(s) found; nothing was written."
            )

    def progress(self, stage: str, done: int, total: int) -> None:
        sys.stderr.write(f"\r\033[K{stage} {done}/{total}")
        sys.stderr.flush()

    def write_report(self, report: ImportReport, elapsed: float) -> None:
        for error in report.errors:
            self.stderr.write(f"error: {error}")
        if not report.ok:
            return
        shown = (
            report.warnings
            if self.verbosity >= 2
            else report.warnings[:MAX_WARNINGS_SHOWN]
        )
        for warning in shown:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        if len(shown) < len(report.warnings):
            self.stderr.write(
                self.style.WARNING(
                    f"... and {len(report.warnings) - len(shown)} more warning(s); "
                    "-v 2 or --json lists them all"
                )
            )
        verbose = report.dry_run or self.verbosity >= 2
        if verbose:
            for slug in report.created:
                self.stdout.write(f"  create  {slug}")
        for slug in report.updated:
            self.stdout.write(f"  update  {slug}: {', '.join(report.changes[slug])}")
        for slug in report.proposed:
            self.stdout.write(f"  propose {slug}: {', '.join(report.changes[slug])}")
        for slug in report.deleted:
            self.stdout.write(f"  delete  {slug}")
        for kind, changes in report.data_changes.items():
            for action, names in changes.items():
                if names:
                    self.stdout.write(f"  {kind}: {action} {', '.join(names)}")
        verb = "Would import" if report.dry_run else "Imported"
        known = ""
        if report.known_files:
            known = f" ({report.known_files} known by their bytes)"
        summary = (
            f"{verb} {report.files} file(s): {len(report.created)} created, "
            f"{len(report.updated)} updated, "
            + (f"{len(report.proposed)} proposed, " if report.propose else "")
            + f"{len(report.unchanged)} unchanged{known}, "
            f"{len(report.deleted)} deleted, {len(report.warnings)} warning(s) "
            f"in {elapsed:.2f}s."
        )
        if report.dry_run:
            summary += " Dry run: nothing was written."
        self.stdout.write(self.style.SUCCESS(summary))
