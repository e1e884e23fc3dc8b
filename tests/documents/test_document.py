"""The term document module: every kind of bad input is refused with a clear problem."""

import datetime

import pytest
import yaml

from terms.documents.datafiles import (
    parse_categories_file,
    parse_roles_file,
    parse_site_file,
)
from terms.documents.document import (
    editorial_problems,
    parse_term_file,
    validate_term_data,
)
from terms.documents.naming import lookup_key, term_slug
from terms.documents.yaml_loader import MAX_FILE_BYTES
from tests.helpers import base_term, read_yaml

ROLES = {"engineering", "product", "policy"}


def dump(data) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


def parse(raw: bytes, slug: str | None = "sample-term", roles=ROLES):
    return parse_term_file(
        raw, file="sample-term.yml", expected_slug=slug, known_roles=roles
    )


def messages(problems) -> str:
    return "\n".join(str(problem) for problem in problems)


def test_valid_document_parses_and_strips_strings():
    data = base_term(short_def="  padded text \n")
    document, problems = parse(dump(data))
    assert problems == []
    assert document.short_def == "padded text"
    assert document.slug == "sample-term"
    assert document.last_reviewed == datetime.date(2026, 1, 15)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("log probability", "log-probability"),
        ("top-k sampling", "top-k-sampling"),
        ("  Mixed_Case  Name ", "mixed-case-name"),
        ("a -- b", "a-b"),
    ],
)
def test_slug_rule(name, slug):
    assert term_slug(name) == slug


def test_lookup_key_ignores_case_spaces_hyphens_underscores():
    keys = {
        lookup_key(text)
        for text in (
            "Log Probability",
            "log-probability",
            "log_probability",
            " LOG  probability ",
        )
    }
    assert keys == {"log probability"}


def test_dates_quoted_or_plain_mean_the_same():
    plain = b"last_reviewed: 2026-01-15\n"
    raw = dump({k: v for k, v in base_term().items() if k != "last_reviewed"}) + plain
    document, problems = parse(raw)
    assert problems == []
    quoted, _ = parse(dump(base_term()))
    assert document == quoted


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "file is empty"),
        (b"   \n# only a comment\n", "file is empty"),
        (b"term: [unclosed\n", "malformed YAML"),
        (b"- just\n- a list\n", "must be a mapping, not a list"),
        (b"plain string\n", "must be a mapping, not a string"),
        (b"\xff\xfeterm: x\n", "not valid UTF-8"),
        (b"term: x\n---\nterm: y\n", "expected a single document"),
        (
            b"term: !!python/object/apply:os.system ['echo hi']\n",
            "YAML tag !!python/object/apply:os.system is not allowed",
        ),
        (b"term: !custom x\n", "YAML tag !custom is not allowed"),
        (b"term: !!binary aGk=\n", "YAML tag !!binary is not allowed"),
        (b"<<: {term: x}\n", "merge keys"),
        (b"? [a, b]\n: c\n", "mapping keys must be plain strings"),
    ],
)
def test_malformed_files_are_refused(raw, expected):
    document, problems = parse(raw)
    assert document is None
    assert expected in messages(problems)
    assert all(problem.file == "sample-term.yml" for problem in problems)


def test_duplicate_keys_are_detected_with_both_lines():
    raw = dump(base_term()) + b"short_def: a second value\n"
    document, problems = parse(raw)
    assert document is None
    [problem] = problems
    assert problem.field == "short_def"
    assert "duplicate key 'short_def' (first given on line" in problem.message
    assert problem.line == raw.decode().count("\n")


def test_nested_duplicate_keys_are_detected():
    raw = dump(base_term()).replace(
        b"  exec: Why leaders care.\n", b"  exec: Why leaders care.\n  exec: twice\n"
    )
    _, problems = parse(raw)
    assert [problem.field for problem in problems] == ["audiences.exec"]


def test_alias_bomb_is_refused_without_expansion():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    document, problems = parse("\n".join(lines).encode())
    assert document is None
    assert "anchors and aliases" in messages(problems)


def test_oversized_file_is_refused_before_parsing():
    raw = b"term: x\n" + b"#" * MAX_FILE_BYTES
    document, problems = parse(raw)
    assert document is None
    assert "the limit is 1,048,576 bytes" in messages(problems)


def test_utf8_bom_is_accepted():
    document, problems = parse(b"\xef\xbb\xbf" + dump(base_term()))
    assert problems == []
    assert document.term == "sample term"


def test_unicode_is_kept():
    text = "Token\u2019s \u201cprobability\u201d \u2014 na\u00efve"
    document, problems = parse(dump(base_term(short_def=text)))
    assert problems == []
    assert document.short_def == text


def test_every_problem_in_a_file_is_reported_with_lines():
    data = base_term(
        aliases="not a list",
        part_of_speech="pronoun",
        status="published",
        last_reviewed="15/01/2026",
        citations=[{"source": "x", "url": "javascript:alert(1)"}],
        extra="unexpected",
    )
    data["short_def"] = None
    raw = dump(data)
    document, problems = parse(raw)
    assert document is None
    by_field = {problem.field: problem for problem in problems}
    assert set(by_field) == {
        "aliases",
        "part_of_speech",
        "status",
        "last_reviewed",
        "citations[0].url",
        "extra",
        "short_def",
    }
    assert "must be a list, not a string" in by_field["aliases"].message
    assert (
        "'pronoun' is not one of: noun, noun_phrase"
        in by_field["part_of_speech"].message
    )
    assert (
        "'published' is not one of: draft, reviewed, approved, deprecated"
        in by_field["status"].message
    )
    assert "YYYY-MM-DD" in by_field["last_reviewed"].message
    assert "http:// or https://" in by_field["citations[0].url"].message
    assert "unknown key 'extra'" in by_field["extra"].message
    assert "not null" in by_field["short_def"].message
    text = raw.decode().splitlines()
    for problem in problems:
        assert problem.line is not None
        key = problem.field.split(".")[0].split("[")[0]
        assert key in text[problem.line - 1] or text[problem.line - 1].startswith("  ")


@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        ({"aliases": []}, "aliases", "at least 1 alias"),
        ({"aliases": ["same", "Same"]}, "aliases[1]", "duplicate alias"),
        ({"aliases": [3]}, "aliases[0]", "must be a string, not a number"),
        ({"aliases": [True]}, "aliases[0]", "must be a string, not a boolean"),
        ({"categories": []}, "categories", "at least 1 category"),
        ({"categories": ["!!!"]}, "categories[0]", "gives an empty slug"),
        ({"roles": ["engineering", "engineering"]}, "roles[1]", "duplicate role"),
        ({"roles": ["astronaut"]}, "roles[0]", "unknown role 'astronaut'"),
        ({"short_def": "x" * 321}, "short_def", "the limit is 320"),
        ({"short_def": "   "}, "short_def", "must not be empty"),
        ({"long_def": {"a": 1}}, "long_def", "must be a string, not a mapping"),
        (
            {"audiences": {"exec": "x"}},
            "audiences.engineer",
            "missing required key 'engineer'",
        ),
        (
            {"audiences": {"exec": "x", "engineer": "y", "legal": "z"}},
            "audiences.legal",
            "unknown key",
        ),
        ({"examples": {"do": [], "dont": ["x"]}}, "examples.do", "at least 1 example"),
        (
            {"governance": {"nist_rmf_tags": []}},
            "governance.nist_rmf_tags",
            "at least 1 tag",
        ),
        ({"governance": {"owner": "x"}}, "governance.owner", "unknown key"),
        ({"relationships": {"similar": ["x"]}}, "relationships.similar", "unknown key"),
        (
            {"relationships": {"related": ["x", "X"]}},
            "relationships.related[1]",
            "duplicate target",
        ),
        (
            {"relationships": {"broader": ["Sample-Term"]}},
            "relationships.broader[0]",
            "cannot relate to itself",
        ),
        (
            {"relationships": {"related": ["sample term alias"]}},
            "relationships.related[0]",
            "cannot relate to itself",
        ),
        ({"citations": []}, "citations", "at least 1 citation"),
        (
            {"citations": [{"source": "x"}]},
            "citations[0].url",
            "missing required key 'url'",
        ),
        (
            {"citations": [{"source": "x", "url": "ftp://example.org/x"}]},
            "citations[0].url",
            "http",
        ),
        (
            {"citations": [{"source": "x", "url": "/relative/path"}]},
            "citations[0].url",
            "absolute",
        ),
        (
            {"citations": [{"source": "x", "url": "JavaScript:alert(1)"}]},
            "citations[0].url",
            "http",
        ),
        ({"last_reviewed": "2026-02-30"}, "last_reviewed", "not a real calendar date"),
        (
            {"last_reviewed": datetime.datetime(2026, 1, 1, 10, 0)},
            "last_reviewed",
            "not a timestamp",
        ),
        ({"license": None}, "license", "not null"),
        ({"term": "Other Name"}, "term", "the file is named 'sample-term'.yml"),
        ({"term": "---"}, "term", "empty slug"),
    ],
)
def test_field_rules(overrides, field, expected):
    # A reviewed term must meet every rule; a draft, all but completeness.
    document, problems = parse(dump(base_term(status="reviewed", **overrides)))
    assert document is None
    assert any(
        problem.field == field and expected in problem.message for problem in problems
    ), messages(problems)


def test_missing_keys_are_each_reported():
    data = base_term(status="approved")
    del data["license"], data["citations"]
    _, problems = parse(dump(data))
    assert {problem.message for problem in problems} == {
        "missing required key 'license'",
        "missing required key 'citations'",
    }


def test_json_input_gets_the_same_messages_without_lines():
    document, problems = validate_term_data(base_term(status="live"), known_roles=ROLES)
    assert document is None
    [problem] = problems
    assert problem.field == "status"
    assert problem.line is None
    assert "'live' is not one of" in problem.message


def test_empty_relationship_lists_equal_absent_ones():
    with_empty, _ = parse(
        dump(base_term(relationships={"related": ["another term"], "narrower": []}))
    )
    without, _ = parse(dump(base_term()))
    assert with_empty == without


def test_canonical_yaml_round_trips():
    document, _ = parse(dump(base_term(short_def="Ünïcode stays as is")))
    text = document.to_yaml()
    assert "Ünïcode" in text
    assert list(read_yaml(text)) == list(base_term())
    again, problems = parse(text.encode())
    assert problems == []
    assert again == document
    assert again.to_yaml() == text


def test_editorial_rules():
    document, _ = parse(
        dump(base_term(short_def=" ".join(["w"] * 41), long_def="too short"))
    )
    problems = editorial_problems(document)
    assert problems == [
        "short_def has 41 words; at most 40 are allowed",
        "long_def has 2 words; it needs 80 to 220",
    ]
    good, _ = parse(dump(base_term()))
    assert editorial_problems(good) == []


def test_roles_file_rules():
    raw = dump(
        {
            "roles": [
                {"slug": "ops", "title": "Operations", "summary": "s", "takeaway": "t"},
                {"slug": "ops", "title": "Again", "summary": "s", "takeaway": "t"},
                {"slug": "Bad Slug", "title": "x", "summary": "s", "takeaway": "t"},
                {"slug": "x", "title": "x"},
            ]
        }
    )
    roles, problems = parse_roles_file(raw, file="roles.yml")
    text = messages(problems)
    assert "duplicate role 'ops'" in text
    assert "'Bad Slug' is not a valid role slug" in text
    assert "missing required key 'summary'" in text
    assert roles[0].slug == "ops"


def test_categories_file_rules():
    raw = dump(
        {
            "categories": [
                {"name": "LLM Core", "apply_guidance": ["Do a thing."]},
                {"name": "llm core"},
                {"name": "Other", "apply_guidance": "not a list"},
            ]
        }
    )
    categories, problems = parse_categories_file(raw, file="categories.yml")
    text = messages(problems)
    assert "same slug as 'LLM Core'" in text
    assert "apply_guidance: must be a list" in text
    assert [c.slug for c in categories] == ["llm-core"]


def test_site_file_rules():
    texts, problems = parse_site_file(
        dump({"practice_footer": "Hi", "colour": "red"}), file="site.yml"
    )
    assert "unknown key 'colour'" in messages(problems)
    texts, problems = parse_site_file(dump({"feedback_title": "Gap?"}), file="site.yml")
    assert problems == []
    assert texts == {"feedback_title": "Gap?"}


#: Completeness: what a draft may lack, and a reviewed term may not.
INCOMPLETE = [
    ({"aliases": []}, "aliases", "at least 1 alias"),
    ({"categories": []}, "categories", "at least 1 category"),
    ({"roles": None}, "roles", "must be a list, not null"),
    ({"part_of_speech": ""}, "part_of_speech", "must not be empty"),
    ({"short_def": "   "}, "short_def", "must not be empty"),
    ({"long_def": None}, "long_def", "not null"),
    ({"audiences": {"exec": "x"}}, "audiences.engineer", "missing required key"),
    ({"examples": {"do": [], "dont": []}}, "examples.do", "at least 1 example"),
    ({"citations": []}, "citations", "at least 1 citation"),
    ({"license": None}, "license", "not null"),
]


@pytest.mark.parametrize(("overrides", "field", "expected"), INCOMPLETE)
def test_a_draft_may_be_incomplete(overrides, field, expected):
    document, problems = parse(dump(base_term(status="draft", **overrides)))
    assert problems == []
    assert document.status == "draft"
    # The review gate (complete=True) names what is missing.
    _, problems = validate_term_data(
        base_term(status="draft", **overrides), known_roles=ROLES, complete=True
    )
    assert any(p.field == field and expected in p.message for p in problems), problems


def test_a_draft_may_leave_editorial_keys_out_but_not_its_identity():
    bare = {"term": "sample term", "status": "draft", "last_reviewed": "2026-11-29"}
    document, problems = parse(dump(bare))
    assert problems == []
    assert (document.short_def, document.citations, document.roles) == ("", (), ())
    # Its canonical YAML has every key, empty, and reads back the same.
    again, problems = parse(document.to_yaml().encode())
    assert problems == []
    assert again == document
    for key in ("term", "status", "last_reviewed"):
        partial = {k: v for k, v in bare.items() if k != key}
        _, problems = parse(dump(partial), slug=None)
        assert f"missing required key {key!r}" in messages(problems)
    # Types and limits still hold in a draft.
    _, problems = parse(dump({**bare, "short_def": 3, "aliases": ["a", "A"]}))
    assert {p.field for p in problems} == {"short_def", "aliases[1]"}
    # The same bare document claiming "reviewed" lacks each editorial key.
    _, problems = parse(dump({**bare, "status": "reviewed"}))
    missing = {p.field for p in problems}
    assert {"short_def", "citations", "audiences", "examples", "license"} <= missing
