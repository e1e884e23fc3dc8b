"""Request body parsers: JSON that is checked before anything reads it, and text.

DRF's JSON parser hands whatever ``json.loads`` makes to the view. A body nested
a thousand levels deep makes the decoder raise ``RecursionError``; a string with
a lone surrogate (``"\\ud800"``) is valid JSON but not text PostgreSQL can store.
Both, and bodies over the size limit, are refused here with a 400 or 413 that
names the problem, before any view code runs.
"""

import json

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError

#: How deep a JSON body may nest (a term document needs three levels).
MAX_JSON_DEPTH = 32


class PayloadTooLarge(APIException):
    """413: the body is over the limit."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request body is too large."


def body_limit() -> int:
    """The largest body the API reads, in bytes."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def check_size(parser_context) -> None:
    """Refuse a body whose declared length is over the limit, unread."""
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    limit = body_limit()
    if declared and declared.isdecimal() and int(declared) > limit:
        raise PayloadTooLarge(
            f"The body is {int(declared):,} bytes; the limit is {limit:,} bytes."
        )


def read_body(stream, parser_context) -> bytes:
    """The body's bytes, refused (413) past the limit whether declared or not."""
    check_size(parser_context)
    raw = stream.read(body_limit() + 1) if stream is not None else b""
    if len(raw) > body_limit():
        raise PayloadTooLarge(f"The body is over the limit of {body_limit():,} bytes.")
    return raw


def _check_values(data) -> None:
    """Depth and text checks over a decoded body, without recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ParseError(
                f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
            )
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ParseError(
            f"The JSON body holds a lone surrogate (\\u{ord(text[exc.start]):04x}), "
            "which is not text; send valid Unicode."
        ) from None


def loads_checked(text: str):
    """JSON text decoded and checked as a body is (depth, lone surrogates);
    ``ParseError`` naming the problem. For JSON that arrives inside a form
    field or a query parameter (a reconciliation batch)."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ParseError(
            f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep."
        ) from None
    except ValueError as exc:
        raise ParseError(f"not valid JSON: {exc}") from None
    _check_values(data)
    return data


class GlossaryJSONParser(parsers.JSONParser):
    """JSON bodies within the size limit, at most 32 levels deep, valid Unicode."""

    def parse(self, stream, media_type=None, parser_context=None):
        """Decode and check the body; 400 or 413 naming the problem."""
        raw = read_body(stream, parser_context)
        try:
            data = json.loads(raw.decode("utf-8"))
        except RecursionError:
            raise ParseError(
                f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
            ) from None
        except UnicodeDecodeError:
            raise ParseError("The JSON body is not valid UTF-8.") from None
        except ValueError as exc:
            raise ParseError(f"The JSON body is malformed: {exc}") from None
        _check_values(data)
        return data


class PlainTextParser(parsers.BaseParser):
    """``text/plain`` bodies, read as UTF-8 text."""

    media_type = "text/plain"

    def parse(self, stream, media_type=None, parser_context=None):
        """The body as text; 400 when it is not UTF-8."""
        raw = read_body(stream, parser_context)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError("The text is not valid UTF-8.") from exc
