"""``manage.py new_term "NAME" [--dir DIR]``: write a new draft's YAML skeleton."""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from terms.documents.document import validate_term_data
from terms.documents.naming import lookup_key, term_slug
from terms.documents.scaffold import DEFAULT_SCHEMA_URL, term_skeleton
from terms.documents.yaml_loader import load_yaml
from terms.models import Alias, Category, Term
from terms.reads.selectors import known_roles


class Command(BaseCommand):
    """``manage.py new_term``."""

    help = (
        "Write <slug>.yml for a new term: every key of the term document, empty, "
        "under a comment saying what it needs; status draft, today's date."
    )

    def add_arguments(self, parser):
        """NAME [--dir DIR] [--schema-url URL]."""
        parser.add_argument("name", help="The term's display name.")
        parser.add_argument(
            "--dir",
            default=".",
            help="Folder to write <slug>.yml into (default: the current folder).",
        )
        parser.add_argument(
            "--schema-url",
            default=DEFAULT_SCHEMA_URL,
            help="JSON Schema named in the file's modeline for YAML editors.",
        )

    def handle(self, *args, **options):
        """Refuse a taken or unusable name; otherwise write the skeleton."""
        try:
            self.write(options["name"], options["dir"], options["schema_url"])
        except DatabaseError as exc:
            raise CommandError(
                f"cannot read the glossary's database ({exc}); run "
                "`manage.py migrate` (or `make run`) first"
            ) from exc

    def write(self, name: str, dir: str, schema_url: str) -> None:
        """The skeleton of ``name`` as ``dir/<slug>.yml``."""
        folder = Path(dir)
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder")
        slug = term_slug(name)
        text = term_skeleton(
            name,
            today=datetime.date.today(),
            roles=known_roles(),
            categories=list(
                Category.objects.order_by("name").values_list("name", flat=True)
            ),
            schema_url=schema_url,
        )
        # The skeleton must be a valid draft; this also refuses reserved,
        # empty or unsafe slugs with the validator's own words.
        _, problems = validate_term_data(
            load_yaml(text.encode()).value, expected_slug=slug
        )
        if problems:
            raise CommandError("; ".join(p.message for p in problems))
        path = folder / f"{slug}.yml"
        if path.exists():
            raise CommandError(
                f"{path} already exists; edit it, or choose another name"
            )
        taken = Term.objects.filter(slug=slug).values_list("name", "status").first()
        if taken:
            raise CommandError(
                f"the glossary already has {taken[0]!r} ({taken[1]}) with the slug "
                f"{slug!r}; export it with export_terms to edit it"
            )
        alias_of = (
            Alias.objects.filter(key=lookup_key(name))
            .values_list("term__name", flat=True)
            .first()
        )
        if alias_of:
            self.stderr.write(
                self.style.WARNING(
                    f"note: {name!r} is already an alias of {alias_of!r}"
                )
            )
        try:
            with path.open("x", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc}") from exc
        self.stdout.write(
            f"Wrote {path} (draft). Fill it in, then check it with: "
            f"manage.py import_terms {folder} --dry-run"
        )
