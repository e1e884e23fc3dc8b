"""One declaration of the term document (``terms.documents.document.FIELDS``) that every edge
derives from: the admin form, the API detail, the YAML export, the pages.

A term whose every declared value is a recognisable marker is written once; each
edge must show every declared value, so a field added to the declaration and
forgotten by an edge fails here.
"""

import dataclasses

import pytest
from django.test import Client

from terms.admin.forms import FORM_COLUMNS, TermForm, admin_fieldsets
from terms.documents.document import (
    CHOICE,
    CITATIONS,
    DATE,
    FIELDS,
    LABELS,
    TERM_COLUMNS,
    TEXTS,
)
from terms.models import Term
from terms.web.rendering import other_values
from tests.helpers import (
    api_client_for,
    base_term,
    import_folders,
    make_user,
    read_yaml,
    write_term,
)

pytestmark = pytest.mark.django_db


def _marker(spec) -> object:
    """A value for ``spec`` that no other field has and that is easy to find."""
    word = spec.attr.replace("_", "-")
    if spec.attr == "term":
        return "declared once"
    if spec.attr == "roles":
        return ["engineering"]
    if spec.attr == "categories":
        return ["Marker category"]
    if spec.kind == TEXTS:
        return [f"marker {word} item"]
    if spec.kind == CHOICE:
        return {"part_of_speech": "concept", "status": "draft"}[spec.attr]
    if spec.kind == DATE:
        return "2026-03-04"
    if spec.kind == CITATIONS:
        return [{"source": "marker source", "url": "https://example.org/marker"}]
    if spec.kind == LABELS:
        return {
            "fr": {
                "name": "marker label name",
                "aliases": ["marker label alias"],
                "short_def": "marker label definition",
            }
        }
    return f"marker {word} text"


def marked_document() -> dict:
    data = base_term("declared once", relationships={})
    for spec in FIELDS:
        target = data
        for key in spec.path[:-1]:
            target = target.setdefault(key, {})
        target[spec.path[-1]] = _marker(spec)
    return data


def _texts(value) -> list[str]:
    """The strings a reader must find for a value."""
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    return [str(value)]


def _at(data: dict, path: tuple[str, ...]):
    for key in path:
        data = data[key]
    return data


@pytest.fixture
def marked(db, tmp_path):
    data = marked_document()
    import_folders(write_term(tmp_path, data))
    return data


def test_every_column_backed_field_is_on_the_admin_form(marked):
    assert set(TERM_COLUMNS) <= {f.name for f in Term._meta.get_fields()}
    assert list(TermForm.Meta.fields) == [c for c in TERM_COLUMNS if c != "status"]
    shown = [name for _, options in admin_fieldsets() for name in options["fields"]]
    assert set(FORM_COLUMNS) <= set(shown)
    root = make_user("root", superuser=True)
    client = Client()
    client.force_login(root)
    term = Term.objects.get(slug="declared-once")
    html = client.get(f"/admin/terms/term/{term.pk}/change/").content.decode()
    for spec in FIELDS:
        for text in _texts(_at(marked, spec.path)):
            if spec.attr in ("categories", "roles"):
                continue  # chosen from a list: shown as the option's label
            assert text in html, (spec.attr, text)


def test_every_field_is_in_the_api_detail(marked):
    viewer = make_user("viewer", perms=("view_term",))
    body = api_client_for(viewer).get("/api/v1/terms/declared-once/").json()
    for spec in FIELDS:
        expected = _at(marked, spec.path)
        if spec.key == "relationships":
            targets = [entry["target"] for entry in body["relationships"][spec.path[1]]]
            assert targets == expected
        else:
            assert _at(body, spec.path) == expected, spec.attr


def test_every_field_is_in_the_yaml_export(marked):
    viewer = make_user("viewer", perms=("view_term",))
    text = api_client_for(viewer).get("/api/v1/terms/declared-once.yaml").content
    exported = read_yaml(text)
    for spec in FIELDS:
        value = _at(exported, spec.path)
        assert str(value) == str(_at(marked, spec.path)), spec.attr


def test_every_field_is_on_the_markdown_page(marked):
    viewer = make_user("viewer", perms=("view_term",))
    page = api_client_for(viewer).get("/api/v1/terms/declared-once.md").content
    page = page.decode()
    for spec in FIELDS:
        for text in _texts(_at(marked, spec.path)):
            if spec.attr == "roles":
                text = "Engineering"  # the role's title
            if spec.attr == "status":
                text = "Draft"
            assert text in page, (spec.attr, text)


def test_a_field_the_layout_does_not_place_is_listed_under_more():
    extra = dataclasses.replace(FIELDS[0], path=("extra",), attr="extra_note")
    document = type("Document", (), {"extra_note": "a new declared value"})()
    assert other_values(document, (extra,)) == [("Extra note", "a new declared value")]
    assert other_values(document, ()) == []
