"""Query parameters shared by several endpoints: statuses, required text."""

from rest_framework.exceptions import ValidationError

from terms.models import Status

from .filters import MultiValueField

#: The longest ``q`` any endpoint takes.
QUERY_MAX_CHARS = 200


def multi(request, name: str) -> list[str]:
    """A repeated or comma-separated parameter as a list of values."""
    return MultiValueField().clean(request.query_params.getlist(name))


def checked_statuses(
    values: list[str], visible: list[str], default: list[str]
) -> list[str]:
    """Requested statuses, refused when unknown or hidden from the reader."""
    if not values:
        return [s for s in default if s in visible]
    unknown = [v for v in values if v not in Status.values]
    if unknown:
        raise ValidationError(
            {
                "status": [
                    f"unknown status {', '.join(unknown)}; "
                    f"choose from: {', '.join(Status.values)}"
                ]
            }
        )
    hidden = [v for v in values if v not in visible]
    if hidden:
        raise ValidationError(
            {
                "status": [
                    f"you may not see {', '.join(hidden)} terms; "
                    f"visible: {', '.join(visible)}"
                ]
            }
        )
    return values


def requested_statuses(request, visible: list[str], default: list[str]) -> list[str]:
    """The ``status`` parameter, checked against what the reader may see."""
    return checked_statuses(multi(request, "status"), visible, default)


def required_text(request, name: str = "q") -> str:
    """A non-empty text parameter of at most ``QUERY_MAX_CHARS`` characters."""
    text = request.query_params.get(name, "").strip()
    if not text:
        raise ValidationError(
            {name: ["this parameter is required and must not be empty"]}
        )
    if len(text) > QUERY_MAX_CHARS:
        raise ValidationError({name: [f"must be at most {QUERY_MAX_CHARS} characters"]})
    return text
