"""Finding every glossary term in a passage of text.

Names and aliases are compiled into one Aho-Corasick automaton (ahocorasick_rs,
the Rust aho-corasick crate's contiguous NFA: a third less memory than
pyahocorasick's trie at 100,000 terms, and no Python object per node), so a
passage is scanned once whatever the size of the glossary. The automaton is
kept in this process per set of statuses; after the glossary changes, requests
use the one they have while a thread builds the next (``terms.text.aside``).

Matching treats case and runs of spaces, hyphens and underscores alike (the
lookup key of ``terms.documents.naming``), except for acronyms, which must show their
capitals; other forms of names and aliases (plurals, a process's verb forms)
match too (``terms.text.inflection``); abbreviations a text defines ("Wilson disease
(WD)") are linked for that text; a word the glossary uses to make one of its
terms more specific joins the span it precedes ("breast carcinoma", where the
glossary has "breast cancer" and "cancer"). Whole words only; where matches overlap, the
leftmost longest wins. Offsets are Python string indices into the
original text, so ``text[start:end]`` is the matched surface form.
"""

import contextlib
import gc
import re
import time
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import accumulate

import ahocorasick_rs

from terms.documents.naming import ARABIC_MARKS, QUOTES, lookup_key
from terms.text.aside import LatestBuilds
from terms.text.inflection import (
    ACRONYM,
    INFLECTION,
    VERB_PARTS,
    acronym_forms,
    case_form,
    is_acronym,
    is_adjective,
    spelling_keys,
    variant_keys,
    word_forms,
)

_SEPARATORS = {"-", "_", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015"}


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
        if self.automaton is None or not key:
            return False
        return any(
            start == 0 and end == len(key)
            for _, start, end in self.automaton.find_matches_as_indexes(
                key, overlapping=True
            )
        )


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


def _normalise(text: str) -> tuple[str, "list[int] | _AsciiOrigin | _FoldedOrigin"]:
    """The lookup-key form of ``text`` and, per character, its index in ``text``.

    Each character is folded on its own (NFKC, casefold), so one character may
    become several ("ß" -> "ss"); runs of white space and hyphens become one space.
    """
    if text.isascii():
        return _normalise_ascii(text)
    folded = _normalise_folded(text)
    if folded is not None:
        return folded
    return _normalise_exact(text)


def _normalise_exact(text: str) -> tuple[str, list[int]]:
    """``_normalise`` character by character (for the rare text where a
    character folds into white space, which the other paths do not model)."""
    chars: list[str] = []
    origin: list[int] = []
    # Stretches of plain ASCII letters and digits are lowered whole; only
    # separators and other characters go one by one (text with a few curly
    # quotes or dashes is mostly ASCII).
    for piece in _PIECES.finditer(text):
        start, end = piece.span()
        if piece.lastgroup == "plain":
            chars.append(piece.group().lower())
            origin.extend(range(start, end))
            continue
        for index in range(start, end):
            char = text[index]
            if char.isspace() or char in _SEPARATORS:
                if chars and chars[-1] == " " and origin[-1] == -1:
                    continue
                chars.append(" ")
                origin.append(-1)  # a separator run; resolved below
                continue
            if ARABIC_MARKS.match(char):
                continue  # left out of keys (terms.documents.naming)
            for folded in (
                unicodedata.normalize("NFKC", char).casefold().translate(QUOTES)
            ):
                chars.append(folded)
                origin.append(index)
    return "".join(chars), origin


_NON_ASCII = re.compile(r"[^\x00-\x7f]")

#: ASCII characters that fold to themselves lowered, one for one (no
#: separators among them), and everything else.
_PIECES = re.compile(r"(?P<plain>[!-,./-^`-~]+)|(?P<other>[^!-,./-^`-~]+)")


#: ASCII white space, hyphens and underscores (the separators) as spaces.
_ASCII_FOLD = str.maketrans(
    {char: " " for char in map(chr, range(128)) if char.isspace() or char in "-_"}
)
#: A run that shortens the text when it becomes one space.
_SPACE_RUNS = re.compile(" {2,}")


class _AsciiOrigin:
    """``_normalise``'s per-character origins for ASCII text, without a list
    of them: the normal form differs from the lowered text only where a run
    of two or more separators became one space, so an index is moved by what
    the runs before it removed (found by bisection), and a separator's origin
    is -1. Annotating 300 KB spent a third of its time building the list."""

    __slots__ = ("normal", "points", "shifts")

    def __init__(self, normal: str, points: list[int], shifts: list[int]):
        self.normal = normal
        self.points = points
        self.shifts = shifts

    def __getitem__(self, index: int) -> int:
        if self.normal[index] == " ":
            return -1
        at = bisect_right(self.points, index)
        return index + (self.shifts[at - 1] if at else 0)


class _FoldedOrigin:
    """Origins for text with non-ASCII characters: the folded text maps back
    to the original by sparse shifts (where a character folded into several,
    or into none), and the collapsed text to the folded one by the shifts of
    its separator runs (``_AsciiOrigin``)."""

    __slots__ = ("collapsed", "points", "shifts")

    def __init__(self, collapsed: _AsciiOrigin, points: list[int], shifts: list[int]):
        self.collapsed = collapsed
        self.points = points
        self.shifts = shifts

    def __getitem__(self, index: int) -> int:
        folded = self.collapsed[index]
        if folded == -1:
            return -1
        at = bisect_right(self.points, folded)
        return folded + (self.shifts[at - 1] if at else 0)


def _normalise_folded(text: str) -> tuple[str, _FoldedOrigin] | None:
    """``_normalise`` for text with non-ASCII characters, in stretches: ASCII
    runs lowered and their separators spaced by the translation table, each
    other character folded on its own; then separator runs collapsed as for
    ASCII. None when a character folds into white space (``_normalise_exact``
    keeps such a space as a character of the key)."""
    pieces: list[str] = []
    points: list[int] = []
    shifts: list[int] = []
    shift = 0  # original index minus folded index, from here on
    size = 0  # characters folded so far
    last = 0
    for found in _NON_ASCII.finditer(text):
        index = found.start()
        stretch = text[last:index].lower().translate(_ASCII_FOLD)
        pieces.append(stretch)
        size += len(stretch)
        char = found.group()
        if char.isspace() or char in _SEPARATORS:
            folded = " "
        elif ARABIC_MARKS.match(char):
            folded = ""
        else:
            folded = unicodedata.normalize("NFKC", char).casefold().translate(QUOTES)
            if any(part.isspace() for part in folded):
                return None
        pieces.append(folded)
        # Every character folded from this one maps back to it; the next
        # character of the text maps to the one after it.
        for offset in range(1, len(folded)):
            points.append(size + offset)
            shifts.append(index - size - offset)
        size += len(folded)
        if shift != index + 1 - size:
            shift = index + 1 - size
            points.append(size)
            shifts.append(shift)
        last = index + 1
    pieces.append(text[last:].lower().translate(_ASCII_FOLD))
    spaced = "".join(pieces)
    collapsed_points, collapsed_shifts, removed = [], [], 0
    for run in _SPACE_RUNS.finditer(spaced):
        start, end = run.span()
        collapsed_points.append(start - removed + 1)
        removed += end - start - 1
        collapsed_shifts.append(removed)
    normal = _SPACE_RUNS.sub(" ", spaced) if collapsed_points else spaced
    collapsed = _AsciiOrigin(normal, collapsed_points, collapsed_shifts)
    return normal, _FoldedOrigin(collapsed, points, shifts)


def _normalise_ascii(text: str) -> tuple[str, _AsciiOrigin]:
    """``_normalise`` for ASCII text, where folding is lower-casing, one
    character for one: separators become spaces by a translation table, and
    only runs of two or more are collapsed (a plain space, the commonest
    separator, is already what the normal form holds)."""
    spaced = text.lower().translate(_ASCII_FOLD)
    points, shifts, removed = [], [], 0
    for run in _SPACE_RUNS.finditer(spaced):
        start, end = run.span()
        points.append(start - removed + 1)
        removed += end - start - 1
        shifts.append(removed)
    normal = _SPACE_RUNS.sub(" ", spaced) if points else spaced
    return normal, _AsciiOrigin(normal, points, shifts)


def _fitting(candidates: tuple[Candidate, ...], written: str) -> tuple[Candidate, ...]:
    """The candidates the written form allows: acronyms only in their capitals."""
    form = case_form(written)
    return tuple(c for c in candidates if c.case is None or form in c.case)


class BudgetSpent(RuntimeError):
    """Annotating one text took longer than its budget
    (``GLOSSARY_ANNOTATE_BUDGET_SECONDS``); the work was stopped."""

    def __init__(self, seconds: float):
        super().__init__(
            f"Annotating this text took longer than {seconds:g} seconds and was "
            "stopped; send it in smaller parts."
        )
        self.seconds = seconds


#: How much normalised text is scanned between two looks at the clock. Every
#: key occurrence is reported, overlapping ones too (whole words are checked
#: after), so a piece also bounds how many matches exist at once.
_PIECE = 4096


def _pieces(matcher: Matcher, normal: str, deadline, budget):
    """Per piece of ``normal``: ``(floor, cut, matches)``, where ``matches``
    are ``(key index, start, end)`` in ``normal[floor:]`` and only those ending
    after ``cut`` are the piece's own; past ``deadline`` ``BudgetSpent`` is
    raised."""
    reach = matcher.longest
    find = matcher.automaton.find_matches_as_indexes
    for begin in range(0, len(normal), _PIECE):
        # Each piece is scanned from ``reach`` before it, and owns only the
        # occurrences that end inside it: each is reported once.
        floor = max(0, begin - reach)
        yield (
            floor,
            begin - floor,
            find(normal[floor : begin + _PIECE], overlapping=True),
        )
        if deadline is not None and time.monotonic() > deadline:
            raise BudgetSpent(budget)


@contextlib.contextmanager
def _collector_paused():
    """The cyclic garbage collector off for a scan, and back on after.

    A scan makes a tuple per key occurrence (inside words too) and frees each
    at once: none is ever part of a cycle, yet the allocations set off a
    collection every 700, which cost a third of the scan's time (measured:
    100 KB in 17 ms with the collector, 12.4 ms without). With several threads,
    the first scan to pause it turns it back on; a pause never outlives a scan.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def find_spans(
    matcher: Matcher, text: str, *, budget: float | None = None
) -> list[Span]:
    """Every whole-word occurrence of a key, leftmost-longest, non-overlapping;
    then abbreviations the text defines for a matched term.

    Every step is linear in the text (adversarial shapes are tested:
    ``tests/test_security_faults.py``); ``budget`` (seconds) bounds the work
    all the same: past it ``BudgetSpent`` is raised.
    """
    if not matcher.keys or not text:
        return []
    with _collector_paused():
        return _find_spans(matcher, text, budget)


def _find_spans(matcher: Matcher, text: str, budget: float | None) -> list[Span]:
    deadline = None if budget is None else time.monotonic() + budget
    normal, origin = _normalise(text)
    found = []
    last = len(normal) - 1
    cased, by_index, patterns = matcher.cased, matcher.candidates, matcher.patterns
    for floor, cut, matches in _pieces(matcher, normal, deadline, budget):
        for index, start, end in matches:
            if end <= cut:
                continue  # the piece before reported it
            key = patterns[index]
            start += floor
            end += floor - 1  # the last character's index
            # Whole words only (the checks inlined: this loop sees every key
            # occurrence, inside words too).
            if start > 0 and normal[start - 1].isalnum() and key[0].isalnum():
                continue
            if end < last and normal[end + 1].isalnum() and key[-1].isalnum():
                continue
            if origin[start] == -1 or origin[end] == -1:
                continue  # keys never start or end with a separator
            candidates = by_index[index]
            if key in cased:
                written = text[origin[start] : origin[end] + 1]
                candidates = _fitting(candidates, written)
                if not candidates:
                    continue
            # Sorted as they are (no key function): leftmost, then longest.
            found.append((start, -end, key, candidates))
    found.sort()
    spans = []
    last_end = -1
    for start, end, key, candidates in found:
        end = -end
        if start <= last_end:
            continue
        last_end = end
        spans.append(Span(origin[start], origin[end] + 1, key, candidates))
    if deadline is not None and time.monotonic() > deadline:
        raise BudgetSpent(budget)
    spans = _with_coordinated(spans, text, matcher)
    spans = _with_qualifiers(spans, text, matcher)
    spans = _with_types(spans, text)
    spans = _with_defined_abbreviations(spans, text)
    if deadline is not None and time.monotonic() > deadline:
        raise BudgetSpent(budget)
    return spans


def _word_before(text: str, floor: int, start: int) -> tuple[int, int] | None:
    """Where the word before ``start`` (separated by white space only, and not
    before ``floor``) starts and ends; None when there is none.

    Read backwards from ``start``: a search forwards from ``floor`` would scan
    every gap between spans.
    """
    end = start
    while end > floor and text[end - 1].isspace():
        end -= 1
    begin = end
    while begin > floor and (text[begin - 1].isalnum() or text[begin - 1] in "-_"):
        begin -= 1
    while begin < end and not text[begin].isalnum():
        begin += 1
    if end == start or begin == end:
        return None
    return begin, end


def _with_qualifiers(spans: list[Span], text: str, matcher: Matcher) -> list[Span]:
    """Grow a span over the word before it when the glossary uses that word to
    make one of its terms more specific: "breast carcinoma" is one span, linked
    to "carcinoma", when the glossary has "breast cancer" as well as "cancer"
    (kind ``qualified``). Acronyms and other languages' labels stay as written;
    never over another span.
    """
    if not matcher.qualifiers:
        return spans
    grown = []
    previous_end = 0
    for span in spans:
        found = None
        if span.best.match not in (ACRONYM, LABEL):
            found = _word_before(text, previous_end, span.start)
        if found and lookup_key(text[found[0] : found[1]]) in matcher.qualifiers:
            candidates = tuple(replace(c, match=QUALIFIED) for c in span.candidates)
            span = replace(span, start=found[0], candidates=candidates)
        grown.append(span)
        previous_end = span.end
    return grown


#: A subtype designation: "type II", "Type 1B", "types 2".
#: (Searched from "ype": a pattern that starts with a literal is found fast.)
_TYPE = re.compile(r"ypes?\s+(?:[IVX]{1,4}|\d{1,2})[A-Za-z]?(?![\w\-])")


def _word_char(char: str) -> bool:
    return char.isalnum() or char in "_-"


def _with_types(spans: list[Span], text: str) -> list[Span]:
    """Grow a span over a subtype designation right before or after it: "type
    IID von Willebrand disease", "atelosteogenesis type 2" (kind ``qualified``);
    never over another span."""
    if not spans or "ype" not in text:
        return spans
    designations = [
        (found.start() - 1, found.end())
        for found in _TYPE.finditer(text)
        if found.start()
        and text[found.start() - 1] in "Tt"
        and (found.start() == 1 or not _word_char(text[found.start() - 2]))
    ]
    if not designations:
        return spans
    by_start = {span.start: index for index, span in enumerate(spans)}
    by_end = {span.end: index for index, span in enumerate(spans)}
    grown = list(spans)
    for first, last in designations:
        after = last
        while after < len(text) and text[after] in " \t":
            after += 1
        before = first
        while before > 0 and text[before - 1] in " \t":
            before -= 1
        index, start, end = by_start.get(after), first, None
        if index is None or after == last:
            index, start, end = by_end.get(before), None, last
            if index is None or before == first:
                continue
        span = grown[index]
        candidates = tuple(replace(c, match=QUALIFIED) for c in span.candidates)
        grown[index] = replace(
            span,
            start=span.start if start is None else start,
            end=span.end if end is None else end,
            candidates=candidates,
        )
    return grown


#: A word and a conjunction right before a span ("breast or", "brain, ").
_CONJUNCT_BEFORE = re.compile(
    r"([^\W\d_][\w\-]*)\s*(?:,\s*(?:and|or)\s+|,\s*|\s+(?:and|or)\s+|\s*/\s*)$"
)


#: How far before a span a coordinated word and its conjunction are looked for.
_CONJUNCT_REACH = 64


def _conjunction_ends(text: str, floor: int, start: int) -> bool:
    """Whether ``text[floor:start]`` ends as ``_CONJUNCT_BEFORE`` needs: in a
    comma or slash, or in "and"/"or" after white space or a comma (trailing
    white space aside). Most spans follow a plain word, and the search it
    spares tries the pattern from every position of the window."""
    end = start
    while end > floor and text[end - 1].isspace():
        end -= 1
    if end == floor:
        return False
    if text[end - 1] in ",/":
        return True
    for word in ("and", "or"):
        begin = end - len(word)
        if (
            begin > floor
            and text[begin:end] == word
            and (text[begin - 1].isspace() or text[begin - 1] == ",")
        ):
            return True
    return False


def _with_coordinated(spans: list[Span], text: str, matcher: Matcher) -> list[Span]:
    """Grow a span over the words coordinated with its first one, when the
    glossary confirms them: "breast or ovarian cancer" is one span when
    "breast cancer" is a glossary key too (and "brain, breast, and prostate
    cancer" likewise). Never over another span.
    """
    grown = []
    previous_end = 0
    for span in spans:
        start = span.start
        head = span.key.rpartition(" ")[2]
        listed = False  # a confirmed word already joined the span
        while True:
            # Only the last few characters can hold a word and its conjunction:
            # searching the whole gap would make a long gap cost its length
            # squared (the pattern is tried from every position in it).
            floor = max(previous_end, start - _CONJUNCT_REACH)
            if not _conjunction_ends(text, floor, start):
                break  # the pattern cannot match: skip searching the window
            found = _CONJUNCT_BEFORE.search(text, floor, start)
            cut = (
                found is not None
                and found.start(1) == floor > previous_end
                and (text[floor - 1].isalnum() or text[floor - 1] in "-_")
            )  # the word goes on before the window: too long to be a name's
            if found and not cut:
                # Past one confirmed word, the words listed before it with
                # commas belong to the list ("brain, breast, and prostate
                # cancer"), even where the glossary has no name for them.
                listed_on = listed and "," in text[found.end(1) : start]
                if listed_on or matcher.knows(lookup_key(f"{found.group(1)} {head}")):
                    start = found.start(1)
                    listed = True
                    continue
            break
        grown.append(replace(span, start=start) if start != span.start else span)
        previous_end = span.end
    return grown


#: "(WD)", "(A-T)", "(LLMs)", "(SJS; ...)": an abbreviation opening the
#: parentheses after a long form.
_DEFINITION = re.compile(r"\(\s*([^\W_][\w\-]{0,11})\s*[),;]")


def _long_form_start(text: str, end: int, abbreviation: str) -> int | None:
    """Where the long form that ``abbreviation`` stands for starts, if the words
    before ``end`` spell it: its letters and digits in order, the first one at
    the start of a word (after Schwartz and Hearst's rule for biomedical text).
    None when they do not."""
    letters = [c.lower() for c in abbreviation if c.isalnum()]
    if abbreviation.endswith("s") and abbreviation[:-1].isupper():
        letters = letters[:-1]  # "LLMs" abbreviates "large language models"
    if not letters:
        return None
    window = text[max(0, end - 40 * len(letters)) : end]
    offset = end - len(window)
    position = len(window) - 1
    for index in range(len(letters) - 1, -1, -1):
        wanted = letters[index]
        while position >= 0:
            char = window[position].lower()
            at_word_start = position == 0 or not window[position - 1].isalnum()
            if char == wanted and (index > 0 or at_word_start):
                break
            position -= 1
        if position < 0:
            return None
        position -= 1
    return offset + position + 1


def _redefined(text: str, spans: list[Span], ends: dict, starts: list) -> set[str]:
    """Abbreviations the text defines as a matched term followed by more words:
    "the von Hippel-Lindau tumor suppressor gene (VHL)" makes "VHL" a gene in
    this text, whatever the glossary's acronym "VHL" names."""
    redefined = set()
    span_ends = [span.end for span in spans]
    for found in _DEFINITION.finditer(text):
        abbreviation = found.group(1)
        before = found.start()
        while before and text[before - 1].isspace():
            before -= 1
        if before in ends or not abbreviation[:1].isupper():
            continue
        # Only a term ending within reach of the letters can be inside.
        last = bisect_left(span_ends, before) - 1
        if last < 0 or spans[last].end < before - 40 * len(abbreviation):
            continue
        start = _long_form_start(text, before, abbreviation)
        if start is None:
            continue
        inside = bisect_left(starts, start)
        if inside < len(spans) and spans[inside].end < before:
            redefined.add(abbreviation)
    return redefined


def _redefined_acronym(span: Span, text: str, redefined: set[str]) -> bool:
    """Whether ``span`` is the glossary's acronym for an abbreviation (or its
    plural) that this text defines otherwise."""
    if not redefined or span.best.match != ACRONYM:
        return False
    written = text[span.start : span.end]
    return written in redefined or written[:-1] in redefined


def _with_defined_abbreviations(spans: list[Span], text: str) -> list[Span]:
    """Link "ABBR" to the term matched right before "(ABBR)", in this text only.

    The abbreviation must be written like one (a capital after its first
    character, or all capitals) and its letters must spell the words before it
    (see ``_long_form_start``); when the long form starts before the matched
    term ("insulin-dependent diabetes mellitus (IDDM)" where the glossary knows
    "diabetes mellitus"), the span grows to cover it. Every occurrence of ABBR
    (and its plural with "s") in the text joins the spans, replacing a span that
    covers exactly the same characters.
    """
    if not spans or "(" not in text:
        return spans
    ends = {span.end: span for span in spans}
    by_range = {(span.start, span.end): span for span in spans}
    # Overlap tests by bisection over the spans in order: testing every span
    # for every occurrence made a text repeating one abbreviation quadratic.
    starts = [span.start for span in spans]
    reach = list(accumulate((span.end for span in spans), max))
    redefined = _redefined(text, spans, ends, starts)
    defined: dict[str, tuple[Candidate, ...]] = {}
    for found in _DEFINITION.finditer(text):
        abbreviation = found.group(1)
        capitals = abbreviation.isupper() and len(abbreviation) > 1
        if not (is_acronym(abbreviation) or capitals) or abbreviation in defined:
            continue
        before = found.start()  # the end of the words before "(", spaces aside
        while before and text[before - 1].isspace():
            before -= 1
        long_form = ends.get(before)
        if long_form is not None and _redefined_acronym(long_form, text, redefined):
            continue
        start = _long_form_start(text, before, abbreviation) if long_form else None
        if long_form is None or start is None or start > long_form.start:
            # The letters spell no long form, or only the end of the matched
            # name: "deficiency of aspartoacylase (ASPA)" abbreviates the
            # enzyme, not the disease.
            continue
        before_long_form = bisect_left(starts, long_form.start)
        if start < long_form.start and not (
            before_long_form and reach[before_long_form - 1] > start
        ):
            del by_range[(long_form.start, long_form.end)]
            long_form = replace(long_form, start=start)
            by_range[(long_form.start, long_form.end)] = long_form
        defined[abbreviation] = tuple(
            replace(c, match="defined_abbreviation", case=None)
            for c in long_form.candidates
        )
    if redefined:
        # The glossary's acronym of that name means something else here.
        by_range = {
            where: span
            for where, span in by_range.items()
            if not _redefined_acronym(span, text, redefined)
        }
    if not defined:
        return sorted(by_range.values(), key=lambda span: span.start)
    pattern = re.compile(
        r"(?<![\w\-])("
        + "|".join(map(re.escape, sorted(defined, key=len, reverse=True)))
        + r")s?(?![\w\-])"
    )
    # The spans as found (before any abbreviation joins them) decide overlaps:
    # occurrences never overlap one another, and a long form grown above only
    # covers characters no other span does.
    grown = sorted(by_range)
    starts = [start for start, _ in grown]
    reach = list(accumulate((end for _, end in grown), max))
    for occurrence in pattern.finditer(text):
        start, end = occurrence.span()
        candidates = defined[occurrence.group(1)]
        below = bisect_left(starts, end)
        if (start, end) in by_range or not (below and reach[below - 1] > start):
            by_range[(start, end)] = Span(
                start, end, lookup_key(text[start:end]), candidates
            )
    return sorted(by_range.values(), key=lambda span: span.start)


def without_missing(spans: list[Span], known) -> list[Span]:
    """The spans with only candidates in ``known``; spans left with none dropped."""
    kept = []
    for span in spans:
        candidates = tuple(c for c in span.candidates if c.slug in known)
        if candidates:
            kept.append(replace(span, candidates=candidates))
    return kept


#: The latest matcher per set of statuses (built aside after a change).
MATCHERS = LatestBuilds("annotate-matcher")


def _glossary_entries(statuses: list[str]) -> list[tuple]:
    """Every name, alias and label of the stored terms in ``statuses``."""
    from terms.models import Alias, Label, LabelKind, Term

    terms = Term.objects.filter(status__in=statuses)
    entries = [
        (name, slug, "name", part in VERB_PARTS)
        for slug, name, part in terms.values_list("slug", "name", "part_of_speech")
    ]
    entries += [
        (alias, slug, "alias", part in VERB_PARTS)
        for slug, alias, part in Alias.objects.filter(
            term__status__in=statuses
        ).values_list("term__slug", "name", "term__part_of_speech")
    ]
    entries += [
        (text, slug, LABEL)
        for slug, text in Label.objects.filter(
            term__status__in=statuses, kind__in=[LabelKind.NAME, LabelKind.ALIAS]
        ).values_list("term__slug", "text")
    ]
    return entries


def glossary_matcher(statuses: list[str], version_key: tuple) -> Matcher:
    """The matcher for the stored glossary's terms in ``statuses`` (kept per
    process; see ``terms.text.aside`` for how a change is picked up)."""
    from django.conf import settings

    return MATCHERS.get(
        tuple(sorted(statuses)),
        version_key,
        lambda: build_matcher(_glossary_entries(statuses)),
        background=settings.GLOSSARY_BUILD_ASIDE,
    )


#: Matchers of releases read lately (a release never changes: built once).
RELEASE_MATCHERS = LatestBuilds("release-matcher", size=4)


def release_matcher(statuses: list[str], release_key: tuple) -> Matcher:
    """The matcher of a release's terms in ``statuses``; called while the
    release's snapshot is the database read (``terms.serving.snapshots``), so
    it is built on the request, in this thread. ``release_key`` holds the
    release's identity (``snapshots.identity``)."""
    return RELEASE_MATCHERS.get(
        (release_key, tuple(sorted(statuses))),
        (0,),
        lambda: build_matcher(_glossary_entries(statuses)),
        background=False,
    )
