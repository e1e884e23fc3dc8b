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

from .models import Alias, Relationship, Term
from .naming import lookup_key


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


def database_index() -> TargetIndex:
    """An index over every stored term, keyed by primary key (two queries)."""
    index = TargetIndex()
    aliases: dict[int, list[str]] = defaultdict(list)
    for term_id, key in Alias.objects.values_list("term_id", "key"):
        aliases[term_id].append(key)
    for term_id, name, slug in Term.objects.values_list("id", "name", "slug"):
        index.add_term(term_id, name=name, slug=slug, aliases=aliases[term_id])
    return index


@transaction.atomic
def relationships_resolve(*, index: TargetIndex | None = None) -> int:
    """Point every relationship at the term it names now; return how many changed.

    Runs over all relationships so that a new or renamed term also resolves the
    references other terms made to it earlier. Writes only rows that change.
    """
    index = index or database_index()
    by_target: dict[int | None, list[int]] = defaultdict(list)
    for pk, name, current in Relationship.objects.values_list(
        "id", "target_name", "target_id"
    ):
        target_id = index.resolve(name)
        if target_id != current:
            by_target[target_id].append(pk)
    # One UPDATE per new target (in slices) is far cheaper than a CASE per row.
    for target_id, pks in by_target.items():
        for start in range(0, len(pks), 500):
            Relationship.objects.filter(pk__in=pks[start : start + 500]).update(
                target_id=target_id
            )
    return sum(len(pks) for pks in by_target.values())
