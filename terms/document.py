"""The term document (term-format.md): parse, validate, serialize, to and from models.

This module is the only place that knows the shape of a term document and of the
data files beside it (``roles.yml``, ``categories.yml``, ``site.yml``). The
importer, the exporter, the API's write path and stored revisions all go through
it, so a rule is written once and every entry point gives the same messages.

Validation never stops at the first problem: it collects every problem in a
document, each with the file, the field and, for YAML input, the line.
"""

import datetime
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Prefetch, QuerySet
from django.utils.text import slugify

from .models import (
    Alias,
    Citation,
    Example,
    ExampleKind,
    PartOfSpeech,
    RelationKind,
    Relationship,
    Status,
    Term,
    TermCategory,
    TermRole,
    TermTag,
)
from .naming import lookup_key, term_slug
from .yaml_loader import Loaded, Path, Problem, field_name, load_yaml

__all__ = [
    "SITE_TEXT_KEYS",
    "TERM_KEYS",
    "CategoryData",
    "Problem",
    "RoleData",
    "TermDocument",
    "document_from_term",
    "dump_yaml",
    "editorial_problems",
    "parse_categories_file",
    "parse_roles_file",
    "parse_site_file",
    "parse_term_file",
    "term_child_rows",
    "term_field_values",
    "validate_term_data",
]

TERM_KEYS = (
    "term",
    "aliases",
    "categories",
    "roles",
    "part_of_speech",
    "short_def",
    "long_def",
    "audiences",
    "examples",
    "governance",
    "relationships",
    "citations",
    "license",
    "status",
    "last_reviewed",
)
RELATION_KEYS = tuple(RelationKind.values)
SHORT_DEF_MAX_CHARS = 320
SHORT_DEF_MAX_WORDS = 40
LONG_DEF_WORDS = (80, 220)
NAME_MAX_CHARS = 200
SITE_TEXT_KEYS = ("practice_footer", "feedback_title", "feedback_note")

# A slug is a file name and a URL path segment.
_UNSAFE_SLUG_CHARACTERS = frozenset('/\\?#%"<>|*:')
_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ROLE_SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_URL_VALIDATOR = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class TermDocument:
    """A valid term document. Strings are stripped; lists keep their order."""

    term: str
    aliases: tuple[str, ...]
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

    @property
    def slug(self) -> str:
        return term_slug(self.term)

    def relationships(self) -> dict[str, tuple[str, ...]]:
        return {kind: getattr(self, kind) for kind in RELATION_KEYS}

    def to_data(self) -> dict[str, Any]:
        """The canonical document as plain data (key order of term-format.md)."""
        governance: dict[str, Any] = {}
        if self.nist_rmf_tags:
            governance["nist_rmf_tags"] = list(self.nist_rmf_tags)
        if self.risk_notes is not None:
            governance["risk_notes"] = self.risk_notes
        return {
            "term": self.term,
            "aliases": list(self.aliases),
            "categories": list(self.categories),
            "roles": list(self.roles),
            "part_of_speech": self.part_of_speech,
            "short_def": self.short_def,
            "long_def": self.long_def,
            "audiences": {
                "exec": self.exec_perspective,
                "engineer": self.engineer_perspective,
            },
            "examples": {
                "do": list(self.examples_do),
                "dont": list(self.examples_dont),
            },
            "governance": governance,
            "relationships": {
                kind: list(targets)
                for kind, targets in self.relationships().items()
                if targets
            },
            "citations": [
                {"source": source, "url": url} for source, url in self.citations
            ],
            "license": self.license,
            "status": self.status,
            "last_reviewed": self.last_reviewed.isoformat(),
        }

    def to_yaml(self) -> str:
        """The canonical YAML text that ``export_terms`` writes."""
        return dump_yaml(self.to_data())

    def changed_keys(self, other: "TermDocument") -> list[str]:
        """Top-level document keys whose values differ between two documents."""
        mine, theirs = self.to_data(), other.to_data()
        return [key for key in TERM_KEYS if mine[key] != theirs[key]]


def dump_yaml(data: Any) -> str:
    """Block-style UTF-8 YAML, keys in the given order, unicode kept as is."""
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, datetime.datetime):
        return "timestamp"
    if isinstance(value, datetime.date):
        return "date"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


class _Checker:
    """Collects problems about one document, with file, field and line."""

    def __init__(self, *, file: str | None, loaded: Loaded | None):
        self.file = file
        self.loaded = loaded
        self.problems: list[Problem] = []

    def add(self, path: Path, message: str) -> None:
        line = self.loaded.line_of(path) if self.loaded else None
        self.problems.append(
            Problem(message, file=self.file, line=line, field=field_name(path) or None)
        )

    def mapping(
        self,
        path: Path,
        value: Any,
        *,
        required: Collection[str] = (),
        optional: Collection[str] = (),
    ) -> dict | None:
        if value is None:
            self.add(path, "must be a mapping, not null")
            return None
        if not isinstance(value, dict):
            self.add(path, f"must be a mapping, not a {_type_name(value)}")
            return None
        allowed = [*required, *optional]
        for key in value:
            if key not in allowed:
                self.add(
                    (*path, key),
                    f"unknown key {key!r}; allowed keys: {', '.join(allowed)}",
                )
        for key in required:
            if key not in value:
                self.add(path, f"missing required key {key!r}")
        return value

    def string(
        self,
        path: Path,
        value: Any,
        *,
        max_chars: int | None = None,
        allow_empty: bool = False,
    ) -> str | None:
        if value is None:
            self.add(path, "must be a string, not null")
            return None
        if not isinstance(value, str):
            self.add(path, f"must be a string, not a {_type_name(value)}")
            return None
        text = value.strip()
        if not text and not allow_empty:
            self.add(path, "must not be empty")
            return None
        if max_chars is not None and len(text) > max_chars:
            self.add(path, f"is {len(text)} characters long; the limit is {max_chars}")
            return None
        if "\x00" in text:
            self.add(path, "must not contain NUL characters")
            return None
        return text

    def string_list(
        self,
        path: Path,
        value: Any,
        *,
        min_items: int = 1,
        what: str = "item",
        max_chars: int | None = None,
        unique_key=lookup_key,
    ) -> tuple[str, ...] | None:
        if value is None:
            self.add(path, "must be a list, not null")
            return None
        if not isinstance(value, list):
            self.add(path, f"must be a list, not a {_type_name(value)}")
            return None
        if len(value) < min_items:
            self.add(
                path,
                f"must list at least {min_items} {what}{'s' if min_items > 1 else ''}",
            )
            return None
        items: list[str] = []
        seen: dict[str, int] = {}
        ok = True
        for index, item in enumerate(value):
            text = self.string((*path, index), item, max_chars=max_chars)
            if text is None:
                ok = False
                continue
            key = unique_key(text)
            if key in seen:
                self.add(
                    (*path, index),
                    f"duplicate {what} {text!r} (same as item {seen[key]})",
                )
                ok = False
                continue
            seen[key] = index
            items.append(text)
        return tuple(items) if ok else None

    def choice(self, path: Path, value: Any, choices: Iterable[str]) -> str | None:
        text = self.string(path, value)
        if text is None:
            return None
        choices = list(choices)
        if text not in choices:
            self.add(path, f"{text!r} is not one of: {', '.join(choices)}")
            return None
        return text

    def date(self, path: Path, value: Any) -> datetime.date | None:
        if isinstance(value, datetime.datetime):
            self.add(path, "must be a date (YYYY-MM-DD), not a timestamp")
            return None
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str) and _DATE_PATTERN.match(value.strip()):
            try:
                return datetime.date.fromisoformat(value.strip())
            except ValueError:
                self.add(path, f"{value!r} is not a real calendar date")
                return None
        if value is None:
            self.add(path, "must be a date (YYYY-MM-DD), not null")
        else:
            self.add(path, f"must be a date in the form YYYY-MM-DD, not {value!r}")
        return None

    def url(self, path: Path, value: Any) -> str | None:
        text = self.string(path, value, max_chars=2000)
        if text is None:
            return None
        try:
            _URL_VALIDATOR(text)
        except ValidationError:
            self.add(path, f"must be an absolute http:// or https:// URL, not {text!r}")
            return None
        return text


def validate_term_data(
    data: Any,
    *,
    file: str | None = None,
    loaded: Loaded | None = None,
    expected_slug: str | None = None,
    known_roles: Collection[str] | None = None,
) -> tuple[TermDocument | None, list[Problem]]:
    """Validate parsed data as a term document.

    ``expected_slug`` is the file name's stem, which must match the term's slug.
    ``known_roles`` is the set of role slugs a term may name (None skips the check).
    """
    check = _Checker(file=file, loaded=loaded)
    top = check.mapping((), data, required=TERM_KEYS)
    if top is None:
        return None, check.problems

    name = (
        check.string(("term",), top.get("term"), max_chars=NAME_MAX_CHARS)
        if "term" in top
        else None
    )
    if name is not None:
        unsafe = sorted(set(term_slug(name)) & _UNSAFE_SLUG_CHARACTERS)
        if not term_slug(name).strip("-"):
            check.add(("term",), f"{name!r} gives an empty slug")
        elif unsafe:
            check.add(
                ("term",),
                f"{name!r} gives the slug {term_slug(name)!r}, which cannot be a file "
                f"name or URL: remove {' '.join(repr(c) for c in unsafe)}",
            )
        elif expected_slug is not None and term_slug(name) != expected_slug:
            check.add(
                ("term",),
                f"the slug of {name!r} is {term_slug(name)!r}, but the file is named "
                f"{expected_slug!r}.yml; rename the file or the term",
            )

    def get(key: str) -> Any:
        return top.get(key)

    present = set(top)
    aliases = (
        check.string_list(
            ("aliases",), get("aliases"), what="alias", max_chars=NAME_MAX_CHARS
        )
        if "aliases" in present
        else None
    )
    categories = (
        check.string_list(
            ("categories",), get("categories"), what="category", max_chars=200
        )
        if "categories" in present
        else None
    )
    for index, category in enumerate(categories or ()):
        if not slugify(category):
            check.add(
                ("categories", index),
                f"category {category!r} gives an empty slug; use letters or digits",
            )
    roles = None
    if "roles" in present:
        roles = check.string_list(("roles",), get("roles"), what="role", unique_key=str)
        if roles is not None and known_roles is not None:
            for index, role in enumerate(roles):
                if role not in known_roles:
                    known = ", ".join(sorted(known_roles)) or "none defined"
                    check.add(
                        ("roles", index), f"unknown role {role!r}; known roles: {known}"
                    )
            if any(role not in known_roles for role in roles):
                roles = None
    part_of_speech = (
        check.choice(("part_of_speech",), get("part_of_speech"), PartOfSpeech.values)
        if "part_of_speech" in present
        else None
    )
    short_def = (
        check.string(("short_def",), get("short_def"), max_chars=SHORT_DEF_MAX_CHARS)
        if "short_def" in present
        else None
    )
    long_def = (
        check.string(("long_def",), get("long_def")) if "long_def" in present else None
    )

    exec_text = engineer_text = None
    if "audiences" in present:
        audiences = check.mapping(
            ("audiences",), get("audiences"), required=("exec", "engineer")
        )
        if audiences is not None:
            if "exec" in audiences:
                exec_text = check.string(("audiences", "exec"), audiences["exec"])
            if "engineer" in audiences:
                engineer_text = check.string(
                    ("audiences", "engineer"), audiences["engineer"]
                )

    do = dont = None
    if "examples" in present:
        examples = check.mapping(
            ("examples",), get("examples"), required=("do", "dont")
        )
        if examples is not None:
            if "do" in examples:
                do = check.string_list(
                    ("examples", "do"), examples["do"], what="example"
                )
            if "dont" in examples:
                dont = check.string_list(
                    ("examples", "dont"), examples["dont"], what="example"
                )

    tags: tuple[str, ...] | None = ()
    risk_notes: str | None = None
    if "governance" in present:
        governance = check.mapping(
            ("governance",), get("governance"), optional=("nist_rmf_tags", "risk_notes")
        )
        if governance is not None:
            if "nist_rmf_tags" in governance:
                tags = check.string_list(
                    ("governance", "nist_rmf_tags"),
                    governance["nist_rmf_tags"],
                    what="tag",
                    max_chars=200,
                    unique_key=str,
                )
            if "risk_notes" in governance:
                risk_notes = check.string(
                    ("governance", "risk_notes"), governance["risk_notes"]
                )

    relations: dict[str, tuple[str, ...] | None] = dict.fromkeys(RELATION_KEYS, ())
    if "relationships" in present:
        relationships = check.mapping(
            ("relationships",), get("relationships"), optional=RELATION_KEYS
        )
        for kind in RELATION_KEYS:
            if relationships is not None and kind in relationships:
                # An empty list is the same as leaving the key out.
                relations[kind] = check.string_list(
                    ("relationships", kind),
                    relationships[kind],
                    min_items=0,
                    what="target",
                    max_chars=NAME_MAX_CHARS,
                )
        if name is not None and aliases is not None:
            own_keys = {lookup_key(name), lookup_key(term_slug(name))}
            own_keys.update(lookup_key(alias) for alias in aliases)
            for kind in RELATION_KEYS:
                for index, target in enumerate(relations[kind] or ()):
                    if lookup_key(target) in own_keys:
                        check.add(
                            ("relationships", kind, index),
                            f"{target!r} is this term itself; "
                            "a term cannot relate to itself",
                        )

    citations: list[tuple[str, str]] = []
    if "citations" in present:
        raw_citations = get("citations")
        if not isinstance(raw_citations, list):
            check.add(
                ("citations",), f"must be a list, not a {_type_name(raw_citations)}"
            )
        elif not raw_citations:
            check.add(("citations",), "must list at least 1 citation")
        else:
            for index, item in enumerate(raw_citations):
                path = ("citations", index)
                entry = check.mapping(path, item, required=("source", "url"))
                if entry is None or "source" not in entry or "url" not in entry:
                    continue
                source = check.string((*path, "source"), entry["source"], max_chars=500)
                url = check.url((*path, "url"), entry["url"])
                citations.append((source, url))

    license_text = (
        check.string(("license",), get("license"), max_chars=100)
        if "license" in present
        else None
    )
    status = (
        check.choice(("status",), get("status"), Status.values)
        if "status" in present
        else None
    )
    last_reviewed = (
        check.date(("last_reviewed",), get("last_reviewed"))
        if "last_reviewed" in present
        else None
    )

    # Every problem was recorded above; a document is only built from clean input.
    if check.problems:
        return None, check.problems
    document = TermDocument(
        term=name,
        aliases=aliases,
        categories=categories,
        roles=roles,
        part_of_speech=part_of_speech,
        short_def=short_def,
        long_def=long_def,
        exec_perspective=exec_text,
        engineer_perspective=engineer_text,
        examples_do=do,
        examples_dont=dont,
        nist_rmf_tags=tags,
        risk_notes=risk_notes,
        broader=relations["broader"],
        narrower=relations["narrower"],
        related=relations["related"],
        citations=tuple(citations),
        license=license_text,
        status=status,
        last_reviewed=last_reviewed,
    )
    return document, []


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


def editorial_problems(document: TermDocument) -> list[str]:
    """Editorial rules a term must meet to be reviewed or approved (term-format.md)."""
    problems = []
    short_words = len(document.short_def.split())
    if short_words > SHORT_DEF_MAX_WORDS:
        problems.append(
            f"short_def has {short_words} words; "
            f"at most {SHORT_DEF_MAX_WORDS} are allowed"
        )
    long_words = len(document.long_def.split())
    low, high = LONG_DEF_WORDS
    if not low <= long_words <= high:
        problems.append(f"long_def has {long_words} words; it needs {low} to {high}")
    return problems


# --- data files: roles.yml, categories.yml, site.yml -------------------------------


@dataclass(frozen=True)
class RoleData:
    """One role of ``roles.yml``."""

    slug: str
    title: str
    summary: str
    takeaway: str


@dataclass(frozen=True)
class CategoryData:
    """One category of ``categories.yml``."""

    name: str
    apply_guidance: tuple[str, ...] = field(default=())

    @property
    def slug(self) -> str:
        return slugify(self.name)


def _load_list_file(raw: bytes, *, file: str, key: str) -> tuple[_Checker, list | None]:
    loaded = load_yaml(raw, file=file)
    check = _Checker(file=file, loaded=loaded)
    if loaded.problems:
        check.problems.extend(loaded.problems)
        return check, None
    top = check.mapping((), loaded.value, required=(key,))
    if top is None or key not in top:
        return check, None
    items = top[key]
    if not isinstance(items, list):
        check.add((key,), f"must be a list, not a {_type_name(items)}")
        return check, None
    return check, items


def parse_roles_file(raw: bytes, *, file: str) -> tuple[list[RoleData], list[Problem]]:
    """Parse ``roles.yml``: ``roles: [{slug, title, summary, takeaway}, ...]``."""
    check, items = _load_list_file(raw, file=file, key="roles")
    roles: list[RoleData] = []
    seen: set[str] = set()
    for index, item in enumerate(items or ()):
        path = ("roles", index)
        entry = check.mapping(
            path, item, required=("slug", "title", "summary", "takeaway")
        )
        if entry is None:
            continue
        values = {
            key: check.string(
                (*path, key), entry[key], max_chars=200 if key == "title" else None
            )
            for key in ("slug", "title", "summary", "takeaway")
            if key in entry
        }
        slug = values.get("slug")
        if slug is not None:
            if not _ROLE_SLUG_PATTERN.match(slug) or len(slug) > 64:
                check.add(
                    (*path, "slug"),
                    f"{slug!r} is not a valid role slug (a-z, 0-9, _ and -)",
                )
            elif slug in seen:
                check.add((*path, "slug"), f"duplicate role {slug!r}")
            seen.add(slug)
        if len(values) == 4 and None not in values.values():
            roles.append(RoleData(**values))
    return roles, check.problems


def parse_categories_file(
    raw: bytes, *, file: str
) -> tuple[list[CategoryData], list[Problem]]:
    """Parse ``categories.yml``: ``categories: [{name, apply_guidance: [...]}]``."""
    check, items = _load_list_file(raw, file=file, key="categories")
    categories: list[CategoryData] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(items or ()):
        path = ("categories", index)
        entry = check.mapping(
            path, item, required=("name",), optional=("apply_guidance",)
        )
        if entry is None or "name" not in entry:
            continue
        name = check.string((*path, "name"), entry["name"], max_chars=200)
        guidance: tuple[str, ...] | None = ()
        if "apply_guidance" in entry:
            guidance = check.string_list(
                (*path, "apply_guidance"),
                entry["apply_guidance"],
                min_items=0,
                what="sentence",
            )
        if name is None or guidance is None:
            continue
        category = CategoryData(name=name, apply_guidance=guidance)
        if not category.slug:
            check.add((*path, "name"), f"{name!r} gives an empty slug")
        elif category.slug in seen:
            check.add(
                (*path, "name"),
                f"category {name!r} has the same slug as {seen[category.slug]!r}",
            )
        else:
            seen[category.slug] = name
            categories.append(category)
    return categories, check.problems


def parse_site_file(raw: bytes, *, file: str) -> tuple[dict[str, str], list[Problem]]:
    """Parse ``site.yml``: the site-wide sentences of the term pages."""
    loaded = load_yaml(raw, file=file)
    check = _Checker(file=file, loaded=loaded)
    if loaded.problems:
        return {}, loaded.problems
    top = check.mapping((), loaded.value, optional=SITE_TEXT_KEYS)
    texts: dict[str, str] = {}
    for key in SITE_TEXT_KEYS:
        if top is not None and key in top:
            value = check.string((key,), top[key])
            if value is not None:
                texts[key] = value
    return texts, check.problems


# --- to and from the models ---------------------------------------------------------

TERM_DOCUMENT_PREFETCH = (
    "aliases",
    Prefetch(
        "term_categories", queryset=TermCategory.objects.select_related("category")
    ),
    Prefetch("term_roles", queryset=TermRole.objects.select_related("role")),
    Prefetch("term_tags", queryset=TermTag.objects.select_related("tag")),
    "examples",
    "citations",
    "relationships",
)


TERM_COLUMNS = (
    "name",
    "part_of_speech",
    "short_def",
    "long_def",
    "exec_perspective",
    "engineer_perspective",
    "risk_notes",
    "license",
    "status",
    "last_reviewed",
)


def _assemble(row: dict[str, Any], parts: dict[str, list]) -> TermDocument:
    """A document from a term's column values and its ordered child values."""
    examples = parts.get("examples", ())
    relationships = parts.get("relationships", ())

    def targets(kind: str) -> tuple[str, ...]:
        return tuple(target for k, target in relationships if k == kind)

    return TermDocument(
        term=row["name"],
        aliases=tuple(parts.get("aliases", ())),
        categories=tuple(parts.get("categories", ())),
        roles=tuple(parts.get("roles", ())),
        part_of_speech=row["part_of_speech"],
        short_def=row["short_def"],
        long_def=row["long_def"],
        exec_perspective=row["exec_perspective"],
        engineer_perspective=row["engineer_perspective"],
        examples_do=tuple(text for kind, text in examples if kind == ExampleKind.DO),
        examples_dont=tuple(
            text for kind, text in examples if kind == ExampleKind.DONT
        ),
        nist_rmf_tags=tuple(parts.get("tags", ())),
        risk_notes=row["risk_notes"],
        broader=targets(RelationKind.BROADER),
        narrower=targets(RelationKind.NARROWER),
        related=targets(RelationKind.RELATED),
        citations=tuple(parts.get("citations", ())),
        license=row["license"],
        status=row["status"],
        last_reviewed=row["last_reviewed"],
    )


def document_from_term(term: Term) -> TermDocument:
    """The document of a stored term. Prefetch ``TERM_DOCUMENT_PREFETCH`` first."""
    parts = {
        "aliases": [alias.name for alias in term.aliases.all()],
        "categories": [link.category.name for link in term.term_categories.all()],
        "roles": [link.role.slug for link in term.term_roles.all()],
        "tags": [link.tag.name for link in term.term_tags.all()],
        "examples": [(ex.kind, ex.text) for ex in term.examples.all()],
        "citations": [(c.source, c.url) for c in term.citations.all()],
        "relationships": [(r.kind, r.target_name) for r in term.relationships.all()],
    }
    return _assemble({column: getattr(term, column) for column in TERM_COLUMNS}, parts)


# Each part of a document: its model and the values it contributes, in order.
_PARTS = (
    ("aliases", Alias, ("name",)),
    ("categories", TermCategory, ("category__name",)),
    ("roles", TermRole, ("role__slug",)),
    ("tags", TermTag, ("tag__name",)),
    ("examples", Example, ("kind", "text")),
    ("citations", Citation, ("source", "url")),
    ("relationships", Relationship, ("kind", "target_name")),
)


def documents_for(queryset: QuerySet[Term]) -> dict[int, TermDocument]:
    """Documents of many stored terms by primary key, built from plain rows.

    One query per part and no model instances: the importer and the exporter
    compare or write whole glossaries with it. Child rows are selected with a
    subquery of ``queryset``, so no list of ids is sent to the database.
    """
    rows = {row["id"]: row for row in queryset.order_by().values("id", *TERM_COLUMNS)}
    ids = queryset.order_by().values("pk")
    parts: dict[int, dict[str, list]] = {pk: {} for pk in rows}
    for name, model, fields in _PARTS:
        values = (
            model.objects.filter(term__in=ids)
            .order_by("term_id", "position")
            .values_list("term_id", *fields)
        )
        for term_id, *value in values:
            if term_id in parts:
                item = value[0] if len(value) == 1 else tuple(value)
                parts[term_id].setdefault(name, []).append(item)
    return {pk: _assemble(row, parts[pk]) for pk, row in rows.items()}


def term_field_values(document: TermDocument) -> dict[str, Any]:
    """The ``Term`` column values a document sets."""
    return {
        "name": document.term,
        "slug": document.slug,
        "name_key": lookup_key(document.term),
        "part_of_speech": document.part_of_speech,
        "short_def": document.short_def,
        "long_def": document.long_def,
        "exec_perspective": document.exec_perspective,
        "engineer_perspective": document.engineer_perspective,
        "risk_notes": document.risk_notes,
        "license": document.license,
        "status": document.status,
        "last_reviewed": document.last_reviewed,
        "search_names": "\n".join(
            dict.fromkeys(
                lookup_key(text) for text in (document.term, *document.aliases)
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
) -> dict[type, list]:
    """Unsaved child rows of a term, by model. Lookups map names/slugs to saved rows."""
    examples = [
        Example(term=term, kind=ExampleKind.DO, text=text, position=index)
        for index, text in enumerate(document.examples_do)
    ] + [
        Example(term=term, kind=ExampleKind.DONT, text=text, position=index)
        for index, text in enumerate(document.examples_dont)
    ]
    relationships = [
        Relationship(
            term=term,
            kind=kind,
            target_name=target,
            target_key=lookup_key(target),
            position=index,
        )
        for kind, targets in document.relationships().items()
        for index, target in enumerate(targets)
    ]
    return {
        Alias: [
            Alias(term=term, name=alias, key=lookup_key(alias), position=index)
            for index, alias in enumerate(document.aliases)
        ],
        TermCategory: [
            TermCategory(term=term, category=categories[name], position=index)
            for index, name in enumerate(document.categories)
        ],
        TermRole: [
            TermRole(term=term, role=roles[slug], position=index)
            for index, slug in enumerate(document.roles)
        ],
        TermTag: [
            TermTag(term=term, tag=tags[name], position=index)
            for index, name in enumerate(document.nist_rmf_tags)
        ],
        Example: examples,
        Citation: [
            Citation(term=term, source=source, url=url, position=index)
            for index, (source, url) in enumerate(document.citations)
        ],
        Relationship: relationships,
    }
