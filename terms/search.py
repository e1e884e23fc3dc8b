"""Finding terms by text: full-text search, lookup, autocomplete and suggestions.

Two backends behind one set of functions:

- **PostgreSQL**: a generated, weighted ``tsvector`` column (name and aliases A,
  short definition B, categories C, long definition D) ranked with ``ts_rank``,
  plus ``pg_trgm`` word similarity on names and aliases for typo tolerance, all
  backed by GIN indexes (migration 0004).
- **SQLite** (small glossaries, zero setup): candidates are read in one query and
  scored in Python: the same weights, substring matching per word, and RapidFuzz
  for typo tolerance. Results and response shapes are the same; ranking can
  differ in detail.

Every function runs a fixed number of queries, whatever the number of results.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorField,
    TrigramSimilarity,
    TrigramWordSimilarity,
)
from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length
from rapidfuzz import fuzz, process

from .models import Alias, Term
from .naming import lookup_key, term_slug

# Minimum pg_trgm word similarity for a typo match in full-text search; set on
# each PostgreSQL connection (see TermsConfig.ready) for the indexed %> operator.
TYPO_SIMILARITY = 0.45
# Minimum pg_trgm similarity, and RapidFuzz score, for a suggestion.
SUGGEST_SCORE = 70
# Relevance boosts: a query equal to a name or an alias outranks any text match.
EXACT_NAME_BOOST = 10.0
EXACT_ALIAS_BOOST = 5.0
# A search returns at most this many terms, best first.
SEARCH_LIMIT = 1000
_WORD = re.compile(r"\w+", re.UNICODE)


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _search_vector():
    return RawSQL('"terms_term"."search_vector"', [], output_field=SearchVectorField())


def _alias_exists(**lookups) -> Exists:
    return Exists(Alias.objects.filter(term=OuterRef("pk"), **lookups))


def ranked_ids(queryset: QuerySet[Term], text: str) -> list[int]:
    """Ids of the terms in ``queryset`` matching ``text``, most relevant first."""
    key = lookup_key(text)
    if not key:
        return []
    if _is_postgres():
        return _ranked_ids_postgres(queryset, text, key)
    return _ranked_ids_python(queryset, key)


def _ranked_ids_postgres(queryset: QuerySet[Term], text: str, key: str) -> list[int]:
    query = SearchQuery(text, search_type="websearch", config="english")
    exact = Case(
        When(name_key=key, then=Value(EXACT_NAME_BOOST)),
        When(_alias_exists(key=key), then=Value(EXACT_ALIAS_BOOST)),
        default=Value(0.0),
        output_field=FloatField(),
    )
    # A text match always outranks a typo-only match: it earns 1 plus its rank,
    # while a match by name similarity alone earns less than 1.
    text_or_typo = Case(
        When(Q(vector=query), then=Value(1.0) + SearchRank(F("vector"), query)),
        default=Value(0.9) * TrigramWordSimilarity(Value(key), "search_names"),
        output_field=FloatField(),
    )
    first = list(
        queryset.annotate(vector=_search_vector())
        .filter(Q(vector=query) | Q(search_names__trigram_word_similar=key))
        .annotate(relevance=exact + text_or_typo)
        .order_by("-relevance", "name_key")
        .values_list("id", "relevance", "name_key")[:SEARCH_LIMIT]
    )
    if not first:
        return []
    # Stemmed matching finds "assessment" for "assessing"; ranking the exact word
    # form as well puts the term that uses the very word first. It is computed in
    # a second query for the best matches only, as it builds vectors on the fly.
    exact_form = SearchRank(
        SearchVector("search_names", weight="A", config="simple")
        + SearchVector("short_def", weight="B", config="simple")
        + SearchVector("search_categories", weight="C", config="simple")
        + SearchVector("long_def", weight="D", config="simple"),
        SearchQuery(text, search_type="websearch", config="simple"),
    )
    bonus = dict(
        Term.objects.filter(pk__in=[row[0] for row in first])
        .annotate(bonus=exact_form)
        .values_list("id", "bonus")
    )
    first.sort(key=lambda row: (-(row[1] + bonus.get(row[0], 0.0)), row[2]))
    return [row[0] for row in first]


@dataclass
class _Candidate:
    id: int
    name_key: str
    names: list[str]
    short_def: str
    categories: str
    long_def: str


def _score(candidate: _Candidate, key: str, words: list[str]) -> float:
    """Weighted substring score (SQLite fallback); 0 when a word is missing."""
    weights = (
        (" ".join(candidate.names), 1.0),
        (candidate.short_def.casefold(), 0.4),
        (candidate.categories.casefold(), 0.2),
        (candidate.long_def.casefold(), 0.1),
    )
    score = 0.0
    for word in words:
        best = max((weight for text, weight in weights if word in text), default=0.0)
        if not best:
            return 0.0
        score += best
    if candidate.name_key == key:
        score += EXACT_NAME_BOOST
    elif key in candidate.names:
        score += EXACT_ALIAS_BOOST
    return score


def _ranked_ids_python(queryset: QuerySet[Term], key: str) -> list[int]:
    rows = queryset.values_list(
        "id", "name_key", "search_names", "short_def", "search_categories", "long_def"
    ).order_by()
    candidates = [
        _Candidate(row[0], row[1], row[2].split("\n"), row[3], row[4], row[5])
        for row in rows
    ]
    words = [lookup_key(word) for word in _WORD.findall(key)]
    scored = [(_score(c, key, words), c.name_key, c.id) for c in candidates]
    hits = [item for item in scored if item[0] > 0]
    if not hits:
        hits = [
            (score / 100, candidates[index].name_key, candidates[index].id)
            for index, score in _fuzzy(candidates, key)
        ]
    hits.sort(key=lambda item: (-item[0], item[1]))
    return [item[2] for item in hits[:SEARCH_LIMIT]]


def _fuzzy(candidates: list[_Candidate], key: str, limit: int | None = None):
    """(index, score) of candidates whose name or an alias is close to ``key``."""
    choices = {}
    for index, candidate in enumerate(candidates):
        for position, name in enumerate(candidate.names):
            choices[(index, position)] = name
    best: dict[int, float] = {}
    for _, score, (index, _) in process.extract(
        key, choices, scorer=fuzz.WRatio, score_cutoff=SUGGEST_SCORE, limit=None
    ):
        best[index] = max(best.get(index, 0), score)
    ranked = sorted(best.items(), key=lambda item: -item[1])
    return ranked[:limit] if limit else ranked


@dataclass
class Match:
    """A term found by lookup or autocomplete, and what it was found by."""

    term: Term
    matched_on: str
    alias: str | None = None


def lookup(queryset: QuerySet[Term], text: str) -> list[Match]:
    """Terms whose name, slug or an alias equals ``text`` (lookup-key equality).

    Exact name matches come first, then slug, then alias matches; an alias shared
    by several terms returns all of them. Two indexed queries: names and slugs,
    then aliases (one query with an OR across both tables would scan every term).
    """
    key = lookup_key(text)
    if not key:
        return []
    slug = term_slug(text)
    named = sorted(
        queryset.filter(Q(name_key=key) | Q(slug=slug)),
        key=lambda term: (term.name_key != key, term.name_key),
    )
    matches = [
        Match(term, "name" if term.name_key == key else "slug") for term in named
    ]
    seen = {term.pk for term in named}
    aliased = (
        Alias.objects.filter(key=key, term__in=queryset.values("pk"))
        .select_related("term")
        .order_by("term__name_key")
    )
    for alias in aliased:
        if alias.term_id not in seen:
            seen.add(alias.term_id)
            matches.append(Match(alias.term, "alias", alias.name))
    return matches


def suggestions(queryset: QuerySet[Term], text: str, *, limit: int = 5) -> list[Term]:
    """Terms whose name or an alias is close to ``text``: typos, near misses."""
    key = lookup_key(text)
    if not key:
        return []
    if _is_postgres():
        # Names and aliases are matched in their own tables, each through its
        # trigram index, and merged here: one query with an OR across both
        # tables makes the planner scan every row.
        pool = limit * 4
        scores: dict[int, float] = {}
        names = (
            queryset.filter(name_key__trigram_similar=key)
            .annotate(similarity=TrigramSimilarity("name_key", Value(key)))
            .order_by("-similarity")
            .values_list("id", "similarity")[:pool]
        )
        aliases = (
            Alias.objects.filter(
                term__in=queryset.values("pk"), key__trigram_similar=key
            )
            .annotate(similarity=TrigramSimilarity("key", Value(key)))
            .order_by("-similarity")
            .values_list("term_id", "similarity")[:pool]
        )
        for term_id, similarity in [*names, *aliases]:
            scores[term_id] = max(similarity, scores.get(term_id, 0.0))
        best = sorted(scores, key=lambda pk: -scores[pk])[:limit]
        terms = {term.pk: term for term in queryset.filter(pk__in=best)}
        return sorted(
            (terms[pk] for pk in best if pk in terms),
            key=lambda term: (-scores[term.pk], term.name_key),
        )
    candidates = list(queryset)
    wrapped = [
        _Candidate(term.id, term.name_key, term.search_names.split("\n"), "", "", "")
        for term in candidates
    ]
    return [candidates[index] for index, _ in _fuzzy(wrapped, key, limit)]


def autocomplete(
    queryset: QuerySet[Term], text: str, *, limit: int = 10
) -> list[Match]:
    """Terms whose name or an alias has a word starting with ``text``, best first.

    Name matches beat alias matches, a match at the start beats one inside, and
    shorter names come first. With no such term, falls back to close matches.
    Names and aliases are searched in two queries, each able to use its index.
    """
    key = lookup_key(text)
    if not key:
        return []
    inner = " " + key

    def ranked(field: str):
        return Case(
            When(**{f"{field}__startswith": key}, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )

    names = (
        queryset.filter(Q(name_key__startswith=key) | Q(name_key__contains=inner))
        .annotate(match_rank=ranked("name_key"))
        .order_by("match_rank", Length("name_key"), "name_key")[:limit]
    )
    aliases = (
        Alias.objects.filter(Q(key__startswith=key) | Q(key__contains=inner))
        .filter(term__in=queryset.values("pk"))
        .select_related("term")
        .annotate(match_rank=ranked("key"))
        .order_by("match_rank", Length("key"), "key")[: limit * 2]
    )
    results = [Match(term, "name") for term in names]
    seen = {match.term.pk for match in results}
    for alias in aliases:
        if len(results) >= limit:
            break
        if alias.term_id not in seen:
            seen.add(alias.term_id)
            results.append(Match(alias.term, "alias", alias.name))
    if results:
        return results
    return [Match(term, "fuzzy") for term in suggestions(queryset, text, limit=limit)]
