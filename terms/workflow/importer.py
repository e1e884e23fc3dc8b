"""Importing a batch of term documents and data files into the database.

The batch is validated as a whole before anything is written: one bad file
anywhere means nothing is written and every problem in every file is reported.
A valid batch is compared with what is stored; only terms whose document really
changed are written, in one transaction, each with a revision and an audit
event. Importing unchanged content therefore writes nothing at all.

Reading and checking the files is ``terms.formats.import_batch``'s (where a file an
import wrote its unchanged term from is recognised by its bytes).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from terms.documents.diffs import document_diff
from terms.documents.document import (
    Problem,
    TermDocument,
)
from terms.documents.resolver import TargetIndex
from terms.formats.import_batch import (
    IN_LIST_LIMIT,
    Batch,
    Progress,
    parse_batch,
    stored_documents,
)
from terms.formats.import_files import collect_files
from terms.models import (
    Category,
    ChangeSource,
    PendingChange,
    Role,
    SiteText,
    Status,
    Term,
)
from terms.workflow import bulk_load, services
from terms.workflow.transitions import WorkflowError


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    #: With ``propose``: reviewed or approved terms whose change became (or
    #: would become) a pending change, left for review.
    proposed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    changes: dict[str, list[str]] = field(default_factory=dict)
    data_changes: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    propose: bool = False
    files: int = 0
    #: Files not parsed: their bytes are those an import wrote the stored,
    #: unchanged since, term from (``TermSource``).
    known_files: int = 0
    #: One per document read: ``file``, ``line`` (CSV), ``slug``, ``action``
    #: (created, updated, unchanged; invalid, or not_written when another
    #: document made the batch fail) and ``errors``.
    rows: list[dict[str, Any]] = field(default_factory=list)
    #: Each created, updated or proposed term's document before (None for a
    #: new term) and after, by slug (``diffs`` shows the changed fields).
    documents: dict[str, tuple[dict | None, dict]] = field(default_factory=dict)

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
            **({"proposed": self.proposed, "propose": True} if self.propose else {}),
        }

    def diffs(self) -> dict[str, list[dict[str, Any]]]:
        """Each written (or, in a dry run, to be written) term's changed fields
        with their values before and after (a new term's: every field it has)."""
        return {
            slug: document_diff(before or {}, after)
            for slug, (before, after) in sorted(self.documents.items())
        }


def _report_rows(report: ImportReport, batch: Batch) -> None:
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
    action |= {slug: "proposed" for slug in report.proposed}
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


def _with_terms(plan: list[tuple]) -> list[tuple]:
    """The plan with the stored ``Term`` of each update in place of its id."""
    ids = [pk for _, _, pk, _ in plan if pk is not None]
    terms: dict[int, Term] = {}
    for start in range(0, len(ids), IN_LIST_LIMIT):
        terms.update(Term.objects.in_bulk(ids[start : start + IN_LIST_LIMIT]))
    return [
        (slug, document, None if pk is None else terms[pk], old)
        for slug, document, pk, old in plan
    ]


def _planned_index(batch: Batch, deleted: set[str]) -> TargetIndex:
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


def _warnings(batch: Batch, index: TargetIndex) -> list[Problem]:
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


def _plan_roles(batch: Batch) -> list[tuple]:
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


def _plan_categories(batch: Batch) -> list[tuple]:
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


def _plan_data(batch: Batch, report: ImportReport) -> dict[str, Any]:
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
    propose: bool = False,
    details: bool = False,
) -> ImportReport:
    """Validate and import term files and directories as one batch.

    ``workers`` over 1 parses the files in that many processes (the command
    line does; a web process, which may run threads, must not fork).

    ``propose``: the import goes through review as ``actor``'s own edits
    would (``terms.workflow.steps``): new terms arrive as drafts, a changed
    reviewed or approved term gets a pending change, a changed draft is
    edited; the public glossary does not move. The statuses the files name
    are not taken (review decides them), and roles, categories and site texts
    are left to a plain import.

    ``details``: the report keeps each changed term's document before and
    after (``ImportReport.diffs``), for a reader to review.

    Returns a report; when it has errors, nothing was written.
    """
    report = ImportReport(dry_run=dry_run, propose=propose)
    if propose:
        report.errors.extend(_proposal_refusals(prune=prune, actor=actor))
    if report.errors:
        return report
    files, problems = collect_files(paths)
    report.errors.extend(problems)
    batch = parse_batch(files, progress, workers)
    report.files = batch.files
    report.known_files = len(batch.stored)
    report.errors.extend(batch.problems)
    if report.errors:
        # What the files' readers left out is worth knowing while fixing them.
        report.warnings = list(batch.warnings)
        _report_rows(report, batch)
        return report

    plan = _with_terms(_plan_terms(batch, report, propose=propose, details=details))
    deleted: set[str] = set()
    if prune:
        stored_slugs = set(Term.objects.values_list("slug", flat=True))
        deleted = stored_slugs - set(batch.terms)
        report.deleted = sorted(deleted)

    index = _planned_index(batch, deleted)
    report.warnings = batch.warnings + report.warnings + _warnings(batch, index)
    if not propose:
        report.warnings.extend(_pending_warnings(batch, report.updated))
    data_plan = _plan_data(batch, report)
    if propose and any(data_plan.values()):
        report.errors.append(
            Problem(
                "roles, categories and site texts change only through a plain "
                "import (an administrator's); leave their files out of a "
                "proposed import",
                field="data",
            )
        )
    _report_rows(report, batch)
    if report.errors or dry_run or not (plan or deleted or any(data_plan.values())):
        return report
    _write_planned(report, batch, plan, data_plan, deleted, actor, progress)
    return report


def _write_planned(report, batch, plan, data_plan, deleted, actor, progress):
    """Write what was planned: through review for a proposed import (a refusal
    becomes the report's errors, nothing written), else as one transaction."""
    if not report.propose:
        _apply(
            plan,
            data_plan,
            deleted=deleted,
            actor=actor,
            progress=progress,
            digests=batch.digests,
        )
        return
    try:
        _apply_proposed(plan, actor=actor, progress=progress)
    except _Refused as refused:
        where = batch.terms[refused.slug][0]
        report.errors.extend(
            replace(problem, file=where) for problem in refused.problems
        )
        report.rows = []
        _report_rows(report, batch)


def _proposal_refusals(*, prune: bool, actor) -> list[Problem]:
    """Why a proposed import cannot run at all (nothing read or written)."""
    refusals = []
    if prune:
        refusals.append(
            Problem(
                "a proposed import cannot delete terms (--prune): deletions do "
                "not go through review; import without --propose, or delete "
                "the terms through the workflow",
                field="prune",
            )
        )
    if actor is None:
        refusals.append(
            Problem("a proposed import is made by a user (--user NAME)", field="user")
        )
    return refusals


def _plan_terms(
    batch: Batch, report: ImportReport, *, propose: bool, details: bool
) -> list[tuple[str, TermDocument, int | None, TermDocument | None]]:
    """Each document of the batch against the stored term of its slug: what
    to create and what to write (recorded in ``report``); unchanged ones are
    left out."""
    stored = {
        **batch.stored,
        **stored_documents(set(batch.terms) - set(batch.stored)),
    }
    plan = []
    for slug, (where, document) in sorted(batch.terms.items()):
        pk, old = stored.get(slug, (None, None))
        if propose:
            document = _as_proposed(document, old, where, report)
        if pk is None:
            report.created.append(slug)
            plan.append((slug, document, None, None))
        elif old != document:
            changed = propose and old.status != Status.DRAFT
            (report.proposed if changed else report.updated).append(slug)
            report.changes[slug] = document.changed_keys(old)
            plan.append((slug, document, pk, old))
        else:
            report.unchanged.append(slug)
        if details and (pk is None or old != document):
            before = None if old is None else old.to_data()
            report.documents[slug] = (before, document.to_data())
    return plan


def _pending_warnings(batch: Batch, updated: list[str]) -> list[Problem]:
    """A plain import overwrites live terms that have pending changes: say so."""
    pending = set(updated) & set(
        PendingChange.objects.values_list("term__slug", flat=True)
    )
    return [
        Problem(
            "the term has a pending change under review; the import changes the "
            "live term, and approving the pending change later would replace it",
            file=batch.terms[slug][0],
            field="term",
        )
        for slug in sorted(pending)
    ]


def _as_proposed(
    document: TermDocument, old: TermDocument | None, where: str, report: ImportReport
) -> TermDocument:
    """The document a proposed import writes: a new term as a draft, a stored
    one in the status it has (review moves statuses, not files). A file that
    names another status gets a warning; a deprecated term is refused."""
    status = Status.DRAFT if old is None else old.status
    if old is not None and old.status == Status.DEPRECATED:
        kept = replace(document, status=status)
        if kept != old:
            report.errors.append(
                Problem(
                    f"{old.term!r} is deprecated; restore it to draft before "
                    "proposing changes to it",
                    file=where,
                    field="status",
                )
            )
        return kept
    if document.status != status:
        report.warnings.append(
            Problem(
                f"the file says {document.status!r}; a proposed import leaves "
                f"the term {status!r} (review decides its status)",
                file=where,
                field="status",
            )
        )
    return replace(document, status=status)


class _Refused(Exception):
    """The workflow refused one term of a proposed import (all rolled back)."""

    def __init__(self, slug: str, error: WorkflowError):
        super().__init__(error.message)
        self.slug = slug
        self.problems = error.problems or [
            Problem(error.message, field=error.field or "")
        ]


def _apply_proposed(plan, *, actor, progress: Progress | None) -> None:
    """Write a proposed import as ``actor``'s own edits, all or nothing."""
    from terms.workflow import steps

    source = ChangeSource.IMPORT
    with transaction.atomic():
        for done, (slug, document, term, _) in enumerate(plan, start=1):
            try:
                if term is None:
                    steps.term_create(document=document, actor=actor, source=source)
                else:
                    steps.term_edit(
                        term=term, document=document, actor=actor, source=source
                    )
            except WorkflowError as error:
                raise _Refused(slug, error) from error
            if progress:
                progress("proposing", done, len(plan))


def _record_import(plan, deleted: set[str], actor) -> None:
    """One audit event for the whole import (webhooks' ``import.finished``)."""
    import json

    from terms.models import EventAction
    from terms.workflow.history import event_for

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
    with bulk_load.prepared(len(plan) + len(deleted)):
        _write(plan, data_plan, deleted, actor, progress, digests)


def _write(plan, data_plan, deleted, actor, progress, digests) -> None:
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
