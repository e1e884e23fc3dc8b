"""Content negotiation that answers an unknown ``?format=`` with a 406 naming the
formats the endpoint offers (DRF's default answers a bare 404)."""

from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


def _offered(renderers) -> str:
    return ", ".join(
        f"{r.format} ({r.media_type})" for r in renderers if r.format is not None
    )


class GlossaryNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, with a clear refusal of formats an endpoint lacks."""

    def select_renderer(self, request, renderers, format_suffix=None):
        """DRF's choice; a 406 that lists what is offered when nothing fits."""
        given = request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if given is not None and not given.strip():
            raise NotAcceptable(
                f"The format parameter is empty; formats: {_offered(renderers)}."
            )
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable as exc:
            if "format" in str(exc.detail):
                raise
            raise NotAcceptable(
                "No format offered here matches the Accept header; formats: "
                f"{_offered(renderers)}."
            ) from None

    def filter_renderers(self, renderers, format):
        """Renderers of ``format``; 406 listing the offered ones when none."""
        try:
            return super().filter_renderers(renderers, format)
        except Http404:
            raise NotAcceptable(
                f"This endpoint does not offer the format {format!r}; "
                f"formats: {_offered(renderers)}."
            ) from None
