"""Errors of the read API on the sample glossary: formats an endpoint lacks, pages past the end, misspelled and oversized parameters, export archives."""

import io
import zipfile

import pytest

from terms.models import Term
from tests.helpers import (
    api_client_for,
    make_user,
    run_import,
)

pytestmark = pytest.mark.django_db


def error_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content
    return response.json()["error"]


def test_export_zip_has_each_file_once_and_round_trips(fixtures_db, api, tmp_path):
    viewer = api_client_for(make_user("viewer", perms=("view_term",)))
    archive = zipfile.ZipFile(
        io.BytesIO(viewer.get("/api/v1/export/?format=yaml").content)
    )
    names = archive.namelist()
    assert len(names) == len(set(names))
    assert len(names) == Term.objects.count() + 3  # roles, categories, site
    folder = tmp_path / "out"
    archive.extractall(folder)
    report, _ = run_import(folder / "glossary")
    assert report["errors"] == []
    assert len(report["unchanged"]) == Term.objects.count()


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/api/v1/terms/?format=yaml", {}),
        ("/api/v1/terms/", {"HTTP_ACCEPT": "application/yaml"}),
        ("/api/v1/stats/?format=yaml", {}),
        ("/api/v1/terms/prompt/?format=AAA", {}),
    ],
)
def test_formats_an_endpoint_lacks_are_406_naming_the_offered_ones(
    fixtures_db, api, url, headers
):
    response = api.get(url, **headers)
    assert response.status_code == 406
    assert "json" in error_of(response)["message"]


def test_a_page_past_the_end_names_page(fixtures_db, api):
    response = api.get("/api/v1/terms/?page=999")
    assert response.status_code == 404
    [detail] = error_of(response)["details"]
    assert detail["field"] == "page"
    last = api.get("/api/v1/terms/").json()["count"] // 20 + 1
    assert f"there is no page 999; the last page is {last}" == detail["message"]


def test_a_misspelled_parameter_is_400_naming_it(fixtures_db, api):
    response = api.get("/api/v1/terms/?catgory=LLM")
    assert response.status_code == 400
    [detail] = error_of(response)["details"]
    assert detail["field"] == "catgory"
    assert "category" in detail["message"]
    assert api.get("/api/v1/lookup/?q=x&stauts=draft").status_code == 400


def test_list_search_text_is_capped(fixtures_db, api):
    response = api.get("/api/v1/terms/", {"q": "word " * 2000})
    assert response.status_code == 400
    assert error_of(response)["details"][0]["field"] == "q"
    assert api.get("/api/v1/terms/?q=").status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/terms/prompt/similar/?limit=²",
        "/api/v1/autocomplete/?q=prom&limit=²",
        "/api/v1/terms/?page=²",
        "/api/v1/terms/?page_size=³",
        "/api/v1/reconcile/suggest/entity/?prefix=prom&limit=²",
    ],
)
def test_digits_that_are_not_decimal_are_a_400_not_a_500(fixtures_db, api, url):
    # "²".isdigit() is true, but int("²") fails: numbers are read as decimals.
    assert api.get(url).status_code == 400


def test_usage_figures_refuse_superscript_numbers(fixtures_db):
    from tests.helpers import api_client_for, make_user

    editor = api_client_for(make_user("ed", "editors"))
    assert editor.get("/api/v1/stats/searches/?days=²").status_code == 400
    assert editor.get("/api/v1/stats/terms/?limit=²").status_code == 400
