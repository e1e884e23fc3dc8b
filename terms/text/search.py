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

from terms.documents.naming import lookup_key, term_slug
from terms.models import Alias, Label, LabelKind, Term
from terms.text.inflection import base_keys, word_forms

# Minimum pg_trgm word similarity for a typo match in full-text search; set on
# each PostgreSQL connection (see TermsConfig.ready) for the indexed %> operator.
TYPO_SIMILARITY = 0.45
# Minimum RapidFuzz score for a suggestion (both backends).
SUGGEST_SCORE = 70
# PostgreSQL's first pass for suggestions: terms whose names, aliases or labels
# hold the text's words closely (word similarity, ``TYPO_SIMILARITY``), or when
# fewer than asked are, at least this close; at most this many, then ranked as
# on SQLite.
SUGGEST_POOL_SIMILARITY = 0.3
SUGGEST_POOL = 500
# The lower bar's pool is smaller: many terms share a few trigrams with a
# mistyped text, and each one read costs a similarity check in the database.
SUGGEST_FALLBACK_POOL = 100
# Relevance boosts: a query equal to a name or an alias outranks any text match.
EXACT_NAME_BOOST = 10.0
EXACT_ALIAS_BOOST = 5.0
# A search returns at most this many terms, best first.
SEARCH_LIMIT = 1000
# The best matches that the exact word form re-ranks (PostgreSQL).
EXACT_FORM_ROWS = 200
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
    # Terms that contain the words, ranked; only when none does, terms whose
    # names are close to the text (typos), as on SQLite. Searching names by
    # similarity beside a broad text match would rank thousands of rows that
    # can only come after every text match.
    first = list(
        queryset.annotate(vector=_search_vector())
        .filter(vector=query)
        .annotate(relevance=exact + Value(1.0) + SearchRank(F("vector"), query))
        .order_by("-relevance", "name_key")
        .values_list("id", "relevance", "name_key")[:SEARCH_LIMIT]
    )
    if not first:
        first = list(
            queryset.filter(search_names__trigram_word_similar=key)
            .annotate(
                relevance=exact
                + Value(0.9) * TrigramWordSimilarity(Value(key), "search_names")
            )
            .order_by("-relevance", "name_key")
            .values_list("id", "relevance", "name_key")[:SEARCH_LIMIT]
        )
    if not first:
        return []
    # Stemmed matching finds "assessment" for "assessing"; ranking the exact word
    # form as well puts the term that uses the very word first. It is computed in
    # a second query for the best ``EXACT_FORM_ROWS`` matches only, as it builds
    # vectors on the fly (the rest keep their order, after them).
    exact_form = SearchRank(
        SearchVector("search_names", weight="A", config="simple")
        + SearchVector("short_def", weight="B", config="simple")
        + SearchVector("search_categories", weight="C", config="simple")
        + SearchVector("long_def", weight="D", config="simple"),
        SearchQuery(text, search_type="websearch", config="simple"),
    )
    head, tail = first[:EXACT_FORM_ROWS], first[EXACT_FORM_ROWS:]
    bonus = dict(
        Term.objects.filter(pk__in=[row[0] for row in head])
        .annotate(bonus=exact_form)
        .values_list("id", "bonus")
    )
    head.sort(key=lambda row: (-(row[1] + bonus.get(row[0], 0.0)), row[2]))
    return [row[0] for row in head + tail]


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
        # Any form of the word counts, as stemming does on PostgreSQL.
        forms = (word, *word_forms(word))
        best = max(
            (weight for text, weight in weights if any(f in text for f in forms)),
            default=0.0,
        )
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
    """A term found by lookup or autocomplete, and what it was found by.

    ``alias`` is the alias matched, or for ``inflection`` the name or alias the
    text is another form of.
    """

    term: Term
    matched_on: str
    alias: str | None = None
    #: For ``label``: the language of the label matched.
    language: str | None = None


def lookup(queryset: QuerySet[Term], text: str) -> list[Match]:
    """Terms whose name, slug or an alias equals ``text`` (lookup-key equality);
    failing that, terms of which ``text`` is another form ("embeddings",
    "fine-tuned": ``terms.text.inflection``), with the name or alias it is a form of.

    Exact name matches come first, then slug, then alias matches; an alias shared
    by several terms returns all of them.
    """
    if not any_named(queryset, text):
        return []
    return exact_matches(queryset, text) or form_matches(queryset, text)


def any_named(queryset: QuerySet[Term], text: str) -> bool:
    """Whether ``lookup`` can find anything: a name, slug, alias or label of a
    term in ``queryset`` with the key of ``text`` or of another form of it. One
    query, so a miss (the usual way to a list of suggestions) costs one query
    instead of the five of both steps."""
    key = lookup_key(text)
    if not key:
        return False
    keys = sorted({key, *base_keys(text)})
    terms = queryset.values("pk")
    named = queryset.filter(Q(name_key__in=keys) | Q(slug=term_slug(text)))
    aliased = Alias.objects.filter(key__in=keys, term__in=terms)
    labelled = Label.objects.filter(_NAMING, key__in=keys, term__in=terms)
    found = named.values("pk").union(
        aliased.values("pk"), labelled.values("pk"), all=True
    )
    return found.exists()


def exact_matches(queryset: QuerySet[Term], text: str) -> list[Match]:
    """The first step of ``lookup``: names, slugs, aliases and labels as written.

    Indexed queries: names and slugs, then aliases (one query with an OR across
    both tables would scan every term), then labels.
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
    matches += _alias_matches(queryset, [key], seen, "alias")
    return matches + _label_matches(queryset, [key], seen)


def form_matches(queryset: QuerySet[Term], text: str) -> list[Match]:
    """The second step of ``lookup``: names and aliases ``text`` is a form of."""
    forms = base_keys(text)
    if not forms:
        return []
    named = queryset.filter(name_key__in=forms).order_by("name_key")
    matches = [Match(term, "inflection", term.name) for term in named]
    seen = {match.term.pk for match in matches}
    return matches + _alias_matches(queryset, forms, seen, "inflection")


def _alias_matches(queryset, keys, seen: set[int], matched_on: str) -> list[Match]:
    """Terms (not in ``seen``) with an alias whose key is one of ``keys``."""
    aliased = (
        Alias.objects.filter(key__in=keys, term__in=queryset.values("pk"))
        .select_related("term")
        .order_by("term__name_key")
    )
    matches = []
    for alias in aliased:
        if alias.term_id not in seen:
            seen.add(alias.term_id)
            matches.append(Match(alias.term, matched_on, alias.name))
    return matches


#: Label rows that name a term (not its definitions).
_NAMING = Q(kind__in=[LabelKind.NAME, LabelKind.ALIAS])


def _label_matches(queryset, keys, seen: set[int]) -> list[Match]:
    """Terms (not in ``seen``) with a name or alias in another language whose
    key is one of ``keys``; no inflection: English rules do not apply to them."""
    labels = (
        Label.objects.filter(_NAMING, key__in=keys, term__in=queryset.values("pk"))
        .select_related("term")
        .order_by("term__name_key", "position")
    )
    matches = []
    for label in labels:
        if label.term_id not in seen:
            seen.add(label.term_id)
            matches.append(Match(label.term, "label", label.text, label.language))
    return matches


def suggestions(queryset: QuerySet[Term], text: str, *, limit: int = 5) -> list[Term]:
    """Terms whose name or an alias is close to ``text``: typos, near misses.

    Ranked the same way on both backends: RapidFuzz's WRatio over names and
    aliases (at least ``SUGGEST_SCORE``), best first, then by name. PostgreSQL
    first narrows the candidates through the trigram index of names, aliases
    and labels together (``SUGGEST_POOL_SIMILARITY``), so the ranking sees
    every plausible term without reading the whole glossary; SQLite reads them
    all.
    """
    key = lookup_key(text)
    if not key:
        return []
    columns = ("id", "name_key", "search_names")
    if _is_postgres():
        # One pass over the names, aliases and labels together (``search_names``
        # holds their keys): terms with a part whose trigrams are close to the
        # text's (word similarity, the bar of full-text search's typo step).
        close = queryset.filter(search_names__trigram_word_similar=key).order_by()
        rows = list(close.values_list(*columns)[:SUGGEST_POOL])
        if len(rows) < limit:
            # Few are that close: lower the bar for this query only. With it the
            # planner expects thousands of rows and, to fill the pool, would
            # test the operator on row after row in table or status order (a
            # sequential or status index scan: 17-24 ms at 100,000 terms); the
            # trigram index's bitmap (4 ms) is the way: keep it to that.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('pg_trgm.word_similarity_threshold', %s, "
                    "false), set_config('enable_seqscan', 'off', false), "
                    "set_config('enable_indexscan', 'off', false)",
                    [str(SUGGEST_POOL_SIMILARITY)],
                )
                try:
                    rows = list(close.values_list(*columns)[:SUGGEST_FALLBACK_POOL])
                finally:
                    cursor.execute(
                        "SELECT set_config('pg_trgm.word_similarity_threshold', %s, "
                        "false), set_config('enable_seqscan', 'on', false), "
                        "set_config('enable_indexscan', 'on', false)",
                        [str(TYPO_SIMILARITY)],
                    )
    else:
        rows = queryset.order_by("name_key").values_list(*columns)
    # Ranked on the names alone; only the best few are read whole.
    candidates = [
        _Candidate(pk, name_key, names.split("\n"), "", "", "")
        for pk, name_key, names in rows
    ]
    ranked = _fuzzy(candidates, key)
    ranked.sort(key=lambda item: (-item[1], candidates[item[0]].name_key))
    best = [candidates[index].id for index, _ in ranked[:limit]]
    found = Term.objects.in_bulk(best)
    return [found[pk] for pk in best]


def autocomplete(
    queryset: QuerySet[Term], text: str, *, limit: int = 10
) -> list[Match]:
    """Terms whose name or an alias has a word starting with ``text``, best first.

    Name matches beat alias matches, a match at the start beats one inside, and
    shorter names come first. With no such term, falls back to close matches.
    Names, aliases and labels are searched in three queries, each able to use
    its index.
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

    # Names that start with the text rank first; when they fill the answer the
    # search inside names, aliases and labels is not needed (an index range
    # scan instead of three trigram searches).
    names = list(
        queryset.filter(name_key__startswith=key).order_by(
            Length("name_key"), "name_key"
        )[:limit]
    )
    if len(names) < limit:
        names = list(
            queryset.filter(Q(name_key__startswith=key) | Q(name_key__contains=inner))
            .annotate(match_rank=ranked("name_key"))
            .order_by("match_rank", Length("name_key"), "name_key")[:limit]
        )
    results = [Match(term, "name") for term in names]
    seen = {match.term.pk for match in results}
    # Then aliases, then other languages' names, each only while places remain.
    parts = (
        (Alias.objects.all(), lambda a: Match(a.term, "alias", a.name)),
        (
            Label.objects.filter(_NAMING),
            lambda b: Match(b.term, "label", b.text, b.language),
        ),
    )
    for rows, match in parts:
        if len(results) >= limit:
            break
        found = (
            rows.filter(Q(key__startswith=key) | Q(key__contains=inner))
            .filter(term__in=queryset.values("pk"))
            .select_related("term")
            .annotate(match_rank=ranked("key"))
            .order_by("match_rank", Length("key"), "key")[: limit * 2]
        )
        for row in found:
            if len(results) >= limit:
                break
            if row.term_id not in seen:
                seen.add(row.term_id)
                results.append(match(row))
    if results:
        return results
    return [Match(term, "fuzzy") for term in suggestions(queryset, text, limit=limit)]
