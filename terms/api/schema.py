"""OpenAPI pieces shared by the views: error responses and common parameters."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from .serializers import ErrorSerializer

ERRORS = {
    code: OpenApiResponse(ErrorSerializer, description=text)
    for code, text in {
        400: "Invalid parameter or document; the message names it.",
        401: "Authentication required.",
        403: "Not allowed.",
        404: "Not found.",
        409: "Conflicts with the current state.",
        412: "If-Match does not match the term's current ETag.",
        413: "The body is too large.",
        429: "Too many requests; see Retry-After.",
    }.items()
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

STATUS_PARAM = OpenApiParameter(
    "status",
    str,
    description="Statuses to include (repeat or comma-separate). Defaults to approved.",
    many=True,
    explode=True,
)

PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter(
        "page_size", int, description="Results per page, at most 100 (default 20)."
    ),
]

TERM_LIST_PARAMETERS = [
    OpenApiParameter(
        "q",
        str,
        description=(
            "Full-text search over name, aliases, definitions and categories; "
            "typo tolerant. Results are ranked by relevance."
        ),
    ),
    OpenApiParameter(
        "ordering",
        str,
        description=(
            "Comma-separated: name, last_reviewed, updated_at (prefix - for "
            "descending); relevance when q is given (the default then)."
        ),
    ),
    *PAGE_PARAMETERS,
]
