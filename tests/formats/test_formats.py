"""SKOS and CSV in: the reference corpus exported in every format imports back
unchanged; bad files are reported with their lines and write nothing."""

import csv
import io

import pytest
from rdflib import BNode, Graph

from terms.formats import registry
from terms.formats.csvfile import COLUMNS
from terms.formats.skos_import import read_skos
from terms.models import Term
from tests.helpers import base_term, corpus_documents, run_import

pytestmark = pytest.mark.django_db


def _export(api, fmt: str) -> bytes:
    response = api.get("/api/v1/export/", {"format": fmt})
    assert response.status_code == 200, response.content
    return response.content


@pytest.mark.parametrize(
    "fmt", [name for name, fmt in registry.FORMATS.items() if fmt.read is not None]
)
def test_every_export_format_imports_back_unchanged(corpus_db, api, tmp_path, fmt):
    path = tmp_path / f"glossary.{fmt}"
    path.write_bytes(_export(api, fmt))
    report, _ = run_import(path)
    assert not report["errors"], report["errors"][:3]
    assert report["created"] == report["updated"] == []
    assert len(report["unchanged"]) == 112
    # One row per term, each unchanged.
    assert {row["action"] for row in report["rows"]} == {"unchanged"}
    assert len(report["rows"]) == 112


@pytest.mark.slow
def test_the_three_rdf_formats_hold_the_same_graph(corpus_db, api):
    # rdflib's isomorphism test takes minutes on a graph with this many blank
    # nodes (citations, order lists); equal sizes, equal ground triples and
    # equal documents read from each say the same, and would catch a loss.
    exports = {fmt: _export(api, fmt) for fmt in ("ttl", "rdf", "jsonld")}
    parsers = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld"}
    graphs = {
        fmt: Graph().parse(data=data, format=parsers[fmt])
        for fmt, data in exports.items()
    }
    assert len(graphs["ttl"]) > 112 * 10
    assert len(graphs["rdf"]) == len(graphs["jsonld"]) == len(graphs["ttl"])

    def ground(graph):
        return {t for t in graph if not any(isinstance(n, BNode) for n in t)}

    assert ground(graphs["rdf"]) == ground(graphs["ttl"]) == ground(graphs["jsonld"])
    documents = {
        fmt: [e.data for e in read_skos(data, file="x", suffix=f".{fmt}")[0]]
        for fmt, data in exports.items()
    }
    assert documents["rdf"] == documents["ttl"] == documents["jsonld"]


def test_csv_has_openmetadata_columns_and_carries_the_document(corpus_db, api):
    rows = list(csv.DictReader(io.StringIO(_export(api, "csv").decode())))
    assert list(rows[0]) == list(COLUMNS)
    by_name = {row["name*"]: row for row in rows}
    docs = corpus_documents(corpus_db)
    log = docs["log-probability"]
    row = by_name[log["term"]]
    assert row["synonyms"].split(";") == log["aliases"]
    assert row["description"].startswith(log["short_def"] + "\n\n")
    assert row["glossaryStatus"] == "Approved"
    assert f"Category.{log['categories'][0]}" in row["tags"].split(";")
    assert row["references"].split(";")[:2] == [
        log["citations"][0]["source"],
        log["citations"][0]["url"],
    ]
    assert "lastReviewed:" in row["extension"]
    # A term with a broader term names it as its parent, fully qualified.
    child = next(d for d in docs.values() if d["relationships"].get("broader"))
    parent = by_name[child["term"]]["parent"]
    assert parent.startswith("Glossary.")
    assert parent.endswith(child["relationships"]["broader"][0])


CSV_HEADER = ",".join(COLUMNS)


def test_a_csv_from_elsewhere_imports_as_drafts_with_a_row_report(db, tmp_path):
    path = tmp_path / "from-openmetadata.csv"
    path.write_text(
        f"{CSV_HEADER}\n"
        ',CustomerId,Customer identifier,"The id a customer has.\n\nLonger text.",'
        "cid;customer_id,,,,john,team;sales,Draft,#FF5733,,\n"
        "Glossary.CustomerId,Customer name,,The name.,,relatedTo:Glossary.CustomerId,"
        "Wiki;https://example.org/name,Category.People,,,,,,\n",
        "utf-8",
    )
    before = Term.objects.count()
    report, _ = run_import(path, dry_run=True)
    assert not report["errors"], report["errors"]
    assert [(r["line"], r["slug"], r["action"]) for r in report["rows"]] == [
        (2, "customer-identifier", "created"),
        (5, "customer-name", "created"),
    ]
    assert Term.objects.count() == before  # a dry run writes nothing
    run_import(path)
    first = Term.objects.get(slug="customer-identifier")
    assert first.status == "draft"
    assert [a.name for a in first.aliases.all()] == ["CustomerId", "cid", "customer_id"]
    assert first.short_def == "The id a customer has."
    assert first.long_def == "Longer text."
    second = Term.objects.get(slug="customer-name")
    links = {(r.kind, r.target_name) for r in second.relationships.all()}
    assert links == {("broader", "CustomerId"), ("related", "CustomerId")}
    assert [c.url for c in second.citations.all()] == ["https://example.org/name"]


def test_bad_csv_rows_are_reported_by_line_and_nothing_is_written(db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        f"{CSV_HEADER}\n"
        ",good term,,A definition.,,,,,,,,,,\n"
        ",bad status,,A definition.,,,,,,,Published,,,\n"
        ",bad tag,,A definition.,,,,PII.Sensitive,,,,,,\n"
        ",good term,,Twice.,,,,,,,,,,\n",
        "utf-8",
    )
    before = Term.objects.count()
    report, _ = run_import(path)
    rows = {row["line"]: row for row in report["rows"]}
    assert rows[2]["action"] == "not_written"
    assert rows[2]["errors"] == []
    assert rows[3]["action"] == "invalid"
    assert "unknown status 'Published'" in rows[3]["errors"][0]
    # A tag of a classification not kept here is left out with a warning
    # (OpenMetadata's own files carry them), never a reason to refuse.
    assert rows[4]["action"] == "not_written"
    assert rows[4]["errors"] == []
    assert any("PII.Sensitive" in w["message"] for w in report["warnings"])
    assert rows[5]["action"] == "invalid"
    assert "also defined" in rows[5]["errors"][0]
    assert Term.objects.count() == before


def test_unknown_csv_columns_are_refused(db, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("name,colour\nx,red\n", "utf-8")
    report, _ = run_import(path)
    [error] = report["errors"]
    assert error["line"] == 1
    assert "'colour'" in error["message"]


@pytest.mark.parametrize(
    ("suffix", "text", "line", "says"),
    [
        (
            ".ttl",
            "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
            "<http://x/a> a skos:Concept ;\n"
            '  skos:prefLabel "a"@en ;;\n'
            "  skos:altLabel .\n",
            4,
            "not valid Turtle",
        ),
        (".jsonld", '{"@id": "http://x/a",\n "name": }', 2, "not valid JSON-LD"),
        (
            ".rdf",
            "<rdf:RDF\n  xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\n<oops",
            3,
            "not valid RDF/XML",
        ),
    ],
)
def test_a_malformed_rdf_file_is_reported_with_its_line(
    db, tmp_path, suffix, text, line, says
):
    good = tmp_path / "good.ttl"
    good.write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        '<http://x/b> a skos:Concept ; skos:prefLabel "b"@en .\n',
        "utf-8",
    )
    bad = tmp_path / f"bad{suffix}"
    bad.write_text(text, "utf-8")
    before = Term.objects.count()
    report, _ = run_import(good, bad)
    [error] = report["errors"]
    assert error["file"] == str(bad)
    assert says in error["message"]
    assert error["line"] == line
    assert Term.objects.count() == before  # the good file is not written either


def test_a_concept_without_a_default_language_name_is_refused(db, tmp_path):
    path = tmp_path / "french.ttl"
    path.write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        '<http://x/a> a skos:Concept ; skos:prefLabel "chat"@fr .\n',
        "utf-8",
    )
    report, _ = run_import(path)
    [error] = report["errors"]
    assert "no skos:prefLabel in 'en'" in error["message"]


def test_openmetadatas_approved_rows_arrive_as_drafts_saying_why(db, tmp_path):
    """A CSV in OpenMetadata's layout as OpenMetadata exports it: nested terms,
    related terms across levels, tags of its own classifications, approved
    terms with only a description."""
    path = tmp_path / "business.csv"
    path.write_text(
        f"{CSV_HEADER}\n"
        ",Revenue,Revenue,Money a business earns.,Income,,,PII.None,,,Approved,,,\n"
        "Glossary.Revenue,Net revenue,Net revenue,Revenue after returns.,,"
        "Glossary.Revenue,,Tier.Tier1,,,Approved,,,\n"
        ",Churn,Churn,Customers who leave.,,,,,,,Draft,,,\n",
        "utf-8",
    )
    report, _ = run_import(path)
    assert not report["errors"], report["errors"]
    names = ["Revenue", "Net revenue", "Churn"]
    stored = dict(Term.objects.filter(name__in=names).values_list("name", "status"))
    assert stored == dict.fromkeys(names, "draft")
    said = " ".join(w["message"] for w in report["warnings"])
    assert "Approved in the file" in said
    assert "imported as a draft" in said
    assert "PII.None" in said
    assert "Tier.Tier1" in said
    net = Term.objects.get(name="Net revenue")
    assert set(net.relationships.values_list("kind", "target__name")) == {
        ("broader", "Revenue"),
        ("related", "Revenue"),
    }


def test_the_csv_follows_openmetadatas_rules_for_names_and_parents(corpus_db, api):
    """OpenMetadata imports a glossary CSV row by row: a parent must be a row
    above, named by its fully qualified name (the glossary, its ancestors, its
    name: exact case), and related terms must name rows the same way."""
    text = api.get("/api/v1/export/", {"format": "csv"}).content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 112
    own, seen = {}, set()
    for row in rows:
        name = row["name*"]
        parent = row["parent"]
        if parent:
            assert parent in seen, (name, parent)  # a row above this one
            own[name] = f"{parent}.{name}" if "." not in name else None
        else:
            own[name] = f"Glossary.{name}" if "." not in name else None
        if own[name]:
            seen.add(own[name])
    fqns = set(seen)
    nested = [row for row in rows if row["parent"]]
    assert nested, "the corpus has nested terms"
    for row in rows:
        for item in filter(None, row["relatedTerms"].split(";")):
            target = item.split(":", 1)[1] if ":" in item else item
            assert target in fqns, (row["name*"], item)


def test_custom_properties_are_quoted_as_openmetadata_writes_them(db):
    """OpenMetadata's CsvUtil quotes a whole ``name:value`` item that holds a
    comma or semicolon, never the value alone (which it would read back with
    the quotes in it); values with quotes and bars still come back whole here."""
    from terms.documents.document import validate_term_data
    from terms.formats.csvfile import read_csv, write_csv
    from terms.reads.selectors import known_roles

    data = base_term(
        "quoting",
        status="approved",
        audiences={"exec": "Costs, risks; and time.", "engineer": "Plain words"},
        examples={
            "do": ['Say "hello", then wave.', "a|b", "plain"],
            "dont": ["Semi; colon"],
        },
    )
    document, problems = validate_term_data(data, known_roles=known_roles())
    assert not problems, problems
    text, lost = write_csv([document])
    [row] = list(csv.DictReader(io.StringIO(text)))
    items = row["extension"]
    assert '"execPerspective:Costs, risks; and time."' in items
    assert "engineerPerspective:Plain words" in items
    assert 'execPerspective:"' not in items
    assert any("holds '\"'" in what for what in lost)
    [entry], problems = read_csv(text.encode(), file="x.csv")
    assert not problems, problems
    back = entry.data
    assert back["audiences"] == data["audiences"]
    assert back["examples"] == data["examples"]
