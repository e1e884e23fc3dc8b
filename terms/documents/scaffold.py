"""A new term's YAML skeleton, derived from ``terms.documents.fields.FIELDS``.

Every key of the document is written, empty, under a comment that says what it
needs (limits included). Empty editorial values are what a draft may hold, so
the skeleton imports as a draft as it is, and the review gate lists whatever is
still empty.
"""

import datetime
import json
from collections.abc import Collection

from terms.documents.document import (
    CHOICE,
    CITATIONS,
    DATE,
    FIELDS,
    GROUPS,
    LABELS,
    TERM_KEYS,
    TEXTS,
    DocumentField,
)
from terms.models import Status

__all__ = ["term_skeleton"]

#: What the editor's YAML extension validates against (docs/import-export.md: modeline).
DEFAULT_SCHEMA_URL = "http://127.0.0.1:8000/api/v1/schema/term-document.json"


def _needs(spec: DocumentField, roles: Collection[str], categories: list[str]) -> str:
    """The comment above one value: what to write, and what review demands."""
    parts = [spec.help] if spec.help else []
    if spec.kind == CHOICE:
        parts.append("one of: " + ", ".join(spec.choices))
    if spec.kind in (TEXTS, CITATIONS) and spec.min_items and spec.required:
        what = spec.what if spec.kind == TEXTS else "citation"
        plural = "" if spec.min_items == 1 else "s"
        parts.append(f"at least {spec.min_items} {what}{plural} to be reviewed")
    if spec.max_chars:
        each = " each" if spec.kind == TEXTS else ""
        parts.append(f"at most {spec.max_chars} characters{each}")
    if spec.attr == "roles":
        parts.append("known roles: " + (", ".join(sorted(roles)) or "none yet"))
    if spec.attr == "categories" and categories:
        shown = ", ".join(categories[:12])
        more = f" and {len(categories) - 12} more" if len(categories) > 12 else ""
        parts.append(f"existing: {shown}{more}")
    if spec.kind == CITATIONS:
        parts.append('write each as "- source: ...", then "  url: https://..."')
    if not spec.required:
        parts.append(
            "optional" if not spec.min_items else "optional: leave it out or fill it"
        )
    return "; ".join(parts)


def _empty(spec: DocumentField) -> str:
    return "[]" if spec.kind in (TEXTS, CITATIONS) else "''"


def term_skeleton(
    name: str,
    *,
    today: datetime.date,
    roles: Collection[str] = (),
    categories: list[str] | None = None,
    schema_url: str = DEFAULT_SCHEMA_URL,
) -> str:
    """The YAML text of a new draft named ``name``."""
    categories = categories or []
    lines = [
        f"# yaml-language-server: $schema={schema_url}",
        "# A new draft. Fill in each value under the comment that says what it",
        "# needs; a draft may leave editorial values empty, and review needs them.",
    ]
    by_key = {key: [f for f in FIELDS if f.key == key] for key in TERM_KEYS}
    for key in TERM_KEYS:
        if key in GROUPS:
            members = GROUPS[key]
            written = [f for f in members if f.required or not f.min_items]
            for spec in members:
                if spec not in written:
                    lines.append(f"# {spec.path[1]}: {_needs(spec, roles, categories)}")
            if not written:
                lines.append(f"{key}: {{}}")
                continue
            lines.append(f"{key}:")
            for spec in written:
                lines.append(f"  # {_needs(spec, roles, categories)}")
                lines.append(f"  {spec.path[1]}: {_empty(spec)}")
            continue
        [spec] = by_key[key]
        needs = _needs(spec, roles, categories)
        if spec.kind == LABELS:
            # Optional and shaped by language: shown, not written.
            lines.append(f"# {key}: {needs}, for example:")
            lines.append("#   fr: {name: ..., aliases: [...], short_def: ...}")
            continue
        if spec.attr == "term":
            value = json.dumps(name.strip(), ensure_ascii=False)
        elif spec.attr == "status":
            needs, value = "the workflow sets it; a new term is a draft", Status.DRAFT
        elif spec.kind == DATE:
            value = f"'{today.isoformat()}'"
        else:
            value = _empty(spec)
        if needs:
            lines.append(f"# {needs}")
        lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n"
