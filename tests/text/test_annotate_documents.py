"""Annotate documents: in HTML and Markdown, terms are found in the prose only
(never in code, links, terms already marked, attributes, comments, front
matter or HTML blocks); offsets index the document as sent; ``mark`` answers
the document with each term's first occurrence per section marked."""

import pytest

from tests.helpers import seed_term

pytestmark = pytest.mark.django_db

HTML = """<!doctype html>
<html><head><title>prompt</title><style>.prompt { color: red }</style></head>
<body>
<h1>Writing a prompt</h1>
<p>A <em>prompt</em> steers the model; <code>prompt</code> is a variable.</p>
<p>See <a href="/terms/prompt/">prompt</a>, the <abbr title="x">prompt</abbr>
and <dfn>prompt</dfn>.<!-- prompt --> <img alt="prompt" src="prompt.png"></p>
<pre>prompt = "hello"</pre>
<kbd>prompt</kbd> <samp>prompt</samp>
<script>let prompt = "</p> prompt";</script>
<p data-note="a prompt>">Another prompt here, and a prompt again.</p>
<h2>Temperature</h2>
<p>The temperature and the prompt.</p>
</body></html>"""

MARKDOWN = """---
title: prompt
---
# Writing a prompt

A *prompt* steers the model; `prompt` is code, [prompt](https://x.example/prompt)
is a link, <https://prompt.example> and https://y.example/prompt are addresses.

```
prompt = "hello"
```

    prompt in indented code

<div>
prompt in an HTML block
</div>

[prompt]: https://ref.example/prompt

## Temperature

The temperature and the prompt, and the prompt again.
"""


@pytest.fixture
def glossary(people):
    seed_term("prompt", "approved", people["author"])
    seed_term("temperature", "approved", people["author"])


def _annotate(api, text, **options):
    response = api.post("/api/v1/annotate/", {"text": text, **options}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _where(document: str, needle: str, nth: int) -> int:
    """The offset of the ``nth`` (0-based) occurrence of ``needle``."""
    start = -1
    for _ in range(nth + 1):
        start = document.index(needle, start + 1)
    return start


def test_html_prose_only_with_offsets_into_the_document(glossary, api):
    body = _annotate(api, HTML, format="html")
    found = [(s["start"], s["end"], s["text"]) for s in body["spans"]]
    for start, end, surface in found:
        assert HTML[start:end] == surface
    prompts = [start for start, _, surface in found if surface.lower() == "prompt"]
    wanted = [
        _where(HTML, "prompt</h1>", 0),
        _where(HTML, "prompt</em>", 0),
        _where(HTML, "Another prompt", 0) + len("Another "),
        _where(HTML, "a prompt again", 0) + len("a "),
        _where(HTML, "the prompt.</p>", 0) + len("the "),
    ]
    assert prompts == wanted
    assert [s["text"] for s in body["spans"] if s["slug"] == "temperature"] == [
        "Temperature",
        "temperature",
    ]


def test_markdown_prose_only(glossary, api):
    body = _annotate(api, MARKDOWN, format="markdown")
    for span in body["spans"]:
        assert MARKDOWN[span["start"] : span["end"]] == span["text"]
    starts = [s["start"] for s in body["spans"] if s["slug"] == "prompt"]
    assert starts == [
        _where(MARKDOWN, "prompt\n\nA", 0),
        _where(MARKDOWN, "prompt* steers", 0),
        _where(MARKDOWN, "prompt, and the", 0),
        _where(MARKDOWN, "prompt again", 0),
    ]


def test_plain_text_is_unchanged(glossary, api):
    text = "A prompt in `prompt` and <b>prompt</b>."
    body = _annotate(api, text)
    wanted = [_where(text, "prompt", n) for n in range(3)]
    assert [s["start"] for s in body["spans"]] == wanted


def test_mark_the_first_occurrence_per_section_never_in_headings(glossary, api):
    body = _annotate(api, HTML, format="html", mark="first")
    marked = body["document"]
    assert marked.count('<dfn class="glossary-term" data-term="prompt">') == 2
    assert marked.count('data-term="temperature"') == 1
    assert '<a href="http://testserver/terms/prompt/" title="A short definition' in (
        marked
    )
    assert "<code>prompt</code>" in marked  # untouched
    assert "<h1>Writing a prompt</h1>" in marked  # headings are never marked
    every = _annotate(api, HTML, format="html", mark="all")["document"]
    assert every.count('data-term="prompt"') == 4  # the five found, less the heading's
    once = _annotate(api, HTML, format="html", mark="once")["document"]
    assert once.count('data-term="prompt"') == 1
    assert 'data-term="prompt">' in once.split("<h2>")[0]
    markdown = _annotate(api, MARKDOWN, format="markdown", mark="first")["document"]
    assert '[prompt](http://testserver/terms/prompt/ "A short definition' in markdown
    assert markdown.count("](http://testserver/terms/prompt/") == 2
    assert "`prompt` is code" in markdown


def test_mark_needs_a_document_format(glossary, api):
    response = api.post(
        "/api/v1/annotate/", {"text": "a prompt", "mark": "first"}, format="json"
    )
    assert response.status_code == 400
    assert "mark" in str(response.json())
    unknown = api.post(
        "/api/v1/annotate/", {"text": "a prompt", "format": "rtf"}, format="json"
    )
    assert unknown.status_code == 400


def test_the_ascii_fast_path_maps_every_character_back():
    """The normal form of ASCII text and each character's origin, as the
    character-by-character definition gives them (separator runs become one
    space whose origin is -1), for many random texts."""
    import random
    import re

    from terms.text.normalise import _normalise_ascii

    def reference(text):
        chars, origin, last = [], [], 0
        for run in re.finditer(r"[\s\-_]+", text.lower()):
            start, end = run.span()
            chars.append(text.lower()[last:start])
            origin.extend(range(last, start))
            chars.append(" ")
            origin.append(-1)
            last = end
        chars.append(text.lower()[last:])
        origin.extend(range(last, len(text)))
        return "".join(chars), origin

    chooser = random.Random(7)
    for _ in range(2000):
        text = "".join(
            chooser.choice("aB -_\n\t\x0b\r") for _ in range(chooser.randint(0, 30))
        )
        normal, origin = _normalise_ascii(text)
        expected_normal, expected_origin = reference(text)
        assert normal == expected_normal
        assert [origin[i] for i in range(len(normal))] == expected_origin


def test_text_with_other_characters_folds_as_character_by_character():
    """Text with non-ASCII characters: ASCII stretches are lowered whole and
    the others folded one by one, with the same result and origins as folding
    every character on its own."""
    import random
    import unicodedata

    from terms.documents.naming import ARABIC_MARKS, QUOTES
    from terms.text.normalise import _SEPARATORS, normalise

    def reference(text):
        chars, origin = [], []
        for index, char in enumerate(text):
            if char.isspace() or char in _SEPARATORS:
                if not (chars and chars[-1] == " " and origin[-1] == -1):
                    chars.append(" ")
                    origin.append(-1)
                continue
            if ARABIC_MARKS.match(char):
                continue
            for folded in (
                unicodedata.normalize("NFKC", char).casefold().translate(QUOTES)
            ):
                chars.append(folded)
                origin.append(index)
        return "".join(chars), origin

    chooser = random.Random(11)
    # Curly quotes and dashes, a no-break space, characters that fold into two
    # ("ß", "ﬁ", "İ") or into none (an Arabic tatweel), full-width forms, and
    # one whose fold holds a space ("¨": the character-by-character path).
    alphabet = (
        "aB9 -_\n'\u2019\u2014\u00a0\u00df\ufb01\u0130\u0640é\uff26\uff0d"
        "\u03a3\u00a8x.()"
    )
    for _ in range(3000):
        text = "".join(chooser.choice(alphabet) for _ in range(chooser.randint(0, 30)))
        text += "é"  # never all ASCII: these are the other paths
        normal, origin = normalise(text)
        expected_normal, expected_origin = reference(text)
        assert normal == expected_normal
        assert [origin[i] for i in range(len(normal))] == expected_origin
