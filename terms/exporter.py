"""Exporting the glossary as term documents and data files (the canonical form).

Files are written to a temporary name and renamed into place, so a reader never
sees half a file.
"""

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .document import TERM_DOCUMENT_PREFETCH, document_from_term, dump_yaml
from .importer import CATEGORIES_FILE, ROLES_FILE, SITE_FILE, TERM_SUFFIXES, site_texts
from .models import Category, Role, Term


@dataclass
class ExportReport:
    """What an export wrote, and which other YAML files it found in the folder."""

    written: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _write_atomic(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def roles_data() -> dict:
    return {
        "roles": [
            {
                "slug": r.slug,
                "title": r.title,
                "summary": r.summary,
                "takeaway": r.takeaway,
            }
            for r in Role.objects.all()
        ]
    }


def categories_data() -> dict:
    return {
        "categories": [
            {"name": c.name, "apply_guidance": list(c.apply_guidance)}
            for c in Category.objects.all()
        ]
    }


def export_glossary(directory: str | Path, *, clean: bool = False) -> ExportReport:
    """Write every term as ``<slug>.yml`` plus roles.yml, categories.yml and site.yml.

    With ``clean``, other ``.yml`` files in the folder are removed, so the folder
    holds exactly the glossary; without it they are only reported.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    outputs: dict[str, str] = {}
    for term in Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH).order_by("slug"):
        outputs[f"{term.slug}.yml"] = document_from_term(term).to_yaml()
    outputs[ROLES_FILE] = dump_yaml(roles_data())
    outputs[CATEGORIES_FILE] = dump_yaml(categories_data())
    texts = site_texts()
    if texts:
        outputs[SITE_FILE] = dump_yaml(texts)
    for name, text in outputs.items():
        _write_atomic(folder / name, text)
        report.written.append(name)
    for child in sorted(folder.iterdir()):
        if (
            child.is_file()
            and child.suffix in TERM_SUFFIXES
            and child.name not in outputs
        ):
            if clean:
                child.unlink()
                report.removed.append(child.name)
            else:
                report.stale.append(child.name)
    return report
