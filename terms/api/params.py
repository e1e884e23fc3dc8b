"""Query parameters shared by several endpoints: statuses, required text."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from terms.api.filters import MultiValueField
from terms.models import Status
from terms.reads import releases
from terms.reads.languages import LanguageError, preference

#: The longest ``q`` any endpoint takes.
QUERY_MAX_CHARS = 200


def reader_languages(request) -> tuple[str, ...]:
    """The reader's languages other than the default (``?lang=``, else
    ``Accept-Language``); a malformed ``lang`` is a 400 naming it."""
    try:
        return preference(
            request.query_params.get("lang"),
            request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
        )
    except LanguageError as exc:
        raise ValidationError({"lang": [str(exc)]}) from None


def multi(request, name: str) -> list[str]:
    """A repeated or comma-separated parameter as a list of values."""
    try:
        return MultiValueField().clean(request.query_params.getlist(name))
    except DjangoValidationError as exc:
        raise ValidationError({name: exc.messages}) from None


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
        raise PermissionDenied(
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


class KnownParameters:
    """Refuse query parameters an endpoint does not take (a 400 naming them).

    A misspelled filter (``?catgory=``) would otherwise be ignored and answer
    the unfiltered list as if it were the filtered one.
    """

    #: The parameters the endpoint takes (``format`` is always allowed).
    known_parameters: frozenset[str] = frozenset()
    #: Those of them that may be repeated (``?status=a&status=b``).
    repeatable_parameters: frozenset[str] = frozenset({"status"})

    def get_known_parameters(self) -> frozenset[str]:
        """The parameters of this request's action."""
        return self.known_parameters

    def initial(self, request, *args, **kwargs):
        """Check the query string before the handler runs."""
        super().initial(request, *args, **kwargs)
        known = {*self.get_known_parameters(), "format"}
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            message = f"no such parameter here; it takes: {', '.join(sorted(known))}"
            raise ValidationError({name: [message] for name in unknown})
        repeated = sorted(
            name
            for name in request.query_params
            if len(request.query_params.getlist(name)) > 1
            and name not in self.repeatable_parameters
        )
        if repeated:
            raise ValidationError({name: ["give it once"] for name in repeated})


def release_or_404(name: str):
    """The release ``name`` (``latest``: the newest); a 404 naming it when
    there is none, a 400 when the parameter is empty."""
    if not name.strip():
        raise ValidationError({"release": ["must name a release (or latest)"]})
    try:
        return releases.find(name)
    except releases.UnknownRelease as exc:
        raise NotFound(str(exc)) from exc


def term_or_404(slug: str):
    """The term ``slug`` names, whatever its status; a 404 naming it."""
    from terms.models import Term

    term = Term.objects.filter(slug=slug).first()
    if term is None:
        raise NotFound(f"No term with slug {slug!r}.")
    return term
