"""``manage.py export_terms``: write the glossary as canonical YAML files, or as
one file of any other registered format (``--format csv|ttl|rdf|jsonld``,
``terms.formats.registry``)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from terms.documents.jsonschema import term_document_schema
from terms.formats import registry
from terms.formats.exporter import export_file, export_glossary


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
            choices=list(registry.FORMATS),
            default="yaml",
            help=(
                "yaml (default): DIR is a folder of term files; any other: DIR "
                "is the one file to write the glossary to: "
                + "; ".join(
                    f"{fmt.name}: {fmt.label}"
                    for fmt in registry.FORMATS.values()
                    if fmt.name != "yaml"
                )
                + "."
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
        if options["format"] != "yaml":
            self.write_file(options["directory"], registry.get(options["format"]))
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

    def write_file(self, path: str, fmt: registry.Format) -> None:
        """The whole glossary as one file; what the format cannot carry, as
        warnings."""
        if Path(path).is_dir():
            raise CommandError(
                f"{path} is a folder; --format {fmt.name} writes one file"
            )
        try:
            count, losses = export_file(path, fmt.name)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc}") from exc
        for loss in losses:
            self.stderr.write(
                self.style.WARNING(f"warning: not in the {fmt.name} file: {loss}")
            )
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {count} term(s) to {path} as {fmt.label}.")
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
