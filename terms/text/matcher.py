"""Annotate's matcher: glossary names, aliases and their other forms compiled
into one Aho-Corasick automaton (ahocorasick_rs, the Rust aho-corasick crate's
contiguous NFA: a third less memory than pyahocorasick's trie at 100,000
terms, and no Python object per node), with what each key stands for.

Keys are lookup keys (``terms.documents.naming``): case and runs of spaces,
hyphens and underscores alike, except for acronyms, which keep the capitals
they must be written in. Other forms come from ``terms.text.inflection``
(plurals, a process's verb forms, other spellings) and from the glossary's own
pairs of last words (``_Heads``).
"""

from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick_rs

from terms.documents.naming import lookup_key
from terms.text.inflection import (
    ACRONYM,
    INFLECTION,
    acronym_forms,
    case_form,
    is_acronym,
    is_adjective,
    spelling_keys,
    variant_keys,
    word_forms,
)

#: How a span matched, best first: a term's name, one of its aliases, an
#: acronym in its capitals, a name or alias in another language (as written:
#: no English inflection), another form of a name or alias, a name or alias
#: with its last word swapped for one the glossary uses interchangeably
#: ("prostate carcinoma" for "prostate cancer"), one of those after a word
#: that specializes it ("breast carcinoma"), or an abbreviation the text
#: itself defined ("Wilson disease (WD) ... WD").
LABEL = "label"
SUBSTITUTE = "substitute"
QUALIFIED = "qualified"
MATCH_KINDS = (
    "exact",
    "alias",
    ACRONYM,
    LABEL,
    INFLECTION,
    SUBSTITUTE,
    QUALIFIED,
    "defined_abbreviation",
)

#: English function words: never a qualifier, whatever names start with them.
# fmt: off
FUNCTION_WORDS = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "some", "any", "each",
    "every", "all", "both", "no", "not", "of", "in", "on", "at", "to", "for",
    "from", "by", "with", "into", "onto", "upon", "over", "under", "between",
    "among", "and", "or", "nor", "but", "as", "than", "so", "if", "then", "is",
    "are", "was", "were", "be", "been", "being", "has", "have", "had", "do",
    "does", "did", "it", "its", "they", "their", "them", "we", "our", "us", "he",
    "his", "she", "her", "you", "your", "who", "whom", "whose", "which", "what",
    "there", "here", "also", "only", "such", "other",
})
# fmt: on


@dataclass(frozen=True, slots=True)
class Candidate:
    """A term a key may stand for, and how the key stands for it."""

    slug: str
    matched_on: str  # "name", "alias" or "label"
    match: str = "exact"  # one of MATCH_KINDS
    #: For acronyms: the written forms (capitals kept) the text must show.
    case: tuple[str, ...] | None = None


@dataclass
class Matcher:
    """A compiled automaton plus what each key means."""

    automaton: "ahocorasick_rs.AhoCorasick | None"
    keys: int
    #: The keys in the automaton's order (a match names its key by index), and
    #: what each stands for, in the same order (no dictionary of 400,000 keys:
    #: ``knows`` asks the automaton).
    patterns: tuple[str, ...] = ()
    candidates: tuple[tuple[Candidate, ...], ...] = ()
    #: The length of the longest key.
    longest: int = 0
    #: Keys with a candidate that must be written in its capitals (acronyms).
    cased: frozenset = frozenset()
    #: Words that make a term more specific: the first word of a name whose
    #: other words are a name too ("breast" of "breast cancer" beside "cancer").
    qualifiers: frozenset = frozenset()

    def knows(self, key: str) -> bool:
        """Whether ``key`` is one of the matcher's keys."""
        return bool(self.meaning(key))

    def meaning(self, key: str) -> tuple[Candidate, ...]:
        """What ``key`` stands for; nothing when it is not one of the keys."""
        if self.automaton is None or not key:
            return ()
        for index, start, end in self.automaton.find_matches_as_indexes(
            key, overlapping=True
        ):
            if start == 0 and end == len(key):
                return self.candidates[index]
        return ()


@dataclass(frozen=True, slots=True)
class Span:
    """One occurrence of a term in the text."""

    start: int
    end: int
    key: str
    candidates: tuple[Candidate, ...]

    @property
    def best(self) -> Candidate:
        """The candidate a reader is shown first."""
        return self.candidates[0]


def _entry_keys(text: str, matched_on: str, verbs: bool):
    """``(key, match, case forms)`` for one name or alias and its other forms."""
    if matched_on == LABEL:
        # Another language: as written; an acronym only in its own capitals.
        yield lookup_key(text), LABEL, (case_form(text),) if is_acronym(text) else None
        return
    if is_acronym(text):
        forms = acronym_forms(text)
        for form in forms:
            yield lookup_key(form), ACRONYM, forms
        return
    kind = "exact" if matched_on == "name" else "alias"
    yield lookup_key(text), kind, None
    for key in spelling_keys(text):
        yield key, kind, None  # the same name, spelled otherwise
    for key in variant_keys(text, verbs=verbs):
        yield key, INFLECTION, None


def build_matcher(entries: Iterable[tuple]) -> Matcher:
    """Compile ``(text, slug, matched_on[, verbs])`` entries (names and aliases).

    ``verbs`` (the term is a process) adds verb forms; see ``terms.text.inflection``.
    """
    # One candidate per key, a dictionary only for keys of several terms:
    # 400,000 small dictionaries were most of the memory a build took.
    entries = list(entries)
    # First, and apart: what this needs is freed before the matcher's own
    # structures are made, so none of it stays in the process's heap.
    swaps = _Heads(entries).swaps()
    grouped: dict[str, Candidate | dict[str, Candidate]] = {}
    for text, slug, matched_on, *rest in entries:
        verbs = bool(rest and rest[0])
        for key, match, case in _entry_keys(text, matched_on, verbs):
            if key:
                _group(grouped, key, Candidate(slug, matched_on, match, case))
    _add_substitutes(grouped, swaps)
    candidates_by_key = {
        # A term named so comes before terms that only carry it as an alias.
        key: (found,)
        if isinstance(found, Candidate)
        else tuple(sorted(found.values(), key=_rank))
        for key, found in grouped.items()
    }
    del grouped
    patterns = tuple(candidates_by_key)
    automaton = (
        ahocorasick_rs.AhoCorasick(
            patterns,
            matchkind=ahocorasick_rs.MatchKind.Standard,
            implementation=ahocorasick_rs.Implementation.ContiguousNFA,
        )
        if patterns
        else None
    )
    cased = frozenset(
        key
        for key, candidates in candidates_by_key.items()
        if any(c.case is not None for c in candidates)
    )
    qualifiers = frozenset(
        first
        for first, _, rest in (key.partition(" ") for key in candidates_by_key)
        if rest in candidates_by_key and first not in FUNCTION_WORDS
    )
    return Matcher(
        automaton=automaton,
        keys=len(patterns),
        candidates=tuple(candidates_by_key.values()),
        patterns=patterns,
        longest=max(map(len, patterns), default=0),
        cased=cased,
        qualifiers=qualifiers,
    )


def _group(grouped: dict, key: str, candidate: Candidate) -> None:
    """Add ``candidate`` to ``key``'s, keeping one (the best) per term."""
    known = grouped.get(key)
    if known is None:
        grouped[key] = candidate
        return
    if isinstance(known, Candidate):
        known = grouped[key] = {known.slug: known}
    other = known.get(candidate.slug)
    if other is None or _rank(candidate) < _rank(other):
        known[candidate.slug] = candidate


#: How many terms must show two last words side by side ("colorectal cancer"
#: and "colorectal carcinoma" both naming one term) before they count as
#: interchangeable in every name.
SUBSTITUTE_EVIDENCE = 2


def _head(word: str) -> str:
    """One spelling for a word and its other numbers ("cancers" -> "cancer")."""
    return min((word, *word_forms(word)), key=lambda form: (len(form), form))


class _Heads:
    """Which last words the glossary uses interchangeably.

    Two last words are interchangeable when, for at least
    ``SUBSTITUTE_EVIDENCE`` terms, the same first words end one name or alias
    of the term with one and another with the other ("colorectal cancer" and
    "colorectal carcinoma", "ovarian cancer" and "ovarian carcinoma").
    Nothing is assumed about any language or field: the evidence is the
    glossary's own. One last word is kept per term and first words, and more
    only where a term has several (a set each would double a large glossary's
    build memory).
    """

    def __init__(self, entries: list[tuple]):
        self.seen: dict[tuple[str, str], str | tuple[str, ...]] = {}
        self.evidence: dict[tuple[str, str], set[str]] = {}
        for text, slug, matched_on, *_ in entries:
            if matched_on != LABEL and not is_acronym(text):
                self.note(slug, lookup_key(text))

    def note(self, slug: str, key: str) -> None:
        """Note one name's or alias's key (of several words, or nothing)."""
        first, _, last = key.rpartition(" ")
        if not first:
            return
        head = _head(last)
        known = self.seen.setdefault((slug, first), head)
        if known == head or (isinstance(known, tuple) and head in known):
            return
        earlier = known if isinstance(known, tuple) else (known,)
        for other in earlier:
            self.evidence.setdefault((head, other), set()).add(slug)
            self.evidence.setdefault((other, head), set()).add(slug)
        self.seen[(slug, first)] = (*earlier, head)

    def swaps(self) -> dict[str, list[str]]:
        """Per last word, the words that may take its place."""
        swaps: dict[str, list[str]] = {}
        for (one, other), slugs in self.evidence.items():
            # A name ends in a noun: an adjective in its place makes a
            # modifier ("C9 deficiency" -> "Atm-deficient mice"): none is
            # swapped in.
            if len(slugs) >= SUBSTITUTE_EVIDENCE and not is_adjective(other):
                swaps.setdefault(one, []).append(other)
        return swaps


def _add_substitutes(grouped: dict, swaps: dict[str, list[str]]) -> None:
    """Names and aliases with their last word swapped for one the glossary
    itself treats as interchangeable (``_Heads``): "prostate cancer" is also
    found written "prostate carcinoma". A glossary whose terms never pair last
    words gets none; a substitute never takes a key another name, alias or
    form already holds.
    """
    if not swaps:
        return
    added: dict[str, Candidate | dict[str, Candidate]] = {}
    for key, found in grouped.items():
        first, _, last = key.rpartition(" ")
        if not first or set(first.split(" ")) <= FUNCTION_WORDS:
            continue
        others = swaps.get(_head(last))
        if not others:
            continue
        named = (found,) if isinstance(found, Candidate) else found.values()
        for candidate in named:
            if candidate.match not in ("exact", "alias"):
                continue
            for other in others:
                for form in (other, *word_forms(other)):
                    swapped = f"{first} {form}"
                    if swapped not in grouped:
                        substitute = Candidate(
                            candidate.slug, candidate.matched_on, SUBSTITUTE
                        )
                        _group(added, swapped, substitute)
    grouped.update(added)


def _rank(candidate: Candidate) -> tuple:
    return (MATCH_KINDS.index(candidate.match), candidate.slug)


def fitting(candidates: tuple[Candidate, ...], written: str) -> tuple[Candidate, ...]:
    """The candidates the written form allows: acronyms only in their capitals."""
    form = case_form(written)
    return tuple(c for c in candidates if c.case is None or form in c.case)
