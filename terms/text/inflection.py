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
- **Numbers and possessives.** A numeral after the first word matches in Roman
  or Arabic figures ("atelosteogenesis type II" finds "atelosteogenesis type
  2"; "AO II" finds "AO 2", "AO-2" and "AO2"), and a name's capitalised word
  (an eponym) matches with or without "'s" ("Addison disease" finds
  "Addison's disease", and the other way round): ``spelling_keys``.

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
    "is_adjective",
    "spelling_keys",
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


@functools.lru_cache(maxsize=10_000)
def is_adjective(word: str) -> bool:
    """Whether the lexicon knows one lower-case word as an adjective
    ("deficient", even though it is listed as a noun too)."""
    return "ADJ" in getAllLemmas(word)


def word_forms(word: str) -> tuple[str, ...]:
    """The other noun forms of one lower-case word ("embeddings" -> "embedding")."""
    return _word_forms(word, False)


_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii")
_NUMERALS = {
    **{roman: str(number) for number, roman in enumerate(_ROMAN, 1)},
    **{str(number): roman for number, roman in enumerate(_ROMAN, 1)},
}
_SHORT_LETTERS = re.compile(r"^[a-z]{1,4}$")
#: A subtype's designation: a numeral, in either figures, and maybe a letter.
_DESIGNATION = re.compile(r"^(?:\d{1,2}|[ivx]{1,4})[a-z]?$")


def spelling_keys(surface: str) -> tuple[str, ...]:
    """Keys of the other spellings of a name or alias (none for acronyms):
    its numerals after the first word in the other figures, a subtype's
    designation with or without "type", and its capitalised words with or
    without a possessive "'s"."""
    if is_acronym(surface):
        return ()
    key = lookup_key(surface)
    words = key.split(" ")
    keys = []
    if len(words) > 1 and any(word in _NUMERALS for word in words[1:]):
        swapped = [words[0], *(_NUMERALS.get(word, word) for word in words[1:])]
        keys.append(" ".join(swapped))
        last = len(words) - 1
        written = surface.split()
        joinable = (
            words[last] in _NUMERALS
            and _SHORT_LETTERS.match(words[last - 1])
            and len(written) == len(words)
            and written[last - 1].isupper()
        )
        if joinable:  # "AO II" is also written "AO2"
            arabic = words[last] if words[last].isdigit() else _NUMERALS[words[last]]
            keys.append(" ".join([*words[: last - 1], words[last - 1] + arabic]))
    keys += _designation_keys(words)
    possessive = _possessive_key(surface, words)
    if possessive:
        keys.append(possessive)
    return tuple(dict.fromkeys(k for k in keys if k != key))


def _designation_keys(words: list[str]) -> list[str]:
    """A subtype designated after the first word with and without the word
    "type" ("achondrogenesis 1B" and "achondrogenesis type 1B")."""
    for at in range(1, len(words)):
        if not _DESIGNATION.match(words[at]) or words[at] in ("i", "v", "x"):
            continue  # one letter alone is more often a word than a numeral
        if words[at - 1] == "type" and at > 1:
            return [" ".join([*words[: at - 1], *words[at:]])]
        if words[at - 1] != "type":
            return [" ".join([*words[:at], "type", *words[at:]])]
    return []


def _possessive_key(surface: str, words: list[str]) -> str | None:
    """For a name like "Addison disease" (a capitalised word before a last
    word in lower case), its key with the possessive added or dropped."""
    written = surface.split()
    if len(words) < 2 or len(written) != len(words) or not written[-1].islower():
        return None
    eponym = words[-2]
    if not written[-2][:1].isupper():
        return None
    if eponym.endswith("'s"):
        changed = eponym[:-2]
    elif eponym.isalpha() and len(eponym) > 2 and not eponym.endswith("s"):
        changed = eponym + "'s"
    else:
        return None
    return " ".join([*words[:-2], changed, words[-1]])


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
