"""The UNESCO Thesaurus: a real SKOS vocabulary in five languages imports as
drafts with every label and link, exports to Turtle and imports back unchanged,
and its French and Arabic labels are found by lookup."""

import io
from collections import defaultdict

import pytest
from django.core.management import call_command
from rdflib import RDF, Graph, Literal
from rdflib.namespace import SKOS

from terms.documents.naming import lookup_key
from terms.models import Label, LabelKind, Relationship, Term
from tests.helpers import api_client_for, make_user, run_import

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

LANGUAGES = ("en", "fr", "es", "ru", "ar")


def _labels(graph: Graph) -> dict[str, dict]:
    """Per English name: every language's preferred label and alternative keys."""
    found = {}
    for concept in graph.subjects(RDF.type, SKOS.Concept):
        entry: dict = {"pref": {}, "alt": defaultdict(set)}
        for label in graph.objects(concept, SKOS.prefLabel):
            if isinstance(label, Literal):
                entry["pref"][label.language] = str(label)
        for label in graph.objects(concept, SKOS.altLabel):
            if isinstance(label, Literal):
                entry["alt"][label.language].add(str(label))
        found[entry["pref"]["en"]] = entry
    return found


@pytest.fixture(scope="module")
def source(_unesco_module):
    return _labels(Graph().parse(_unesco_module, format="turtle"))


def _stored(name: str) -> dict:
    term = Term.objects.get(name=name)
    entry: dict = {"pref": {"en": term.name}, "alt": defaultdict(set)}
    entry["alt"]["en"] = {alias.name for alias in term.aliases.all()}
    for label in Label.objects.filter(term=term):
        if label.kind == LabelKind.NAME:
            entry["pref"][label.language] = label.text
        elif label.kind == LabelKind.ALIAS:
            entry["alt"][label.language].add(label.text)
    return entry


def _same_labels(mine: dict, theirs: dict) -> None:
    assert mine["pref"] == theirs["pref"]
    for language in LANGUAGES:
        name_key = lookup_key(theirs["pref"].get(language, ""))
        # An alternative label that only repeats the preferred one (by lookup
        # key, in another language) is not kept twice.
        expected = {
            lookup_key(alt)
            for alt in theirs["alt"].get(language, ())
            if alt != theirs["pref"].get(language)
            and (language == "en" or lookup_key(alt) != name_key)
        }
        assert {lookup_key(a) for a in mine["alt"].get(language, ())} == expected


def test_every_concept_is_a_draft_with_its_labels_in_five_languages(unesco_db, source):
    assert Term.objects.count() == len(source) == 4482
    assert set(Term.objects.values_list("status", flat=True)) == {"draft"}
    languages = set(Label.objects.values_list("language", flat=True))
    assert languages == {"fr", "es", "ru", "ar"}
    sample = sorted(source)[::150]
    assert len(sample) == 30
    for name in sample:
        _same_labels(_stored(name), source[name])


def test_links_and_groups_are_kept(unesco_db):
    # Broader and narrower are both written in the file; all resolve here but
    # the one concept that names itself as related (reported, left out).
    assert Relationship.objects.count() > 20000
    assert not Relationship.objects.filter(target__isnull=True).exists()
    basic = Term.objects.get(name="Basic sciences")
    assert {c.name for c in basic.categories.all()}
    assert basic.relationships.filter(kind="broader").exists()


def test_turtle_export_imports_back_unchanged_with_every_language(
    unesco_db, source, tmp_path
):
    path = tmp_path / "unesco-export.ttl"
    call_command("export_terms", str(path), "--format", "ttl", stdout=io.StringIO())
    report, _ = run_import(path)
    assert not report["errors"], report["errors"][:3]
    assert len(report["unchanged"]) == 4482
    assert report["created"] == report["updated"] == []
    exported = _labels(Graph().parse(path, format="turtle"))
    for name in sorted(source)[::150]:
        _same_labels(exported[name], source[name])


@pytest.mark.parametrize(
    ("query", "language", "name"),
    [
        ("Sciences fondamentales", "fr", "Basic sciences"),
        ("علوم أساسية", "ar", "Basic sciences"),
        ("базовые науки", "ru", "Basic sciences"),
        ("Ciencias fundamentales", "es", "Basic sciences"),  # a Spanish altLabel
    ],
)
def test_lookup_finds_a_concept_by_a_label(unesco_db, query, language, name):
    reader = api_client_for(make_user("reader", perms=("view_term",)))
    body = reader.get(
        "/api/v1/lookup/", {"q": query, "status": "draft", "lang": language}
    ).json()
    [match] = body["matches"]
    assert match["slug"] == Term.objects.get(name=name).slug
    assert match["matched_on"] == "label"
    assert match["matched_language"] == language
    assert match["language"] == language
