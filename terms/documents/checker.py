"""Collecting validation problems with file, field and line.

The term document and the data files beside it are checked with the same
primitives, so a string, a list or a date is refused with the same words
wherever it appears. A checker never stops at the first problem.
"""

import datetime
import re
from collections.abc import Collection, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from terms.documents.naming import lookup_key
from terms.documents.yaml_loader import Loaded, Path, Problem, field_name

__all__ = ["Checker", "type_name"]

_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL_VALIDATOR = URLValidator(schemes=["http", "https"])
#: Characters RFC 3987 keeps out of IRIs (Django's validator lets them pass).
_URL_UNSAFE = re.compile(r'[<>"{}|\\^`\s]')


def type_name(value: Any) -> str:
    """How a YAML/JSON value's type is called in messages."""
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


class Checker:
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
            self.add(path, f"must be a mapping, not a {type_name(value)}")
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
                # Named by the missing key; the line is that of its mapping.
                self.add((*path, key), f"missing required key {key!r}")
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
            self.add(path, f"must be a string, not a {type_name(value)}")
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
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            self.add(
                path,
                f"must be valid Unicode text; character {exc.start + 1} is a lone "
                f"surrogate (\\u{ord(text[exc.start]):04x})",
            )
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
            self.add(path, f"must be a list, not a {type_name(value)}")
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
        unsafe = sorted(set(_URL_UNSAFE.findall(text)))
        if unsafe:
            # RDF (an IRI), Markdown and CSV exports could not carry it as is.
            encoded = ", ".join(f"{c!r} as %{ord(c):02X}" for c in unsafe)
            self.add(
                path,
                f"holds characters a URL may not ({''.join(unsafe)}); "
                f"percent-encode them ({encoded})",
            )
            return None
        return text
