"""The Entity Reconciliation API: manifest, batches with constraints, suggest and
preview, checked against the 0.2 specification's response rules; reconciling
the corpus's names and aliases finds the right term with ``match: true``."""

import json
from urllib.parse import urlencode

import jsonschema
import pytest

from tests.helpers import corpus_documents

pytestmark = pytest.mark.django_db

URL = "/api/v1/reconcile/"

# The response rules of the specification's version 0.2 JSON schemas
# (reconciliation-api.github.io/specs/0.2/schemas/), restated here: required
# keys and their types.
_TYPE = {
    "oneOf": [
        {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "string"}},
        },
        {"type": "string"},
    ]
}
_SERVICE = {
    "type": "object",
    "properties": {
        "service_url": {"type": "string"},
        "service_path": {"type": "string"},
    },
}
MANIFEST = {
    "type": "object",
    "required": ["versions", "name", "identifierSpace", "schemaSpace"],
    "properties": {
        "versions": {
            "type": "array",
            "items": {"type": "string"},
            "contains": {"enum": ["0.2"]},
        },
        "name": {"type": "string"},
        "identifierSpace": {"type": "string"},
        "schemaSpace": {"type": "string"},
        "view": {
            "type": "object",
            "required": ["url"],
            "properties": {"url": {"type": "string", "pattern": ".*\\{\\{id\\}\\}.*"}},
        },
        "defaultTypes": {"type": "array", "items": _TYPE, "uniqueItems": True},
        "preview": {
            "type": "object",
            "required": ["url", "width", "height"],
            "properties": {
                "url": {"type": "string", "pattern": ".*\\{\\{id\\}\\}.*"},
                "width": {"type": "integer"},
                "height": {"type": "integer"},
            },
        },
        "suggest": {
            "type": "object",
            "properties": {"entity": _SERVICE, "property": _SERVICE, "type": _SERVICE},
        },
    },
}
RESULT_BATCH = {
    "type": "object",
    "patternProperties": {
        "^.*$": {
            "type": "object",
            "required": ["result"],
            "properties": {
                "result": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "name", "score"],
                        "properties": {
                            "id": {"type": "string"},
                            "name": {"type": "string"},
                            "description": {"type": "string"},
                            "score": {"type": "number"},
                            "match": {"type": "boolean"},
                            "type": {"type": "array", "items": _TYPE},
                        },
                    },
                }
            },
        }
    },
}
SUGGEST = {
    "type": "object",
    "required": ["result"],
    "properties": {
        "result": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "notable": {"type": "array", "items": _TYPE},
                },
            },
        }
    },
}


def _post(api, queries: str):
    """A batch as OpenRefine sends it: a form field."""
    return api.post(
        URL,
        urlencode({"queries": queries}),
        content_type="application/x-www-form-urlencoded",
    )


def _reconcile(api, queries: dict, *, method: str = "post") -> dict:
    if method == "post":
        response = _post(api, json.dumps(queries))
    else:
        response = api.get(URL, {"queries": json.dumps(queries)})
    assert response.status_code == 200, response.content
    body = response.json()
    jsonschema.validate(body, RESULT_BATCH)
    return body


def test_the_manifest_follows_the_specification(corpus_db, api):
    body = api.get(URL).json()
    jsonschema.validate(body, MANIFEST)
    assert body["defaultTypes"] == [{"id": "term", "name": "Glossary term"}]
    assert body["view"]["url"].endswith("/terms/{{id}}/")
    assert body["suggest"]["entity"]["service_path"] == "/suggest/entity/"


@pytest.mark.slow
def test_corpus_names_and_aliases_reconcile_to_their_terms(corpus_db, api):
    docs = corpus_documents(corpus_db)
    wanted = {
        f"n{i}": (doc["term"], slug) for i, (slug, doc) in enumerate(docs.items())
    }
    aliases = sorted(
        (alias, slug) for slug, doc in docs.items() for alias in doc["aliases"]
    )
    for i, (alias, slug) in enumerate(aliases[:: max(1, len(aliases) // 50)][:50]):
        wanted[f"a{i}"] = (alias, slug)
    assert len(wanted) == 162
    found = {}
    items = list(wanted.items())
    for start in range(0, len(items), 50):  # batches as OpenRefine sends them
        batch = {
            key: {"query": text, "limit": 3}
            for key, (text, _) in items[start : start + 50]
        }
        found.update(_reconcile(api, batch))
    right = [
        key
        for key, (_, slug) in wanted.items()
        if found[key]["result"]
        and found[key]["result"][0]["id"] == slug
        and found[key]["result"][0]["match"] is True
    ]
    share = len(right) / len(wanted)
    assert share >= 0.98, sorted(set(wanted) - set(right))


def test_a_shared_alias_is_never_a_certain_match(corpus_db, api):
    body = _reconcile(api, {"q": {"query": "supervised fine-tuning"}}, method="get")
    result = body["q"]["result"]
    assert {r["id"] for r in result} >= {"fine-tuning", "instruction-tuning"}
    assert not any(r["match"] for r in result)


def test_typos_give_scored_candidates_without_a_match(corpus_db, api):
    body = _reconcile(api, {"q": {"query": "halucination"}})
    [best, *_] = body["q"]["result"]
    assert best["id"] == "hallucination"
    assert best["match"] is False
    assert 0 < best["score"] < 100


def test_types_and_properties_constrain_candidates(corpus_db, api):
    docs = corpus_documents(corpus_db)
    log = docs["log-probability"]
    category = log["categories"][0]
    other_role = next(
        r for r in ("product", "legal", "policy", "security") if r not in log["roles"]
    )
    body = _reconcile(
        api,
        {
            "by_category": {
                "query": "logprob",
                "properties": [{"pid": "category", "v": category}],
            },
            "wrong_role": {
                "query": "logprob",
                "properties": [{"pid": "role", "v": other_role}],
            },
            "wrong_type": {"query": "logprob", "type": "category:no-such-category"},
            "right_type": {"query": "logprob", "type": "term"},
        },
    )
    assert body["by_category"]["result"][0]["id"] == "log-probability"
    # Other terms may come up as weak guesses, never the excluded one.
    assert "log-probability" not in {r["id"] for r in body["wrong_role"]["result"]}
    assert not any(r["match"] for r in body["wrong_role"]["result"])
    assert body["wrong_type"]["result"] == []
    [first, *_] = body["right_type"]["result"]
    assert {"id": "term", "name": "Glossary term"} in first["type"]
    assert any(t["name"] == category for t in first["type"])


@pytest.mark.parametrize(
    ("queries", "says"),
    [
        ("{not json", "not valid JSON"),
        ([], "an object of named queries"),
        ({}, "an object of named queries"),
    ],
)
def test_a_batch_that_is_no_batch_is_a_400_naming_the_problem(
    corpus_db, api, queries, says
):
    raw = queries if isinstance(queries, str) else json.dumps(queries)
    response = _post(api, raw)
    assert response.status_code == 400
    assert says in response.content.decode()


def test_one_bad_query_does_not_fail_the_batch(corpus_db, api):
    body = _reconcile(
        api,
        {
            "good": {"query": "logprob"},
            "empty": {"limit": 3},
            "wordy_limit": {"query": "x", "limit": "many"},
            "not_an_object": "logprob",
        },
    )
    assert body["good"]["result"][0]["id"] == "log-probability"
    for key, says in (
        ("empty", "empty.query"),
        ("wordy_limit", "wordy_limit.limit"),
        ("not_an_object", "must be an object"),
    ):
        assert body[key]["result"] == []
        assert says in body[key]["error"]


def test_spec_valid_queries_as_openrefine_sends_them(corpus_db, api):
    docs = corpus_documents(corpus_db)
    role = docs["log-probability"]["roles"][0]
    body = _reconcile(
        api,
        {
            # Properties only: every term that has them (spec 0.2).
            "by_role": {"properties": [{"pid": "role", "v": role}], "limit": 200},
            # A whole number written as a float, as JavaScript clients send it.
            "float_limit": {"query": "logprob", "limit": 2.0},
            # A property this service does not have: ignored, not refused.
            "unknown": {
                "query": "logprob",
                "properties": [{"pid": "P31", "v": "Q5"}],
            },
            # A list of values means any of them.
            "any_status": {
                "query": "logprob",
                "properties": [{"pid": "status", "v": ["approved", "reviewed"]}],
            },
        },
    )
    with_role = {slug for slug, doc in docs.items() if role in doc["roles"]}
    found = {r["id"] for r in body["by_role"]["result"]}
    assert found <= with_role
    assert len(found) == min(len(with_role), 50)  # the most a query returns
    assert not any(r["match"] for r in body["by_role"]["result"])
    assert len(body["float_limit"]["result"]) <= 2
    assert body["unknown"]["result"][0]["id"] == "log-probability"
    assert body["any_status"]["result"][0]["id"] == "log-probability"


def test_suggest_accepts_what_openrefines_widget_sends(corpus_db, api):
    response = api.get(
        f"{URL}suggest/entity/",
        {"prefix": "logp", "spell": "always", "exact": "false", "prefixed": "true",
         "scoring": "schema", "cursor": "0"},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["result"][0]["id"] == "log-probability"


def test_the_preview_may_be_framed_and_nothing_else(corpus_db, api):
    preview = api.get(f"{URL}preview/", {"id": "log-probability"})
    assert "X-Frame-Options" not in preview
    assert "frame-ancestors *" in preview["Content-Security-Policy"]
    page = api.get("/terms/log-probability/")
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


def test_batches_and_their_preflights_carry_cors_headers(corpus_db, api):
    origin = {"HTTP_ORIGIN": "http://127.0.0.1:3333"}
    preflight = api.options(URL, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST", **origin)
    assert preflight["Access-Control-Allow-Origin"] in ("*", origin["HTTP_ORIGIN"])
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    batch = api.post(
        URL,
        urlencode({"queries": json.dumps({"q0": {"query": "logprob"}})}),
        content_type="application/x-www-form-urlencoded",
        **origin,
    )
    assert batch.status_code == 200
    assert batch["Access-Control-Allow-Origin"] in ("*", origin["HTTP_ORIGIN"])


# The data extension response rules of the 0.2 specification, restated.
EXTEND_RESPONSE = {
    "type": "object",
    "required": ["meta", "rows"],
    "properties": {
        "meta": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
            },
        },
        "rows": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {
                    "type": "array",
                    "items": {
                        "oneOf": [
                            {"type": "object", "required": ["str"]},
                            {"type": "object", "required": ["id", "name"]},
                        ]
                    },
                },
            },
        },
    },
}


def test_data_extension_adds_columns_from_reconciled_terms(corpus_db, api):
    manifest = api.get(URL).json()
    service = manifest["extend"]["propose_properties"]
    assert service["service_path"] == "/extend/propose/"
    proposed = api.get(f"{URL}extend/propose/", {"type": "term"}).json()
    ids = {p["id"] for p in proposed["properties"]}
    assert {"definition", "status", "categories", "aliases", "roles", "url"} <= ids
    docs = corpus_documents(corpus_db)
    request = {
        "ids": ["log-probability", "no-such-term"],
        "properties": [{"id": p} for p in ("definition", "categories", "aliases",
                                             "status", "url", "related")],
    }  # fmt: skip
    for answer in (
        api.get(URL, {"extend": json.dumps(request)}),
        api.post(
            URL,
            urlencode({"extend": json.dumps(request)}),
            content_type="application/x-www-form-urlencoded",
        ),
    ):
        assert answer.status_code == 200, answer.content
        body = answer.json()
        jsonschema.validate(body, EXTEND_RESPONSE)
        row = body["rows"]["log-probability"]
        doc = docs["log-probability"]
        assert row["definition"] == [{"str": doc["short_def"]}]
        assert [v["name"] for v in row["categories"]] == doc["categories"]
        assert [v["str"] for v in row["aliases"]] == doc["aliases"]
        assert row["status"] == [{"str": "approved"}]
        assert row["url"][0]["str"].endswith("/terms/log-probability/")
        assert body["rows"]["no-such-term"]["definition"] == []
    bad = api.get(
        URL, {"extend": json.dumps({"ids": ["x"], "properties": [{"id": "colour"}]})}
    )
    assert bad.status_code == 400
    assert "extend.properties[0].id" in bad.content.decode()


@pytest.mark.parametrize("kind", ["entity", "property", "type"])
def test_suggest_services_follow_the_specification(corpus_db, api, kind):
    prefix = {"entity": "logp", "property": "ro", "type": "glo"}[kind]
    body = api.get(f"{URL}suggest/{kind}/", {"prefix": prefix}).json()
    jsonschema.validate(body, SUGGEST)
    ids = [r["id"] for r in body["result"]]
    expected = {"entity": "log-probability", "property": "role", "type": "term"}[kind]
    assert ids[0] == expected


def test_preview_is_a_small_html_card(corpus_db, api):
    response = api.get(f"{URL}preview/", {"id": "log-probability"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "log probability" in response.content.decode()
    assert api.get(f"{URL}preview/", {"id": "nope"}).status_code == 404
