"""The W3C Entity Reconciliation API (version 0.2): matching names in a
spreadsheet column to glossary terms, as OpenRefine asks.

An entity is a term, identified by its slug. Its types are ``term`` and one
``category:<slug>`` per category it is filed under. A query may constrain the
type and the properties ``category`` (name or slug), ``role`` (slug) and
``status``. Candidates come from lookup (names, slugs, aliases, labels and their
inflections) and, failing that, from the typo-tolerant suggestions; each gets
a score from 0 to 100, and ``match`` is true only for a single candidate found
by its name, slug, an alias or a label, which OpenRefine may then accept
without asking.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.text import slugify
from rapidfuzz import fuzz

from . import search
from .models import Category, Term
from .naming import lookup_key
from .skos import site

__all__ = ["PROPERTIES", "QueryError", "manifest", "reconcile_batch"]

TERM_TYPE = {"id": "term", "name": "Glossary term"}
#: Properties a query may constrain, with what their values are.
PROPERTIES = {
    "category": "a category the term is filed under (name or slug)",
    "role": "a role the term matters to (slug)",
    "status": "the editorial status (draft, reviewed, approved, deprecated)",
}
#: Scores by how a candidate was found (fuzzy ones score their similarity).
SCORES = {"name": 100, "slug": 100, "alias": 95, "label": 92, "inflection": 85}
MAX_QUERIES = 100
MAX_LIMIT = 50


class QueryError(ValueError):
    """A reconciliation query that cannot be answered as written."""


def manifest(base: str) -> dict[str, Any]:
    """The service manifest; ``base`` is the absolute URL of the endpoint."""
    base = base.rstrip("/")
    return {
        "versions": ["0.2"],
        "name": "Glossary",
        "identifierSpace": f"{site()}/terms/",
        "schemaSpace": f"{site()}/vocab#",
        "documentation": f"{site()}/api/docs/",
        "defaultTypes": [TERM_TYPE],
        "view": {"url": f"{site()}/terms/{{{{id}}}}/"},
        "preview": {
            "url": f"{base}/preview/?id={{{{id}}}}",
            "width": 400,
            "height": 120,
        },
        "suggest": {
            kind: {"service_url": base, "service_path": f"/suggest/{kind}/"}
            for kind in ("entity", "property", "type")
        },
    }


@dataclass(frozen=True)
class _Query:
    text: str
    limit: int
    types: tuple[str, ...]
    properties: tuple[tuple[str, str], ...]


def _parse(key: str, raw: Any) -> _Query:
    if not isinstance(raw, dict):
        raise QueryError(f"{key}: a query must be an object")
    text = raw.get("query")
    if not isinstance(text, str) or not text.strip():
        raise QueryError(f"{key}.query: a non-empty string is required")
    limit = raw.get("limit", 10)
    if not isinstance(limit, int) or isinstance(limit, bool) or not limit >= 1:
        raise QueryError(f"{key}.limit: a whole number from 1 is required")
    types = raw.get("type") or ()
    types = (types,) if isinstance(types, str) else types
    if not isinstance(types, list | tuple) or not all(
        isinstance(t, str) for t in types
    ):
        raise QueryError(f"{key}.type: a type id or a list of them")
    properties = []
    for index, item in enumerate(raw.get("properties") or ()):
        pid = item.get("pid") if isinstance(item, dict) else None
        if pid not in PROPERTIES:
            raise QueryError(
                f"{key}.properties[{index}].pid: one of {', '.join(PROPERTIES)}"
            )
        values = item.get("v")
        values = values if isinstance(values, list) else [values]
        for value in values:
            if isinstance(value, dict):  # {"id": ..., "name": ...}
                value = value.get("id") or value.get("name")
            if not isinstance(value, str | int | float) or not str(value).strip():
                raise QueryError(f"{key}.properties[{index}].v: a value is required")
            properties.append((pid, str(value).strip()))
    return _Query(text.strip(), min(limit, MAX_LIMIT), tuple(types), tuple(properties))


def _constrained(terms: QuerySet[Term], query: _Query) -> QuerySet[Term]:
    for type_id in query.types:
        if type_id == TERM_TYPE["id"]:
            continue
        if not type_id.startswith("category:"):
            return terms.none()  # a type this service does not have
        terms = terms.filter(categories__slug=type_id.split(":", 1)[1])
    for pid, value in query.properties:
        if pid == "category":
            terms = terms.filter(categories__slug=slugify(value))
        elif pid == "role":
            terms = terms.filter(roles__slug=value)
        else:
            terms = terms.filter(status=value)
    return terms.distinct()


def _candidates(terms: QuerySet[Term], query: _Query) -> list[tuple[Term, float, bool]]:
    matches = search.lookup(terms, query.text)
    # Certain: the one term so named (others may carry the name as an alias),
    # else the one term with the alias or label; never one of several.
    named = [m for m in matches if m.matched_on in ("name", "slug")]
    sure = named if named else matches
    found: list[tuple[Term, float, bool]] = []
    seen = set()
    for match in matches:
        if match.term.pk not in seen:
            seen.add(match.term.pk)
            certain = len(sure) == 1 and match is sure[0]
            found.append((match.term, SCORES.get(match.matched_on, 80), certain))
    if len(found) < query.limit:
        key = lookup_key(query.text)
        for term in search.suggestions(terms, query.text, limit=query.limit):
            if term.pk not in seen:
                seen.add(term.pk)
                names = [n for n in term.search_names.split("\n") if n]
                score = max(fuzz.WRatio(key, name) for name in names) * 0.8
                found.append((term, round(score, 1), False))
    return found[: query.limit]


def _types(term: Term) -> list[dict[str, str]]:
    return [TERM_TYPE] + [
        {"id": f"category:{category.slug}", "name": category.name}
        for category in term.categories.all()
    ]


def reconcile_batch(
    queries: dict[str, Any], visible: Iterable[str]
) -> dict[str, dict[str, list]]:
    """Answer a batch ``{"q0": {"query": ...}, ...}`` among terms of ``visible``
    statuses; raises ``QueryError`` naming the first bad query."""
    if not isinstance(queries, dict) or not queries:
        raise QueryError("queries: an object of named queries is required")
    if len(queries) > MAX_QUERIES:
        raise QueryError(f"queries: at most {MAX_QUERIES} in one batch")
    parsed = {key: _parse(key, raw) for key, raw in queries.items()}
    base = Term.objects.filter(status__in=list(visible)).prefetch_related("categories")
    results = {}
    for key, query in parsed.items():
        terms = _constrained(base, query)
        results[key] = {
            "result": [
                {
                    "id": term.slug,
                    "name": term.name,
                    "description": term.short_def,
                    "score": score,
                    "match": match,
                    "type": _types(term),
                }
                for term, score, match in _candidates(terms, query)
            ]
        }
    return results


def suggest_entities(terms: QuerySet[Term], prefix: str, limit: int) -> list[dict]:
    """Entity suggestions for a prefix: autocomplete's completions."""
    return [
        {
            "id": match.term.slug,
            "name": match.term.name,
            "description": match.term.short_def,
            "notable": [TERM_TYPE],
        }
        for match in search.autocomplete(terms, prefix, limit=limit)
    ]


def suggest_properties(prefix: str) -> list[dict]:
    key = lookup_key(prefix)
    return [
        {"id": pid, "name": pid, "description": what}
        for pid, what in PROPERTIES.items()
        if pid.startswith(key)
    ]


def suggest_types(prefix: str, limit: int) -> list[dict]:
    key = lookup_key(prefix)
    found = [TERM_TYPE] if key in lookup_key(TERM_TYPE["name"]) else []
    for category in Category.objects.order_by("name"):
        if key in lookup_key(category.name):
            found.append({"id": f"category:{category.slug}", "name": category.name})
    return found[:limit]
