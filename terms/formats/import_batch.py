"""Reading an import's files into one batch, every document validated.

Term files (YAML, and SKOS and CSV files of many terms), roles, categories and
site texts are read and checked; every problem is collected with its file,
line and field. Nothing here writes: ``terms.workflow.importer`` compares the batch
with what is stored and writes it.

A YAML file whose bytes are those an earlier import wrote its term from, while
the term has not changed since (``TermSource``), is not parsed again: the
stored document stands in for it. From ``PARALLEL_MIN_FILES`` files on, YAML
is parsed in several processes.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from django.utils.text import slugify

from terms.documents.datafiles import (
    CATEGORIES_FILE,
    DATA_FILES,
    ROLES_FILE,
    CategoryData,
    RoleData,
    parse_categories_file,
    parse_roles_file,
    parse_site_file,
)
from terms.documents.document import (
    Problem,
    TermDocument,
    category_clash_message,
    parse_term_file,
    validate_term_data,
)
from terms.documents.mapping import documents_for
from terms.formats import registry
from terms.formats.import_files import MANY_SUFFIXES, read_file
from terms.models import Category, Term, TermSource
from terms.reads.selectors import known_roles

__all__ = [
    "IN_LIST_LIMIT",
    "PARALLEL_MIN_FILES",
    "Batch",
    "parse_batch",
    "stored_documents",
]

Progress = Any  # Callable[[str, int, int], None], as terms.workflow.importer has it


@dataclass
class Batch:
    """The parsed contents of every file in one import."""

    terms: dict[str, tuple[str, TermDocument]] = field(default_factory=dict)
    roles: list[RoleData] = field(default_factory=list)
    categories: list[CategoryData] = field(default_factory=list)
    site: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    #: What readers of SKOS and CSV files left out, reported as warnings.
    warnings: list[Problem] = field(default_factory=list)
    #: Each document's source: (file label, line, slug or None).
    sources: list[tuple[str, int | None, str | None]] = field(default_factory=list)
    #: SHA-256 of the file each parsed YAML document came from, by slug.
    digests: dict[str, str] = field(default_factory=dict)
    #: Terms whose file was not parsed (its bytes are the stored term's source),
    #: with the stored term's id and document that stand in for it, by slug.
    stored: dict[str, tuple[int, TermDocument]] = field(default_factory=dict)


def _parse_data_files(batch: Batch, data_files: Sequence[Path]) -> None:
    """Roles, categories and site texts of the batch; a role or category
    defined in two files is a problem."""
    role_sources: dict[str, str] = {}
    category_sources: dict[str, str] = {}
    for path in data_files:
        raw = read_file(path, batch.problems)
        if raw is None:
            continue
        if path.name == ROLES_FILE:
            roles, problems = parse_roles_file(raw, file=str(path))
            problems += _defined_twice(
                [(r.slug, f"role {r.slug!r}") for r in roles], role_sources, path
            )
            batch.roles.extend(roles)
        elif path.name == CATEGORIES_FILE:
            categories, problems = parse_categories_file(raw, file=str(path))
            problems += _defined_twice(
                [(c.slug, f"category {c.name!r}") for c in categories],
                category_sources,
                path,
            )
            batch.categories.extend(categories)
        else:
            site, problems = parse_site_file(raw, file=str(path))
            batch.site.update(site)
        batch.problems.extend(problems)


def _defined_twice(
    items: list[tuple[str, str]], sources: dict[str, str], path: Path
) -> list[Problem]:
    """Problems for the ``(slug, label)`` items another data file already
    defined; remembers ``path`` as where each is defined."""
    field = "roles" if path.name == ROLES_FILE else "categories"
    problems = []
    for slug, label in items:
        if slug in sources:
            problems.append(
                Problem(
                    f"{label} is also defined in {sources[slug]}",
                    file=str(path),
                    field=field,
                )
            )
        sources[slug] = str(path)
    return problems


def parse_batch(
    files: Sequence[Path], progress: Progress | None, workers: int = 1
) -> Batch:
    """Read and check every file (term files with ``workers`` processes)."""
    batch = Batch(files=len(files))
    _parse_data_files(batch, [path for path in files if path.name in DATA_FILES])
    term_files = [path for path in files if path.name not in DATA_FILES]
    roles = known_roles() | {role.slug for role in batch.roles}
    unparsed: list[tuple[str, str]] = []
    results = _read_term_files(term_files, roles, _imported_digests(), workers)
    for done, (path, outcome) in enumerate(
        zip(term_files, results, strict=True), start=1
    ):
        kind, *details = outcome
        if kind == "unreadable":
            batch.problems.append(details[0])
        elif kind == "many":
            _parse_many(batch, path, details[0], roles)
        elif kind == "known":
            unparsed.append((path.stem, str(path)))
        else:
            digest, document, problems = details
            batch.problems.extend(problems)
            _add_document(batch, str(path), None, document)
            if document is not None:
                batch.digests[document.slug] = digest
        if progress:
            progress("validating", done, len(term_files))
    if unparsed:
        batch.stored = stored_documents(slug for slug, _ in unparsed)
        for slug, where in unparsed:
            _add_document(batch, where, None, batch.stored[slug][1])
    _check_category_slugs(batch)
    return batch


#: Below this many term files, parsing in other processes costs more than it saves.
PARALLEL_MIN_FILES = 2000
# What the parsing processes read: set before they are forked, never sent.
_SHARED: dict[str, Any] = {}


def _read_term_files(
    paths: Sequence[Path], roles: set[str], known: dict[str, str], workers: int
):
    """Each file's outcome, in order: ``("unreadable", problem)``, ``("many",
    raw)``, ``("known",)`` (its bytes are the stored term's source) or
    ``("parsed", digest, document, problems)``.

    With ``workers`` over 1 and many files, the YAML is parsed and validated
    by that many forked processes (parsing is pure Python: one core per
    process), each reading its own files; the results come back in order.
    """
    _SHARED.update(roles=roles, known=known)
    try:
        if workers <= 1 or len(paths) < PARALLEL_MIN_FILES:
            yield from map(_read_term_file, paths)
            return
        import multiprocessing

        size = max(100, len(paths) // (workers * 8))
        chunks = [paths[start : start + size] for start in range(0, len(paths), size)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for outcomes in pool.imap(_read_chunk, chunks):
                yield from outcomes
    finally:
        _SHARED.clear()


def _read_chunk(paths: Sequence[Path]) -> list[tuple]:
    return [_read_term_file(path) for path in paths]


def _read_term_file(path: Path) -> tuple:
    problems: list[Problem] = []
    raw = read_file(path, problems)
    if raw is None:
        return ("unreadable", problems[0])
    if path.suffix.lower() in MANY_SUFFIXES:
        return ("many", raw)
    digest = hashlib.sha256(raw).hexdigest()
    if _SHARED["known"].get(path.stem) == digest:
        return ("known",)
    document, problems = parse_term_file(
        raw, file=str(path), expected_slug=path.stem, known_roles=_SHARED["roles"]
    )
    return ("parsed", digest, document, problems)


def _imported_digests() -> dict[str, str]:
    """File digests of the terms still as an import wrote them, by slug."""
    from django.db.models import F

    return dict(
        TermSource.objects.filter(version=F("term__version")).values_list(
            "term__slug", "digest"
        )
    )


def _add_document(
    batch: Batch, where: str, line: int | None, document: TermDocument | None
) -> None:
    """Record a parsed document (None: refused) and its source; a slug defined
    twice in the batch is a problem."""
    batch.sources.append((where, line, document.slug if document else None))
    if document is None:
        return
    if document.slug in batch.terms:
        other = batch.terms[document.slug][0]
        batch.problems.append(
            Problem(
                f"term {document.slug!r} is also defined in {other}",
                file=where,
                line=line,
                field="term",
            )
        )
    else:
        batch.terms[document.slug] = (where, document)


def _parse_many(batch: Batch, path: Path, raw: bytes, roles) -> None:
    """The documents of a SKOS or CSV file, each validated like a YAML file."""
    fmt = registry.for_suffix(path.suffix)
    entries, problems = fmt.read(raw, str(path))
    batch.problems.extend(problems)
    for entry in entries:
        batch.warnings.extend(entry.warnings)
        document, problems = validate_term_data(
            entry.data, file=entry.where, known_roles=roles
        )
        batch.problems.extend(
            replace(problem, line=entry.line) if problem.line is None else problem
            for problem in problems
        )
        _add_document(batch, entry.where, entry.line, document)


def _check_category_slugs(batch: Batch) -> None:
    """Two spellings of a category ("LLM Core", "llm core") would clash on its slug."""
    stored = dict(Category.objects.values_list("slug", "name"))
    names: dict[str, tuple[str, str]] = {
        slug: (name, "the database") for slug, name in stored.items()
    }
    for category in batch.categories:
        names[category.slug] = (category.name, CATEGORIES_FILE)
    for file, document in batch.terms.values():
        for index, name in enumerate(document.categories):
            slug = slugify(name)  # never empty: the document check refuses that
            if slug in names and names[slug][0] != name:
                known, where = names[slug]
                batch.problems.append(
                    Problem(
                        category_clash_message(name, known, where),
                        file=file,
                        field=f"categories[{index}]",
                    )
                )
            else:
                names.setdefault(slug, (name, file))


# Past this many slugs, read every term instead of sending a long IN list (SQLite
# limits the number of query parameters).
IN_LIST_LIMIT = 500


def stored_documents(slugs: Iterable[str]) -> dict[str, tuple[int, TermDocument]]:
    """The stored terms' ids and documents, by slug (no model instances: an
    import compares whole glossaries with them)."""
    wanted = set(slugs)
    queryset = (
        Term.objects.filter(slug__in=wanted)
        if len(wanted) <= IN_LIST_LIMIT
        else Term.objects.all()
    )
    documents = documents_for(queryset)
    return {
        slug: (pk, documents[pk])
        for pk, slug in queryset.values_list("pk", "slug")
        if slug in wanted
    }
