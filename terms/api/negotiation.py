"""Content negotiation that answers an unknown ``?format=`` with a 406 naming the
formats the endpoint offers (DRF's default answers a bare 404)."""

from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.utils.mediatypes import _MediaType


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
            if given is None and format_suffix is None:
                return self._by_quality(request, renderers)
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable as exc:
            if "format" in str(exc.detail):
                raise
            raise NotAcceptable(
                "No format offered here matches the Accept header; formats: "
                f"{_offered(renderers)}."
            ) from None

    def _by_quality(self, request, renderers):
        """The renderer the ``Accept`` header prefers, as RFC 9110 orders it:
        by quality (``q``), then the more specific range, then the order
        written; ``q=0`` rules a type out. (DRF's own negotiation ignores
        ``q``: ``text/turtle;q=0.9, application/json;q=0.8`` got JSON.)"""
        header = request.META.get("HTTP_ACCEPT", "").strip()
        if not header:
            return renderers[0], renderers[0].media_type
        ranges = []
        for order, item in enumerate(header.split(",")):
            if not item.strip():
                continue
            media = _MediaType(item.strip())
            try:
                quality = float(media.params.get("q", "1"))
            except ValueError:
                quality = 1.0
            if quality > 0:
                ranges.append((-quality, -media.precedence, order, item.strip()))
        for _, _, _, accepted in sorted(ranges):
            wanted = _MediaType(accepted)
            for renderer in renderers:
                # As DRF compares them: the renderer's type against the range
                # (so a parameter asked for, such as indent, does not rule out
                # a renderer that takes it).
                if _MediaType(renderer.media_type).match(wanted):
                    # Parameters asked for (indent=4) reach the renderer; the
                    # quality is not one of them.
                    params = {k: v for k, v in wanted.params.items() if k != "q"}
                    if wanted.main_type != "*" and wanted.sub_type != "*" and params:
                        text = "; ".join(f"{k}={v}" for k, v in params.items())
                        return renderer, f"{renderer.media_type}; {text}"
                    return renderer, renderer.media_type
        raise NotAcceptable(
            "No format offered here matches the Accept header; formats: "
            f"{_offered(renderers)}."
        )

    def filter_renderers(self, renderers, format):
        """Renderers of ``format``; 406 listing the offered ones when none."""
        try:
            return super().filter_renderers(renderers, format)
        except Http404:
            raise NotAcceptable(
                f"This endpoint does not offer the format {format!r}; "
                f"formats: {_offered(renderers)}."
            ) from None
