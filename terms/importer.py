"""Importing a batch of term documents and data files into the database.

The batch is validated as a whole before anything is written: one bad file
anywhere means nothing is written and every problem in every file is reported.
A valid batch is compared with what is stored; only terms whose document really
changed are written, in one transaction, each with a revision and an audit
event. Importing unchanged content therefore writes nothing at all.

A YAML file whose bytes are those an earlier import wrote its term from, while
the term has not changed since (``TermSource``), is not parsed again: it holds
the stored document, which stands in for it. Re-importing a large glossary
that changed in a few files costs reading and hashing the rest.
"""

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils.text import slugify

from . import services
from .datafiles import (
    CATEGORIES_FILE,
    DATA_FILES,
    ROLES_FILE,
    CategoryData,
    RoleData,
    parse_categories_file,
    parse_roles_file,
    parse_site_file,
)
from .document import (
    Problem,
    TermDocument,
    category_clash_message,
    parse_term_file,
    validate_term_data,
)
from .import_files import MANY_SUFFIXES, collect_files, read_file
from .mapping import documents_for
from .models import (
    Category,
    ChangeSource,
    PendingChange,
    Role,
    SiteText,
    Term,
    TermSource,
)
from .resolver import TargetIndex
from .selectors import known_roles

Progress = Callable[[str, int, int], None]


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    changes: dict[str, list[str]] = field(default_factory=dict)
    data_changes: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    files: int = 0
    #: Files not parsed: their bytes are those an import wrote the stored,
    #: unchanged since, term from (``TermSource``).
    known_files: int = 0
    #: One per document read: ``file``, ``line`` (CSV), ``slug``, ``action``
    #: (created, updated, unchanged; invalid, or not_written when another
    #: document made the batch fail) and ``errors``.
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "changes": self.changes,
            "data": self.data_changes,
            "warnings": [warning.as_dict() for warning in self.warnings],
            "errors": [error.as_dict() for error in self.errors],
            "dry_run": self.dry_run,
            "known_files": self.known_files,
            "rows": self.rows,
        }


@dataclass
class _Batch:
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


def _parse_data_files(batch: _Batch, data_files: Sequence[Path]) -> None:
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
            for role in roles:
                if role.slug in role_sources:
                    problems.append(
                        Problem(
                            f"role {role.slug!r} is also defined in "
                            f"{role_sources[role.slug]}",
                            file=str(path),
                            field="roles",
                        )
                    )
                role_sources[role.slug] = str(path)
            batch.roles.extend(roles)
        elif path.name == CATEGORIES_FILE:
            categories, problems = parse_categories_file(raw, file=str(path))
            for category in categories:
                if category.slug in category_sources:
                    problems.append(
                        Problem(
                            f"category {category.name!r} is also defined in "
                            f"{category_sources[category.slug]}",
                            file=str(path),
                            field="categories",
                        )
                    )
                category_sources[category.slug] = str(path)
            batch.categories.extend(categories)
        else:
            site, problems = parse_site_file(raw, file=str(path))
            batch.site.update(site)
        batch.problems.extend(problems)


def _parse_batch(
    files: Sequence[Path], progress: Progress | None, workers: int = 1
) -> _Batch:
    batch = _Batch(files=len(files))
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
        batch.stored = _stored_documents(slug for slug, _ in unparsed)
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
    batch: _Batch, where: str, line: int | None, document: TermDocument | None
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


def _parse_many(batch: _Batch, path: Path, raw: bytes, roles) -> None:
    """The documents of a SKOS or CSV file, each validated like a YAML file."""
    from . import csvfile, skos_import

    suffix = path.suffix.lower()
    if suffix == ".csv":
        entries, problems = csvfile.read_csv(raw, file=str(path))
    else:
        entries, problems = skos_import.read_skos(raw, file=str(path), suffix=suffix)
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


def _report_rows(report: ImportReport, batch: _Batch) -> None:
    """One row per document read, with what happened to it and its errors."""
    by_file: dict[str, list[str]] = defaultdict(list)
    by_row: dict[tuple[str, int | None], list[str]] = defaultdict(list)
    for problem in report.errors:
        message = (
            f"{problem.field}: {problem.message}" if problem.field else problem.message
        )
        by_file[problem.file or ""].append(message)
        by_row[(problem.file or "", problem.line)].append(message)
    action = {slug: "created" for slug in report.created}
    action |= {slug: "updated" for slug in report.updated}
    action |= {slug: "unchanged" for slug in report.unchanged}
    for where, line, slug in batch.sources:
        # A CSV row is told apart by its line; other documents by their file label.
        mine = by_file[where] if line is None else by_row[(where, line)]
        if mine or slug is None:
            done = "invalid"
        elif report.errors:
            done = "not_written"
        else:
            done = action.get(slug, "unchanged")
        report.rows.append(
            {"file": where, "line": line, "slug": slug, "action": done, "errors": mine}
        )


def _check_category_slugs(batch: _Batch) -> None:
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
_IN_LIST_LIMIT = 500


def _stored_documents(slugs: Iterable[str]) -> dict[str, tuple[int, TermDocument]]:
    """The stored terms' ids and documents, by slug (no model instances: an
    import compares whole glossaries with them)."""
    wanted = set(slugs)
    queryset = (
        Term.objects.filter(slug__in=wanted)
        if len(wanted) <= _IN_LIST_LIMIT
        else Term.objects.all()
    )
    documents = documents_for(queryset)
    return {
        slug: (pk, documents[pk])
        for pk, slug in queryset.values_list("pk", "slug")
        if slug in wanted
    }


def _with_terms(plan: list[tuple]) -> list[tuple]:
    """The plan with the stored ``Term`` of each update in place of its id."""
    ids = [pk for _, _, pk, _ in plan if pk is not None]
    terms: dict[int, Term] = {}
    for start in range(0, len(ids), _IN_LIST_LIMIT):
        terms.update(Term.objects.in_bulk(ids[start : start + _IN_LIST_LIMIT]))
    return [
        (slug, document, None if pk is None else terms[pk], old)
        for slug, document, pk, old in plan
    ]


def _planned_index(batch: _Batch, deleted: set[str]) -> TargetIndex:
    """Target index of the glossary as it will be after the import, keyed by slug."""
    index = TargetIndex()
    aliases: dict[str, list[str]] = defaultdict(list)
    # The stored lookup keys of names and aliases: what ``lookup_key`` would
    # give, already worked out when they were written.
    for slug, alias, key in Term.objects.values_list(
        "slug", "aliases__name", "aliases__key"
    ):
        if alias is not None:
            aliases[slug].append(alias)
            index.remember(alias, key)
    for slug, name, key in Term.objects.values_list("slug", "name", "name_key"):
        index.remember(name, key)
        if slug not in batch.terms and slug not in deleted:
            index.add_term(slug, name=name, slug=slug, aliases=aliases[slug])
    for slug, (_, document) in batch.terms.items():
        index.add_term(slug, name=document.term, slug=slug, aliases=document.aliases)
    return index


def _warnings(batch: _Batch, index: TargetIndex) -> list[Problem]:
    warnings = []
    for slug, (file, document) in sorted(batch.terms.items()):
        for kind, targets in document.relationships().items():
            for position, target in enumerate(targets):
                if index.resolve(target) is None:
                    candidates = index.candidates(target)
                    if candidates:
                        message = (
                            f"{target!r} is ambiguous (it could mean "
                            f"{', '.join(sorted(candidates))}); left unresolved"
                        )
                    else:
                        message = f"{target!r} names no term yet; kept as a wanted term"
                    warnings.append(
                        Problem(
                            message,
                            file=file,
                            field=f"relationships.{kind}[{position}]",
                        )
                    )
        for position, alias in enumerate(document.aliases):
            owners = index.by_alias.get(index.key(alias), set()) - {slug}
            if owners:
                warnings.append(
                    Problem(
                        f"alias {alias!r} is shared with {', '.join(sorted(owners))}; "
                        "lookups return every candidate",
                        file=file,
                        field=f"aliases[{position}]",
                    )
                )
    return warnings


def _plan_roles(batch: _Batch) -> list[tuple]:
    """Roles of ``roles.yml`` that are new or differ from the stored ones."""
    stored_roles = {role.slug: role for role in Role.objects.all()}
    role_writes = []
    for position, data in enumerate(batch.roles):
        values = {
            "title": data.title,
            "summary": data.summary,
            "takeaway": data.takeaway,
            "position": position,
        }
        role = stored_roles.get(data.slug)
        if role is None or any(
            getattr(role, key) != value for key, value in values.items()
        ):
            role_writes.append((role, data.slug, values))
    return role_writes


def _plan_categories(batch: _Batch) -> list[tuple]:
    """Categories of ``categories.yml`` that changed, and new ones terms name."""
    stored_categories = {category.slug: category for category in Category.objects.all()}
    category_writes = []
    for position, data in enumerate(batch.categories):
        values = {
            "name": data.name,
            "apply_guidance": list(data.apply_guidance),
            "position": position,
        }
        category = stored_categories.get(data.slug)
        if category is None or any(
            getattr(category, key) != value for key, value in values.items()
        ):
            category_writes.append((category, data.slug, values))
    known_slugs = set(stored_categories) | {data.slug for data in batch.categories}
    next_position = max(
        [c.position for c in stored_categories.values()] + [len(batch.categories)]
    )
    for _, document in batch.terms.values():
        for name in document.categories:
            slug = slugify(name)
            if slug not in known_slugs:
                known_slugs.add(slug)
                next_position += 1
                category_writes.append(
                    (
                        None,
                        slug,
                        {"name": name, "apply_guidance": [], "position": next_position},
                    )
                )
    return category_writes


def _plan_data(batch: _Batch, report: ImportReport) -> dict[str, Any]:
    """Work out which roles, categories and site texts change."""
    role_writes = _plan_roles(batch)
    category_writes = _plan_categories(batch)
    stored_site = dict(SiteText.objects.values_list("key", "value"))
    site_writes = {
        key: value for key, value in batch.site.items() if stored_site.get(key) != value
    }

    def summary(writes, label_of) -> dict[str, list[str]]:
        return {
            "created": [label_of(w) for w in writes if w[0] is None],
            "updated": [label_of(w) for w in writes if w[0] is not None],
        }

    report.data_changes = {
        "roles": summary(role_writes, lambda w: w[1]),
        "categories": summary(category_writes, lambda w: w[2]["name"]),
        "site": {
            "created": sorted(k for k in site_writes if k not in stored_site),
            "updated": sorted(k for k in site_writes if k in stored_site),
        },
    }
    return {"roles": role_writes, "categories": category_writes, "site": site_writes}


def import_paths(
    paths: Iterable[str | Path],
    *,
    dry_run: bool = False,
    prune: bool = False,
    actor=None,
    progress: Progress | None = None,
    workers: int = 1,
) -> ImportReport:
    """Validate and import term files and directories as one batch.

    ``workers`` over 1 parses the files in that many processes (the command
    line does; a web process, which may run threads, must not fork).
    Returns a report; when it has errors, nothing was written.
    """
    report = ImportReport(dry_run=dry_run)
    files, problems = collect_files(paths)
    report.errors.extend(problems)
    batch = _parse_batch(files, progress, workers)
    report.files = batch.files
    report.known_files = len(batch.stored)
    report.errors.extend(batch.problems)
    if report.errors:
        _report_rows(report, batch)
        return report

    stored = {
        **batch.stored,
        **_stored_documents(set(batch.terms) - set(batch.stored)),
    }
    plan: list[tuple[str, TermDocument, Term | None, TermDocument | None]] = []
    for slug, (_, document) in sorted(batch.terms.items()):
        pk, old = stored.get(slug, (None, None))
        if pk is None:
            report.created.append(slug)
            plan.append((slug, document, None, None))
        elif old != document:
            report.updated.append(slug)
            report.changes[slug] = document.changed_keys(old)
            plan.append((slug, document, pk, old))
        else:
            report.unchanged.append(slug)
    plan = _with_terms(plan)
    deleted: set[str] = set()
    if prune:
        stored_slugs = set(Term.objects.values_list("slug", flat=True))
        deleted = stored_slugs - set(batch.terms)
        report.deleted = sorted(deleted)

    index = _planned_index(batch, deleted)
    report.warnings = batch.warnings + _warnings(batch, index)
    pending = set(report.updated) & set(
        PendingChange.objects.values_list("term__slug", flat=True)
    )
    for slug in sorted(pending):
        report.warnings.append(
            Problem(
                "the term has a pending change under review; the import changes the "
                "live term, and approving the pending change later would replace it",
                file=batch.terms[slug][0],
                field="term",
            )
        )
    data_plan = _plan_data(batch, report)
    _report_rows(report, batch)
    if dry_run or not (plan or deleted or any(data_plan.values())):
        return report

    _apply(
        plan,
        data_plan,
        deleted=deleted,
        actor=actor,
        progress=progress,
        digests=batch.digests,
    )
    return report


def _record_import(plan, deleted: set[str], actor) -> None:
    """One audit event for the whole import (webhooks' ``import.finished``)."""
    import json

    from .history import event_for
    from .models import EventAction

    summary = {
        "created": sum(1 for *_, old in plan if old is None),
        "updated": sum(1 for *_, old in plan if old is not None),
        "deleted": len(deleted),
    }
    event_for(
        term=None,
        term_slug="",
        action=EventAction.IMPORT,
        source=ChangeSource.IMPORT,
        actor=actor,
        comment=json.dumps(summary),
    ).save()


@transaction.atomic
def _apply(
    plan: list[tuple[str, TermDocument, Term | None, TermDocument | None]],
    data_plan: dict[str, Any],
    *,
    deleted: set[str],
    actor,
    progress: Progress | None,
    digests: dict[str, str],
) -> None:
    bulk = connection.vendor == "postgresql" and len(plan) + len(deleted) >= 1000
    if bulk:
        # New entries of the GIN (search) indexes wait in their pending lists
        # instead of being merged row by row; the VACUUM after the commit
        # merges them in one pass.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL gin_pending_list_limit = '1GB'")
    for role, slug, values in data_plan["roles"]:
        if role is None:
            Role.objects.create(slug=slug, **values)
        else:
            Role.objects.filter(pk=role.pk).update(**values)
    for category, slug, values in data_plan["categories"]:
        if category is None:
            Category.objects.create(slug=slug, **values)
        else:
            Category.objects.filter(pk=category.pk).update(**values)
    for key, value in data_plan["site"].items():
        SiteText.objects.update_or_create(key=key, defaults={"value": value})

    if deleted:
        services.terms_delete(
            terms=[
                term
                for term in Term.objects.only("id", "slug", "status", "version")
                if term.slug in deleted
            ],
            actor=actor,
            source=ChangeSource.IMPORT,
        )
    services.terms_write(
        changes=[(document, term) for _, document, term, _ in plan],
        actor=actor,
        source=ChangeSource.IMPORT,
        progress=progress,
        digests=digests,
    )
    _record_import(plan, deleted, actor)
    if any(data_plan.values()):
        services.glossary_touch()
    if bulk:
        transaction.on_commit(_vacuum)


def _vacuum() -> None:
    """After a bulk load (PostgreSQL, once committed): fresh statistics, so the
    planner uses the search indexes rather than guessing from an empty table,
    and a fresh visibility map, so counting terms reads the index alone (a page
    of 100,000 terms: 39 ms to count before, 3 ms after). VACUUM cannot run
    inside a transaction, hence after the commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM (ANALYZE) terms_term, terms_alias, terms_label, "
            "terms_relationship, terms_termcategory, terms_termrole"
        )
