"""Content negotiation as RFC 9110 has it (issue 25): quality values decide,
``q=0`` rules a type out, and each representation of a term has its own ETag.
(rdflib's own client against `make serve`: tests/integrations/test_real_clients.py.)"""

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/terms/prompt/"


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        ("text/turtle;q=0.9, application/json;q=0.8", "text/turtle"),
        ("application/json;q=0.8, text/turtle;q=0.9", "text/turtle"),
        ("application/ld+json, application/json;q=0.9", "application/ld+json"),
        ("application/rdf+xml;q=1, */*;q=0.1", "application/rdf+xml"),
        ("*/*", "application/json"),
        ("text/turtle;q=0, */*;q=0.5", "application/json"),
        ("", "application/json"),
    ],
)
def test_the_best_quality_wins(fixtures_db, api, accept, wanted):
    response = api.get(URL, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(wanted)


def test_nothing_acceptable_is_a_406(fixtures_db, api):
    response = api.get(URL, HTTP_ACCEPT="image/png, text/turtle;q=0")
    assert response.status_code == 406


def test_each_representation_has_its_own_etag(fixtures_db, api):
    as_json = api.get(URL, HTTP_ACCEPT="application/json")
    as_turtle = api.get(URL, HTTP_ACCEPT="text/turtle")
    assert as_json["ETag"] != as_turtle["ETag"]
    # The JSON's ETag does not vouch for the Turtle.
    again = api.get(URL, HTTP_ACCEPT="text/turtle", HTTP_IF_NONE_MATCH=as_json["ETag"])
    assert again.status_code == 200
    assert again.content == as_turtle.content
    same = api.get(URL, HTTP_ACCEPT="text/turtle", HTTP_IF_NONE_MATCH=as_turtle["ETag"])
    assert same.status_code == 304
    # The format suffixes give the same representations and ETags.
    assert api.get("/api/v1/terms/prompt.ttl")["ETag"] == as_turtle["ETag"]
