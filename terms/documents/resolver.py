"""Resolving relationship targets to terms.

A relationship names its target as written ("tool-use", "LLM", "top-k sampling").
It resolves, by lookup key (case, space, hyphen and underscore insensitive), to the
term whose name matches; failing that, whose slug matches; failing that, the one
term carrying that alias. An alias shared by several terms resolves to nothing:
picking one silently would be a guess. Unresolved targets stay as written and
resolve on their own when a matching term arrives.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from terms.documents.naming import lookup_key
from terms.models import Alias, Relationship, Term

#: Above this many lookup keys, reading every term (or link) once is cheaper
#: than asking about each key.
PARTIAL_LIMIT = 2000


class TargetIndex:
    """Maps lookup keys to term identifiers (slugs or primary keys)."""

    def __init__(self) -> None:
        self.by_name: dict[str, set] = defaultdict(set)
        self.by_slug: dict[str, set] = defaultdict(set)
        self.by_alias: dict[str, set] = defaultdict(set)
        # Lookup keys worked out so far: a large import keys each name and
        # alias when indexing it and again when checking what names it.
        self._keys: dict[str, str] = {}

    def key(self, text: str) -> str:
        """``lookup_key(text)``, remembered for this index's lifetime."""
        found = self._keys.get(text)
        if found is None:
            found = self._keys[text] = lookup_key(text)
        return found

    def remember(self, text: str, key: str) -> None:
        """Record ``text``'s lookup key, known from a stored row."""
        self._keys[text] = key

    def add_term(self, ident, *, name: str, slug: str, aliases: Iterable[str]) -> None:
        self.by_name[self.key(name)].add(ident)
        self.by_slug[self.key(slug)].add(ident)
        for alias in aliases:
            self.by_alias[self.key(alias)].add(ident)

    def resolve(self, target: str):
        """The one term a target names, or None when none or several match."""
        key = self.key(target)
        for table in (self.by_name, self.by_slug, self.by_alias):
            found = table.get(key)
            if found:
                return next(iter(found)) if len(found) == 1 else None
        return None

    def candidates(self, target: str) -> set:
        key = self.key(target)
        for table in (self.by_name, self.by_slug, self.by_alias):
            if table.get(key):
                return set(table[key])
        return set()


def database_index(keys: Iterable[str] | None = None) -> TargetIndex:
    """An index over the stored terms, keyed by primary key (two queries).

    With ``keys`` (lookup keys), only over the terms one of them names (by
    name, slug or alias): enough to resolve those keys exactly, at a cost that
    follows how many keys are asked about, not the size of the glossary.
    """
    index = TargetIndex()
    keys = None if keys is None else list(set(keys))
    if keys is not None and len(keys) > PARTIAL_LIMIT:
        keys = None  # a large import: reading everything once is cheaper
    if keys is None:
        queries = [Term.objects.values_list("id", "name", "slug")]
    else:
        # A union, not one OR: each side is answered from its own index (an OR
        # with the aliases' subquery reads every term at 100,000 of them).
        columns = ("id", "name", "slug")
        queries = [
            Term.objects.filter(Q(name_key__in=chunk) | Q(slug_key__in=chunk))
            .order_by()
            .values_list(*columns)
            .union(
                Term.objects.filter(aliases__key__in=chunk)
                .order_by()
                .values_list(*columns)
            )
            for chunk in chunks(keys)
        ]
    found = {}
    for rows in queries:
        found.update((row[0], row) for row in rows)
    if not found:
        return index
    aliases: dict[int, list[str]] = defaultdict(list)
    slices = (
        [Alias.objects.all()]
        if keys is None
        else [Alias.objects.filter(term_id__in=ids) for ids in chunks(list(found))]
    )
    for aliases_of in slices:
        for term_id, key in aliases_of.values_list("term_id", "key"):
            aliases[term_id].append(key)
    for term_id, name, slug in found.values():
        index.add_term(term_id, name=name, slug=slug, aliases=aliases[term_id])
    return index


def chunks(values: list, size: int = 500):
    """Slices of ``values`` short enough for any database's parameter limit."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


@transaction.atomic(savepoint=False)
def relationships_resolve(
    *, index: TargetIndex | None = None, keys: Iterable[str] | None = None
) -> int:
    """Point relationships at the terms they name now; return how many changed.

    Without ``keys``, runs over all relationships, so that anything (a new or
    renamed term, a deleted one) also re-points the references other terms
    made earlier. With ``keys``, over the relationships whose target has one
    of those lookup keys: a write passes the keys of the names, slugs and
    aliases it removed or added, the only ones whose resolution can change.
    Writes only rows that change.
    """
    relationships = Relationship.objects.all()
    keys = None if keys is None else list(set(keys))
    if keys is not None and len(keys) > PARTIAL_LIMIT:
        keys = None  # a large import: one pass over every link is cheaper
    if keys is not None:
        if not keys:
            return 0
        index = index or database_index(keys)
        rows = []
        for chunk in chunks(keys):
            rows.extend(
                relationships.filter(target_key__in=chunk).values_list(
                    "id", "target_name", "target_id"
                )
            )
    else:
        index = index or database_index()
        rows = relationships.values_list("id", "target_name", "target_id")
    by_target: dict[int | None, list[int]] = defaultdict(list)
    for pk, name, current in rows:
        target_id = index.resolve(name)
        if target_id != current:
            by_target[target_id].append(pk)
    # One UPDATE per new target (in slices) is far cheaper than a CASE per row.
    for target_id, pks in by_target.items():
        for chunk in chunks(pks):
            Relationship.objects.filter(pk__in=chunk).update(target_id=target_id)
    return sum(len(pks) for pks in by_target.values())
