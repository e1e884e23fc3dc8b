"""Each file format is registered once (``terms.formats.registry``), and every
part of the system that deals in formats reads that one registry."""

import pytest

from terms.api.views import ExportView, TermViewSet
from terms.formats import registry
from terms.formats.import_files import MANY_SUFFIXES, TERM_SUFFIXES, collect_files
from terms.management.commands.export_terms import Command as ExportCommand

pytestmark = pytest.mark.django_db


def test_the_registry_holds_the_five_formats():
    assert list(registry.FORMATS) == ["yaml", "ttl", "rdf", "jsonld", "csv"]
    assert registry.for_suffix(".YAML").name == "yaml"
    assert registry.for_suffix(".txt") is None
    with pytest.raises(KeyError, match="the formats are: yaml, ttl"):
        registry.get("xlsx")


def test_imports_read_the_suffixes_the_registry_gives(tmp_path):
    assert set(TERM_SUFFIXES) == {".yml", ".yaml"}
    assert set(MANY_SUFFIXES) == {".ttl", ".rdf", ".jsonld", ".csv"}
    stray = tmp_path / "notes.txt"
    stray.write_text("hello")
    _, problems = collect_files([stray])
    [problem] = problems
    for suffix in registry.suffixes():
        assert suffix in problem.message


def test_exports_offer_every_registered_format():
    parser = ExportCommand().create_parser("manage.py", "export_terms")
    [choices] = [a.choices for a in parser._actions if a.dest == "format"]
    assert list(choices) == list(registry.FORMATS)
    offered = {r.format: r.media_type for r in ExportView.renderer_classes}
    assert offered == {
        "json": "application/json",
        **{fmt.name: fmt.export_media_type for fmt in registry.FORMATS.values()},
    }
    detail = {r.format: r.media_type for r in TermViewSet.renderer_classes}
    for name in registry.SKOS:
        assert detail[name] == registry.get(name).media_type


def test_the_export_answers_each_format_with_its_media_type(client):
    for fmt in registry.FORMATS.values():
        response = client.get("/api/v1/export/", {"format": fmt.name})
        assert response.status_code == 200, fmt.name
        assert response["Content-Type"].split(";")[0] == fmt.export_media_type
