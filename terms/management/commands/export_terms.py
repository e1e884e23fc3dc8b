"""``manage.py export_terms``: write the glossary as canonical YAML files, or as
one SKOS file (``--format ttl|rdf|jsonld``) or CSV file (``--format csv``)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from terms.documents.jsonschema import term_document_schema
from terms.formats.exporter import export_csv, export_glossary, export_skos
from terms.formats.skos import FORMATS


class Command(BaseCommand):
    """``manage.py export_terms``."""

    help = (
        "Write every term as DIR/<slug>.yml in the canonical form of term-format.md, "
        "plus roles.yml, categories.yml and site.yml."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "directory",
            metavar="DIR",
            nargs="?",
            help="Folder to write into (created if missing).",
        )
        parser.add_argument(
            "--schema",
            metavar="FILE",
            help="Also (or only) write the term document's JSON Schema to FILE.",
        )
        parser.add_argument(
            "--format",
            choices=["yaml", *FORMATS, "csv"],
            default="yaml",
            help=(
                "yaml (default): DIR is a folder of term files; ttl, rdf or jsonld: "
                "DIR is the file to write the glossary to as SKOS; csv: the file "
                "to write it to in OpenMetadata's glossary CSV layout."
            ),
        )
        parser.add_argument(
            "--clean",
            action="store_true",
            help="Remove other .yml files in DIR so it holds exactly the glossary.",
        )

    def handle(self, *args, **options):
        if options["schema"]:
            self.write_schema(options["schema"])
            if not options["directory"]:
                return
        elif not options["directory"]:
            raise CommandError("give a folder to export to, or --schema FILE")
        if options["format"] == "csv":
            self.write_csv(options["directory"])
            return
        if options["format"] != "yaml":
            self.write_skos(options["directory"], options["format"])
            return
        try:
            report = export_glossary(options["directory"], clean=options["clean"])
        except OSError as exc:
            raise CommandError(
                f"cannot write to {options['directory']}: {exc}"
            ) from exc
        for name in report.removed:
            self.stdout.write(f"  removed {name}")
        for name in report.stale:
            self.stderr.write(
                self.style.WARNING(
                    f"warning: {name} is not part of the glossary; "
                    "use --clean to remove it"
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {len(report.written)} file(s) to {options['directory']}."
            )
        )

    def write_skos(self, path: str, fmt: str) -> None:
        """The whole glossary as one SKOS file."""
        if Path(path).is_dir():
            raise CommandError(f"{path} is a folder; --format {fmt} writes one file")
        try:
            count = export_skos(path, fmt)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {count} term(s) to {path} as SKOS ({fmt}).")
        )

    def write_csv(self, path: str) -> None:
        """The whole glossary as one CSV file; what CSV cannot carry, as warnings."""
        if Path(path).is_dir():
            raise CommandError(f"{path} is a folder; --format csv writes one file")
        try:
            count, losses = export_csv(path)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc}") from exc
        for loss in losses:
            self.stderr.write(self.style.WARNING(f"warning: not in the CSV: {loss}"))
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {count} term(s) to {path} as CSV.")
        )

    def write_schema(self, path: str) -> None:
        """The JSON Schema of a term document, as a file."""
        text = json.dumps(term_document_schema(), indent=2, ensure_ascii=False)
        try:
            Path(path).write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"Wrote the term document schema to {path}.")
        )
