"""Finding terms in ordinary prose: inflected forms, acronyms in their capitals,
abbreviations the text defines; lookup of inflected forms; autocomplete that
answers the same on both databases. Sentences are written for these tests."""

import pytest

from terms.text.inflection import (
    base_keys,
    is_acronym,
    spelling_keys,
    variant_keys,
)
from tests.helpers import base_term, import_folders, write_term

pytestmark = pytest.mark.django_db


def term(name, aliases=(), part="noun", **extra):
    return base_term(
        name,
        aliases=list(aliases) or [f"{name} alias"],
        part_of_speech=part,
        status="approved",
        relationships={},
        **extra,
    )


@pytest.fixture
def prose_glossary(tmp_path):
    for data in (
        term("embedding", ["vector representation"]),
        term("vector database", ["vector store"]),
        term("hallucination", ["confabulation"]),
        term("guardrail", ["safety filter"]),
        term("fine-tuning", ["SFT"], part="process"),
        term("reward model", ["preference model"]),
        term("model card", ["model documentation"]),
        term("log probability", ["logprob"]),
        term("retrieval-augmented generation", ["RAG"]),
        term("large language model", ["LLM"]),
        term("low-rank adaptation", ["LoRA"]),
        term("differential privacy", ["dp"]),
        term("Wilson disease", ["hepatolenticular degeneration"]),
        term("diabetes mellitus", ["diabetes"]),
        term("aniridia", ["iris absence"]),
        term("red teaming", ["adversarial testing"], part="process"),
        term("Addison's disease", ["adrenal insufficiency"]),
    ):
        write_term(tmp_path, data)
    import_folders(tmp_path)


def annotate(api, text):
    response = api.post("/api/v1/annotate/", {"text": text}, format="json")
    assert response.status_code == 200, response.content
    return [
        (text[s["start"] : s["end"]], s["slug"], s["match"])
        for s in response.json()["spans"]
    ]


def test_inflected_forms_in_ordinary_sentences(prose_glossary, api):
    text = (
        "Our embeddings are stored in two vector databases. Hallucinations dropped "
        "after we added guardrails. We fine-tuned two reward models and published "
        "model cards with log-probabilities."
    )
    assert annotate(api, text) == [
        ("embeddings", "embedding", "inflection"),
        ("vector databases", "vector-database", "inflection"),
        ("Hallucinations", "hallucination", "inflection"),
        ("guardrails", "guardrail", "inflection"),
        ("fine-tuned", "fine-tuning", "inflection"),
        ("reward models", "reward-model", "inflection"),
        ("model cards", "model-card", "inflection"),
        ("log-probabilities", "log-probability", "inflection"),
    ]


def test_verb_forms_only_for_processes(prose_glossary, api):
    # "red teaming" is a process: "red-teamed" is one of its forms. "embedding"
    # is a noun: "embedded" is not a form of it.
    text = "They red-teamed the system; the chart was embedded in a page."
    assert annotate(api, text) == [("red-teamed", "red-teaming", "inflection")]


def test_acronyms_match_their_capitals_not_ordinary_words(prose_glossary, api):
    text = (
        "Two LLMs used RAG with LoRA adapters. She wiped it with a rag; "
        "lora and llm in lower case are not acronyms. DP and dp both count."
    )
    assert annotate(api, text) == [
        ("LLMs", "large-language-model", "acronym"),
        ("RAG", "retrieval-augmented-generation", "acronym"),
        ("LoRA", "low-rank-adaptation", "acronym"),
        # "dp" was written in lower case, so any case matches it.
        ("DP", "differential-privacy", "alias"),
        ("dp", "differential-privacy", "alias"),
    ]


def test_abbreviations_the_text_defines(prose_glossary, api):
    text = (
        "Wilson disease (WD) is rare. Patients with WD need care, and two WDs "
        "were compared. Insulin-dependent diabetes mellitus (IDDM) is common; "
        "IDDM starts early. Aniridia (PAX6) is a gene link, so PAX6 stays plain."
    )
    assert annotate(api, text) == [
        ("Wilson disease", "wilson-disease", "exact"),
        ("WD", "wilson-disease", "defined_abbreviation"),
        ("WD", "wilson-disease", "defined_abbreviation"),
        ("WDs", "wilson-disease", "defined_abbreviation"),
        # The long form the letters spell starts before the glossary's name.
        ("Insulin-dependent diabetes mellitus", "diabetes-mellitus", "exact"),
        ("IDDM", "diabetes-mellitus", "defined_abbreviation"),
        ("IDDM", "diabetes-mellitus", "defined_abbreviation"),
        ("Aniridia", "aniridia", "exact"),
    ]
    # A definition counts for its own text only.
    assert annotate(api, "WD is rare.") == []
    # The abbreviation may open a longer parenthesis.
    assert annotate(api, "Wilson disease (WD; a copper disorder) and WD.") == [
        ("Wilson disease", "wilson-disease", "exact"),
        ("WD", "wilson-disease", "defined_abbreviation"),
        ("WD", "wilson-disease", "defined_abbreviation"),
    ]


def test_lookup_answers_for_an_inflected_form(prose_glossary, api):
    response = api.get("/api/v1/lookup/", {"q": "embeddings"})
    assert response.status_code == 200
    [match] = response.json()["matches"]
    assert (match["slug"], match["matched_on"], match["alias"]) == (
        "embedding",
        "inflection",
        "embedding",
    )
    [match] = api.get("/api/v1/lookup/", {"q": "fine-tuned"}).json()["matches"]
    assert (match["slug"], match["matched_on"]) == ("fine-tuning", "inflection")
    # An inflected alias: "vector stores" is the plural of an alias.
    [match] = api.get("/api/v1/lookup/", {"q": "vector stores"}).json()["matches"]
    assert (match["slug"], match["alias"]) == ("vector-database", "vector store")
    # A near miss still gets suggestions.
    miss = api.get("/api/v1/lookup/", {"q": "halucinations"})
    assert miss.status_code == 404
    assert "hallucination" in [s["slug"] for s in miss.json()["suggestions"]]


def test_typographic_quotes_are_plain_quotes(prose_glossary, api):
    curly = "Addison\u2019s disease"
    [match] = api.get("/api/v1/lookup/", {"q": curly}).json()["matches"]
    assert (match["slug"], match["matched_on"]) == ("addison's-disease", "name")
    assert annotate(api, f"Signs of {curly} vary.") == [
        (curly, "addison's-disease", "exact")
    ]


def test_search_finds_other_forms_of_a_word_on_both_databases(prose_glossary, api):
    body = api.get("/api/v1/terms/", {"q": "hallucinations"}).json()
    assert body["results"][0]["slug"] == "hallucination"
    body = api.get("/api/v1/terms/", {"q": "model cards"}).json()
    assert body["results"][0]["slug"] == "model-card"


#: Queries and the completions both databases must give for the sample glossary.
AUTOCOMPLETE = {
    "trasnf": ["transformer"],
    "tok": ["tokenizer"],
    "prompt inj": ["prompt-injection"],
    "halucin": ["hallucination"],
    "embedings": ["embedding"],
    "zzzz": [],
}


@pytest.mark.parametrize(("query", "expected"), AUTOCOMPLETE.items())
def test_autocomplete_is_the_same_on_both_databases(fixtures_db, api, query, expected):
    body = api.get("/api/v1/autocomplete/", {"q": query, "limit": 3}).json()
    assert [r["slug"] for r in body["results"]][: len(expected) or None] == expected


def test_the_rules_in_isolation():
    assert is_acronym("RAG")
    assert is_acronym("LoRA")
    assert is_acronym("GPT-4")
    assert not is_acronym("rag")
    assert not is_acronym("Transformer")
    assert not is_acronym("Large Language Model")
    assert variant_keys("RAG") == ()
    assert "reward models" in variant_keys("reward model")
    assert "fine tuned" in variant_keys("fine-tuning", verbs=True)
    assert "fine tuned" not in variant_keys("fine-tuning")
    assert "embedding" in base_keys("embeddings")


def test_coordinated_words_join_a_span_when_the_glossary_confirms_them():
    from terms.text.annotation import build_matcher, find_spans

    matcher = build_matcher(
        [
            ("ovarian cancer", "ovarian-cancer", "name"),
            ("breast cancer", "breast-cancer", "name"),
        ]
    )
    text = (
        "Risk of breast or ovarian cancer, and of lung or ovarian cancer. "
        "Seen in brain, lung, breast, and ovarian cancer; in brain and "
        "breast or ovarian cancer."
    )
    found = [(text[s.start : s.end], s.best.slug) for s in find_spans(matcher, text)]
    assert found == [
        ("breast or ovarian cancer", "ovarian-cancer"),
        # "lung cancer" is not in the glossary: the span stays as matched.
        ("ovarian cancer", "ovarian-cancer"),
        # Past a confirmed word, the words listed before it with commas join.
        ("brain, lung, breast, and ovarian cancer", "ovarian-cancer"),
        # Without a comma, each word needs the glossary's confirmation.
        ("breast or ovarian cancer", "ovarian-cancer"),
    ]


def test_a_word_that_specializes_a_term_joins_the_span_it_precedes():
    from terms.text.annotation import build_matcher, find_spans

    matcher = build_matcher(
        [
            ("cancer", "cancer", "name"),
            ("breast cancer", "breast-cancer", "name"),
            ("carcinoma", "carcinoma", "name"),
            ("the cancer", "the-cancer", "alias"),
            ("ataxia", "ataxia", "name"),
        ]
    )
    text = (
        "Breast carcinoma, the carcinoma and severe carcinoma; breast cancer; "
        "breast\ncarcinomas; breast ataxia."
    )
    found = [
        (text[s.start : s.end], s.best.slug, s.best.match)
        for s in find_spans(matcher, text)
    ]
    assert found == [
        # "breast" makes "cancer" more specific in the glossary's own names.
        ("Breast carcinoma", "carcinoma", "qualified"),
        # A function word never does, though a name starts with it; "severe"
        # makes nothing more specific here.
        ("carcinoma", "carcinoma", "exact"),
        ("carcinoma", "carcinoma", "exact"),
        ("breast cancer", "breast-cancer", "exact"),
        ("breast\ncarcinomas", "carcinoma", "qualified"),
        ("breast ataxia", "ataxia", "qualified"),
    ]


def test_an_abbreviation_of_only_the_end_of_a_name_is_not_that_name():
    from terms.text.annotation import build_matcher, find_spans

    matcher = build_matcher(
        [
            ("deficiency of aspartoacylase", "aspa-deficiency", "name"),
            ("hepatolenticular degeneration", "wilson-disease", "alias"),
        ]
    )
    text = (
        "A deficiency of aspartoacylase (ASPA) lowers ASPA activity; "
        "hepatolenticular degeneration (HD) differs, and HD is rare."
    )
    found = [(text[s.start : s.end], s.best.slug) for s in find_spans(matcher, text)]
    assert found == [
        # "ASPA" spells only "aspartoacylase", the end of the name: the enzyme,
        # not the deficiency.
        ("deficiency of aspartoacylase", "aspa-deficiency"),
        ("hepatolenticular degeneration", "wilson-disease"),
        # "HD" spells the whole alias: it stands for the term.
        ("HD", "wilson-disease"),
        ("HD", "wilson-disease"),
    ]


def test_numerals_and_possessives_are_other_spellings_of_a_name():
    from terms.text.annotation import build_matcher, find_spans

    matcher = build_matcher(
        [
            ("Atelosteogenesis type II", "ao2", "name"),
            ("AO II", "ao2", "alias"),
            ("Addison disease", "addison", "name"),
            ("Krabbe's disease", "krabbe", "name"),
            ("type 2 diabetes", "t2d", "name"),
        ]
    )
    text = (
        "Atelosteogenesis type 2 (also AO-2, AO2 or AO II) differs from "
        "Addison's disease, Addison disease, Krabbe disease and type II diabetes."
    )
    found = [
        (text[s.start : s.end], s.best.slug, s.best.match)
        for s in find_spans(matcher, text)
    ]
    assert found == [
        ("Atelosteogenesis type 2", "ao2", "exact"),
        ("AO-2", "ao2", "alias"),
        ("AO2", "ao2", "alias"),
        ("AO II", "ao2", "alias"),
        ("Addison's disease", "addison", "exact"),
        ("Addison disease", "addison", "exact"),
        ("Krabbe disease", "krabbe", "exact"),
        ("type II diabetes", "t2d", "exact"),
    ]
    # Only numerals after the first word, and only a capitalised word before
    # a last word in lower case takes a possessive.
    assert spelling_keys("V shape") == ()
    assert spelling_keys("Large language model") == ()


def test_a_designation_is_written_with_or_without_type():
    from terms.text.annotation import build_matcher, find_spans

    matcher = build_matcher(
        [
            ("achondrogenesis 1B", "acg1b", "name"),
            ("Atelosteogenesis type II", "ao2", "name"),
            ("GPT 4", "gpt-4", "name"),
        ]
    )
    text = (
        "Achondrogenesis type 1B (ACG1B) is rarer than atelosteogenesis II; "
        "ACG1B again. Vitamin A type V and GPT 4."
    )
    found = [
        (text[s.start : s.end], s.best.slug, s.best.match)
        for s in find_spans(matcher, text)
    ]
    assert found == [
        ("Achondrogenesis type 1B", "acg1b", "exact"),
        ("ACG1B", "acg1b", "defined_abbreviation"),
        ("atelosteogenesis II", "ao2", "exact"),
        ("ACG1B", "acg1b", "defined_abbreviation"),
        ("GPT 4", "gpt-4", "exact"),
    ]
    assert spelling_keys("achondrogenesis 1B") == ("achondrogenesis type 1b",)
    # A lone "v", "x" or "i" is more often a word or a letter than a numeral.
    assert "vitamin type v" not in spelling_keys("vitamin v")


def test_a_subtype_designation_joins_the_span_beside_it():
    from terms.text.annotation import build_matcher, find_spans

    matcher = build_matcher(
        [("von Willebrand disease", "vwd", "name"), ("achondrogenesis", "acg", "name")]
    )
    text = (
        "Type IID von Willebrand disease and achondrogenesis type 1B, "
        "not the types of achondrogenesis."
    )
    found = [
        (text[s.start : s.end], s.best.slug, s.best.match)
        for s in find_spans(matcher, text)
    ]
    assert found == [
        ("Type IID von Willebrand disease", "vwd", "qualified"),
        ("achondrogenesis type 1B", "acg", "qualified"),
        ("achondrogenesis", "acg", "exact"),
    ]


def test_an_acronym_the_text_defines_as_something_else_is_not_the_term():
    from terms.text.annotation import build_matcher, find_spans

    matcher = build_matcher(
        [("von Hippel-Lindau", "vhl", "name"), ("VHL", "vhl", "alias")]
    )
    gene = (
        "The von Hippel-Lindau tumor suppressor gene (VHL) is mutated; "
        "VHL and wild-type VHL (wt-VHL) bind Sp1."
    )
    found = [(gene[s.start : s.end], s.best.slug) for s in find_spans(matcher, gene)]
    # Here "VHL" is the gene: only the disease's own name is the term.
    assert found == [("von Hippel-Lindau", "vhl")]
    disease = "The von Hippel-Lindau (VHL) disease; VHL is inherited."
    found = [
        (disease[s.start : s.end], s.best.slug) for s in find_spans(matcher, disease)
    ]
    assert found == [("von Hippel-Lindau", "vhl"), ("VHL", "vhl"), ("VHL", "vhl")]


def test_last_words_the_glossary_uses_interchangeably_stand_for_each_other():
    from terms.text.annotation import build_matcher, find_spans

    entries = [
        # Two terms each name themselves with "cancer" and with "carcinoma"
        # after the same words: the glossary treats the two as one.
        ("colon cancer", "colon-cancer", "name"),
        ("colon carcinoma", "colon-cancer", "alias"),
        ("ovarian cancer", "ovarian-cancer", "name"),
        ("ovarian carcinomas", "ovarian-cancer", "alias"),
        ("prostate cancer", "prostate-cancer", "name"),
        ("liver carcinoma", "liver-carcinoma", "name"),
        # Another term holds "lung carcinoma": no substitute takes it.
        ("lung cancer", "lung-cancer", "name"),
        ("lung carcinoma", "carcinoma-of-the-lung", "name"),
        # "deficient" beside "deficiency" twice, but it is an adjective.
        ("C5 deficiency", "c5", "name"),
        ("C5 deficient", "c5", "alias"),
        ("C6 deficiency", "c6", "name"),
        ("C6 deficient", "c6", "alias"),
        ("C7 deficiency", "c7", "name"),
    ]
    text = (
        "Prostate carcinomas and a prostate carcinoma; liver cancer; lung "
        "carcinoma; C7-deficient mice; C5-deficient mice."
    )

    def found(matcher):
        return [
            (text[s.start : s.end], s.best.slug, s.best.match)
            for s in find_spans(matcher, text)
        ]

    assert found(build_matcher(entries)) == [
        ("Prostate carcinomas", "prostate-cancer", "substitute"),
        ("prostate carcinoma", "prostate-cancer", "substitute"),
        ("liver cancer", "liver-carcinoma", "substitute"),
        ("lung carcinoma", "carcinoma-of-the-lung", "exact"),
        # No "C7 deficient": the glossary's own alias still matches.
        ("C5-deficient", "c5", "alias"),
    ]
    # Evidence from one term only: nothing is swapped.
    one_term = [e for e in entries if e[1] != "ovarian-cancer"]
    assert [slug for _, slug, _ in found(build_matcher(one_term))] == [
        "carcinoma-of-the-lung",
        "c5",
    ]


def test_a_long_form_the_glossary_gives_the_abbreviation_does_not_grow():
    from terms.text.annotation import build_matcher, find_spans

    text = "Meiotic drive at the myotonic dystrophy (DM) locus; DM is common."
    named = [("myotonic dystrophy", "dm", "name")]

    def found(entries):
        return [
            (text[s.start : s.end], s.best.slug, s.best.match)
            for s in find_spans(build_matcher(entries), text)
        ]

    # The glossary says "DM" is that term: the span is the name as matched.
    assert found([*named, ("DM", "dm", "alias")]) == [
        ("myotonic dystrophy", "dm", "exact"),
        ("DM", "dm", "defined_abbreviation"),
        ("DM", "dm", "defined_abbreviation"),
    ]
    # Without that, the letters spelt from "drive" on make the long form.
    assert found(named)[0] == (
        "drive at the myotonic dystrophy",
        "dm",
        "exact",
    )
