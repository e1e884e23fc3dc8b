"""OpenAPI pieces shared by the views: error responses and common parameters."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from terms.api.serializers import ErrorSerializer
from terms.formats import registry
from terms.models import Status

ERRORS = {
    code: OpenApiResponse(ErrorSerializer, description=text)
    for code, text in {
        400: "Invalid parameter or document; the message names it.",
        401: "Authentication required.",
        403: "Not allowed.",
        404: "Not found.",
        409: "Conflicts with the current state.",
        406: "The endpoint does not offer the requested format.",
        412: "If-Match does not match the term's current ETag.",
        413: "The body is too large.",
        429: "Too many requests; see Retry-After.",
        503: "The database is not reachable; see Retry-After.",
    }.items()
}


def _body_type(media_type: str):
    """How the schema describes a file's body: an archive as binary, JSON-LD as
    any JSON value, the other formats as text."""
    if media_type == "application/zip":
        return OpenApiTypes.BINARY
    if media_type.endswith("json"):
        return OpenApiTypes.ANY
    return OpenApiTypes.STR


#: SKOS answers (one term, or the glossary), from the format registry.
SKOS_RESPONSES = {
    (200, registry.get(name).media_type): _body_type(registry.get(name).media_type)
    for name in registry.SKOS
}
#: The whole glossary in every registered format (``GET /export/``).
EXPORT_RESPONSES = {
    (200, fmt.export_media_type): _body_type(fmt.export_media_type)
    for fmt in registry.FORMATS.values()
}


def errors(*codes) -> dict:
    """The error responses with these status codes."""
    return {code: ERRORS[code] for code in codes}


IF_MATCH_PARAM = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="ETag from a previous read; 412 when the term has changed since.",
)

#: A search text: not blank, at most 200 characters (``params.QUERY_MAX_CHARS``).
QUERY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    # Not blank, and no NUL character (refused for every URL).
    "pattern": r"^[^\u0000]*[^\s\u0000][^\u0000]*$",
}

STATUS_PARAM = OpenApiParameter(
    "status",
    {"type": "string", "enum": list(Status.values)},
    description=(
        "Statuses to include (repeat or comma-separate). Defaults to approved; "
        "statuses the reader may not see are refused with 403."
    ),
    many=True,
    explode=True,
)

# Exactly what terms.documents.naming.language_tag accepts, at most eight,
# comma-separated.
_TAG = (
    r"[A-Za-z]{2,3}([-_][A-Za-z]{4})?([-_]([A-Za-z]{2}|[0-9]{3}))?"
    r"([-_]([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
)
_LANGS = rf"^{_TAG}(,{_TAG}){{0,7}}$"

RELEASE_PARAM = OpenApiParameter(
    "release",
    {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
    description=(
        "A release name (or `latest`): answer as the glossary stood in it. "
        "Unknown releases are a 404 naming them."
    ),
)


LANG_PARAM = OpenApiParameter(
    "lang",
    {
        "type": "string",
        "pattern": _LANGS,
    },
    description=(
        "The reader's languages as BCP 47 tags, best first (`fr`, `pt-BR,pt`); "
        "without it, the Accept-Language header. Names and short definitions "
        "are shown in the first language a term has a label in, else in the "
        "default language; each says which language it is in."
    ),
)

PAGE_PARAMETERS = [
    OpenApiParameter(
        "page", {"type": "integer", "minimum": 1}, description="Page number, from 1."
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": 100},
        description="Results per page, at most 100 (default 20).",
    ),
]

TERM_LIST_PARAMETERS = [
    LANG_PARAM,
    RELEASE_PARAM,
    OpenApiParameter(
        "q",
        QUERY_SCHEMA,
        description=(
            "Full-text search over name, aliases, definitions and categories; "
            "typo tolerant. Results are ranked by relevance."
        ),
    ),
    OpenApiParameter(
        "ordering",
        {
            "type": "string",
            "pattern": r"^(relevance|-?(name|last_reviewed|updated_at)"
            r"(,-?(name|last_reviewed|updated_at))*)$",
        },
        description=(
            "Comma-separated: name, last_reviewed, updated_at (prefix - for "
            "descending), or relevance: the search's ranking with q (the default "
            "then), name order without."
        ),
    ),
    *PAGE_PARAMETERS,
]


#: Answers any operation may give, whatever its own declaration says: a bad
#: parameter (400), an unoffered format (406), throttling (429), the database
#: down (503); and a body over the limit (413) where there is a body.
_EVERYWHERE = {
    "400": "Invalid parameter or body; the message names it.",
    "403": "Not allowed: a status the reader may not see, or a missing permission.",
    "406": "The endpoint does not offer the requested format.",
    "429": "Too many requests; see Retry-After.",
    "503": "The database is not reachable; see Retry-After.",
}
#: Request bodies whose unknown keys are refused (the term document's checks).
_CLOSED_BODIES = ("TermDocument", "PatchedTermDocument")


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
        },
    }


def _anonymous_allowed(path: str, method: str) -> bool:
    if method == "post":
        return path == "/api/v1/annotate/"
    return method == "get" and not path.endswith(("/history/", "/pending/"))


def complete_schema(result, generator, request, public):
    """drf-spectacular postprocessing hook: what the views cannot declare.

    Adds the answers every operation may give, marks reads that anyone may make
    (``security`` includes ``{}``), and closes the term document's bodies to
    unknown keys, as the document check refuses them.
    """
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code, text in _EVERYWHERE.items():
                responses.setdefault(code, _error_response(text))
            if "requestBody" in operation:
                responses.setdefault("413", _error_response("The body is too large."))
            security = operation.get("security")
            if _anonymous_allowed(path, method) and security and {} not in security:
                security.append({})
    _enumerate_filter_values(result)
    schemas = result.get("components", {}).get("schemas", {})
    for name in _CLOSED_BODIES:
        for suffix in ("Request", ""):
            _close(schemas, schemas.get(f"{name}{suffix}"))
    return result


def _close(schemas: dict, schema: dict | None) -> None:
    """``additionalProperties: false`` on an object schema and its own parts."""
    if not schema or schema.get("type") != "object":
        return
    schema["additionalProperties"] = False
    for prop in schema.get("properties", {}).values():
        ref = prop.get("$ref") or prop.get("items", {}).get("$ref")
        if ref:
            _close(schemas, schemas.get(ref.rsplit("/", 1)[-1]))


def _filter_values() -> dict[str, list[str]]:
    """The values each multi-valued filter accepts now (they are data)."""
    from terms.models import Category, GovernanceTag, PartOfSpeech, Role

    categories = Category.objects.values_list("name", "slug")
    return {
        "status": list(Status.values),
        "part_of_speech": list(PartOfSpeech.values),
        "category": sorted({value for pair in categories for value in pair}),
        "role": sorted(Role.objects.values_list("slug", flat=True)),
        "tag": sorted(GovernanceTag.objects.values_list("name", flat=True)),
    }


#: Filters whose values are fixed by the code: listed as enums. The others'
#: values are data (categories, roles, tags change as the glossary does): an
#: enum of them would change the schema with every edit and break generated
#: clients (a category's name and slug upper-cased to one enum key), so they
#: stay strings and their values are named in the description.
_FIXED_FILTERS = ("status", "part_of_speech")


def _enumerate_filter_values(result) -> None:
    """Say which values the term filters accept: any other is a 400 (the lists
    of data-driven filters reflect the glossary when the schema is made)."""
    values = None
    for path, operations in result.get("paths", {}).items():
        if path.startswith("/api/v1/requests/"):
            continue  # a request's status, not a term's: declared by its view
        for operation in operations.values():
            for parameter in operation.get("parameters", ()):
                name, schema = parameter.get("name"), parameter.get("schema", {})
                if parameter.get("in") != "query" or name not in _FILTERS:
                    continue
                values = values if values is not None else _filter_values()
                if not values[name]:
                    continue
                if name not in _FIXED_FILTERS:
                    shown = ", ".join(values[name][:50])
                    more = " and more" if len(values[name]) > 50 else ""
                    described = parameter.get("description", "").rstrip()
                    parameter["description"] = (
                        f"{described} Values in this glossary when the schema was "
                        f"made: {shown}{more}; any other is a 400."
                    ).strip()
                    continue
                # Each parameter gets a schema of its own (they may share one).
                if "items" in schema:
                    schema = {
                        **schema,
                        "items": {**schema["items"], "enum": values[name]},
                    }
                else:
                    schema = {**schema, "enum": values[name]}
                parameter["schema"] = schema


_FILTERS = ("status", "part_of_speech", "category", "role", "tag")


def nullable_as_type(result, generator, request, public):
    """drf-spectacular postprocessing hook: OpenAPI 3.1 has no ``nullable``.

    Schemas written by hand here, and DRF's page envelope, still say
    ``nullable: true``; in 3.1 (JSON Schema) null is a type of its own, so each
    becomes ``type: [..., "null"]`` (or a ``oneOf`` with null where the schema
    has no type of its own), and validators accept the nulls the API sends.
    """

    def visit(node):
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: visit(value) for key, value in node.items()}
        if node.pop("nullable", False) is not True:
            return node
        kind = node.get("type")
        if isinstance(kind, str):
            node["type"] = [kind, "null"]
        elif isinstance(kind, list):
            node["type"] = [*kind, *(["null"] if "null" not in kind else [])]
        else:
            return {"oneOf": [node, {"type": "null"}]}
        return node

    return visit(result)
