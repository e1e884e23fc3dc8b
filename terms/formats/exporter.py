"""Exporting the glossary as term documents and data files (the canonical form).

``glossary_files`` assembles the whole export once; ``export_terms`` writes it to
a folder and the API serves it as a zip or as JSON. Files are written to a
temporary name and renamed into place, so a reader never sees half a file.
"""

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from terms.documents.document import TermDocument, dump_yaml
from terms.documents.mapping import documents_for
from terms.formats import csvfile, skos
from terms.formats.import_files import TERM_SUFFIXES
from terms.models import Term
from terms.reads.selectors import data_files


@dataclass
class ExportReport:
    """What an export wrote, and which other YAML files it found in the folder."""

    written: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def term_documents(statuses: Iterable[str] | None = None) -> list[TermDocument]:
    """Documents of every term (of ``statuses``), by slug."""
    queryset = Term.objects.all()
    if statuses is not None:
        queryset = queryset.filter(status__in=list(statuses))
    documents = documents_for(queryset)
    return sorted(documents.values(), key=lambda document: document.slug)


def glossary_files(statuses: Iterable[str] | None = None) -> dict[str, str]:
    """The whole export as file name -> YAML text: terms first, then data files.

    Term slugs never equal a data file's name (``datafiles.RESERVED_SLUGS``).
    """
    files = {f"{d.slug}.yml": d.to_yaml() for d in term_documents(statuses)}
    for name, data in data_files().items():
        if name in files:  # Only a database written around the validator.
            raise ValueError(f"a term's file {name} collides with the data file")
        files[name] = dump_yaml(data)
    return files


def glossary_skos(fmt: str, statuses: Iterable[str] | None = None, slug=None) -> bytes:
    """The glossary (or the one term ``slug``) as SKOS in ``fmt`` (ttl, rdf, jsonld).

    Relationship targets resolve against every term of ``statuses``, so a
    single term's links point at the same URIs as in the whole export.
    """
    queryset = Term.objects.all()
    if statuses is not None:
        queryset = queryset.filter(status__in=list(statuses))
    rows = queryset.values_list("slug", "updated_at", "replaced_by__slug")
    modified = {row[0]: row[1] for row in rows}
    replaced_by = {row[0]: row[2] for row in rows if row[2]}
    documents = documents_for(queryset if slug is None else queryset.filter(slug=slug))
    names = queryset.values_list("slug", "name")
    graph = skos.glossary_graph(
        sorted(documents.values(), key=lambda document: document.slug),
        modified=modified,
        replaced_by=replaced_by,
        known=dict(names),
    )
    return skos.serialise(graph, fmt)


def glossary_data(statuses: Iterable[str] | None = None) -> dict:
    """The whole export as JSON-ready data."""
    files = data_files()
    return {
        "terms": [document.to_data() for document in term_documents(statuses)],
        **files.get("roles.yml", {}),
        **files.get("categories.yml", {}),
        "site": files.get("site.yml", {}),
    }


def _write_atomic(path: Path, text: str | bytes) -> None:
    handle, temp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        if isinstance(text, bytes):
            with os.fdopen(handle, "wb") as out:
                out.write(text)
        else:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def export_glossary(directory: str | Path, *, clean: bool = False) -> ExportReport:
    """Write every term as ``<slug>.yml`` plus roles.yml, categories.yml and site.yml.

    With ``clean``, other ``.yml`` files in the folder are removed, so the folder
    holds exactly the glossary; without it they are only reported.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    outputs = glossary_files()
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


def glossary_csv(statuses: Iterable[str] | None = None) -> tuple[str, list[str]]:
    """The glossary as OpenMetadata-layout CSV, and what CSV could not carry."""
    return csvfile.write_csv(term_documents(statuses))


def export_file(path: str | Path, name: str) -> tuple[int, list[str]]:
    """Write the whole glossary to the file ``path`` in the registered format
    ``name`` (``terms.formats.registry``); the term count and what the format
    could not carry."""
    from terms.formats import registry

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    content, losses = registry.get(name).write(None)
    _write_atomic(path, content)
    return Term.objects.count(), losses
