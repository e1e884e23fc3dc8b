"""Every endpoint of the API is built on one base (``terms.api.base``), so
parameters, statuses, caching, ETags and refusals are declared once."""

import pytest
from django.urls import get_resolver

from terms.api.base import GlossaryAPIMixin

#: Plain functions: a liveness probe, the reconciliation preview (an HTML
#: fragment for OpenRefine) and the static JSON Schema of the term document.
FUNCTIONS = {"healthz", "preview", "term_document_schema"}


def _api_views():
    resolver = get_resolver()
    for pattern in resolver.url_patterns:
        if getattr(pattern, "namespace", None) == "api":
            for inner in pattern.url_patterns:
                yield str(inner.pattern), inner.callback


def test_every_api_view_stands_on_the_base():
    views = list(_api_views())
    assert len(views) > 20  # the routes were found
    classes = {}
    for route, callback in views:
        cls = getattr(callback, "cls", None)
        if cls is None or callback.__name__ in FUNCTIONS:
            assert callback.__name__ in FUNCTIONS, route
            continue
        classes[route] = cls
    outside = sorted(
        r for r, c in classes.items() if not issubclass(c, GlossaryAPIMixin)
    )
    assert outside == []


@pytest.mark.django_db
def test_the_base_refuses_unknown_parameters_everywhere(client):
    # One declaration (known_parameters) per view; the base enforces it.
    for url in ("/api/v1/lookup/?q=x&bogus=1", "/api/v1/requests/abc/?bogus=1"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "bogus" in response.json()["error"]["details"][0]["field"], url
