"""Releases: cut one, change the glossary through the workflow, cut again,
compare, read and export as of each; the integrity gate; who may publish."""

import io
import zipfile

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from rdflib import RDF, Graph
from rdflib.namespace import DCTERMS, OWL, SKOS

from terms.models import Release, ReleaseEntry, Term
from terms.workflow import steps as workflow
from terms.workflow.releases import ReleaseRefused, release_create
from tests.helpers import api_client_for, base_term, seed_term

pytestmark = pytest.mark.django_db


def _publish(client, name, notes=""):
    return client.post(
        "/api/v1/releases/", {"name": name, "notes": notes}, format="json"
    )


def test_the_whole_story(people, api):
    author, approver = people["author"], people["approver"]
    seed_term("alpha", "approved", author)
    seed_term("beta", "approved", author, relationships={"related": ["alpha"]})
    seed_term("gamma", "draft", author)  # never public: in no release
    client = api_client_for(approver)
    first = _publish(client, "2026.11", "First edition.")
    assert first.status_code == 201, first.content
    assert first.json()["counts"] == {"approved": 2}
    assert first["Location"].endswith("/api/v1/releases/2026.11/")

    # The glossary moves on through the workflow.
    beta = Term.objects.get(slug="beta")
    changed = base_term(
        "beta", status="approved", short_def="A better definition of beta."
    )
    from terms.documents.document import validate_term_data

    document, problems = validate_term_data(changed)
    assert not problems
    result = workflow.term_edit(
        term=beta, document=document, actor=author, source="api"
    )
    assert result.pending is not None  # an approved term: a pending change
    workflow.term_transition(term=beta, name="review", actor=people["reviewer"])
    workflow.term_transition(term=beta, name="approve", actor=approver)
    seed_term("delta", "approved", author)
    Term.objects.get(slug="alpha").delete()  # removed (outside the workflow)
    second = _publish(client, "2026.12")
    assert second.status_code == 201, second.content

    # What changed, as data, as a changelog, from the command line.
    diff = api.get("/api/v1/releases/2026.11/diff/2026.12/").json()
    assert [t["slug"] for t in diff["added"]] == ["delta"]
    assert [t["slug"] for t in diff["removed"]] == ["alpha"]
    [change] = diff["changed"]
    assert change["slug"] == "beta"
    fields = {f["field"]: f for f in change["fields"]}
    assert fields["short_def"]["after"] == "A better definition of beta."
    assert diff["renamed"] == []
    markdown = api.get("/api/v1/releases/2026.11/diff/2026.12.md")
    assert markdown.status_code == 200
    text = markdown.content.decode()
    assert "### Added" in text
    assert "**delta** (`delta`)" in text
    assert "`short_def`" in text
    out = io.StringIO()
    call_command("release", "diff", "2026.11", "2026.12", stdout=out)
    assert out.getvalue().strip() == text.strip()
    assert api.get("/api/v1/releases/2026.12/diff/current/").json()["changed"] == []

    # A term read as of each release.
    old = api.get("/api/v1/terms/beta/", {"release": "2026.11"})
    new = api.get("/api/v1/terms/beta/", {"release": "2026.12"})
    assert old.status_code == new.status_code == 200
    assert old.json()["short_def"] != new.json()["short_def"]
    assert new.json()["short_def"] == "A better definition of beta."
    assert old["Cache-Control"] == "public, max-age=31536000, immutable"
    as_yaml = api.get("/api/v1/terms/beta.yaml", {"release": "2026.11"})
    assert yaml.safe_load(as_yaml.content)["term"] == "beta"
    gone = api.get("/api/v1/terms/alpha/", {"release": "2026.12"})
    assert gone.status_code == 404
    assert "2026.12" in gone.json()["error"]["message"]
    assert api.get("/api/v1/terms/alpha/", {"release": "2026.11"}).status_code == 200
    empty = api.get("/api/v1/export/", {"release": ""})
    assert empty.status_code == 400
    assert empty.json()["error"]["details"][0]["field"] == "release"
    unknown = api.get("/api/v1/terms/beta/", {"release": "1999"})
    assert unknown.status_code == 404
    assert "1999" in unknown.json()["error"]["message"]

    # Exports of a release: the same bytes every time, whatever happens since.
    zipped = api.get("/api/v1/export/", {"format": "yaml", "release": "2026.11"})
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert names == ["glossary/alpha.yml", "glossary/beta.yml"]
    seed_term("epsilon", "approved", author)
    turtle = api.get("/api/v1/export/", {"format": "ttl", "release": "2026.11"})
    graph = Graph().parse(data=turtle.content, format="turtle")
    scheme = next(graph.subjects(RDF.type, SKOS.ConceptScheme))
    assert str(graph.value(scheme, OWL.versionInfo)) == "2026.11"
    assert graph.value(scheme, DCTERMS.issued) is not None
    one = api.get("/api/v1/terms/beta.ttl", {"release": "2026.11"})
    assert one.status_code == 200
    assert "beta" in one.content.decode()
    for fmt in ("yaml", "csv", "json", "ttl", "rdf", "jsonld"):
        first_bytes = api.get("/api/v1/export/", {"format": fmt, "release": "2026.11"})
        again = api.get("/api/v1/export/", {"format": fmt, "release": "2026.11"})
        assert first_bytes.status_code == 200, fmt
        assert first_bytes.content == again.content, fmt
    listed = api.get("/api/v1/releases/").json()
    assert [r["name"] for r in listed] == ["2026.12", "2026.11"]
    assert api.get("/api/v1/releases/latest/").json()["name"] == "2026.12"


def test_storage_follows_the_changes(people):
    for n in range(20):
        seed_term(f"stable {n}", "approved", people["author"])
    release_create(name="r1", actor=people["approver"])
    assert ReleaseEntry.objects.count() == 20
    release_create(name="r2", actor=people["approver"])
    assert ReleaseEntry.objects.count() == 20  # nothing changed, nothing written
    seed_term("newcomer", "approved", people["author"])
    release_create(name="r3", actor=people["approver"])
    assert ReleaseEntry.objects.count() == 21


def test_only_approvers_publish_and_anyone_reads(people, api):
    seed_term("alpha", "approved", people["author"])
    assert _publish(api, "r1").status_code == 401
    refused = _publish(api_client_for(people["editor"]), "r1")
    assert refused.status_code == 403
    assert not Release.objects.exists()
    assert _publish(api_client_for(people["approver"]), "r1").status_code == 201
    assert api.get("/api/v1/releases/r1/").status_code == 200
    assert _publish(api_client_for(people["approver"]), "r1").status_code == 400
    bad = _publish(api_client_for(people["approver"]), "no spaces allowed")
    assert bad.status_code == 400
    assert _publish(api_client_for(people["approver"]), "latest").status_code == 400
    not_text = api_client_for(people["approver"]).post(
        "/api/v1/releases/", {"name": "r2", "notes": 7}, format="json"
    )
    assert not_text.status_code == 400


@pytest.mark.parametrize(
    ("planted", "says"),
    [
        (
            [
                ("one", {"relationships": {"broader": ["two"]}}),
                ("two", {"relationships": {"broader": ["three"]}}),
                ("three", {"relationships": {"broader": ["one"]}}),
            ],
            "broader links loop: one -> two -> three -> one",
        ),
        (
            [
                ("one", {"relationships": {"related": ["two"], "broader": ["two"]}}),
                ("two", {}),
            ],
            "also names as broader or narrower",
        ),
        (
            [
                ("one", {"labels": {"fr": {"name": "pareil"}}}),
                ("two", {"labels": {"fr": {"name": "Pareil"}}}),
            ],
            "same fr name",
        ),
    ],
)
def test_the_gate_refuses_and_writes_nothing(people, planted, says):
    for name, extra in planted:
        seed_term(name, "approved", people["author"], **extra)
    with pytest.raises(ReleaseRefused) as refused:
        release_create(name="r1", actor=people["approver"])
    assert any(says in finding.message for finding in refused.value.findings)
    assert not Release.objects.exists()
    assert not ReleaseEntry.objects.exists()
    with pytest.raises(CommandError, match="integrity problem"):
        call_command("release", "create", "r1", stderr=io.StringIO())
    assert not Release.objects.exists()
    api = api_client_for(people["approver"])
    answer = _publish(api, "r1")
    assert answer.status_code == 400
    assert says in str(answer.json()["error"])


def test_a_deprecated_terms_replacement_must_be_in_it(people):
    author = people["author"]
    seed_term("old", "approved", author)
    seed_term("new", "draft", author)
    old = Term.objects.get(slug="old")
    old.status, old.replaced_by = "deprecated", Term.objects.get(slug="new")
    old.save()
    with pytest.raises(ReleaseRefused) as refused:
        release_create(name="r1", actor=people["approver"])
    [finding] = refused.value.findings
    assert (finding.term, finding.field) == ("old", "replaced_by")


def test_wanted_links_are_warnings_kept_with_the_release(people):
    seed_term("alpha", "approved", people["author"])  # relates to "another term"
    release = release_create(name="r1", actor=people["approver"])
    assert any("another term" in w["message"] for w in release.warnings)
    out = io.StringIO()
    call_command("release", "list", stdout=out)
    assert out.getvalue().startswith("r1\t#1\t")


_SERIALISE = """
import hashlib, os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glossary.settings")
import django
django.setup()
from terms.documents.document import validate_term_data
from terms.formats import skos
from tests.helpers import base_term
documents = [
    validate_term_data(base_term(name, relationships={"related": ["delta"]}))[0]
    for name in ("alpha", "beta", "gamma")
]
graph = skos.glossary_graph(documents, edition=("r1", "2026-12-01T00:00:00Z"))
for fmt in ("ttl", "rdf", "jsonld"):
    print(fmt, hashlib.sha256(skos.serialise(graph, fmt, stable=True)).hexdigest())
"""


@pytest.mark.slow
def test_release_skos_is_the_same_bytes_in_any_process():
    """Blank node labels and set order change with each process (Python's
    hash seed); a release's SKOS must not."""
    import os
    import subprocess
    import sys

    from tests.helpers import ROOT

    outputs = [
        subprocess.run(
            [sys.executable, "-c", _SERIALISE],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "DATABASE_URL": "sqlite://"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    ]
    assert outputs[0].count("\n") == 3
    assert outputs[0] == outputs[1]


def test_a_release_keeps_its_first_warnings_and_counts_the_rest(people, settings):
    for n in range(5):
        seed_term(f"lonely {n}", "approved", people["author"])  # each links a wanted
    settings.GLOSSARY_REVIEW_PERIOD_DAYS = 1  # and each is overdue
    settings.GLOSSARY_RELEASE_WARNINGS_KEPT = 3
    release = release_create(name="r1", actor=people["approver"])
    assert len(release.warnings) == 4
    assert release.warnings[-1]["message"] == (
        "and 7 more: 5 about last_reviewed, 2 about relationships"
    )


def test_the_gate_finds_nothing_in_the_reference_corpus(corpus_db):
    from terms.workflow.releases import integrity, public_statuses

    assert Term.objects.filter(status="approved").count() == 112
    problems, _ = integrity(public_statuses())
    assert problems == []


def test_the_releases_feed_is_atom_newest_first(people, client):
    from defusedxml import ElementTree

    seed_term("alpha", "approved", people["author"])
    release_create(name="r1", notes="First.", actor=people["approver"])
    release_create(name="r2", notes="Second & better.", actor=people["approver"])
    response = client.get("/releases/feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ElementTree.fromstring(response.content)
    entries = feed.findall(f"{atom}entry")
    assert [e.find(f"{atom}title").text for e in entries] == [
        "Release r2",
        "Release r1",
    ]
    assert "Second & better." in entries[0].find(f"{atom}summary").text
    assert entries[0].find(f"{atom}link").get("href").endswith("/api/v1/releases/r2/")
