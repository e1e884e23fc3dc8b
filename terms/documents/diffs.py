"""Differences between two term documents: by field, and word by word in HTML."""

import difflib
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from terms.documents.document import TERM_KEYS

__all__ = ["diff_rows", "document_diff"]


def document_diff(
    before: dict[str, Any], after: dict[str, Any]
) -> list[dict[str, Any]]:
    """Top-level fields whose values differ between two documents, in format order."""
    return [
        {"field": key, "before": before.get(key), "after": after.get(key)}
        for key in TERM_KEYS
        if before.get(key) != after.get(key)
    ]


def _render(value) -> str:
    if isinstance(value, list):
        return "\n".join(f"- {_render(item)}" for item in value)
    if isinstance(value, dict):
        return "\n".join(f"{key}: {_render(item)}" for key, item in value.items())
    return "" if value is None else str(value)


def word_diff(before: str, after: str) -> SafeString:
    """HTML of ``after`` with removed words struck through and added ones marked."""
    old, new = before.split(" "), after.split(" ")
    parts = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(format_html("{} ", " ".join(old[a1:a2])))
            continue
        if op in ("delete", "replace"):
            parts.append(format_html("<del>{}</del> ", " ".join(old[a1:a2])))
        if op in ("insert", "replace"):
            parts.append(format_html("<ins>{}</ins> ", " ".join(new[b1:b2])))
    return mark_safe("".join(parts))


def diff_rows(before: dict, after: dict) -> list[dict]:
    """Changed fields as text before and after, with a word-level HTML diff."""
    rows = []
    for change in document_diff(before, after):
        old, new = _render(change["before"]), _render(change["after"])
        rows.append(
            {
                "field": change["field"],
                "before": old,
                "after": new,
                "html": word_diff(old, new),
            }
        )
    return rows
