"""The data files beside the term documents: ``roles.yml``, ``categories.yml`` and
``site.yml`` (role texts, category guidance, site-wide sentences).

Their names are reserved: no term may have the slug ``roles``, ``categories`` or
``site``, so a folder of term files and data files never has two meanings for
one file name.
"""

import re
from dataclasses import dataclass, field

from django.utils.text import slugify

from terms.documents.checker import Checker, type_name
from terms.documents.yaml_loader import Problem, load_yaml

__all__ = [
    "CATEGORIES_FILE",
    "DATA_FILES",
    "RESERVED_SLUGS",
    "ROLES_FILE",
    "SITE_FILE",
    "SITE_TEXT_KEYS",
    "CategoryData",
    "RoleData",
    "parse_categories_file",
    "parse_roles_file",
    "parse_site_file",
]

ROLES_FILE = "roles.yml"
CATEGORIES_FILE = "categories.yml"
SITE_FILE = "site.yml"
DATA_FILES = (ROLES_FILE, CATEGORIES_FILE, SITE_FILE)
#: Slugs a term may not have: their files are the data files.
RESERVED_SLUGS = frozenset(name.removesuffix(".yml") for name in DATA_FILES)
SITE_TEXT_KEYS = ("practice_footer", "feedback_title", "feedback_note")

_ROLE_SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


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


def _load_list_file(raw: bytes, *, file: str, key: str) -> tuple[Checker, list | None]:
    loaded = load_yaml(raw, file=file)
    check = Checker(file=file, loaded=loaded)
    if loaded.problems:
        check.problems.extend(loaded.problems)
        return check, None
    top = check.mapping((), loaded.value, required=(key,))
    if top is None or key not in top:
        return check, None
    items = top[key]
    if not isinstance(items, list):
        check.add((key,), f"must be a list, not a {type_name(items)}")
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
            # Summary and takeaway may be empty, as in the roles a new database
            # starts with: an export must import again.
            key: check.string(
                (*path, key),
                entry[key],
                max_chars=200 if key == "title" else None,
                allow_empty=key in ("summary", "takeaway"),
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
    check = Checker(file=file, loaded=loaded)
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
