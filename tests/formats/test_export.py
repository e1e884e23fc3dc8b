"""export_terms: canonical files that round-trip byte for byte."""

import io

import pytest
from django.core.management import call_command

from terms.models import Term
from tests.helpers import (
    FIXTURES,
    base_term,
    export,
    import_folders,
    read_yaml,
    write_term,
)

pytestmark = pytest.mark.django_db


def stripped(value):
    """Parsed YAML with strings stripped, as term-format.md says."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return [stripped(item) for item in value]
    if isinstance(value, dict):
        return {key: stripped(item) for key, item in value.items()}
    return value


def test_corpus_export_equals_originals_and_round_trips(corpus, tmp_path):
    import_folders(corpus / "ai-glossary", corpus / "ai-glossary-site")
    first = export(tmp_path / "first")
    originals = sorted((corpus / "ai-glossary").glob("*.yml"))
    assert len(originals) == 112
    for original in originals:
        exported = read_yaml(first[original.name])
        assert exported == stripped(read_yaml(original.read_text("utf-8"))), (
            original.name
        )
        assert list(exported) == list(read_yaml(original.read_text("utf-8")))
    for name in ("roles.yml", "categories.yml", "site.yml"):
        original = read_yaml((corpus / "ai-glossary-site" / name).read_text("utf-8"))
        assert read_yaml(first[name]) == original
    # Import -> export -> import -> export gives byte-identical files.
    Term.objects.all().delete()
    import_folders(tmp_path / "first")
    second = export(tmp_path / "second")
    assert second == first


def test_plain_corpus_files_are_already_canonical(corpus, tmp_path):
    import_folders(corpus / "ai-glossary")
    files = export(tmp_path / "out")
    different = {
        path.name
        for path in (corpus / "ai-glossary").glob("*.yml")
        if files[path.name] != path.read_bytes()
    }
    # One corpus file has a trailing space that the format strips; two list
    # ``narrower`` after ``related``, where the canonical order puts it before.
    assert different == {
        "evaluation-harness.yml",
        "guardrail-policy.yml",
        "transparency-report.yml",
    }


def test_fixtures_round_trip(tmp_path):
    import_folders(FIXTURES)
    first = export(tmp_path / "a")
    Term.objects.all().delete()
    import_folders(tmp_path / "a")
    assert export(tmp_path / "b") == first
    assert first["site.yml"].decode().startswith("practice_footer:")


def test_export_is_utf8_block_style_in_canonical_key_order(term_dir, tmp_path):
    write_term(term_dir, base_term("café au lait", aliases=["naïve"]))
    import_folders(term_dir)
    files = export(tmp_path / "out")
    text = files["café-au-lait.yml"].decode("utf-8")
    assert "naïve" in text
    assert "\\u" not in text
    assert "{" not in text
    assert "[" not in text
    keys = [
        line.split(":")[0] for line in text.splitlines() if line and line[0].isalpha()
    ]
    assert keys == list(base_term())


def test_stale_files_are_reported_or_removed(term_dir, tmp_path):
    write_term(term_dir, base_term("kept"))
    import_folders(term_dir)
    out = tmp_path / "out"
    out.mkdir()
    (out / "old-term.yml").write_text("term: old\n")
    err = io.StringIO()
    call_command("export_terms", str(out), stdout=io.StringIO(), stderr=err)
    assert "old-term.yml is not part of the glossary" in err.getvalue()
    assert (out / "old-term.yml").exists()
    call_command(
        "export_terms", str(out), "--clean", stdout=io.StringIO(), stderr=io.StringIO()
    )
    assert not (out / "old-term.yml").exists()
    assert (out / "kept.yml").exists()
