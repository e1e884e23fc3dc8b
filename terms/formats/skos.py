"""The glossary as SKOS: one ``skos:ConceptScheme``, a ``skos:Concept`` per term.

Built with rdflib and serialised as Turtle, RDF/XML or JSON-LD. The mapping:

- term -> ``skos:Concept`` at ``{GLOSSARY_SITE_URL}/terms/{slug}/`` (its page),
  ``skos:inScheme`` the scheme at ``{GLOSSARY_SITE_URL}/``;
- name -> ``skos:prefLabel``, aliases -> ``skos:altLabel``, in the default
  language (``GLOSSARY_LANGUAGE``);
- short definition -> ``skos:definition``, long definition ->
  ``dct:description``, risk notes -> ``skos:scopeNote``;
- broader/narrower/related targets that name a term -> ``skos:broader`` etc.;
  targets that name no term yet keep their words in ``gl:broaderTarget`` etc.,
  so an import gets back exactly what was written;
- category -> a ``skos:Collection`` with its terms as ``skos:member``, the
  term's categories in order as ``gl:category``;
- deprecated -> ``owl:deprecated true`` and ``dct:isReplacedBy`` the replacement;
- citations -> ``dct:source`` (a node with ``dct:title`` and ``schema:url``),
  license -> ``dct:license``, status -> ``gl:status``, last review ->
  ``gl:lastReviewed`` (``xsd:date``), last change -> ``dct:modified``;
- what SKOS has no word for (audiences, examples, roles, part of speech, NIST
  tags) -> properties of the glossary's own vocabulary ``gl:``.

``integrity_problems`` runs the SKOS integrity conditions that apply to such a
graph (one prefLabel per language, prefLabel and altLabel disjoint, related
disjoint from broader).
"""

import json
import re
from collections.abc import Iterable

from django.conf import settings
from rdflib import RDF, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, SKOS

from terms.documents.document import TermDocument
from terms.documents.naming import lookup_key

__all__ = ["FORMATS", "glossary_graph", "integrity_problems", "serialise"]

SCHEMA = Namespace("https://schema.org/")

#: format -> (rdflib serialiser, media type, file suffix)
FORMATS = {
    "ttl": ("turtle", "text/turtle", ".ttl"),
    # Plain RDF/XML: the pretty writer cannot write lists of literals.
    "rdf": ("xml", "application/rdf+xml", ".rdf"),
    "jsonld": ("json-ld", "application/ld+json", ".jsonld"),
}


def site() -> str:
    """The base of every URI: ``GLOSSARY_SITE_URL`` without its last slash."""
    return settings.GLOSSARY_SITE_URL.rstrip("/")


def vocabulary() -> Namespace:
    """The glossary's own properties, for what SKOS has no word for."""
    return Namespace(f"{site()}/vocab#")


def iri(url: str) -> str:
    """``url`` with any character an IRI may not hold percent-encoded, so a
    URL stored before such URLs were refused cannot break a whole export."""
    return re.sub(r'[<>"{}|\\^`\s]', lambda m: f"%{ord(m.group()):02X}", url)


def concept_uri(slug: str) -> URIRef:
    """A term's stable URI: its page."""
    return URIRef(f"{site()}/terms/{slug}/")


def glossary_graph(
    documents: Iterable[TermDocument],
    *,
    modified: dict[str, object] | None = None,
    replaced_by: dict[str, str] | None = None,
    known: dict[str, str] | None = None,
    title: str = "Glossary",
    edition: tuple[str, object] | None = None,
) -> Graph:
    """The SKOS graph of ``documents`` (one term's, or the whole glossary's).

    ``modified`` gives each slug's last change time, ``replaced_by`` each
    deprecated slug's replacement slug, ``known`` the slug and name of every
    term links may point at (default: the documents' own). ``edition`` is a
    release's name and publication time: the scheme then says which edition it
    is (``owl:versionInfo``, ``dct:issued``); concept URIs stay the same.
    """
    gl = vocabulary()
    language = settings.GLOSSARY_LANGUAGE
    documents = list(documents)
    if known is None:
        known = {document.slug: document.term for document in documents}
    by_key = {}
    for slug, name in known.items():
        by_key[lookup_key(name)] = slug
    for slug in known:
        by_key.setdefault(lookup_key(slug), slug)
    graph = Graph()
    graph.bind("skos", SKOS)
    graph.bind("dct", DCTERMS)
    graph.bind("owl", OWL)
    graph.bind("schema", SCHEMA)
    graph.bind("gl", gl)
    scheme = URIRef(f"{site()}/")
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, DCTERMS.title, Literal(title, lang=language)))
    if edition is not None:
        graph.add((scheme, OWL.versionInfo, Literal(edition[0])))
        graph.add((scheme, DCTERMS.issued, Literal(edition[1])))
    collections: dict[str, URIRef] = {}
    for document in documents:
        concept = concept_uri(document.slug)
        _add_concept(graph, gl, concept, document, language, by_key, known)
        graph.add((concept, SKOS.inScheme, scheme))
        if modified and document.slug in modified:
            graph.add((concept, DCTERMS.modified, Literal(modified[document.slug])))
        if replaced_by and document.slug in replaced_by:
            graph.add(
                (
                    concept,
                    DCTERMS.isReplacedBy,
                    concept_uri(replaced_by[document.slug]),
                )
            )
        for category in document.categories:
            collection = collections.get(category)
            if collection is None:
                collection = URIRef(f"{site()}/categories/{_slug(category)}/")
                collections[category] = collection
                graph.add((collection, RDF.type, SKOS.Collection))
                graph.add(
                    (collection, SKOS.prefLabel, Literal(category, lang=language))
                )
            graph.add((collection, SKOS.member, concept))
    _keep_related_disjoint(graph, gl, known)
    return graph


def _ancestors(graph: Graph):
    """A function giving each concept's broader-transitive concepts, through
    ``skos:broader`` and the inverse of ``skos:narrower`` (memoised)."""
    up: dict = {}
    for child, parent in graph.subject_objects(SKOS.broader):
        up.setdefault(child, set()).add(parent)
    for parent, child in graph.subject_objects(SKOS.narrower):
        up.setdefault(child, set()).add(parent)
    found: dict = {}

    def ancestors(concept) -> set:
        if concept not in found:
            seen, stack = set(), list(up.get(concept, ()))
            while stack:
                node = stack.pop()
                if node not in seen:
                    seen.add(node)
                    stack.extend(up.get(node, ()))
            found[concept] = seen
        return found[concept]

    return ancestors


def _related_clashes(graph: Graph) -> list[tuple]:
    """``(a, b)`` for each ``a skos:related b`` where one is broader-transitive
    of the other: what SKOS's integrity condition S27 forbids (related is
    symmetric, so either direction counts)."""
    ancestors = _ancestors(graph)
    return [
        (a, b)
        for a, b in graph.subject_objects(SKOS.related)
        if b in ancestors(a) or a in ancestors(b)
    ]


def _keep_related_disjoint(graph: Graph, gl, known: dict[str, str]) -> None:
    """Move each related link S27 forbids out of SKOS: the words as written go
    to ``gl:relatedTarget`` (as for links to terms not here), so the graph is
    valid SKOS and an import still restores the document."""
    names = {concept_uri(slug): name for slug, name in known.items()}
    for a, b in _related_clashes(graph):
        graph.remove((a, SKOS.related, b))
        written = None
        for node in list(graph.objects(a, gl.relatedAs)):
            if (node, gl.target, b) in graph:
                written = graph.value(node, gl.written)
                graph.remove((a, gl.relatedAs, node))
                graph.remove((node, None, None))
        if written is None:
            written = Literal(names.get(b) or str(b).rstrip("/").rsplit("/", 1)[-1])
        graph.add((a, gl.relatedTarget, written))


def _slug(name: str) -> str:
    from django.utils.text import slugify

    return slugify(name)


def _add_concept(
    graph, gl, concept, document: TermDocument, language, by_key, names
) -> None:
    def text(predicate, value, lang=language):
        if value:
            graph.add((concept, predicate, Literal(value, lang=lang)))

    def ordered(name: str, values, key=str) -> None:
        # RDF keeps no order among repeated values: an import sorts them. When
        # that would change the document's order, an rdf:List keeps it (and
        # the words as written) for an import that reads this graph back.
        if list(values) != sorted(values, key=key):
            node = BNode()
            Collection(graph, node, [Literal(value) for value in values])
            graph.add((concept, gl[f"{name}Order"], node))

    graph.add((concept, RDF.type, SKOS.Concept))
    text(SKOS.prefLabel, document.term)
    for alias in document.aliases:
        if alias != document.term:
            text(SKOS.altLabel, alias)
    ordered("alias", document.aliases)
    for labels in document.labels:
        text(SKOS.prefLabel, labels.name, labels.language)
        for alias in labels.aliases:
            text(SKOS.altLabel, alias, labels.language)
        ordered(f"alias_{labels.language}", labels.aliases)
        text(SKOS.definition, labels.short_def, labels.language)
    text(SKOS.definition, document.short_def)
    text(DCTERMS.description, document.long_def)
    text(SKOS.scopeNote, document.risk_notes)
    text(gl.riskNotes, document.risk_notes)
    text(gl.execPerspective, document.exec_perspective)
    text(gl.engineerPerspective, document.engineer_perspective)
    for example in document.examples_do:
        text(gl.exampleDo, example)
    ordered("exampleDo", document.examples_do)
    for example in document.examples_dont:
        text(gl.exampleDont, example)
    ordered("exampleDont", document.examples_dont)
    for index, category in enumerate(document.categories):
        node = BNode()
        graph.add((concept, gl.category, node))
        graph.add((node, gl.name, Literal(category)))
        graph.add((node, gl.position, Literal(index)))
    for role in document.roles:
        graph.add((concept, gl.role, Literal(role)))
    ordered("role", document.roles)
    for tag in document.nist_rmf_tags:
        graph.add((concept, gl.nistTag, Literal(tag)))
    ordered("nistTag", document.nist_rmf_tags)
    if document.part_of_speech:
        graph.add((concept, gl.partOfSpeech, Literal(document.part_of_speech)))
    _add_links(graph, gl, concept, document, by_key, names, ordered)
    for index, (source, url) in enumerate(document.citations):
        node = BNode()
        graph.add((concept, DCTERMS.source, node))
        graph.add((node, DCTERMS.title, Literal(source)))
        graph.add((node, SCHEMA.url, URIRef(iri(url))))
        graph.add((node, gl.position, Literal(index)))
    if document.license:
        graph.add((concept, DCTERMS.license, Literal(document.license)))
    graph.add((concept, gl.status, Literal(document.status)))
    if document.status == "deprecated":
        graph.add((concept, OWL.deprecated, Literal(True)))
    graph.add(
        (
            concept,
            gl.lastReviewed,
            Literal(document.last_reviewed.isoformat(), datatype=XSD.date),
        )
    )


def _add_links(graph, gl, concept, document, by_key, names, ordered) -> None:
    """Broader, narrower and related links, with what a round trip needs."""
    links = {
        "broader": SKOS.broader,
        "narrower": SKOS.narrower,
        "related": SKOS.related,
    }
    hierarchy = set()
    for kind in ("broader", "narrower", "related"):
        ordered(kind, getattr(document, kind), key=lookup_key)
        for target in getattr(document, kind):
            slug = by_key.get(lookup_key(target))
            written = Literal(target)
            if slug is None or (kind == "related" and slug in hierarchy):
                # No term of that name here (or a related link SKOS would refuse
                # beside a broader one): the words as written, for a round trip.
                graph.add((concept, gl[f"{kind}Target"], written))
                continue
            if kind != "related":
                hierarchy.add(slug)
            graph.add((concept, links[kind], concept_uri(slug)))
            if target != names.get(slug):
                # How the link was written, when it is not the target's name.
                node = BNode()
                graph.add((concept, gl[f"{kind}As"], node))
                graph.add((node, gl.target, concept_uri(slug)))
                graph.add((node, gl.written, written))


def serialise(graph: Graph, fmt: str, *, stable: bool = False) -> bytes:
    """The graph in one of ``FORMATS``, as UTF-8 bytes.

    ``stable``: the same bytes for the same graph, in any process (a release's
    export): blank nodes get labels derived from what they hold (rdflib's
    canonical labelling) and triples are written in sorted order, where
    otherwise each run draws new blank node labels.
    """
    if stable:
        graph = _stable(graph)
    serialiser = FORMATS[fmt][0]
    if stable and serialiser == "json-ld":
        data = json.loads(graph.serialize(format=serialiser))
        text = json.dumps(_sorted_json(data), ensure_ascii=False, indent=2)
        return text.encode("utf-8")
    text = graph.serialize(format=serialiser, encoding="utf-8")
    return text if isinstance(text, bytes) else text.encode("utf-8")


class _SortedGraph(Graph):
    """A graph whose subjects and their properties come out in sorted order,
    for the RDF/XML writer (which otherwise follows the set order of the
    process, and so changes with Python's hash seed)."""

    def subjects(self, predicate=None, object=None, unique=False):
        found = set(super().subjects(predicate, object))
        return iter(sorted(found, key=lambda node: (type(node).__name__, str(node))))

    def predicate_objects(self, subject=None, unique=False):
        found = set(super().predicate_objects(subject))
        return iter(
            sorted(
                found,
                key=lambda pair: (str(pair[0]), type(pair[1]).__name__, str(pair[1])),
            )
        )


def _pair_order(pair) -> tuple:
    predicate, value = pair
    return str(predicate), type(value).__name__, str(value)


def _stable(graph: Graph) -> Graph:
    from rdflib.compare import to_canonical_graph

    ordered = _SortedGraph()
    for prefix, namespace in graph.namespaces():
        ordered.bind(prefix, namespace, override=True)
    for triple in sorted(to_canonical_graph(graph)):
        ordered.add(triple)
    return ordered


def _sorted_json(value, key: str = ""):
    """JSON-LD with every unordered array sorted (``@list`` keeps its order)."""
    if isinstance(value, dict):
        return {k: _sorted_json(v, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_sorted_json(item) for item in value]
        if key == "@list":
            return items
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return value


def integrity_problems(graph: Graph) -> list[str]:
    """Where the graph breaks the SKOS integrity conditions that apply here:
    S14 (one prefLabel per language), S13 (prefLabel and altLabel disjoint),
    S27 (related disjoint from broader-transitive, in either direction and
    through any number of steps)."""
    problems = []
    for concept in set(graph.subjects(RDF.type, SKOS.Concept)):
        preferred: dict[str, set[str]] = {}
        for label in graph.objects(concept, SKOS.prefLabel):
            preferred.setdefault(label.language or "", set()).add(str(label))
        for language, labels in preferred.items():
            if len(labels) > 1:
                problems.append(f"{concept}: {len(labels)} prefLabels in {language!r}")
        for label in graph.objects(concept, SKOS.altLabel):
            if str(label) in preferred.get(label.language or "", set()):
                problems.append(f"{concept}: {label!r} is both prefLabel and altLabel")
    for a, b in _related_clashes(graph):
        problems.append(f"{a}: related to {b}, which is broader or narrower (S27)")
    return problems
