"""Headers that protect pages and the API: Content-Security-Policy on every HTML
page, CORS only for reads and annotate."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

OTHER = "https://docs.example.org"


@pytest.mark.parametrize(
    "path", ["/", "/embed/demo/", "/admin/login/", "/api/docs/", "/terms/missing/"]
)
def test_every_html_page_has_a_content_security_policy(path):
    response = Client().get(path)
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    expected_style = "'self' 'unsafe-inline'" if path == "/api/docs/" else "'self'"
    assert directives["style-src"] == expected_style


def preflight(path: str, method: str):
    return Client().options(
        path, HTTP_ORIGIN=OTHER, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method
    )


@pytest.mark.parametrize(
    ("path", "method", "granted"),
    [
        ("/api/v1/terms/", "GET", True),
        ("/api/v1/lookup/", "GET", True),
        ("/api/v1/annotate/", "POST", True),
        ("/api/v1/terms/", "POST", False),
        ("/api/v1/terms/prompt/", "PUT", False),
        ("/api/v1/terms/prompt/", "PATCH", False),
        ("/api/v1/terms/prompt/", "DELETE", False),
        ("/api/v1/terms/prompt/transitions/approve/", "POST", False),
        ("/api/v1/terms/prompt/approve/", "POST", False),
        ("/api/v1/terms/prompt/pending/", "DELETE", False),
        ("/admin/login/", "GET", False),
    ],
)
def test_cors_grants_reads_and_annotate_only(path, method, granted):
    response = preflight(path, method)
    assert ("access-control-allow-origin" in response.headers) is granted
    if granted:
        assert method in response["access-control-allow-methods"]


def test_a_cross_origin_read_gets_its_cors_headers():
    response = Client().get("/api/v1/terms/", HTTP_ORIGIN=OTHER)
    assert response["access-control-allow-origin"] == "*"
    assert "ETag" in response["access-control-expose-headers"]
