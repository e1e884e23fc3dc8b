"""Publishing releases: the integrity gate, then a numbered, frozen edition.

A release is cut from what anonymous readers see (``GLOSSARY_PUBLIC_STATUSES``):
each public term's latest revision. Before anything is written the gate looks
at exactly that content and refuses the release, naming every problem by term
and field, when broader links form a cycle, two terms share a preferred name in
one language, a term is both related and broader or narrower to another, or a
deprecated term's replacement is not in it. Links to wanted terms and overdue
reviews are warnings, kept with the release.

Storage follows the changes: a term whose revision is the one it had in the
previous release keeps that release's entry (its run is extended by leaving it
open); only added, changed and removed terms write rows.
"""

import datetime
import json
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from terms import events
from terms.models import (
    ChangeSource,
    EventAction,
    GlossaryState,
    Label,
    LabelKind,
    RelationKind,
    Relationship,
    Release,
    ReleaseEntry,
    Status,
    Term,
)
from terms.reads.releases import revisions
from terms.workflow.bulk import insert_rows
from terms.workflow.history import event_for
from terms.workflow.transitions import (
    Forbidden,
    Invalid,
    WorkflowError,
    check_permission,
)


@dataclass(frozen=True)
class Finding:
    """One thing the gate found, about a term and a field of its document."""

    term: str
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"term": self.term, "field": self.field, "message": self.message}


class ReleaseRefused(WorkflowError):
    """The gate found problems: nothing was written."""

    kind = "invalid"

    def __init__(self, findings: list[Finding]):
        from terms.documents.yaml_loader import Problem

        message = f"The release would hold {len(findings)} integrity problem(s)."
        super().__init__(
            message,
            [f"{f.term}: {f.message}" for f in findings],
            problems=[
                Problem(f"{f.term}: {f.message}", field=f.field) for f in findings
            ],
        )
        self.findings = findings


def public_statuses() -> list[str]:
    return list(settings.GLOSSARY_PUBLIC_STATUSES)


def integrity(statuses: list[str]) -> tuple[list[Finding], list[Finding]]:
    """The problems and the warnings of a release of the terms in ``statuses``."""
    terms = dict(Term.objects.filter(status__in=statuses).values_list("pk", "slug"))
    problems: list[Finding] = []
    links = list(
        Relationship.objects.filter(term__status__in=statuses).values_list(
            "term_id", "kind", "target_id", "target_name", "position"
        )
    )
    broader: dict[int, set[int]] = defaultdict(set)
    # What each term's own document says of each other term.
    hierarchy: set[tuple[int, int]] = set()
    related: dict[tuple[int, int], int] = {}
    wanted: list[Finding] = []
    for term_id, kind, target_id, target_name, position in links:
        field = f"relationships.{kind}[{position}]"
        if target_id is None or target_id not in terms:
            wanted.append(
                Finding(terms[term_id], field, f"links to {target_name!r}, not in it")
            )
            continue
        if kind == RelationKind.BROADER:
            broader[term_id].add(target_id)
        elif kind == RelationKind.NARROWER:
            broader[target_id].add(term_id)
        if kind in (RelationKind.BROADER, RelationKind.NARROWER):
            hierarchy.add((term_id, target_id))
        else:
            related.setdefault((term_id, target_id), position)
    for cycle in _cycles(broader):
        path = " -> ".join(terms[pk] for pk in _walk(cycle, broader, terms))
        for pk in cycle:
            problems.append(
                Finding(
                    terms[pk], "relationships.broader", f"broader links loop: {path}"
                )
            )
    # One document naming a term both as related and as broader or narrower
    # contradicts itself. (Across documents the same pair is common in curated
    # glossaries, the reference one too; the SKOS export keeps such links apart.)
    for (term_id, target_id), position in sorted(related.items()):
        if (term_id, target_id) in hierarchy:
            problems.append(
                Finding(
                    terms[term_id],
                    f"relationships.related[{position}]",
                    f"related to {terms[target_id]!r}, which it also names as "
                    "broader or narrower",
                )
            )
    problems += _shared_names(terms, statuses)
    problems += _missing_replacements(terms, statuses)
    warnings = wanted + _overdue(statuses)
    return problems, warnings


def _cycles(edges: dict[int, set[int]]) -> list[list[int]]:
    """Each cycle of the graph once (the terms of every strongly connected
    group of more than one, or one linking to itself), iteratively."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    found: list[list[int]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges.get(node, ()):
                    found.append(sorted(group))
    return found


def _walk(group: list[int], edges: dict[int, set[int]], terms: dict) -> list[int]:
    """The loop through a group of terms, as its links go, from the first by
    slug back to it."""
    members = set(group)
    start = min(group, key=terms.get)
    path, node, seen = [start], start, {start}
    while True:
        onward = sorted(edges.get(node, set()) & members, key=terms.get)
        fresh = [pk for pk in onward if pk not in seen]
        if not fresh:
            return [*path, start] if start in onward else path
        node = fresh[0]
        seen.add(node)
        path.append(node)


def _shared_names(terms: dict[int, str], statuses: list[str]) -> list[Finding]:
    """Two terms of the release with the same preferred name in one language."""
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pk, key in Term.objects.filter(status__in=statuses).values_list(
        "pk", "name_key"
    ):
        by_key[("en", key)].append(pk)
    for pk, language, key in Label.objects.filter(
        term__status__in=statuses, kind=LabelKind.NAME
    ).values_list("term_id", "language", "key"):
        by_key[(language, key)].append(pk)
    found = []
    for (language, _), pks in sorted(by_key.items()):
        if len(pks) < 2:
            continue
        for pk in sorted(pks):
            others = ", ".join(repr(terms[o]) for o in sorted(pks) if o != pk)
            field = "term" if language == "en" else f"labels.{language}.name"
            found.append(Finding(terms[pk], field, f"same {language} name as {others}"))
    return found


def _missing_replacements(terms: dict[int, str], statuses: list[str]) -> list[Finding]:
    """Deprecated terms of the release whose replacement is not in it."""
    found = []
    if Status.DEPRECATED not in statuses:
        return found
    rows = Term.objects.filter(
        status=Status.DEPRECATED, replaced_by__isnull=False
    ).values_list("slug", "replaced_by__slug", "replaced_by__status")
    for slug, replacement, status in rows:
        if status not in statuses:
            found.append(
                Finding(
                    slug,
                    "replaced_by",
                    f"its replacement {replacement!r} is not in the release",
                )
            )
    return found


def _overdue(statuses: list[str]) -> list[Finding]:
    days = settings.GLOSSARY_REVIEW_PERIOD_DAYS
    cutoff = timezone.now().date() - datetime.timedelta(days=days)
    rows = Term.objects.filter(status__in=statuses, last_reviewed__lt=cutoff)
    return [
        Finding(
            slug, "last_reviewed", f"last reviewed {reviewed}, over {days} days ago"
        )
        for slug, reviewed in rows.order_by("slug").values_list("slug", "last_reviewed")
    ]


def _summarised(findings: list[dict]) -> list[dict]:
    """The first ``GLOSSARY_RELEASE_WARNINGS_KEPT`` findings in full, then a
    count by field for the rest (a glossary of 100,000 terms may warn of
    every one of them)."""
    kept = settings.GLOSSARY_RELEASE_WARNINGS_KEPT
    if len(findings) <= kept:
        return findings
    rest: dict[str, int] = defaultdict(int)
    for finding in findings[kept:]:
        rest[finding["field"].split("[")[0].split(".")[0]] += 1
    counted = ", ".join(
        f"{count:,} about {field}" for field, count in sorted(rest.items())
    )
    more = len(findings) - kept
    return [
        *findings[:kept],
        {"term": "", "field": "", "message": f"and {more:,} more: {counted}"},
    ]


def _check_name(name: str) -> None:
    """Refuse a name the model's validator refuses (``Invalid``, on ``name``)."""
    from django.core.exceptions import ValidationError

    try:
        Release._meta.get_field("name").run_validators(name)
    except ValidationError as exc:
        raise Invalid("; ".join(exc.messages), field="name") from exc


def _record_entries(
    current: dict[str, int], previous: Release | None, sequence: int
) -> None:
    """Close the runs of terms that changed or left since ``previous``, and
    open runs for those that changed or arrived: writes follow the changes."""
    standing = {}
    if previous is not None:
        standing = dict(
            ReleaseEntry.objects.filter(until=None).values_list("slug", "revision_id")
        )
        gone = [slug for slug, rev in standing.items() if current.get(slug) != rev]
        for start in range(0, len(gone), 500):
            ReleaseEntry.objects.filter(
                until=None, slug__in=gone[start : start + 500]
            ).update(until=previous.sequence)
    insert_rows(  # COPY on PostgreSQL: a first release writes every term
        ReleaseEntry,
        [
            {"slug": slug, "revision_id": rev, "since": sequence, "until": None}
            for slug, rev in current.items()
            if standing.get(slug) != rev
        ],
    )


@transaction.atomic
def release_create(
    *,
    name: str,
    notes: str = "",
    actor,
    force: bool = False,
    source: ChangeSource = ChangeSource.API,
) -> Release:
    """Publish a release of what the public reads now (``publish_release``).

    Refused (``ReleaseRefused``, nothing written) when the gate finds problems,
    unless ``force`` (administrators, from the command line): then the problems
    are kept among the release's warnings.
    """
    if actor is not None:
        check_permission(actor, "terms.publish_release", "publish releases")
    _check_name(name)
    # Writers and other releases take turns on the version row from here on.
    state = GlossaryState.objects.select_for_update().get(pk=1)
    if Release.objects.filter(name=name).exists():
        raise Invalid(f"There is already a release {name!r}.", field="name")
    statuses = public_statuses()
    problems, warnings = integrity(statuses)
    if problems and not force:
        raise ReleaseRefused(problems)
    current = revisions(None)  # the public terms' latest revisions
    previous = Release.objects.order_by("-sequence").first()
    sequence = previous.sequence + 1 if previous else 1
    _record_entries(current, previous, sequence)
    counts = dict(
        Term.objects.filter(status__in=statuses)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    forced = [
        {**f.as_dict(), "message": f"(published anyway) {f.message}"} for f in problems
    ]
    kept = forced + [f.as_dict() for f in warnings]
    user = actor if getattr(actor, "is_authenticated", False) else None
    release = Release.objects.create(
        name=name,
        sequence=sequence,
        notes=notes,
        published_by=user,
        published_by_name=user.get_username() if user else "manage.py",
        published_at=timezone.now(),
        statuses=statuses,
        counts=counts,
        warnings=_summarised(kept),
        glossary_version=state.version,
    )
    _announce(release, user, source)
    return release


def _announce(release: Release, user, source: ChangeSource) -> None:
    """The audit trail's record of the release (webhooks' ``release.published``)
    and the event its listeners hear (the snapshot is built ahead of reads)."""
    summary = {
        "name": release.name,
        "sequence": release.sequence,
        "counts": release.counts,
        "notes": release.notes,
        "warnings": len(release.warnings),
    }
    event_for(
        term=None,
        term_slug="",
        action=EventAction.PUBLISH,
        source=source,
        actor=user,
        comment=json.dumps(summary, ensure_ascii=False),
    ).save()
    events.announce(events.ReleasePublished(release.pk, release.name, release.sequence))


__all__ = ["Finding", "Forbidden", "ReleaseRefused", "integrity", "release_create"]
