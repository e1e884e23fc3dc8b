"""``POST /api/v1/imports/``: an upload (a term file, a zip of them, SKOS or
CSV) imported as the signed-in user, through review unless an administrator
asks otherwise; the report shows each changed field before and after. Bad
uploads are refused and write nothing."""

import io
import zipfile

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from terms.models import PendingChange, Status, Term
from tests.helpers import api_client_for, base_term, make_user, seed_term

pytestmark = pytest.mark.django_db


def _yaml(name, **overrides) -> bytes:
    return yaml.safe_dump(base_term(name, **overrides), sort_keys=False).encode()


def _zip(files: dict[str, bytes]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return SimpleUploadedFile("glossary.zip", buffer.getvalue(), "application/zip")


def _post(client, upload, **fields):
    return client.post(
        "/api/v1/imports/", {"file": upload, **fields}, format="multipart"
    )


@pytest.fixture
def alpha(people):
    return seed_term("alpha", "approved", people["author"])


def _upload():
    return _zip(
        {
            "glossary/alpha.yml": _yaml(
                "alpha", status="approved", short_def="Alpha, said better."
            ),
            "glossary/brand-new.yml": _yaml("brand new", status="approved"),
        }
    )


def test_an_editor_dry_runs_then_proposes(alpha, people):
    client = api_client_for(people["editor"])
    dry = _post(client, _upload(), dry_run="true")
    assert dry.status_code == 200, dry.content
    body = dry.json()
    assert body["propose"] is True
    assert body["proposed"] == ["alpha"]
    assert body["created"] == ["brand-new"]
    [change] = body["diffs"]["alpha"]
    assert change == {
        "field": "short_def",
        "before": "A short definition used by the tests.",
        "after": "Alpha, said better.",
    }
    assert {row["file"] for row in body["rows"]} == {"alpha.yml", "brand-new.yml"}
    assert not PendingChange.objects.exists()
    assert not Term.objects.filter(slug="brand-new").exists()

    done = _post(client, _upload(), propose="false")  # not theirs to turn off
    assert done.status_code == 200, done.content
    assert done.json()["propose"] is True
    pending = PendingChange.objects.get(term=alpha)
    assert pending.author == people["editor"]
    assert Term.objects.get(slug="alpha").short_def != "Alpha, said better."
    assert Term.objects.get(slug="brand-new").status == Status.DRAFT


def test_an_administrator_may_import_directly(alpha, people):
    client = api_client_for(people["superuser"])
    done = _post(client, _upload(), propose="false")
    assert done.status_code == 200, done.content
    assert done.json()["updated"] == ["alpha"]
    assert Term.objects.get(slug="alpha").short_def == "Alpha, said better."


def test_a_single_term_file(alpha, people):
    upload = SimpleUploadedFile(
        "alpha.yml", _yaml("alpha", status="approved", short_def="One file.")
    )
    done = _post(api_client_for(people["editor"]), upload)
    assert done.status_code == 200, done.content
    assert done.json()["proposed"] == ["alpha"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"../outside.yml": b"term: x\n"}, "leaves the archive"),
        ({"/etc/passwd.yml": b"term: x\n"}, "leaves the archive"),
        ({"a/x.yml": b"term: x\n", "b/x.yml": b"term: y\n"}, "same name"),
        ({"readme.txt": b"hello"}, "no .yml files"),
    ],
)
def test_a_bad_zip_is_refused_and_writes_nothing(alpha, people, files, message):
    if "readme.txt" not in files:  # beside a good file, which is not written
        files = {"glossary/alpha.yml": _yaml("alpha", short_def="Sneaked."), **files}
    response = _post(api_client_for(people["editor"]), _zip(files))
    assert response.status_code == 400, response.content
    assert message in str(response.json())
    assert not PendingChange.objects.exists()


def test_an_invalid_document_answers_the_report_and_writes_nothing(alpha, people):
    upload = _zip(
        {
            "alpha.yml": _yaml("alpha", status="approved", short_def="Fine."),
            "broken.yml": b"term: [unclosed\n",
        }
    )
    response = _post(api_client_for(people["editor"]), upload)
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid"
    assert body["report"]["errors"][0]["file"] == "broken.yml"
    assert not PendingChange.objects.exists()


def test_an_upload_over_the_limit_is_a_413(alpha, people, settings):
    settings.GLOSSARY_IMPORT_MAX_BYTES = 1000
    upload = SimpleUploadedFile("alpha.yml", b"term: alpha\n" + b"#" * 2000)
    response = _post(api_client_for(people["editor"]), upload)
    assert response.status_code == 413
    bomb = _zip({"big.yml": b"term: big\n" + b" " * 5000})
    response = _post(api_client_for(people["editor"]), bomb)
    assert response.status_code in (400, 413)
    assert "limit" in str(response.json())


def test_who_may_import(alpha, api):
    assert _post(api, _upload()).status_code in (401, 403)
    reader = api_client_for(make_user("reader"))
    assert _post(reader, _upload()).status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "ttl", "jsonld"])
def test_files_of_many_terms_go_through_review_too(alpha, people, api, fmt):
    """A CSV or SKOS export, edited and uploaded, proposes its changes."""
    exported = api.get("/api/v1/export/", {"format": fmt}).content
    changed = exported.replace(
        b"A short definition used by the tests.", b"Alpha, said in the export."
    )
    assert changed != exported
    upload = SimpleUploadedFile(f"glossary.{fmt}", changed)
    done = _post(api_client_for(people["editor"]), upload)
    assert done.status_code == 200, done.content
    assert done.json()["proposed"] == ["alpha"]
    pending = PendingChange.objects.get(term=alpha)
    assert pending.document["short_def"] == "Alpha, said in the export."
