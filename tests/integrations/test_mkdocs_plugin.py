"""The MkDocs plugin (``clients/mkdocs-glossary``): a small site built with
the real ``mkdocs build``, against a running glossary server and against its
export; the generated HTML links each term's first occurrence in the prose
only, with its short definition as the tooltip, and has a glossary page."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import seed_term

pytestmark = pytest.mark.slow

PAGE = """# Prompts

A prompt fills the context window. Another prompt follows.

`prompt` in code, and [a prompt link](https://example.org/prompt).

```
prompt = "fenced"
```

Prompts (plural) are prompts.
"""

GUIDE = """# Guide

Mind the context window.
"""


def _site(tmp_path: Path, plugin: dict) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(PAGE)
    (docs / "guide.md").write_text(GUIDE)
    config = {
        "site_name": "Plugin test",
        "docs_dir": "docs",
        "site_dir": "site",
        "plugins": [{"glossary": plugin}],
    }
    (tmp_path / "mkdocs.yml").write_text(json.dumps(config))  # JSON is YAML
    built = subprocess.run(
        [str(Path(sys.executable).parent / "mkdocs"), "build", "--strict"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    return tmp_path / "site"


def _glossary(people):
    seed_term(
        "prompt", "approved", people["author"], short_def="What a model is asked."
    )
    seed_term("context window", "approved", people["author"])


def _links(html_text: str) -> list[str]:
    return re.findall(
        r'<dfn class="glossary-term"[^>]*><a [^>]*>([^<]*)</a></dfn>', html_text
    )


@pytest.mark.django_db
def test_a_site_built_from_an_export(people, client, tmp_path):
    _glossary(people)
    export = tmp_path / "glossary.json"
    export.write_bytes(client.get("/api/v1/export/").content)
    site = _site(tmp_path, {"export": "glossary.json"})
    page = (site / "index.html").read_text()
    assert _links(page) == ["prompt", "context window"]  # first occurrences only
    assert 'href="glossary/#prompt" title="What a model is asked."' in page
    assert "<code>prompt</code>" in page
    assert ">a prompt link</a>" in page
    guide = (site / "guide" / "index.html").read_text()
    assert 'href="../glossary/#context-window"' in guide
    index = (site / "glossary" / "index.html").read_text()
    assert 'id="prompt"' in index
    assert "What a model is asked." in index


@pytest.mark.django_db(transaction=True)
def test_a_site_built_against_a_running_server(people, live_server, tmp_path, settings):
    settings.ALLOWED_HOSTS = ["*"]
    _glossary(people)
    site = _site(tmp_path, {"api_url": f"{live_server.url}/api/v1/"})
    page = (site / "index.html").read_text()
    assert _links(page) == ["prompt", "context window"]
    assert (
        f'href="{live_server.url}/terms/prompt/" title="What a model is asked."' in page
    )
    assert "<code>prompt</code>" in page
    index = (site / "glossary" / "index.html").read_text()
    assert 'id="context-window"' in index
