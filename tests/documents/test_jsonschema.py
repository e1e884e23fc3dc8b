"""The term document's JSON Schema: a valid draft 2020-12 schema, derived from
the declaration, that every corpus term satisfies and that refuses what the
validator refuses for a structural reason."""

import copy
import io
import json

import pytest
from django.core.management import call_command
from jsonschema import Draft202012Validator, FormatChecker

from terms.documents.document import validate_term_data
from terms.documents.jsonschema import term_document_schema
from tests.helpers import base_term, corpus_documents

SCHEMA = term_document_schema()
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
ROLES = {"engineering", "product", "policy"}


def as_json(data):
    """YAML data as a JSON tool sees it (dates as text)."""
    return json.loads(json.dumps(data, default=str))


def test_it_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["additionalProperties"] is False
    assert set(SCHEMA["required"]) == {"term", "status", "last_reviewed"}
    assert set(SCHEMA["else"]["required"]) == set(base_term())


def test_every_corpus_term_satisfies_it(corpus):
    for slug, data in corpus_documents(corpus).items():
        errors = sorted(VALIDATOR.iter_errors(as_json(data)), key=str)
        assert not errors, (slug, [e.message for e in errors[:3]])


def _without(key):
    def change(data):
        del data[key]

    return change


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


STRUCTURAL = {
    "missing key": _without("license"),
    "unknown key": _set(("colour",), "blue"),
    "name not a string": _set(("term",), 7),
    "blank name": _set(("term",), "   "),
    "no aliases": _set(("aliases",), []),
    "duplicate alias": _set(("aliases",), ["same", "same"]),
    "categories not a list": _set(("categories",), "Testing"),
    "bad part of speech": _set(("part_of_speech",), "pronoun"),
    "short_def too long": _set(("short_def",), "x" * 321),
    "audience missing": _set(("audiences",), {"exec": "Why."}),
    "unknown audience": _set(
        ("audiences",), {"exec": "Why.", "engineer": "How.", "board": "?"}
    ),
    "no don't examples": _set(("examples", "dont"), []),
    "tags empty": _set(("governance", "nist_rmf_tags"), []),
    "unknown relationship": _set(("relationships",), {"sibling": ["x"]}),
    "no citations": _set(("citations",), []),
    "citation without url": _set(("citations",), [{"source": "S"}]),
    "ftp citation": _set(
        ("citations",), [{"source": "S", "url": "ftp://example.org/x"}]
    ),
    "bad status": _set(("status",), "published"),
    "bad date": _set(("last_reviewed",), "15/01/2026"),
    "null license": _set(("license",), None),
}


#: What a draft may lack (the other cases are refused whatever the status).
INCOMPLETE = {"missing key", "no aliases", "audience missing", "no don't examples"}
INCOMPLETE |= {"no citations", "null license"}


@pytest.mark.parametrize("status", ["draft", "reviewed", "approved"])
@pytest.mark.parametrize("change", STRUCTURAL.values(), ids=STRUCTURAL.keys())
def test_the_schema_refuses_what_the_validator_refuses(change, status, request):
    case = request.node.callspec.id.rsplit("-", 1)[0]
    data = copy.deepcopy(base_term(status=status))
    assert not list(VALIDATOR.iter_errors(as_json(data)))
    assert validate_term_data(data, known_roles=ROLES)[1] == []
    change(data)
    _, problems = validate_term_data(copy.deepcopy(data), known_roles=ROLES)
    schema_errors = list(VALIDATOR.iter_errors(as_json(data)))
    refused = not (status == "draft" and case in INCOMPLETE)
    assert bool(problems) == refused, problems
    assert bool(schema_errors) == refused, [e.message for e in schema_errors]


def test_a_bare_draft_satisfies_it_and_a_bare_reviewed_term_does_not():
    bare = {"term": "new one", "status": "draft", "last_reviewed": "2026-11-29"}
    assert not list(VALIDATOR.iter_errors(bare))
    nulls = {**bare, "short_def": None, "roles": None, "part_of_speech": " "}
    assert not list(VALIDATOR.iter_errors(nulls))
    assert validate_term_data(nulls, known_roles=ROLES)[1] == []
    refused = list(VALIDATOR.iter_errors({**bare, "status": "reviewed"}))
    assert refused
    assert "short_def" in " ".join(e.message for e in refused)


def test_it_is_served_and_written_by_export_terms(client, tmp_path):
    response = client.get("/api/v1/schema/term-document.json")
    assert response.status_code == 200
    served = response.json()
    assert served["$id"].endswith("/api/v1/schema/term-document.json")
    assert {k: v for k, v in served.items() if k != "$id"} == SCHEMA
    path = tmp_path / "term.schema.json"
    call_command("export_terms", "--schema", str(path), stdout=io.StringIO())
    assert json.loads(path.read_text("utf-8")) == SCHEMA
