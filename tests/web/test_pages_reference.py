"""The term page and the Markdown page of reference-corpus terms."""

import re

import pytest

from tests.helpers import SHARED, need

pytestmark = pytest.mark.django_db


def test_markdown_page_matches_the_reference(corpus_db, api):
    seed = need(SHARED / "seed" / "log-probability.md", "reference page").read_text(
        "utf-8"
    )
    response = api.get("/api/v1/terms/log-probability.md")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    got = response.content.decode("utf-8").splitlines(keepends=True)
    want = seed.splitlines(keepends=True)
    # One section is this project's own: terms alike in content that are not
    # linked yet. Everything else is the reference page, line for line.
    start = got.index("## Suggested related terms\n")
    end = got.index("\n", start)
    suggested = got[start + 1 : end]
    assert 1 <= len(suggested) <= 5
    linked = {"decoding", "temperature", "top-k-sampling", "evaluation"}
    for line in suggested:
        assert re.fullmatch(r"- \[[^\]]+\]\([a-z0-9-]+\.md\)\n", line), line
        assert line.split("(")[1].removesuffix(".md)\n") not in linked
    assert got[start - 2].startswith("- **Related:**")  # right after Relationships
    del got[start : end + 1]
    assert len(got) == len(want)
    # The first three lines are the generator's comment, the last names the file.
    assert got[3:-1] == want[3:-1]
    assert got[-1] == "_Source file: `log-probability.yml`_\n"


def test_term_page_has_every_section(corpus_db, client):
    response = client.get("/terms/log-probability/")
    assert response.status_code == 200
    page = response.content.decode()
    for heading in (
        "Role takeaways",
        "Practice &amp; apply",
        "Short definition",
        "Long definition",
        "Audience perspectives",
        "Examples",
        "Governance",
        "Relationships",
        "Something missing?",
        "Citations",
    ):
        assert f">{heading}</h2>" in page, heading
    assert "Data Science &amp; Research:</strong> Incorporate the metric" in page
    assert "Share takeaways with the accountable roles" in page
    assert '<a href="../term-request.md">term request intake</a>' in page
    assert '<a href="/terms/decoding/">decoding</a>' in page
    assert 'class="status-chip status-approved">Approved</span>' in page
    assert "2025-10-09" in page
    assert 'href="/terms/log-probability/history/"' in page
    assert "CC BY-SA 4.0" in page


def test_unresolved_relationships_are_shown_as_wanted(corpus_db, client):
    page = client.get("/terms/activation-function/").content.decode()
    assert "model architecture <small>(wanted)</small>" in page
