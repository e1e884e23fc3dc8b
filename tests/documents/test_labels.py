"""Labels in other languages: the document, the API's ``?lang=``, and lookups,
autocomplete and annotation finding names written in French, Arabic, Russian."""

import pytest

from terms.documents.document import validate_term_data
from tests.helpers import base_term, export, import_folders, read_yaml, write_term

pytestmark = pytest.mark.django_db

FRENCH = "probabilité logarithmique"
ARABIC = "احتمال لوغاريتمي"
ARABIC_MARKED = "احْتِمَال لُوغَارِيتْمِيّ"  # the same words with their vowel marks


def labelled(**overrides) -> dict:
    return base_term(
        "log probability",
        aliases=["logprob"],
        status="approved",
        labels={
            "fr": {
                "name": FRENCH.capitalize(),
                "aliases": ["log-prob"],
                "short_def": "Le logarithme de la probabilité d'un jeton.",
            },
            "ar": {"name": ARABIC_MARKED},
            "ru": {"name": "Логарифмическая вероятность"},
        },
        **overrides,
    )


@pytest.fixture
def glossary(tmp_path):
    folder = tmp_path / "terms"
    write_term(folder, labelled())
    write_term(folder, base_term("modèle", aliases=["model"], status="approved"))
    import_folders(folder)
    return folder


def test_labels_round_trip_through_yaml_sorted_by_language(glossary, tmp_path):
    files = export(tmp_path / "out")
    data = read_yaml(files["log-probability.yml"])
    assert list(data["labels"]) == ["ar", "fr", "ru"]
    assert data["labels"]["fr"] == labelled()["labels"]["fr"]
    assert data["labels"]["ar"] == {"name": ARABIC_MARKED}
    # Key order: labels right after aliases; a term without labels has no key.
    assert list(data)[:3] == ["term", "aliases", "labels"]
    assert "labels" not in read_yaml(files["modèle.yml"])
    # Importing the export changes nothing.
    # The whole export (roles.yml with the starting roles' empty summaries too).
    again = import_folders(tmp_path / "out")
    assert again["updated"] == []
    assert "log-probability" in again["unchanged"]


@pytest.mark.parametrize(
    ("labels", "field", "says"),
    [
        ({"en": {"name": "x"}}, "labels.en", "default language"),
        ({"f r": {"name": "x"}}, "labels.f r", "not a BCP 47"),
        ({"fr": {"aliases": ["x"]}}, "labels.fr.name", "missing required key"),
        ({"fr": {"name": "x", "aliases": ["X"]}}, "labels.fr.aliases[0]", "repeats"),
        ({"fr": {"name": "x", "colour": "y"}}, "labels.fr.colour", "unknown key"),
        ({"fr": "x"}, "labels.fr", "must be a mapping"),
        (["fr"], "labels", "mapping of language tags"),
    ],
)
def test_bad_labels_are_refused_naming_the_field(labels, field, says):
    document, problems = validate_term_data(base_term(labels=labels))
    assert document is None
    assert any(p.field == field and says in p.message for p in problems), problems


def test_tags_are_put_in_their_canonical_case():
    document, problems = validate_term_data(
        base_term(labels={"PT_br": {"name": "termo"}})
    )
    assert not problems
    assert [labels.language for labels in document.labels] == ["pt-BR"]


def test_detail_lists_labels_and_shows_the_reader_language(glossary, api):
    body = api.get("/api/v1/terms/log-probability/").json()
    assert body["labels"]["fr"]["name"] == FRENCH.capitalize()
    assert body["localized"]["language"] == "en"
    french = api.get("/api/v1/terms/log-probability/", {"lang": "fr"}).json()
    assert french["localized"] == {
        "term": FRENCH.capitalize(),
        "language": "fr",
        "aliases": ["log-prob"],
        "short_def": "Le logarithme de la probabilité d'un jeton.",
        "short_def_language": "fr",
    }
    # Russian has a name but no definition: each text falls back on its own.
    russian = api.get("/api/v1/terms/log-probability/", {"lang": "ru"}).json()
    assert russian["localized"]["language"] == "ru"
    assert russian["localized"]["short_def_language"] == "en"
    assert russian["localized"]["short_def"] == body["short_def"]


def test_accept_language_is_honoured_and_lang_wins(glossary, api):
    url = "/api/v1/terms/"
    by_header = api.get(url, HTTP_ACCEPT_LANGUAGE="fr-CA,fr;q=0.9,en;q=0.5").json()
    shown = {t["slug"]: t["localized"] for t in by_header["results"]}
    assert shown["log-probability"]["term"] == FRENCH.capitalize()
    assert shown["modèle"]["language"] == "en"  # no French label: the default
    by_param = api.get(url, {"lang": "ar"}, HTTP_ACCEPT_LANGUAGE="fr").json()
    shown = {t["slug"]: t["localized"] for t in by_param["results"]}
    assert shown["log-probability"] == {
        **shown["log-probability"],
        "term": ARABIC_MARKED,
        "language": "ar",
    }
    # The same URL in two languages is two cached answers, not one.
    again = api.get(url, HTTP_ACCEPT_LANGUAGE="fr").json()
    assert {t["localized"]["language"] for t in again["results"]} == {"fr", "en"}
    english = api.get(url).json()
    assert {t["localized"]["language"] for t in english["results"]} == {"en"}


def test_a_malformed_lang_is_a_400_naming_it(glossary, api):
    response = api.get("/api/v1/lookup/", {"q": "logprob", "lang": "fr,???"})
    assert response.status_code == 400
    assert "lang" in response.content.decode()
    assert "'???'" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "language"),
    [
        ("Probabilité logarithmique", "fr"),
        ("PROBABILITE LOGARITHMIQUE", None),  # accents matter: no match as written
        ("log prob", None),  # the French alias "log-prob": hyphen or space alike
        (ARABIC, "ar"),  # written without vowel marks
        (ARABIC_MARKED, "ar"),
        ("логарифмическая вероятность", "ru"),
    ],
)
def test_lookup_finds_labels_in_every_language(glossary, api, query, language):
    response = api.get("/api/v1/lookup/", {"q": query, "lang": "fr"})
    if language is None and query.startswith("PROBABILITE"):
        assert response.status_code == 404
        assert response.json()["suggestions"][0]["slug"] == "log-probability"
        return
    assert response.status_code == 200, response.content
    [match] = response.json()["matches"]
    assert match["slug"] == "log-probability"
    if language:
        assert match["matched_on"] == "label"
        assert match["matched_language"] == language
    # Shown in French, as asked, whatever language matched.
    assert match["term"] == FRENCH.capitalize()
    assert match["language"] == "fr"


def test_english_inflection_is_not_applied_to_labels(glossary, api):
    # "probabilités logarithmiques" is French plural: no English rule makes it
    # the label, and no English plural of a French word is invented.
    response = api.get("/api/v1/lookup/", {"q": "probabilités logarithmiques"})
    assert response.status_code == 404
    assert api.get("/api/v1/lookup/", {"q": "models"}).status_code == 200  # English


def test_autocomplete_completes_labels(glossary, api):
    body = api.get("/api/v1/autocomplete/", {"q": "probabilité", "lang": "fr"}).json()
    [result] = body["results"]
    assert result["matched_on"] == "label"
    assert result["alias"] == FRENCH.capitalize()
    assert result["matched_language"] == "fr"
    arabic = api.get("/api/v1/autocomplete/", {"q": "احتمال"}).json()
    assert [r["slug"] for r in arabic["results"]] == ["log-probability"]
    assert arabic["results"][0]["term"] == "log probability"  # no lang: default


def test_annotate_finds_labels_in_french_and_arabic_prose(glossary, api):
    text = f"On calcule la {FRENCH} de chaque jeton. ثم نحسب {ARABIC} لكل رمز."
    response = api.post("/api/v1/annotate/?lang=fr", {"text": text}, format="json")
    assert response.status_code == 200, response.content
    spans = response.json()["spans"]
    found = [(text[s["start"] : s["end"]], s["match"]) for s in spans]
    assert found == [(FRENCH, "label"), (ARABIC, "label")]
    assert {s["term"] for s in spans} == {FRENCH.capitalize()}
    terms = response.json()["terms"]
    assert terms["log-probability"]["language"] == "fr"


def test_search_finds_a_term_by_its_label(glossary, api):
    body = api.get("/api/v1/terms/", {"q": "logarithmique"}).json()
    assert [t["slug"] for t in body["results"]] == ["log-probability"]
