"""Human-readable pages and the Markdown page of a term."""

import re

import pytest

from terms.models import SiteText
from tests.helpers import base_term, import_folders, write_term

pytestmark = pytest.mark.django_db


def test_markdown_sentences_come_from_imported_data(fixtures_db, api, tmp_path):
    page = api.get("/api/v1/terms/prompt.md").content.decode()
    assert (
        "- Pass these points to the roles listed above so each one has an owner."
        in page
    )
    assert '!!! info "Spotted a gap?"' in page
    assert "and name 'prompt' in it." in page
    assert "- **Product management:** Work out what this means for users" in page
    (tmp_path / "site.yml").write_text(
        "feedback_title: Tell us\nfeedback_note: Write to us about '{term}'.\n"
    )
    import_folders(tmp_path / "site.yml")
    changed = api.get("/api/v1/terms/prompt.md").content.decode()
    assert '!!! info "Tell us"' in changed
    assert "Write to us about 'prompt'." in changed
    SiteText.objects.all().delete()
    assert "!!! info" not in api.get("/api/v1/terms/prompt.md").content.decode()


def test_index_lists_visible_terms_alphabetically(fixtures_db, client):
    page = client.get("/").content.decode()
    assert "large language model" in page
    assert "grounding" not in page  # a draft
    letters = re.findall(r'<h2 id="letter-\d+">(.)</h2>', page)
    assert letters == sorted(letters)
    assert 'type="search"' in page


def test_index_search_and_filters(fixtures_db, client):
    found = client.get("/?q=halucination").content.decode()
    assert "hallucination" in found
    governance = client.get("/?category=governance").content.decode()
    assert "model card" in governance
    assert "temperature" not in governance
    security = client.get("/?role=security").content.decode()
    assert "prompt injection" in security
    assert "temperature" not in security
    reviewed = client.get("/?status=reviewed").content.decode()
    assert "vector database" in reviewed
    assert "large language model" not in reviewed


def test_pages_escape_html_from_terms(db, client, tmp_path):
    write_term(
        tmp_path,
        base_term(
            "sneaky", status="approved", short_def="<script>alert(1)</script> text"
        ),
    )
    import_folders(tmp_path)
    page = client.get("/terms/sneaky/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; text" in page


def test_drafts_have_no_public_page(fixtures_db, client):
    assert client.get("/terms/grounding/").status_code == 404
    assert client.get("/terms/prompt/").status_code == 200


def test_category_role_and_history_pages(fixtures_db, client):
    category = client.get("/categories/governance/").content.decode()
    assert "Record where this is handled in the risk register." in category
    assert "model card" in category
    role = client.get("/roles/security/").content.decode()
    assert "Consider how this could be abused" in role
    assert "prompt injection" in role
    history = client.get("/terms/prompt/history/").content.decode()
    assert "Created" in history
    assert "importer" not in history  # names are for staff only


def test_pages_use_no_external_assets(fixtures_db, client):
    for url in ("/", "/terms/prompt/", "/embed/demo/"):
        page = client.get(url).content.decode()
        sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
        assert sources
        assert all(
            s.startswith("/") or s.startswith("http://testserver/") for s in sources
        ), sources


def test_widget_script_is_served_with_cors(db, client):
    response = client.get(
        "/static/glossary/widget.js", HTTP_ORIGIN="https://docs.example.org"
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    body = b"".join(response.streaming_content).decode()
    assert "innerHTML" not in body
    assert "annotate/" in body
