"""Term documents to and from rows: the ``Term`` columns and its ordered parts.

Column-backed values come from ``terms.documents.fields.FIELDS``. The parts (aliases,
categories, roles, tags, examples, citations, relationships) are rows of their
own; ``PARTS`` says, once, where each part's values come from, for prefetched
terms (``document_from_term``), plain rows (``documents_for``) and unsaved
instances (the admin form, ``document_from_instances``).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Prefetch, QuerySet

from terms.documents.document import FIELDS, TERM_COLUMNS, LanguageLabels, TermDocument
from terms.documents.naming import lookup_key
from terms.models import (
    Alias,
    Citation,
    Example,
    ExampleKind,
    Label,
    LabelKind,
    RelationKind,
    Relationship,
    Term,
    TermCategory,
    TermRole,
    TermTag,
)

__all__ = [
    "PARTS",
    "TERM_DOCUMENT_PREFETCH",
    "document_from_instances",
    "document_from_term",
    "documents_for",
    "term_child_rows",
    "term_field_values",
    "unchanged_parts",
]


@dataclass(frozen=True)
class Part:
    """A part of a term stored as ordered rows of ``model``."""

    name: str
    model: type[Model]
    #: The reverse accessor on ``Term`` (``term.aliases``).
    accessor: str
    #: Values each row contributes, as ``values_list`` paths.
    values: tuple[str, ...]

    def value_of(self, row: Model) -> Any:
        """The row's contribution, read from an instance."""
        found = []
        for path in self.values:
            value = row
            for attr in path.split("__"):
                value = getattr(value, attr) if value is not None else None
            found.append(value)
        return found[0] if len(found) == 1 else tuple(found)


PARTS = (
    Part("aliases", Alias, "aliases", ("name",)),
    Part("labels", Label, "labels", ("language", "kind", "text")),
    Part("categories", TermCategory, "term_categories", ("category__name",)),
    Part("roles", TermRole, "term_roles", ("role__slug",)),
    Part("tags", TermTag, "term_tags", ("tag__name",)),
    Part("examples", Example, "examples", ("kind", "text")),
    Part("citations", Citation, "citations", ("source", "url")),
    Part("relationships", Relationship, "relationships", ("kind", "target_name")),
)

#: ``Term`` column -> ``TermDocument`` attribute, for column-backed values.
COLUMN_ATTRS = {f.column: f.attr for f in FIELDS if f.column}

TERM_DOCUMENT_PREFETCH = (
    "aliases",
    "labels",
    Prefetch(
        "term_categories", queryset=TermCategory.objects.select_related("category")
    ),
    Prefetch("term_roles", queryset=TermRole.objects.select_related("role")),
    Prefetch("term_tags", queryset=TermTag.objects.select_related("tag")),
    "examples",
    "citations",
    "relationships",
)


#: The relationship kinds, read once (the enum's ``values`` builds a new list).
_RELATION_KINDS = tuple(RelationKind.values)


def assemble(row: Mapping[str, Any], parts: Mapping[str, list]) -> TermDocument:
    """A document from a term's column values and its ordered part values.

    Nothing is checked: validate ``to_data()`` when the values come from a form.
    """
    examples = parts.get("examples", ())
    relationships = parts.get("relationships", ())
    return TermDocument(
        **{attr: row.get(column) for column, attr in COLUMN_ATTRS.items()},
        aliases=tuple(parts.get("aliases", ())),
        labels=labels_from_rows(parts.get("labels", ())),
        categories=tuple(parts.get("categories", ())),
        roles=tuple(parts.get("roles", ())),
        nist_rmf_tags=tuple(parts.get("tags", ())),
        examples_do=tuple(text for kind, text in examples if kind == ExampleKind.DO),
        examples_dont=tuple(
            text for kind, text in examples if kind == ExampleKind.DONT
        ),
        **{
            kind: tuple(target for k, target in relationships if k == kind)
            for kind in _RELATION_KINDS
        },
        citations=tuple(parts.get("citations", ())),
    )


def labels_from_rows(rows: Iterable[tuple[str, str, str]]) -> tuple:
    """``LanguageLabels`` by language tag from ``(language, kind, text)`` rows."""
    found: dict[str, dict[str, Any]] = {}
    for language, kind, text in rows:
        entry = found.setdefault(language, {"aliases": []})
        if kind == LabelKind.ALIAS:
            entry["aliases"].append(text)
        else:
            entry[kind] = text
    return tuple(
        LanguageLabels(
            language,
            entry.get(LabelKind.NAME, ""),
            tuple(entry["aliases"]),
            entry.get(LabelKind.SHORT_DEF, ""),
        )
        for language, entry in sorted(found.items())
    )


def label_rows(document: TermDocument, term: Term) -> list[dict]:
    """Label rows of a document (column values): per language its name,
    aliases and definition."""
    rows = []
    for labels in document.labels:
        texts = [(LabelKind.NAME, labels.name)]
        texts += [(LabelKind.ALIAS, alias) for alias in labels.aliases]
        if labels.short_def:
            texts.append((LabelKind.SHORT_DEF, labels.short_def))
        for kind, text in texts:
            key = "" if kind == LabelKind.SHORT_DEF else lookup_key(text)
            rows.append(
                {
                    "term_id": term.pk,
                    "language": labels.language,
                    "kind": str(kind),
                    "text": text,
                    "key": key,
                    "position": len(rows),
                }
            )
    return rows


def document_from_term(term: Term) -> TermDocument:
    """The document of a stored term. Prefetch ``TERM_DOCUMENT_PREFETCH`` first."""
    parts = {
        part.name: [part.value_of(row) for row in getattr(term, part.accessor).all()]
        for part in PARTS
    }
    return assemble({column: getattr(term, column) for column in TERM_COLUMNS}, parts)


def document_from_instances(
    term: Term, rows: Mapping[type[Model], Iterable[Model]]
) -> TermDocument:
    """The document that an unsaved term and its unsaved part rows describe."""
    parts = {
        part.name: [part.value_of(row) for row in rows.get(part.model, ())]
        for part in PARTS
    }
    return assemble({column: getattr(term, column) for column in TERM_COLUMNS}, parts)


def documents_for(queryset: QuerySet[Term]) -> dict[int, TermDocument]:
    """Documents of many stored terms by primary key, built from plain rows.

    One query per part and no model instances: the importer and the exporter
    compare or write whole glossaries with it. Part rows are selected with a
    subquery of ``queryset``, so no list of ids is sent to the database.
    """
    rows = {row["id"]: row for row in queryset.order_by().values("id", *TERM_COLUMNS)}
    ids = queryset.order_by().values("pk")
    parts: dict[int, dict[str, list]] = {pk: {} for pk in rows}
    for part in PARTS:
        values = (
            part.model.objects.filter(term__in=ids)
            .order_by("term_id", "position")
            .values_list("term_id", *part.values)
        )
        for term_id, *value in values:
            if term_id in parts:
                item = value[0] if len(value) == 1 else tuple(value)
                parts[term_id].setdefault(part.name, []).append(item)
    return {pk: assemble(row, parts[pk]) for pk, row in rows.items()}


def term_field_values(document: TermDocument) -> dict[str, Any]:
    """The ``Term`` column values a document sets, with the derived search keys."""
    return {
        **{column: getattr(document, attr) for column, attr in COLUMN_ATTRS.items()},
        "slug": document.slug,
        "name_key": lookup_key(document.term),
        "slug_key": lookup_key(document.slug),
        "search_names": "\n".join(
            dict.fromkeys(
                lookup_key(text)
                for text in (
                    document.term,
                    *document.aliases,
                    *(labels.name for labels in document.labels),
                    *(alias for labels in document.labels for alias in labels.aliases),
                )
            )
        ),
        "search_categories": "\n".join(document.categories),
    }


def term_child_rows(
    document: TermDocument,
    term: Term,
    *,
    categories: Mapping[str, Any],
    roles: Mapping[str, Any],
    tags: Mapping[str, Any],
) -> dict[type, list[dict]]:
    """A term's part rows by model, as column values (``terms.workflow.bulk`` inserts
    them; no model instances: an import writes hundreds of thousands). The
    lookups map names/slugs to saved rows."""
    pk = term.pk
    examples = [
        {"term_id": pk, "kind": str(kind), "text": text, "position": index}
        for kind, texts in (
            (ExampleKind.DO, document.examples_do),
            (ExampleKind.DONT, document.examples_dont),
        )
        for index, text in enumerate(texts)
    ]
    relationships = [
        {
            "term_id": pk,
            "kind": kind,
            "target_name": target,
            "target_key": lookup_key(target),
            "target_id": None,
            "position": index,
        }
        for kind, targets in document.relationships().items()
        for index, target in enumerate(targets)
    ]
    return {
        Alias: [
            {"term_id": pk, "name": alias, "key": lookup_key(alias), "position": index}
            for index, alias in enumerate(document.aliases)
        ],
        Label: label_rows(document, term),
        TermCategory: [
            {"term_id": pk, "category_id": categories[name].pk, "position": index}
            for index, name in enumerate(document.categories)
        ],
        TermRole: [
            {"term_id": pk, "role_id": roles[slug].pk, "position": index}
            for index, slug in enumerate(document.roles)
        ],
        TermTag: [
            {"term_id": pk, "tag_id": tags[name].pk, "position": index}
            for index, name in enumerate(document.nist_rmf_tags)
        ],
        Example: examples,
        Citation: [
            {"term_id": pk, "source": source, "url": url, "position": index}
            for index, (source, url) in enumerate(document.citations)
        ],
        Relationship: relationships,
    }


#: Columns a write sets but that do not say what a part holds: links are
#: resolved again by the write itself.
_SET_ASIDE = frozenset({"term_id", "target_id"})


def unchanged_parts(term: Term, rows: Mapping[type, list[dict]]) -> set[type]:
    """The part models whose stored rows ``term`` already holds exactly as
    ``rows`` (``term_child_rows``) would write them.

    Known only for the parts the term was loaded with (``TERM_DOCUMENT_PREFETCH``);
    any other counts as changed, so a caller that loaded nothing rewrites all.
    """
    loaded = getattr(term, "_prefetched_objects_cache", {})
    same = set()
    for part in PARTS:
        if part.accessor not in loaded:
            continue
        new = rows.get(part.model, [])
        old = list(loaded[part.accessor])
        if len(old) != len(new):
            continue
        first = new[0] if new else {}
        columns = [name for name in first if name not in _SET_ASIDE]
        stored = [tuple(_plain(getattr(row, name)) for name in columns) for row in old]
        wanted = [tuple(_plain(row[name]) for name in columns) for row in new]
        if sorted(stored, key=_order) == sorted(wanted, key=_order):
            same.add(part.model)
    return same


def _plain(value):
    """A column value as compared: text choices as their plain text."""
    return value if value is None or isinstance(value, int) else str(value)


def _order(row: tuple) -> tuple:
    return tuple((value is None, str(value)) for value in row)
