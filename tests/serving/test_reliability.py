"""Bad input and bad conditions: every one a clean 4xx or 503 in the JSON error
shape, never a 500, a crash or a partial write."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from terms.models import Term
from tests.helpers import (
    FIXTURES,
    api_client_for,
    base_term,
    get_without_database,
    import_folders,
    make_user,
    run_import,
    write_term,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(db):
    return api_client_for(
        make_user("editor", "editors", perms=("delete_term", "view_term"))
    )


def error_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content
    return response.json()["error"]


# --- data safety ---------------------------------------------------------------------


def test_make_run_loads_the_sample_glossary_into_an_empty_database_only(db):
    out = io.StringIO()
    call_command("import_terms", str(FIXTURES), "--if-empty", stdout=out)
    loaded = Term.objects.count()
    assert loaded > 0
    changed = Term.objects.order_by("slug").first()
    Term.objects.filter(pk=changed.pk).update(short_def="Changed by a user.")
    out = io.StringIO()
    call_command("import_terms", str(FIXTURES), "--if-empty", stdout=out)
    assert "nothing was imported" in out.getvalue()
    assert Term.objects.get(pk=changed.pk).short_def == "Changed by a user."
    assert Term.objects.count() == loaded


@pytest.mark.parametrize("name", ["roles", "Categories", "site", ".", ".."])
def test_names_that_collide_with_data_files_are_refused(editor, tmp_path, name):
    response = editor.post("/api/v1/terms/", base_term(name), format="json")
    assert response.status_code == 400
    assert error_of(response)["details"][0]["field"] == "term"
    report, _ = run_import(write_term(tmp_path, base_term(name), filename="x.yml"))
    assert report["errors"]
    assert not Term.objects.exists()


# --- formats -------------------------------------------------------------------------


def test_a_write_asked_for_yaml_is_refused_before_anything_is_written(editor):
    response = editor.post("/api/v1/terms/?format=yaml", base_term("x"), format="json")
    assert response.status_code == 406
    assert not Term.objects.exists()


# --- hostile bodies ------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/annotate/", "/api/v1/terms/"])
def test_json_nested_a_thousand_deep_is_400(editor, url):
    body = "[" * 1000 + "]" * 1000
    response = editor.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert "nested more than 32 levels" in error_of(response)["message"]


def test_lone_surrogates_are_400_never_a_database_error(editor, tmp_path):
    body = json.dumps(base_term("surrogate", short_def="a\ud800b"))
    response = editor.post("/api/v1/terms/", body, content_type="application/json")
    assert response.status_code == 400
    assert "lone surrogate" in error_of(response)["message"]
    path = write_term(tmp_path, base_term("surrogate", short_def="SURROGATE"))
    # YAML's double-quoted escapes can spell a lone surrogate too.
    text = path.read_text("utf-8").replace("SURROGATE", '"a\\ud800b"')
    path.write_text(text, "utf-8")
    report, _ = run_import(path)
    [error] = report["errors"]
    assert "invalid Unicode character escape" in error["message"]
    assert (
        error["line"]
        == text.splitlines().index(
            next(line for line in text.splitlines() if "ud800" in line)
        )
        + 1
    )
    assert not Term.objects.exists()


def test_a_ten_megabyte_body_is_a_json_413(editor):
    body = json.dumps({"text": "x" * 10_000_000})
    for url in ("/api/v1/terms/", "/api/v1/annotate/"):
        response = editor.post(url, body, content_type="application/json")
        assert response.status_code == 413
        assert error_of(response)["status"] == 413


@pytest.mark.parametrize(
    "text",
    [
        "term: " + "[" * 30000 + "]" * 30000,
        "{a: " * 100000 + "}" * 100000,
    ],
    ids=["sequences 30,000 deep", "mappings 100,000 deep"],
)
def test_deeply_nested_yaml_is_refused_before_parsing(db, tmp_path, text):
    path = tmp_path / "deep.yml"
    path.write_text(text, "utf-8")
    report, _ = run_import(path)
    [error] = report["errors"]
    assert "nested more than 32 levels deep" in error["message"]
    assert error["line"] == 1


def test_database_down_is_503_with_retry_after():
    outcome = get_without_database("/api/v1/terms/")
    assert outcome["status"] == 503
    assert int(outcome["retry"]) > 0
    assert outcome["body"]["error"]["code"] == "database_unavailable"


# --- errors that name the field --------------------------------------------------


def test_a_missing_key_is_named_in_the_details(editor):
    data = base_term("incomplete", status="reviewed")
    del data["audiences"]
    response = editor.post("/api/v1/terms/", data, format="json")
    assert response.status_code == 400
    details = error_of(response)["details"]
    assert {"audiences"} == {d["field"] for d in details}


# --- what the outputs and the importer give away ----------------------------------------


def test_markdown_escapes_html_written_in_a_term(db, tmp_path):
    hostile = base_term(
        "escaped", status="approved", short_def="<script>alert(1)</script> ok"
    )
    import_folders(write_term(tmp_path, hostile))
    page = Client().get("/api/v1/terms/escaped.md").content.decode()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; ok" in page


def test_links_out_of_a_folder_are_not_followed(db, tmp_path):
    outside = write_term(tmp_path / "elsewhere", base_term("outside"))
    folder = tmp_path / "terms"
    write_term(folder, base_term("inside"))
    (folder / "outside.yml").symlink_to(outside)
    report, _ = run_import(folder)
    [error] = report["errors"]
    assert error["file"].endswith("outside.yml")
    assert "not followed" in error["message"]
    assert not Term.objects.exists()


def test_a_file_that_is_no_term_document_is_not_echoed(db, tmp_path):
    path = tmp_path / "notes.yml"
    path.write_text("SECRET_TOKEN: abc123\nDB_PASSWORD: hunter2\n", "utf-8")
    report, _ = run_import(path)
    [error] = report["errors"]
    assert "not a term document" in error["message"]
    text = json.dumps(report)
    assert "SECRET_TOKEN" not in text
    assert "hunter2" not in text


def test_grant_gives_a_role_and_admin_sign_in(db):
    out = io.StringIO()
    call_command("grant", "rita", "reviewers", "--create", stdout=out)
    from django.contrib.auth import get_user_model

    rita = get_user_model().objects.get(username="rita")
    assert rita.is_staff
    assert rita.groups.filter(name="reviewers").exists()
    rita.set_password("pw-rita-123456")
    rita.save()
    client = Client()
    assert client.login(username="rita", password="pw-rita-123456")
    assert client.get("/admin/terms/term/").status_code == 200
    call_command("grant", "rita", "reviewers", "--revoke", stdout=out)
    assert not rita.groups.filter(name="reviewers").exists()


def test_the_document_check_itself_refuses_lone_surrogates():
    from terms.documents.document import validate_term_data

    _, problems = validate_term_data(base_term(short_def="a\ud800b"))
    [problem] = problems
    assert problem.field == "short_def"
    assert "lone surrogate" in problem.message
