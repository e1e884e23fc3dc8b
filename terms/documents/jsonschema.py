"""The term document as a JSON Schema (draft 2020-12), derived from
``terms.documents.fields.FIELDS``, for editors' YAML extensions and other tools.

It states what the schema language can state: types, required keys per status
(a draft may leave editorial values out, null or empty), choices, limits,
unique items, http(s) citation URLs, no extra keys. What it cannot
(the slug matches the file name, roles are known, relationship targets, a term
does not relate to itself, category spellings agree with the glossary) stays
in ``terms.documents.document.validate_term_data``.
"""

from typing import Any

from terms.documents.document import (
    CHOICE,
    CITATIONS,
    DATE,
    FIELDS,
    GROUPS,
    LABEL_DEF_MAX_CHARS,
    LABELS,
    NAME_MAX_CHARS,
    TERM_KEYS,
    TEXT,
    TEXTS,
    required_keys,
)

__all__ = ["term_document_schema"]

#: Contains something other than white space (values are stripped).
_NOT_BLANK = r"\S"


def _text(max_chars: int | None, help_text: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "pattern": _NOT_BLANK}
    if max_chars:
        schema["maxLength"] = max_chars
    if help_text:
        schema["description"] = help_text
    return schema


#: BCP 47 tags as ``terms.documents.naming.language_tag`` accepts them (any case).
LANGUAGE_TAG_PATTERN = (
    r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?"
    r"(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$"
)


def _labels_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "propertyNames": {"pattern": LANGUAGE_TAG_PATTERN},
        "additionalProperties": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": _text(NAME_MAX_CHARS),
                "aliases": {
                    "type": "array",
                    "items": _text(NAME_MAX_CHARS),
                    "uniqueItems": True,
                },
                "short_def": {"type": "string", "maxLength": LABEL_DEF_MAX_CHARS},
            },
        },
    }


def _value(spec) -> dict[str, Any]:
    if spec.kind == TEXTS:
        schema: dict[str, Any] = {
            "type": "array",
            "items": _text(spec.max_chars),
            "uniqueItems": True,
        }
        if spec.min_items:
            schema["minItems"] = spec.min_items
    elif spec.kind == CHOICE:
        schema = {"type": "string", "enum": list(spec.choices)}
    elif spec.kind == DATE:
        schema = {
            "type": "string",
            "format": "date",
            "pattern": r"^\d{4}-\d{2}-\d{2}$",
        }
    elif spec.kind == LABELS:
        schema = _labels_schema()
    elif spec.kind == CITATIONS:
        schema = {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["source", "url"],
                "properties": {
                    "source": _text(500),
                    "url": {
                        "type": "string",
                        "maxLength": 2000,
                        "pattern": r"^https?://[^\s/$.?#][^\s]*$",
                    },
                },
            },
        }
    else:
        schema = _text(spec.max_chars)
    if spec.help:
        schema["description"] = spec.help
    return schema


def _draft_value(spec) -> dict[str, Any]:
    """What a draft may hold for a value: null or empty when it is editorial."""
    strict = _value(spec)
    if not spec.draft_may_omit:
        return strict
    if spec.kind == CHOICE:
        lenient: dict[str, Any] = {
            "anyOf": [
                {"type": "null"},
                {"type": "string", "pattern": r"^\s*$"},
                {"type": "string", "enum": list(spec.choices)},
            ]
        }
    else:
        lenient = {
            k: v for k, v in strict.items() if k not in ("minItems", "minLength")
        }
        if spec.kind == TEXT:
            lenient.pop("pattern", None)
        lenient["type"] = [strict["type"], "null"]
    lenient["description"] = (
        f"{spec.help + '; ' if spec.help else ''}a draft may leave it empty"
    )
    return lenient


def _properties(value, *, draft: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for key in TERM_KEYS:
        if key in GROUPS:
            members = GROUPS[key]
            properties[key] = {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    f.path[1]
                    for f in members
                    if f.required and not (draft and f.draft_may_omit)
                ],
                "properties": {f.path[1]: value(f) for f in members},
            }
        else:
            [spec] = [f for f in FIELDS if f.key == key]
            properties[key] = value(spec)
    return properties


def term_document_schema(url: str | None = None) -> dict[str, Any]:
    """The JSON Schema of one term document; ``url`` becomes its ``$id``.

    The base states what every document must be (a draft's); when the status
    is not ``draft``, the ``else`` branch adds what a reviewed term needs.
    """
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Glossary term document",
        "description": (
            "One term of the glossary (one <slug>.yml file). A draft may leave "
            "editorial values out or empty; reviewed, approved and deprecated "
            "terms need every one. The importer also checks what a schema "
            "cannot: the slug equals the file name, roles are known, a term does "
            "not relate to itself."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": list(required_keys(draft=True)),
        "properties": _properties(_draft_value, draft=True),
        "if": {"properties": {"status": {"const": "draft"}}},
        "else": {
            "required": list(required_keys(draft=False)),
            "properties": _properties(_value, draft=False),
        },
    }
    if url:
        schema = {"$id": url, **schema}
    return schema
