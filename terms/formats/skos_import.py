"""SKOS in: a Turtle, RDF/XML or JSON-LD file as term documents.

The reverse of ``terms.formats.skos``. Each ``skos:Concept`` becomes the data of one
term document, which the importer then validates like a YAML file:

- ``skos:prefLabel`` in the default language (``GLOSSARY_LANGUAGE``, or with no
  language tag) -> ``term``; ``skos:altLabel`` and ``skos:hiddenLabel`` ->
  ``aliases``; labels in other languages -> ``labels`` (name, aliases and
  ``skos:definition``, or failing that ``skos:scopeNote``, as short definition);
- ``skos:definition`` -> ``short_def``; a thesaurus without definitions has
  scope notes, so ``skos:scopeNote`` stands in for one (one too long for a
  short definition goes to ``long_def``); ``dct:description`` -> ``long_def``;
- ``skos:broader``/``narrower``/``related`` -> relationships, by the target's
  default name when the file holds the target (a target outside the file is
  left out and reported); ``skos:Collection`` membership -> categories;
- ``gl:`` values (audiences, examples, roles, tags, status, review date,
  citations, relationships as written, order lists) as ``terms.formats.skos`` writes
  them, so an export imports back unchanged;
- status: ``gl:status``, else ``draft``; review date: ``gl:lastReviewed``, else
  the date of ``dct:modified`` or ``dct:created``, else today.

Values RDF keeps unordered (aliases, links) come in the order of the graph's
order lists when it has them, otherwise sorted, so importing the same file
twice gives the same documents.
"""

import datetime
import json
import xml.sax
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, SKOS
from rdflib.plugins.parsers.notation3 import BadSyntax

from terms.documents.fields import SHORT_DEF_MAX_CHARS
from terms.documents.naming import language_tag, lookup_key
from terms.documents.yaml_loader import Problem
from terms.formats.skos import SCHEMA, concept_uri, site

__all__ = ["PARSERS", "Entry", "read_skos"]

#: file suffix -> rdflib parser
PARSERS = {".ttl": "turtle", ".rdf": "xml", ".jsonld": "json-ld"}


@dataclass
class Entry:
    """One term document read from a file of many, and where it came from."""

    data: dict[str, Any]
    #: How a report names it: ``file <concept URI>`` or ``file:line``.
    where: str
    line: int | None = None
    #: What was left out of it, reported without refusing the import.
    warnings: list[Problem] = field(default_factory=list)


def _hazard(raw: bytes, fmt: str) -> str | None:
    """Why a file must not reach rdflib at all, or None.

    RDF/XML may declare a DTD whose nested entities expand without end (a file
    of a few hundred bytes then takes minutes) or name external files; no RDF
    vocabulary needs one, so any DTD is refused. JSON-LD may name its
    ``@context`` by URL, which rdflib would fetch (from the network or from
    ``file://`` paths on this server, even on a dry run): only inline contexts
    are read.
    """
    if fmt == "xml":
        import defusedxml.ElementTree
        from defusedxml import DefusedXmlException

        try:
            defusedxml.ElementTree.fromstring(
                raw, forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
        except DefusedXmlException:
            return (
                "RDF/XML with a DTD or entity declarations is not read "
                "(<!DOCTYPE> and <!ENTITY> are refused)"
            )
        except Exception:
            return None  # malformed: rdflib reports where
    if fmt == "json-ld":
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None  # rdflib's parser reports where
        remote = _remote_contexts(data)
        if remote:
            return (
                "JSON-LD contexts are read inline only; this file refers to "
                f"{remote[0]!r} (put the context's terms in the file)"
            )
    return None


def _remote_contexts(data: Any) -> list[str]:
    """Every context (or ``@import``) named by reference anywhere in ``data``."""
    found, stack = [], [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in ("@context", "@import"):
                    values = value if isinstance(value, list) else [value]
                    found += [v for v in values if isinstance(v, str)]
                stack.append(value)
    return found


def _parse(raw: bytes, fmt: str, file: str) -> tuple[Graph | None, list[Problem]]:
    hazard = _hazard(raw, fmt)
    if hazard:
        return None, [Problem(hazard, file=file)]
    graph = Graph()
    try:
        graph.parse(data=raw, format=fmt)
    except BadSyntax as exc:
        message = f"not valid Turtle: {exc._why}"
        return None, [Problem(message, file=file, line=exc.lines + 1)]
    except xml.sax.SAXParseException as exc:
        message = f"not valid RDF/XML: {exc.getMessage()}"
        return None, [Problem(message, file=file, line=exc.getLineNumber())]
    except json.JSONDecodeError as exc:
        return None, [
            Problem(f"not valid JSON-LD: {exc.msg}", file=file, line=exc.lineno)
        ]
    except Exception as exc:  # rdflib raises many kinds: report them, never crash
        return None, [Problem(f"cannot read it as RDF: {exc}", file=file)]
    return graph, []


def _vocabulary(graph: Graph) -> str:
    """The ``gl:`` namespace the file uses (an export of another site has its own)."""
    for predicate in set(graph.predicates()):
        text = str(predicate)
        if text.endswith("/vocab#lastReviewed"):
            return text[: -len("lastReviewed")]
    return f"{site()}/vocab#"


class _Reader:
    def __init__(self, graph: Graph, file: str):
        self.graph = graph
        self.file = file
        self.gl = _vocabulary(graph)
        self.default = language_tag(settings.GLOSSARY_LANGUAGE) or "en"
        self.concepts = sorted(set(graph.subjects(RDF.type, SKOS.Concept)), key=str)
        self.names = {c: self._name(c) for c in self.concepts}
        self.collections = self._collections()

    def gl_(self, name: str) -> URIRef:
        return URIRef(self.gl + name)

    def _is_default(self, literal: Literal) -> bool:
        tag = literal.language
        return not tag or tag.split("-")[0].lower() == self.default.split("-")[0]

    def texts(self, subject, predicate, *, default: bool = True) -> list[str]:
        """Literal values, default-language (or untagged) ones when ``default``."""
        return sorted(
            str(o).strip()
            for o in self.graph.objects(subject, predicate)
            if isinstance(o, Literal) and self._is_default(o) == default
        )

    def one(self, subject, predicate) -> str:
        found = self.texts(subject, predicate)
        return found[0] if found else ""

    def ordered(self, subject, name: str, fallback: list[str]) -> list[str]:
        """Values in the order of the ``gl:{name}Order`` list, if the file has one."""
        node = self.graph.value(subject, self.gl_(f"{name}Order"))
        if node is None:
            return fallback
        return [str(item) for item in Collection(self.graph, node)]

    def _name(self, concept) -> str:
        return self.one(concept, SKOS.prefLabel)

    def _collections(self) -> dict:
        """Concept -> the names of the collections it is a member of."""
        found = defaultdict(list)
        for collection in self.graph.subjects(RDF.type, SKOS.Collection):
            name = self.one(collection, SKOS.prefLabel) or self.one(
                collection, DCTERMS.title
            )
            if not name:
                continue
            for member in self.graph.objects(collection, SKOS.member):
                found[member].append(name)
        return {concept: sorted(set(names)) for concept, names in found.items()}

    def entries(self) -> tuple[list[Entry], list[Problem]]:
        entries, problems = [], []
        for concept in self.concepts:
            where = f"{self.file} <{concept}>"
            if not self.names[concept]:
                problems.append(
                    Problem(
                        f"concept <{concept}> has no skos:prefLabel in "
                        f"{self.default!r} (the glossary's default language)",
                        file=self.file,
                        field="term",
                    )
                )
                continue
            data, missing, itself = self.document(concept)
            entry = Entry(data, where)
            entries.append(entry)
            if missing:
                entry.warnings.append(
                    Problem(
                        f"{len(missing)} link(s) name concepts outside the file and "
                        f"were left out: {', '.join(sorted(missing)[:3])}"
                        + (" ..." if len(missing) > 3 else ""),
                        file=where,
                        field="relationships",
                    )
                )
            if itself:
                entry.warnings.append(
                    Problem(
                        f"the concept links to itself ({', '.join(itself)}); left out",
                        file=where,
                        field="relationships",
                    )
                )
        return entries, problems

    def document(self, concept) -> tuple[dict[str, Any], list[str], list[str]]:
        gl = self.gl_
        name = self.names[concept]
        aliases = self.texts(concept, SKOS.altLabel) + self.texts(
            concept, SKOS.hiddenLabel
        )
        aliases = self.ordered(concept, "alias", _distinct(aliases, exclude=name))
        risk_notes = self.one(concept, gl("riskNotes")) or None
        short_def = self.one(concept, SKOS.definition)
        long_def = self.one(concept, DCTERMS.description)
        if not short_def:
            notes = [n for n in self.texts(concept, SKOS.scopeNote) if n != risk_notes]
            note = notes[0] if notes else ""
            if len(note) > SHORT_DEF_MAX_CHARS and not long_def:
                long_def = note
            elif len(note) <= SHORT_DEF_MAX_CHARS:
                short_def = note
        links, missing, itself = self.links(concept)
        data: dict[str, Any] = {
            "term": name,
            "aliases": aliases,
            "categories": self.categories(concept),
            "roles": self.ordered(concept, "role", self.texts(concept, gl("role"))),
            "part_of_speech": self.one(concept, gl("partOfSpeech")),
            "short_def": short_def,
            "long_def": long_def,
            "audiences": {
                "exec": self.one(concept, gl("execPerspective")),
                "engineer": self.one(concept, gl("engineerPerspective")),
            },
            "examples": {
                kind: self.ordered(
                    concept,
                    f"example{suffix}",
                    self.texts(concept, gl(f"example{suffix}")),
                )
                for kind, suffix in (("do", "Do"), ("dont", "Dont"))
            },
            "governance": {},
            "relationships": links,
            "citations": self.citations(concept),
            "license": self.one(concept, DCTERMS.license),
            "status": self.one(concept, gl("status")) or "draft",
            "last_reviewed": self.reviewed(concept),
        }
        tags = self.ordered(concept, "nistTag", self.texts(concept, gl("nistTag")))
        if tags:
            data["governance"]["nist_rmf_tags"] = tags
        if risk_notes is not None:
            data["governance"]["risk_notes"] = risk_notes
        labels = self.labels(concept)
        if labels:
            data["labels"] = labels
        return data, missing, itself

    def labels(self, concept) -> dict[str, dict[str, Any]]:
        by_language: dict[str, dict[str, list[str]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for predicate, kind in (
            (SKOS.prefLabel, "name"),
            (SKOS.altLabel, "aliases"),
            (SKOS.hiddenLabel, "aliases"),
            (SKOS.definition, "definition"),
            (SKOS.scopeNote, "note"),
        ):
            for literal in self.graph.objects(concept, predicate):
                if isinstance(literal, Literal) and not self._is_default(literal):
                    tag = language_tag(literal.language) or literal.language
                    by_language[tag][kind].append(str(literal).strip())
        labels = {}
        for tag, found in sorted(by_language.items()):
            names = sorted(found["name"]) or sorted(found["aliases"])[:1]
            if not names:
                continue  # only notes in this language: nothing to call it by
            name = names[0]
            entry: dict[str, Any] = {"name": name}
            aliases = _distinct(sorted(found["aliases"]), exclude=name, by_key=True)
            aliases = self.ordered(concept, f"alias_{tag}", aliases)
            if aliases:
                entry["aliases"] = aliases
            definition = (sorted(found["definition"]) or sorted(found["note"]) or [""])[
                0
            ]
            if definition:
                entry["short_def"] = definition
            labels[tag] = entry
        return labels

    def categories(self, concept) -> list[str]:
        placed = []
        for node in self.graph.objects(concept, self.gl_("category")):
            name = self.graph.value(node, self.gl_("name"))
            position = self.graph.value(node, self.gl_("position"))
            if name is not None:
                placed.append((int(position or 0), str(name)))
        if placed:
            return [name for _, name in sorted(placed)]
        return self.collections.get(concept, [])

    def links(self, concept) -> tuple[dict[str, list[str]], list[str], list[str]]:
        links: dict[str, list[str]] = {}
        missing: list[str] = []
        itself: list[str] = []
        for kind, predicate in (
            ("broader", SKOS.broader),
            ("narrower", SKOS.narrower),
            ("related", SKOS.related),
        ):
            order = self.graph.value(concept, self.gl_(f"{kind}Order"))
            if order is not None:
                links[kind] = [str(item) for item in Collection(self.graph, order)]
                continue
            # Links written otherwise than the target's name ("logprob").
            written = {}
            for node in self.graph.objects(concept, self.gl_(f"{kind}As")):
                target = self.graph.value(node, self.gl_("target"))
                words = self.graph.value(node, self.gl_("written"))
                if target is not None and words is not None:
                    written[target] = str(words)
            targets = []
            for target in self.graph.objects(concept, predicate):
                if target == concept:
                    itself.append(f"skos:{kind}")
                    continue
                name = (
                    written.get(target) or self.names.get(target) or _our_slug(target)
                )
                if name:
                    targets.append(name)
                else:
                    missing.append(str(target))
            targets += self.texts(concept, self.gl_(f"{kind}Target"))
            if targets:
                links[kind] = _distinct(sorted(targets, key=lookup_key), exclude="")
        return links, missing, itself

    def citations(self, concept) -> list[dict[str, str]]:
        found = []
        for node in self.graph.objects(concept, DCTERMS.source):
            if isinstance(node, BNode):
                title = self.graph.value(node, DCTERMS.title)
                url = self.graph.value(node, SCHEMA.url)
                position = self.graph.value(node, self.gl_("position"))
                if title is not None and url is not None:
                    found.append((int(position or 0), str(title), str(url)))
            elif isinstance(node, URIRef):
                found.append((0, str(node), str(node)))
        return [{"source": s, "url": u} for _, s, u in sorted(found)]

    def reviewed(self, concept) -> str:
        for predicate in (self.gl_("lastReviewed"), DCTERMS.modified, DCTERMS.created):
            value = self.graph.value(concept, predicate)
            if value is not None:
                text = str(value)[:10]
                try:
                    return datetime.date.fromisoformat(text).isoformat()
                except ValueError:
                    continue
        return datetime.date.today().isoformat()


def _distinct(values: list[str], *, exclude: str, by_key: bool = False) -> list[str]:
    """Values without repeats (by lookup key) and without ``exclude``: itself
    (a term's alias may differ from its name by case or hyphens only), or
    ``by_key`` anything with its lookup key (a label's aliases may not)."""
    seen = {lookup_key(exclude)} if by_key and exclude else set()
    kept = []
    for value in values:
        key = lookup_key(value)
        if key and key not in seen and value != exclude:
            seen.add(key)
            kept.append(value)
    return kept


def _our_slug(target) -> str | None:
    """The slug in one of this glossary's concept URIs, for a link to a term
    the file does not hold."""
    prefix = str(concept_uri("")).rstrip("/")
    text = str(target)
    if text.startswith(prefix) and text.endswith("/"):
        slug = text[len(prefix) :].strip("/")
        return slug or None
    return None


def read_skos(
    raw: bytes, *, file: str, suffix: str
) -> tuple[list[Entry], list[Problem]]:
    """The term documents of every concept in a SKOS file, and its problems."""
    graph, problems = _parse(raw, PARSERS[suffix], file)
    if graph is None:
        return [], problems
    reader = _Reader(graph, file)
    if not reader.concepts:
        return [], [Problem("holds no skos:Concept", file=file)]
    return reader.entries()
