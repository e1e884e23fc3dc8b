"""Every file format of the glossary, registered once.

A ``Format`` says what a format is called, its media type and file suffixes,
how one file of it is read into term entries and how the glossary is written
as one file of it. Imports (which files a folder or upload may hold, and how
each is read), exports (``export_terms --format``, ``GET /api/v1/export/``),
the API's renderers and content negotiation all read this registry, so a new
format is one entry here and its reader and writer.
"""

import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from terms.documents.yaml_loader import Problem

#: One file's bytes and its name -> the entries read (``Entry``: data, where,
#: line, warnings) and the problems found.
Reader = Callable[[bytes, str], tuple[list, list[Problem]]]
#: The statuses to export (None: all) -> the file's bytes, and what the format
#: could not carry.
Writer = Callable[[Iterable[str] | None], tuple[bytes, list[str]]]


@dataclass(frozen=True)
class Format:
    """A file format of the glossary."""

    name: str
    label: str
    media_type: str
    #: File suffixes, the first one written.
    suffixes: tuple[str, ...]
    #: Reads a file that holds many terms; None for YAML, whose files hold one
    #: term each and are read by the import batch itself.
    read: Reader | None = field(repr=False, default=None)
    write: Writer | None = field(repr=False, default=None)
    #: The media type of the whole glossary written (YAML: a zip of files).
    glossary_media_type: str = ""

    @property
    def suffix(self) -> str:
        return self.suffixes[0]

    @property
    def export_media_type(self) -> str:
        """What ``write`` makes: the format itself, or an archive of it."""
        return self.glossary_media_type or self.media_type

    @property
    def filename(self) -> str:
        """What a download of the whole glossary is called."""
        return "glossary.zip" if self.name == "yaml" else f"glossary{self.suffix}"


def _read_csv(raw: bytes, file: str):
    from terms.formats import csvfile

    return csvfile.read_csv(raw, file=file)


def _read_skos(suffix: str) -> Reader:
    def read(raw: bytes, file: str):
        from terms.formats import skos_import

        return skos_import.read_skos(raw, file=file, suffix=suffix)

    return read


def _write_yaml(statuses):
    """The term files, roles.yml, categories.yml and site.yml in one zip."""
    from terms.formats import exporter

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in exporter.glossary_files(statuses).items():
            archive.writestr(f"glossary/{name}", text)
    return buffer.getvalue(), []


def _write_csv(statuses):
    from terms.formats import exporter

    text, losses = exporter.glossary_csv(statuses)
    return text.encode("utf-8"), losses


def _write_skos(name: str) -> Writer:
    def write(statuses):
        from terms.formats import exporter

        return exporter.glossary_skos(name, statuses), []

    return write


FORMATS: dict[str, Format] = {
    fmt.name: fmt
    for fmt in (
        Format(
            "yaml",
            "term documents (YAML), one file per term",
            "application/yaml",
            (".yml", ".yaml"),
            write=_write_yaml,
            glossary_media_type="application/zip",
        ),
        Format(
            "ttl",
            "SKOS in Turtle",
            "text/turtle",
            (".ttl",),
            read=_read_skos(".ttl"),
            write=_write_skos("ttl"),
        ),
        Format(
            "rdf",
            "SKOS in RDF/XML",
            "application/rdf+xml",
            (".rdf",),
            read=_read_skos(".rdf"),
            write=_write_skos("rdf"),
        ),
        Format(
            "jsonld",
            "SKOS in JSON-LD",
            "application/ld+json",
            (".jsonld",),
            read=_read_skos(".jsonld"),
            write=_write_skos("jsonld"),
        ),
        Format(
            "csv",
            "OpenMetadata's glossary CSV",
            "text/csv",
            (".csv",),
            read=_read_csv,
            write=_write_csv,
        ),
    )
}

#: The SKOS formats: the glossary, or one term, as an RDF graph.
SKOS = ("ttl", "rdf", "jsonld")


def get(name: str) -> Format:
    """The format called ``name``; a ``KeyError`` naming the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(FORMATS)
        raise KeyError(f"no format {name!r}; the formats are: {known}") from None


def for_suffix(suffix: str) -> Format | None:
    """The format a file with this suffix holds (any case), or None."""
    suffix = suffix.lower()
    for fmt in FORMATS.values():
        if suffix in fmt.suffixes:
            return fmt
    return None


def suffixes(*, many: bool | None = None) -> tuple[str, ...]:
    """Suffixes an import reads: all, those of files holding one term
    (``many=False``: YAML) or those holding many (``many=True``)."""
    return tuple(
        suffix
        for fmt in FORMATS.values()
        if many is None or (fmt.read is not None) == many
        for suffix in fmt.suffixes
    )
