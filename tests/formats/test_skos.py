"""SKOS out: the glossary and each term as Turtle, RDF/XML and JSON-LD, parsed
back with rdflib and checked against SKOS's integrity conditions."""

import io

import pytest
from django.core.management import CommandError, call_command
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, SKOS

from terms.documents.mapping import documents_for
from terms.formats.skos import concept_uri, integrity_problems, vocabulary
from terms.models import Relationship, Term

pytestmark = pytest.mark.django_db

MEDIA = {
    "ttl": "text/turtle",
    "rdf": "application/rdf+xml",
    "jsonld": "application/ld+json",
}
PARSERS = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld"}


def same(one: Graph, other: Graph) -> bool:
    """Whether two graphs hold the same triples, blank nodes compared by what
    they hold (ours are leaves). rdflib's general isomorphism test takes tens
    of seconds on a whole glossary."""
    return _flat(one) == _flat(other)


def _flat(graph: Graph) -> set:
    def value(node):
        if isinstance(node, BNode):
            return frozenset((p, value(o)) for p, o in graph.predicate_objects(node))
        return node

    return {(s, p, value(o)) for s, p, o in graph if not isinstance(s, BNode)}


def graph_of(api, url: str, fmt: str, **headers) -> Graph:
    response = api.get(url, **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith(MEDIA[fmt])
    return Graph().parse(data=response.content, format=PARSERS[fmt])


@pytest.mark.slow
def test_the_whole_glossary_is_valid_skos_in_three_formats(corpus_db, api):
    graphs = {
        fmt: graph_of(api, "/api/v1/export/", fmt, HTTP_ACCEPT=MEDIA[fmt])
        for fmt in MEDIA
    }
    turtle = graphs["ttl"]
    assert integrity_problems(turtle) == []
    visible = Term.objects.filter(status__in=["reviewed", "approved", "deprecated"])
    concepts = set(turtle.subjects(RDF.type, SKOS.Concept))
    assert concepts == {
        concept_uri(slug) for slug in visible.values_list("slug", flat=True)
    }
    # The same graph whatever the syntax.
    assert same(turtle, graphs["rdf"])
    assert same(turtle, graphs["jsonld"])
    # ?format= works as Accept does.
    assert same(turtle, graph_of(api, "/api/v1/export/?format=ttl", "ttl"))


def test_every_value_of_a_term_is_in_its_concept(corpus_db, api):
    gl = vocabulary()
    term = Term.objects.filter(status="approved").order_by("slug").first()
    [document] = documents_for(Term.objects.filter(pk=term.pk)).values()
    graph = graph_of(api, f"/api/v1/terms/{term.slug}.ttl", "ttl")
    concept = concept_uri(term.slug)
    assert set(graph.objects(concept, SKOS.prefLabel)) == {
        Literal(term.name, lang="en")
    }
    assert {str(o) for o in graph.objects(concept, SKOS.altLabel)} == set(
        document.aliases
    ) - {document.term}
    assert str(graph.value(concept, SKOS.definition)) == document.short_def
    assert str(graph.value(concept, DCTERMS.description)) == document.long_def
    assert {str(o) for o in graph.objects(concept, gl.role)} == set(document.roles)
    assert {str(o) for o in graph.objects(concept, gl.exampleDo)} == set(
        document.examples_do
    )
    cited = {
        str(graph.value(node, URIRef("https://schema.org/url")))
        for node in graph.objects(concept, DCTERMS.source)
    }
    assert cited == {url for _, url in document.citations}
    assert str(graph.value(concept, gl.status)) == "approved"
    assert (
        str(graph.value(concept, gl.lastReviewed)) == document.last_reviewed.isoformat()
    )
    # Each written relationship: a SKOS link to a term, or the words kept as written.
    for relationship in Relationship.objects.filter(term=term):
        kind = relationship.kind
        if relationship.target_id:
            link = {"broader": SKOS.broader, "narrower": SKOS.narrower}.get(
                kind, SKOS.related
            )
            targets = set(graph.objects(concept, link)) | {
                graph.value(node, gl.target)
                for node in graph.objects(concept, gl[f"{kind}As"])
            }
            assert concept_uri(relationship.target.slug) in targets
        else:
            written = {str(o) for o in graph.objects(concept, gl[f"{kind}Target"])}
            assert relationship.target_name in written
    # Other formats of the same term.
    assert same(graph, graph_of(api, f"/api/v1/terms/{term.slug}.jsonld", "jsonld"))
    assert same(graph, graph_of(api, f"/api/v1/terms/{term.slug}.rdf", "rdf"))


def test_deprecated_terms_say_so_and_name_their_replacement(corpus_db, api):
    old, new = Term.objects.filter(status="approved").order_by("slug")[:2]
    Term.objects.filter(pk=old.pk).update(status="deprecated", replaced_by=new)
    graph = graph_of(api, "/api/v1/export/?format=ttl", "ttl")
    concept = concept_uri(old.slug)
    assert graph.value(concept, OWL.deprecated) == Literal(True)
    assert graph.value(concept, DCTERMS.isReplacedBy) == concept_uri(new.slug)
    assert graph.value(concept_uri(new.slug), OWL.deprecated) is None


def test_categories_are_collections(corpus_db, api):
    graph = graph_of(api, "/api/v1/export/?format=ttl", "ttl")
    collections = set(graph.subjects(RDF.type, SKOS.Collection))
    assert collections
    for collection in collections:
        name = str(graph.value(collection, SKOS.prefLabel))
        members = set(graph.objects(collection, SKOS.member))
        expected = Term.objects.filter(
            categories__name=name, status__in=["reviewed", "approved", "deprecated"]
        )
        assert members == {concept_uri(t.slug) for t in expected}, name


def test_export_terms_writes_one_skos_file(corpus_db, tmp_path):
    path = tmp_path / "glossary.jsonld"
    out = io.StringIO()
    call_command("export_terms", str(path), "--format", "jsonld", stdout=out)
    graph = Graph().parse(path, format="json-ld")
    assert len(set(graph.subjects(RDF.type, SKOS.Concept))) == Term.objects.count()
    assert integrity_problems(graph) == []
    with pytest.raises(CommandError, match="is a folder"):
        call_command("export_terms", str(tmp_path), "--format", "ttl", stdout=out)


def test_the_integrity_checks_find_what_they_look_for():
    graph = Graph()
    a, b = URIRef("http://x/a"), URIRef("http://x/b")
    graph.add((a, RDF.type, SKOS.Concept))
    graph.add((a, SKOS.prefLabel, Literal("one", lang="en")))
    graph.add((a, SKOS.prefLabel, Literal("two", lang="en")))
    graph.add((a, SKOS.altLabel, Literal("one", lang="en")))
    graph.add((a, SKOS.broader, b))
    graph.add((a, SKOS.related, b))
    problems = " ".join(integrity_problems(graph))
    assert "2 prefLabels" in problems
    assert "both prefLabel and altLabel" in problems
    assert "(S27)" in problems
    # Through more than one step, and from the other side (narrower, related).
    c, d = URIRef("http://x/c"), URIRef("http://x/d")
    deep = Graph()
    deep.add((c, SKOS.broader, a))
    deep.add((a, SKOS.narrower, d))  # d is below a
    deep.add((b, SKOS.narrower, a))  # a is below b: c -> a -> b
    deep.add((b, SKOS.related, c))  # b is broader-transitive of c
    deep.add((d, SKOS.related, b))
    found = integrity_problems(deep)
    assert len(found) == 2, found


def _skosify_warnings(graph: Graph, caplog) -> list[str]:
    """What skosify's checks (S27 and its others) say of ``graph``, after its
    own inference of the inverse hierarchy links."""
    import logging

    from skosify import check, infer

    graph = Graph() + graph  # checked on a copy
    infer.skos_hierarchical(graph, narrower=True)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        check.disjoint_relations(graph)
        check.hierarchy_cycles(graph)
        check.label_overlap(graph)
        check.preflabel_uniqueness(graph, policy="shortest")  # "all" logs itself
    return [record.getMessage() for record in caplog.records]


@pytest.mark.parametrize("fmt", ["ttl", "rdf", "jsonld"])
def test_every_export_passes_skosifys_checks(corpus_db, api, caplog, fmt):
    graph = graph_of(api, f"/api/v1/export/?format={fmt}", fmt)
    assert _skosify_warnings(graph, caplog) == []
    assert integrity_problems(graph) == []


@pytest.mark.slow
def test_links_skos_cannot_say_survive_the_round_trip(corpus_db, api, tmp_path):
    """The corpus has related links to broader-transitive terms (reward model
    broader RLHF, RLHF related reward model): kept out of SKOS's related,
    restored on import."""
    from tests.helpers import corpus_documents, run_import

    docs = corpus_documents(corpus_db)
    path = tmp_path / "glossary.ttl"
    path.write_bytes(api.get("/api/v1/export/?format=ttl").content)
    graph = Graph().parse(path, format="turtle")
    gl = vocabulary()
    assert set(graph.objects(None, gl.relatedTarget))  # some were moved
    Term.objects.all().delete()
    report, _ = run_import(path)
    assert not report["errors"], report["errors"][:3]
    for slug, doc in docs.items():
        stored = api.get(f"/api/v1/terms/{slug}.yaml").content.decode()
        for target in doc.get("relationships", {}).get("related", []):
            assert target in stored, (slug, target)
