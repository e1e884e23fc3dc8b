"""Content negotiation that answers an unknown ``?format=`` with a 406 naming the
formats the endpoint offers (DRF's default answers a bare 404)."""

from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class GlossaryNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, with a clear refusal of formats an endpoint lacks."""

    def filter_renderers(self, renderers, format):
        """Renderers of ``format``; 406 listing the offered ones when none."""
        try:
            return super().filter_renderers(renderers, format)
        except Http404:
            offered = ", ".join(dict.fromkeys(r.format for r in renderers))
            raise NotAcceptable(
                f"This endpoint does not offer the format {format!r}; "
                f"formats: {offered}."
            ) from None
