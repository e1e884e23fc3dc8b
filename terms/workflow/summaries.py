"""The glossary's summaries, kept from the terms a write changed.

Wanted targets (links naming no term, counted by the status of the terms that
name them), the counts of terms by status, and the lookup keys a write may
move: each is updated from what the written terms gave up or took, so one
edit costs the same at 1,000 terms and at 100,000 (docs/decisions.md, 8).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from django.db.models import Count, Min, Q, Value

from terms.documents.resolver import PARTIAL_LIMIT, chunks
from terms.models import Alias, Relationship, Status, Term, WantedTarget
from terms.workflow.bulk import insert_rows


def wanted_refresh(keys: Iterable[str] | None = None) -> None:
    """Recount the unresolved relationship targets by the status of the terms
    naming them (``WantedTarget``).

    ``keys``: the target lookup keys a write may have changed; only their rows
    are counted again, so the cost follows the write, not the glossary. None:
    every row (one grouping query).
    """
    counts = {
        status: Count("id", filter=Q(term__status=status)) for status in Status.values
    }
    unresolved = Relationship.objects.filter(target=None)
    if keys is not None:
        keys = sorted(set(keys))
        if len(keys) > PARTIAL_LIMIT:
            keys = None  # a large import: one grouping over every link is cheaper
    if keys is None:
        WantedTarget.objects.all().delete()
        slices = [unresolved]
    else:
        slices = []
        for chunk in chunks(keys):
            WantedTarget.objects.filter(target_key__in=chunk).delete()
            slices.append(unresolved.filter(target_key__in=chunk))
    for relationships in slices:
        rows = (
            relationships.values("target_key")
            .annotate(target_spelling=Min("target_name"), **counts)
            .order_by()
        )
        insert_rows(
            WantedTarget,
            [
                WantedTarget(
                    target_key=row["target_key"],
                    target=row["target_spelling"],
                    **{status: row[status] for status in Status.values},
                )
                for row in rows
            ],
        )


def status_counts(
    stored: Mapping[str, int] | None, delta: Mapping[str, int] | None
) -> dict[str, int]:
    """Terms by status after a write: the stored counts moved by ``delta``, or
    counted again (no delta, or nothing stored to move)."""
    if delta is None or stored is None:
        return dict(
            Term.objects.order_by().values_list("status").annotate(count=Count("pk"))
        )
    moved = dict(stored)
    for status, change in delta.items():
        moved[status] = moved.get(status, 0) + change
    return {status: count for status, count in moved.items() if count}


def status_delta(pairs: Iterable[tuple[str | None, str | None]]) -> dict[str, int]:
    """How many terms each status gained and lost, from (before, after) pairs
    (None: the term did not exist before, or no longer does)."""
    delta: dict[str, int] = defaultdict(int)
    for before, after in pairs:
        if before == after:
            continue
        if before is not None:
            delta[before] -= 1
        if after is not None:
            delta[after] += 1
    return dict(delta)


def keys_of(
    terms: Sequence[Term], *, names: bool = True
) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """By term: the lookup keys a stored term answers to (name, slug and
    aliases), and the target keys of the relationships it holds. What a write
    of it may change in how links resolve and which terms are wanted (one query
    per 500 terms; ``names=False``: the link targets alone)."""
    answered: dict[int, set[str]] = defaultdict(set)
    targets: dict[int, set[str]] = defaultdict(set)
    if names:
        for term in terms:
            answered[term.pk].update((term.name_key, term.slug_key))
    for chunk in chunks([term.pk for term in terms]):
        rows = (
            Relationship.objects.filter(term_id__in=chunk)
            .order_by()
            .values_list("term_id", "target_key", Value(False))
        )
        if names:
            aliases = Alias.objects.filter(term_id__in=chunk).order_by()
            rows = rows.union(aliases.values_list("term_id", "key", Value(True)))
        for term_id, key, is_name in rows:
            (answered if is_name else targets)[term_id].add(key)
    return answered, targets


def union_of(by_term: Mapping[int, set[str]]) -> set[str]:
    """Every key of ``keys_of``'s answer, whichever term it came from."""
    return set().union(*by_term.values())
