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

from terms.documents.naming import lookup_key
from terms.formats.skos import site
from terms.models import Category, Term
from terms.text import search

__all__ = [
    "EXTEND_PROPERTIES",
    "PROPERTIES",
    "QueryError",
    "extend",
    "manifest",
    "propose_properties",
    "reconcile_batch",
]

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
        # Data extension: "Add columns from reconciled values" in OpenRefine.
        "extend": {
            "propose_properties": {
                "service_url": base,
                "service_path": "/extend/propose/",
            },
            "property_settings": [],
        },
    }


@dataclass(frozen=True)
class _Query:
    text: str
    limit: int
    types: tuple[str, ...]
    #: ``(pid, values)``: a term must have one of the values ("any of").
    properties: tuple[tuple[str, tuple[str, ...]], ...]


def _whole_number(value: Any) -> int | None:
    """``value`` as a whole number (``2`` and ``2.0`` alike), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _parse(key: str, raw: Any) -> _Query:
    """One query, as the 0.2 specification allows it: ``query`` may be left
    out when ``properties`` say what is wanted; properties this service does
    not have are ignored (they can neither match nor exclude); a list of
    values means any of them."""
    if not isinstance(raw, dict):
        raise QueryError(f"{key}: a query must be an object")
    text = raw.get("query")
    if text is not None and not isinstance(text, str):
        raise QueryError(f"{key}.query: a string")
    text = (text or "").strip()
    limit = _whole_number(raw.get("limit", 10))
    if limit is None or limit < 1:
        raise QueryError(f"{key}.limit: a whole number from 1 is required")
    types = raw.get("type") or ()
    types = (types,) if isinstance(types, str) else types
    if not isinstance(types, list | tuple) or not all(
        isinstance(t, str) for t in types
    ):
        raise QueryError(f"{key}.type: a type id or a list of them")
    properties = []
    items = raw.get("properties") or []
    if not isinstance(items, list):
        raise QueryError(f"{key}.properties: a list of {{pid, v}} objects")
    for index, item in enumerate(items):
        pid = item.get("pid") if isinstance(item, dict) else None
        if not isinstance(pid, str):
            raise QueryError(f"{key}.properties[{index}].pid: a property id")
        if pid not in PROPERTIES:
            continue  # not a property of this service
        values = item.get("v")
        values = values if isinstance(values, list) else [values]
        wanted = []
        for value in values:
            if isinstance(value, dict):  # {"id": ..., "name": ...}
                value = value.get("id") or value.get("name")
            if not isinstance(value, str | int | float) or not str(value).strip():
                raise QueryError(f"{key}.properties[{index}].v: a value is required")
            wanted.append(str(value).strip())
        properties.append((pid, tuple(wanted)))
    if not text and not properties:
        raise QueryError(f"{key}.query: a query text, or properties, is required")
    return _Query(text, min(limit, MAX_LIMIT), tuple(types), tuple(properties))


def _constrained(terms: QuerySet[Term], query: _Query) -> QuerySet[Term]:
    for type_id in query.types:
        if type_id == TERM_TYPE["id"]:
            continue
        if not type_id.startswith("category:"):
            return terms.none()  # a type this service does not have
        terms = terms.filter(categories__slug=type_id.split(":", 1)[1])
    for pid, values in query.properties:
        if pid == "category":
            terms = terms.filter(categories__slug__in=[slugify(v) for v in values])
        elif pid == "role":
            terms = terms.filter(roles__slug__in=values)
        else:
            terms = terms.filter(status__in=values)
    return terms.distinct()


def _candidates(terms: QuerySet[Term], query: _Query) -> list[tuple[Term, float, bool]]:
    if not query.text:
        # Properties alone: every term that has them, by name, none certain.
        return [(term, 50, False) for term in terms.order_by("name_key")[: query.limit]]
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
    statuses. A batch that is not an object of queries raises ``QueryError``;
    a query that cannot be answered gets no candidates and an ``error`` naming
    its problem, and the others are answered (one bad cell must not fail a
    spreadsheet's whole batch)."""
    if not isinstance(queries, dict) or not queries:
        raise QueryError("queries: an object of named queries is required")
    if len(queries) > MAX_QUERIES:
        raise QueryError(f"queries: at most {MAX_QUERIES} in one batch")
    base = Term.objects.filter(status__in=list(visible)).prefetch_related("categories")
    results = {}
    for key, raw in queries.items():
        try:
            query = _parse(key, raw)
        except QueryError as problem:
            results[key] = {"result": [], "error": str(problem)}
            continue
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


# --- data extension: values of reconciled terms, as new spreadsheet columns ---

#: What a reconciled term's values can be fetched for, and whether the values
#: are other entities (terms, categories) or text.
EXTEND_PROPERTIES = {
    "definition": ("Definition", False),
    "long_definition": ("Long definition", False),
    "status": ("Status", False),
    "categories": ("Categories", True),
    "aliases": ("Aliases", False),
    "roles": ("Roles", False),
    "url": ("URL", False),
    "broader": ("Broader terms", True),
    "narrower": ("Narrower terms", True),
    "related": ("Related terms", True),
}
MAX_EXTEND_IDS = 1000


def propose_properties(type_id: str, limit: int) -> dict[str, Any]:
    """The properties data extension offers for a type (every type here has the
    same ones)."""
    return {
        "type": type_id or TERM_TYPE["id"],
        "properties": [
            {"id": pid, "name": name}
            for pid, (name, _) in list(EXTEND_PROPERTIES.items())[:limit]
        ],
    }


def extend(request: Any, visible: Iterable[str]) -> dict[str, Any]:
    """The values of ``properties`` for the terms ``ids`` (a data extension
    request: ``{"ids": [...], "properties": [{"id": ...}, ...]}``); a term not
    visible or not there gets empty values. ``QueryError`` names a bad request."""
    if not isinstance(request, dict):
        raise QueryError("extend: an object with ids and properties is required")
    ids = request.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise QueryError("extend.ids: a list of entity ids is required")
    if len(ids) > MAX_EXTEND_IDS:
        raise QueryError(f"extend.ids: at most {MAX_EXTEND_IDS} in one request")
    wanted = []
    for index, item in enumerate(request.get("properties") or ()):
        pid = item.get("id") if isinstance(item, dict) else None
        if pid not in EXTEND_PROPERTIES:
            raise QueryError(
                f"extend.properties[{index}].id: one of {', '.join(EXTEND_PROPERTIES)}"
            )
        wanted.append(pid)
    if not wanted:
        raise QueryError("extend.properties: at least one property is required")
    visible = list(visible)
    terms = {
        term.slug: term
        for term in Term.objects.filter(
            slug__in=ids, status__in=visible
        ).prefetch_related("categories", "aliases", "roles", "relationships__target")
    }
    rows = {}
    for slug in ids:
        term = terms.get(slug)
        rows[slug] = {
            pid: _values(term, pid, visible) if term is not None else []
            for pid in wanted
        }
    return {
        "meta": [_meta(pid) for pid in wanted],
        "rows": rows,
    }


def _meta(pid: str) -> dict[str, Any]:
    name, entities = EXTEND_PROPERTIES[pid]
    meta: dict[str, Any] = {"id": pid, "name": name}
    if entities:
        meta["type"] = (
            {"id": "category", "name": "Category"} if pid == "categories" else TERM_TYPE
        )
    return meta


def _values(term: Term, pid: str, visible: list[str]) -> list[dict[str, Any]]:
    if pid == "definition":
        return [{"str": term.short_def}] if term.short_def else []
    if pid == "long_definition":
        return [{"str": term.long_def}] if term.long_def else []
    if pid == "status":
        return [{"str": term.status}]
    if pid == "url":
        return [{"str": f"{site()}/terms/{term.slug}/"}]
    if pid == "aliases":
        return [{"str": alias.name} for alias in term.aliases.all()]
    if pid == "roles":
        return [{"str": role.slug} for role in term.roles.all()]
    if pid == "categories":
        return [
            {"id": f"category:{category.slug}", "name": category.name}
            for category in term.categories.all()
        ]
    values = []
    for link in term.relationships.all():
        if link.kind != pid:
            continue
        target = link.target
        if target is not None and target.status in visible:
            values.append({"id": target.slug, "name": target.name})
        else:
            values.append({"str": link.target_name})
    return values
