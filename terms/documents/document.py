"""The term document (term-format.md): its fields, validation and canonical form.

``FIELDS`` (``terms.documents.fields``) declares every value of a term document once:
where it sits in the YAML, its type and limits, the ``Term`` column that stores
it (if any) and the admin section that shows it. Validation, the canonical data
and YAML, the admin form, the API serializers and the exporters all derive from
this declaration, so adding a column-backed field is a change to the model,
that list and a migration. How documents map to rows lives in
``terms.documents.mapping``; the data files beside term files (roles, categories, site
texts) in ``terms.documents.datafiles``.

Validation never stops at the first problem: it collects every problem in a
document, each with the file, the field and, for YAML input, the line.
"""

import datetime
import functools
from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

import yaml
from django.utils.text import slugify

from terms.documents.checker import Checker, type_name
from terms.documents.datafiles import RESERVED_SLUGS
from terms.documents.fields import (
    CHOICE,
    CITATIONS,
    DATE,
    FIELDS,
    GROUPS,
    LABEL_DEF_MAX_CHARS,
    LABELS,
    LONG_DEF_WORDS,
    NAME_MAX_CHARS,
    RELATION_KEYS,
    SHORT_DEF_MAX_WORDS,
    TERM_COLUMNS,
    TERM_KEYS,
    TEXT,
    TEXTS,
    DocumentField,
    LanguageLabels,
)
from terms.documents.naming import language_tag, lookup_key, term_slug
from terms.documents.yaml_loader import Loaded, Problem, load_yaml
from terms.models import Status

__all__ = [
    "CHOICE",
    "CITATIONS",
    "DATE",
    "FIELDS",
    "GROUPS",
    "LABELS",
    "LABEL_DEF_MAX_CHARS",
    "LONG_DEF_WORDS",
    "NAME_MAX_CHARS",
    "RELATION_KEYS",
    "SHORT_DEF_MAX_WORDS",
    "TERM_COLUMNS",
    "TERM_KEYS",
    "TEXT",
    "TEXTS",
    "DocumentField",
    "LanguageLabels",
    "Problem",
    "TermDocument",
    "category_clash_message",
    "dump_yaml",
    "editorial_checks",
    "editorial_problems",
    "parse_term_file",
    "required_keys",
    "validate_term_data",
]


@dataclass(frozen=True)
class TermDocument:
    """A valid term document. Strings are stripped; lists keep their order.

    One attribute per entry of ``FIELDS``, in the same order (checked below).
    """

    term: str
    aliases: tuple[str, ...]
    labels: tuple[LanguageLabels, ...]
    categories: tuple[str, ...]
    roles: tuple[str, ...]
    part_of_speech: str
    short_def: str
    long_def: str
    exec_perspective: str
    engineer_perspective: str
    examples_do: tuple[str, ...]
    examples_dont: tuple[str, ...]
    nist_rmf_tags: tuple[str, ...]
    risk_notes: str | None
    broader: tuple[str, ...]
    narrower: tuple[str, ...]
    related: tuple[str, ...]
    citations: tuple[tuple[str, str], ...]
    license: str
    status: str
    last_reviewed: datetime.date

    @functools.cached_property
    def slug(self) -> str:
        """The term's slug, derived from its name (worked out once)."""
        return term_slug(self.term)

    def relationships(self) -> dict[str, tuple[str, ...]]:
        """Targets as written, by kind."""
        return {kind: getattr(self, kind) for kind in RELATION_KEYS}

    def to_data(self, *, complete: bool = False) -> dict[str, Any]:
        """The canonical document as plain data (key order of term-format.md).

        Optional values that are empty are left out, as the canonical YAML has
        them; ``complete`` keeps them (empty), for representations whose shape
        must not depend on the content.
        """
        data: dict[str, Any] = {}
        for spec in FIELDS:
            value = getattr(self, spec.attr)
            if not spec.required and not complete and value in ((), None, ""):
                continue
            if len(spec.path) == 1:
                data[spec.key] = _plain(spec, value)
            else:
                data.setdefault(spec.key, {})[spec.path[1]] = _plain(spec, value)
        for key in GROUPS:
            data.setdefault(key, {})
        return {key: data[key] for key in TERM_KEYS if key in data}

    def to_yaml(self) -> str:
        """The canonical YAML text that ``export_terms`` writes."""
        return dump_yaml(self.to_data())

    def changed_keys(self, other: "TermDocument") -> list[str]:
        """Top-level document keys whose values differ between two documents."""
        mine, theirs = self.to_data(), other.to_data()
        return [key for key in TERM_KEYS if mine.get(key) != theirs.get(key)]


if [f.name for f in dataclass_fields(TermDocument)] != [f.attr for f in FIELDS]:
    raise RuntimeError("TermDocument's attributes must follow FIELDS one to one")


def _plain(spec: DocumentField, value: Any) -> Any:
    """A document value as YAML/JSON data."""
    if spec.kind == TEXTS:
        return list(value or ())
    if spec.kind == CITATIONS:
        return [{"source": source, "url": url} for source, url in value or ()]
    if spec.kind == DATE and isinstance(value, datetime.date):
        return value.isoformat()
    if spec.kind == LABELS:
        return {labels.language: _plain_labels(labels) for labels in value or ()}
    return value


def _plain_labels(labels: LanguageLabels) -> dict[str, Any]:
    data: dict[str, Any] = {"name": labels.name}
    if labels.aliases:
        data["aliases"] = list(labels.aliases)
    if labels.short_def:
        data["short_def"] = labels.short_def
    return data


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, with text holding U+0085 (NEXT LINE) written
    double-quoted: in its other styles PyYAML writes the character as it is,
    which YAML reads back as a line break, so the text would not survive an
    export and import. Double-quoted, it is escaped (``\\N``)."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    if "\x85" in text:
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
    return yaml.representer.SafeRepresenter.represent_str(dumper, text)


_Dumper.add_representer(str, _represent_text)


def dump_yaml(data: Any) -> str:
    """Block-style UTF-8 YAML, keys in the given order, unicode kept as is."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )


# --- validation -----------------------------------------------------------------


def _check_value(
    check: Checker, spec: DocumentField, value: Any, *, draft: bool = False
) -> Any:
    """One declared value checked by its kind; None when it is refused.

    In a ``draft``, an editorial value may be null or empty (its ``blank``).
    """
    path = spec.path
    lenient = draft and spec.draft_may_omit
    if lenient and value is None:
        return spec.blank()
    if spec.kind == TEXT:
        return check.string(path, value, max_chars=spec.max_chars, allow_empty=lenient)
    if spec.kind == TEXTS:
        return check.string_list(
            path,
            value,
            min_items=0 if lenient else spec.min_items,
            what=spec.what,
            max_chars=spec.max_chars,
            unique_key=spec.unique,
        )
    if spec.kind == CHOICE:
        if lenient and isinstance(value, str) and not value.strip():
            return ""
        return check.choice(path, value, spec.choices)
    if spec.kind == DATE:
        return check.date(path, value)
    if spec.kind == LABELS:
        return _check_labels(check, path, value)
    return _check_citations(check, path, value, min_items=0 if lenient else 1)


def _check_citations(check: Checker, path, value: Any, *, min_items: int = 1):
    if not isinstance(value, list):
        check.add(path, f"must be a list, not a {type_name(value)}")
        return None
    if len(value) < min_items:
        check.add(path, "must list at least 1 citation")
        return None
    citations = []
    for index, item in enumerate(value):
        item_path = (*path, index)
        entry = check.mapping(item_path, item, required=("source", "url"))
        if entry is None or "source" not in entry or "url" not in entry:
            continue
        source = check.string((*item_path, "source"), entry["source"], max_chars=500)
        url = check.url((*item_path, "url"), entry["url"])
        citations.append((source, url))
    return tuple(citations)


def _check_labels(check: Checker, path, value: Any):
    """``{tag: {name, aliases, short_def}}``, sorted by tag; None when refused."""
    from django.conf import settings

    if value is None:
        return ()
    if not isinstance(value, dict):
        check.add(path, f"must be a mapping of language tags, not a {type_name(value)}")
        return None
    default = language_tag(settings.GLOSSARY_LANGUAGE)
    found: dict[str, LanguageLabels] = {}
    refused = False
    for raw_tag, entry in value.items():
        item_path = (*path, raw_tag)
        tag = language_tag(raw_tag) if isinstance(raw_tag, str) else None
        if tag is None:
            check.add(
                item_path,
                f"{raw_tag!r} is not a BCP 47 language tag (like 'fr', 'pt-BR')",
            )
            refused = True
            continue
        if tag == default:
            check.add(
                item_path,
                f"{tag!r} is the glossary's default language: its name and aliases "
                "are 'term' and 'aliases'",
            )
            refused = True
            continue
        if tag in found:
            check.add(item_path, f"language {tag!r} is given twice")
            refused = True
            continue
        labels = _check_language_labels(check, item_path, entry)
        if labels is None:
            refused = True
        else:
            found[tag] = LanguageLabels(tag, *labels)
    if refused:
        return None
    return tuple(found[tag] for tag in sorted(found))


def _check_language_labels(check: Checker, path, entry: Any):
    body = check.mapping(
        path, entry, required=("name",), optional=("aliases", "short_def")
    )
    if body is None or "name" not in body:
        return None
    name = check.string((*path, "name"), body["name"], max_chars=NAME_MAX_CHARS)
    aliases = check.string_list(
        (*path, "aliases"),
        body.get("aliases", []),
        min_items=0,
        what="alias",
        max_chars=NAME_MAX_CHARS,
        unique_key=lookup_key,
    )
    short_def = body.get("short_def")
    if short_def is not None:
        short_def = check.string(
            (*path, "short_def"),
            short_def,
            max_chars=LABEL_DEF_MAX_CHARS,
            allow_empty=True,
        )
    else:
        short_def = ""
    if name is None or aliases is None or short_def is None:
        return None
    for index, alias in enumerate(aliases):
        if lookup_key(alias) == lookup_key(name):
            check.add((*path, "aliases", index), f"{alias!r} repeats the name")
            return None
    return name, tuple(aliases), short_def


def _check_values(check: Checker, top: dict, *, draft: bool) -> dict[str, Any]:
    """Every declared value, checked in document order; attr -> value or None."""
    values: dict[str, Any] = {}
    for key in TERM_KEYS:
        if key not in top:
            # Reported once as a missing required key, unless a draft may omit it.
            for spec in FIELDS:
                if spec.key == key and draft and spec.draft_may_omit:
                    values[spec.attr] = spec.blank()
                elif spec.key == key and not spec.required:
                    values[spec.attr] = spec.empty()
            continue
        if key not in GROUPS:
            [spec] = [f for f in FIELDS if f.key == key]
            values[spec.attr] = _check_value(check, spec, top[key], draft=draft)
            continue
        members = GROUPS[key]
        group = check.mapping(
            (key,),
            top[key],
            required=[f.path[1] for f in members if _key_required(f, draft)],
            optional=[f.path[1] for f in members if not _key_required(f, draft)],
        )
        for spec in members:
            if group is not None and spec.path[1] in group:
                values[spec.attr] = _check_value(
                    check, spec, group[spec.path[1]], draft=draft
                )
            elif not spec.required:
                values[spec.attr] = spec.empty()
            elif draft and spec.draft_may_omit:
                values[spec.attr] = spec.blank()
    return values


def _key_required(spec: DocumentField, draft: bool) -> bool:
    return spec.required and not (draft and spec.draft_may_omit)


def required_keys(*, draft: bool) -> tuple[str, ...]:
    """Top-level keys a document must have: all but optional ones (``labels``),
    and, in a draft, those whose every value is editorial or optional."""
    if not draft:
        # Every group key, and every single value that is required.
        return tuple(
            key
            for key in TERM_KEYS
            if key in GROUPS or any(f.required for f in FIELDS if f.key == key)
        )
    return tuple(
        key
        for key in TERM_KEYS
        if any(_key_required(f, True) for f in FIELDS if f.key == key)
    )


def _check_name(check: Checker, name: str, expected_slug: str | None) -> None:
    slug = term_slug(name)
    if not slug.strip("-"):
        check.add(("term",), f"{name!r} gives an empty slug")
    elif not slug.strip("-."):
        check.add(("term",), f"{name!r} gives the slug {slug!r}; use letters or digits")
    elif slug in RESERVED_SLUGS:
        check.add(
            ("term",),
            f"{name!r} gives the slug {slug!r}, which is reserved for the data file "
            f"{slug}.yml; choose another name",
        )
    elif expected_slug is not None and slug != expected_slug:
        check.add(
            ("term",),
            f"the slug of {name!r} is {slug!r}, but the file is named "
            f"{expected_slug!r}.yml; rename the file or the term",
        )


def _check_across(
    check: Checker,
    values: dict[str, Any],
    *,
    expected_slug: str | None,
    known_roles: Collection[str] | None,
) -> None:
    """Rules that involve more than one value, or knowledge of the glossary."""
    name = values.get("term")
    if name is not None:
        _check_name(check, name, expected_slug)
    for index, category in enumerate(values.get("categories") or ()):
        if not slugify(category):
            check.add(
                ("categories", index),
                f"category {category!r} gives an empty slug; use letters or digits",
            )
    if known_roles is not None:
        for index, role in enumerate(values.get("roles") or ()):
            if role not in known_roles:
                known = ", ".join(sorted(known_roles)) or "none defined"
                check.add(
                    ("roles", index), f"unknown role {role!r}; known roles: {known}"
                )
    aliases = values.get("aliases")
    if name is None or aliases is None:
        return
    own_keys = {lookup_key(name), lookup_key(term_slug(name))}
    own_keys.update(lookup_key(alias) for alias in aliases)
    for kind in RELATION_KEYS:
        for index, target in enumerate(values.get(kind) or ()):
            if lookup_key(target) in own_keys:
                check.add(
                    ("relationships", kind, index),
                    f"{target!r} is this term itself; a term cannot relate to itself",
                )


def validate_term_data(
    data: Any,
    *,
    file: str | None = None,
    loaded: Loaded | None = None,
    expected_slug: str | None = None,
    known_roles: Collection[str] | None = None,
    complete: bool = False,
) -> tuple[TermDocument | None, list[Problem]]:
    """Validate parsed data as a term document.

    ``expected_slug`` is the file name's stem, which must match the term's slug.
    ``known_roles`` is the set of role slugs a term may name (None skips the check).
    A document whose status is ``draft`` may leave editorial values out or empty,
    unless ``complete`` (the review and approval gates) demands every one.
    """
    check = Checker(file=file, loaded=loaded)
    if isinstance(data, dict) and not set(map(str, data)) & set(TERM_KEYS):
        # Some other file: say so without repeating its keys (they may be secrets).
        check.add(
            (),
            f"not a term document: none of its {len(data)} top-level key(s) is a "
            f"term document key ({', '.join(TERM_KEYS[:3])}, ...)",
        )
        return None, check.problems
    draft = not complete and _claims_draft(data)
    needed = required_keys(draft=draft)
    top = check.mapping(
        (), data, required=needed, optional=[k for k in TERM_KEYS if k not in needed]
    )
    if top is None:
        return None, check.problems
    values = _check_values(check, top, draft=draft)
    _check_across(check, values, expected_slug=expected_slug, known_roles=known_roles)
    # Every problem was recorded above; a document is only built from clean input.
    if check.problems:
        return None, sorted(check.problems, key=_document_order)
    return TermDocument(**values), []


def _claims_draft(data: Any) -> bool:
    status = data.get("status") if isinstance(data, dict) else None
    return isinstance(status, str) and status.strip() == Status.DRAFT


def _document_order(problem: Problem) -> int:
    """Problems in the order of the document's keys (stable within a key)."""
    key = (problem.field or "").split(".")[0].split("[")[0]
    return TERM_KEYS.index(key) if key in TERM_KEYS else -1


def parse_term_file(
    raw: bytes,
    *,
    file: str,
    expected_slug: str | None = None,
    known_roles: Collection[str] | None = None,
) -> tuple[TermDocument | None, list[Problem]]:
    """Parse and validate the bytes of one ``<slug>.yml`` term file."""
    loaded = load_yaml(raw, file=file)
    if loaded.problems:
        return None, loaded.problems
    return validate_term_data(
        loaded.value,
        file=file,
        loaded=loaded,
        expected_slug=expected_slug,
        known_roles=known_roles,
    )


def category_clash_message(name: str, known: str, where: str) -> str:
    """Two spellings of one category ("LLM Core", "llm core") share its slug."""
    return (
        f"category {name!r} clashes with {known!r} (from {where}); "
        "spell it the same way"
    )


def editorial_checks(document: TermDocument) -> list[Problem]:
    """Editorial rules a term must meet to be reviewed or approved (term-format.md),
    each failure with the field it is about."""
    problems = []
    short_words = len(document.short_def.split())
    if short_words > SHORT_DEF_MAX_WORDS:
        problems.append(
            Problem(
                f"has {short_words} words; at most {SHORT_DEF_MAX_WORDS} are allowed",
                field="short_def",
            )
        )
    long_words = len(document.long_def.split())
    low, high = LONG_DEF_WORDS
    if not low <= long_words <= high:
        problems.append(
            Problem(
                f"has {long_words} words; it needs {low} to {high}", field="long_def"
            )
        )
    return problems


def editorial_problems(document: TermDocument) -> list[str]:
    """``editorial_checks`` as sentences: "short_def has 45 words; ..."."""
    return [f"{p.field} {p.message}" for p in editorial_checks(document)]
