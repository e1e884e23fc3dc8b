"""Which written forms count as the same term: acronyms and English inflection.

One place decides it for annotate and lookup:

- **Acronyms.** A name or alias of one word (hyphens and digits allowed) with a
  capital letter after its first character (``RAG``, ``LLM``, ``LoRA``,
  ``mRNA``, ``GPT-4``) is an acronym: it matches text written with the same
  capitals, and its plural with ``s`` (``LLMs``), never the ordinary word
  (``rag``). Whoever wants an alias matched in any case writes it in lower
  case; that is the switch, per alias.
- **Inflection.** Any other name or alias also matches the plural or singular
  of its last word (the head noun of a phrase): "reward model" finds "reward
  models", "log-probability" finds "log-probabilities", "guardrails" finds
  "guardrail". A term whose part of speech is ``verb`` or ``process`` also
  matches the verb forms of its last word: "fine-tuning" finds "fine-tuned",
  "fine-tunes" and "fine-tune". Forms come from lemminflect's English lexicon
  (with its rules for words it does not know). Words shorter than three
  letters are left alone.

Forms are compared as lookup keys (``terms.documents.naming.lookup_key``): case,
Unicode compatibility forms and space/hyphen/underscore differences do not
matter, except for acronyms, whose capitals do.
"""

import functools
import re
import unicodedata

from lemminflect import getAllLemmas, getAllLemmasOOV, getInflection

from terms.documents.naming import lookup_key

__all__ = [
    "ACRONYM",
    "EXACT",
    "INFLECTION",
    "VERB_PARTS",
    "base_keys",
    "case_form",
    "is_acronym",
    "variant_keys",
    "warm",
    "word_forms",
]

EXACT, INFLECTION, ACRONYM = "exact", "inflection", "acronym"
#: Parts of speech whose terms also match verb forms ("fine-tuned").
VERB_PARTS = frozenset({"verb", "process"})

_VERB_TAGS = ("VB", "VBD", "VBG", "VBN", "VBZ")
_ONE_WORD = re.compile(r"^[^\W_](?:[\w\-]*[^\W_])?$")
_SEPARATORS = re.compile(r"[\s_\-\u2010-\u2015]+")


def warm() -> None:
    """Load lemminflect's lexicon now (about half a second), not on a request."""
    _word_forms.cache_clear()
    _word_forms("models", True)


def is_acronym(surface: str) -> bool:
    """A single word with a capital letter after its first character."""
    text = surface.strip()
    return (
        bool(_ONE_WORD.match(text))
        and len(text) <= 12
        and any(char.isupper() for char in text[1:])
    )


def case_form(text: str) -> str:
    """``text`` compared with its capitals: NFKC, one separator, no case folding."""
    return _SEPARATORS.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def acronym_forms(surface: str) -> tuple[str, ...]:
    """The written forms an acronym matches: itself and its plural."""
    form = case_form(surface)
    return (form, f"{form}s") if not form.endswith("s") else (form,)


@functools.lru_cache(maxsize=200_000)
def _word_forms(word: str, verbs: bool) -> tuple[str, ...]:
    """Other forms of one lower-case word: noun number, and verb forms if asked."""
    if len(word) < 3 or not word.isalpha():
        return ()
    lemmas = getAllLemmas(word) or getAllLemmasOOV(word, "NOUN")
    forms: set[str] = set()
    nouns = lemmas.get("NOUN", ())
    if not nouns and "VERB" not in lemmas:
        nouns = (word,)
    for lemma in nouns:
        forms.add(lemma)
        forms.update(getInflection(lemma, "NNS"))
    if verbs:
        verb_lemmas = lemmas.get("VERB", ())
        if not verb_lemmas and word.endswith(("ing", "ed")):
            verb_lemmas = getAllLemmasOOV(word, "VERB")["VERB"]
        for lemma in verb_lemmas:
            forms.add(lemma)
            for tag in _VERB_TAGS:
                forms.update(getInflection(lemma, tag))
    forms.discard(word)
    return tuple(sorted(form.lower() for form in forms if form.isalpha()))


def word_forms(word: str) -> tuple[str, ...]:
    """The other noun forms of one lower-case word ("embeddings" -> "embedding")."""
    return _word_forms(word, False)


def variant_keys(surface: str, *, verbs: bool = False) -> tuple[str, ...]:
    """Lookup keys of the other forms of a name or alias (none for acronyms)."""
    if is_acronym(surface):
        return ()
    key = lookup_key(surface)
    head, _, last = key.rpartition(" ")
    prefix = f"{head} " if head else ""
    return tuple(f"{prefix}{form}" for form in _word_forms(last, verbs))


def base_keys(text: str) -> tuple[str, ...]:
    """Keys a lookup of ``text`` may also mean: its last word's base forms
    (singular, verb base and -ing form), for finding "embeddings" as
    "embedding" and "fine-tuned" as "fine-tuning"."""
    key = lookup_key(text)
    head, _, last = key.rpartition(" ")
    prefix = f"{head} " if head else ""
    return tuple(f"{prefix}{form}" for form in _word_forms(last, True))
