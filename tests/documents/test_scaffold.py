"""``manage.py new_term``: a skeleton with every key that imports as a draft."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from terms.documents.document import TERM_KEYS, validate_term_data
from terms.models import Term
from terms.reads.selectors import known_roles
from tests.helpers import base_term, import_folders, read_yaml, run_import, write_term

pytestmark = pytest.mark.django_db


def new_term(name: str, folder) -> str:
    out = io.StringIO()
    call_command("new_term", name, "--dir", str(folder), stdout=out, stderr=out)
    return out.getvalue()


def test_the_skeleton_has_every_key_says_what_each_needs_and_imports_as_a_draft(
    tmp_path,
):
    said = new_term("Data Drift", tmp_path)
    path = tmp_path / "data-drift.yml"
    assert str(path) in said
    text = path.read_text("utf-8")
    data = read_yaml(text)
    # Every key but the optional labels, which are shown in a comment.
    assert list(data) == [key for key in TERM_KEYS if key != "labels"]
    assert "# labels: " in text
    assert data["term"] == "Data Drift"
    assert data["status"] == "draft"
    assert data["last_reviewed"] == datetime.date.today().isoformat()
    assert text.startswith("# yaml-language-server: $schema=")
    # Word limits and what review needs are in the comments.
    assert "at most 40 words to be reviewed" in text
    assert "80 to 220 words to be reviewed" in text
    assert "at least 1 citation to be reviewed" in text
    assert "known roles: " + ", ".join(sorted(known_roles())) in text

    # A dry run accepts it and writes nothing; a real import makes a draft.
    report, _ = run_import(tmp_path, dry_run=True)
    assert not report["errors"], report["errors"]
    assert report["created"] == ["data-drift"]
    assert not Term.objects.exists()
    import_folders(tmp_path)
    term = Term.objects.get(slug="data-drift")
    assert (term.status, term.short_def) == ("draft", "")
    # Review demands what is still empty.
    _, problems = validate_term_data(data, known_roles=known_roles(), complete=True)
    assert {"short_def", "citations", "examples.do"} <= {p.field for p in problems}


def test_a_filled_in_skeleton_is_a_complete_term(tmp_path):
    new_term("data drift", tmp_path)
    data = read_yaml((tmp_path / "data-drift.yml").read_text("utf-8"))
    filled = base_term("data drift")
    data.update({k: v for k, v in filled.items() if k not in ("term", "last_reviewed")})
    _, problems = validate_term_data(data, known_roles=known_roles(), complete=True)
    assert problems == []


def test_it_refuses_a_taken_or_unusable_name(tmp_path):
    new_term("data drift", tmp_path)
    with pytest.raises(CommandError, match="already exists"):
        new_term("Data  drift", tmp_path)
    import_folders(write_term(tmp_path / "live", base_term("model drift")))
    with pytest.raises(CommandError, match="already has 'model drift'"):
        new_term("Model Drift", tmp_path)
    with pytest.raises(CommandError, match="reserved"):
        new_term("Roles", tmp_path)
    with pytest.raises(CommandError, match="must not be empty"):
        new_term("  ", tmp_path)
    with pytest.raises(CommandError, match="is not a folder"):
        new_term("fresh", tmp_path / "missing")
    assert sorted(p.name for p in tmp_path.glob("*.yml")) == ["data-drift.yml"]
