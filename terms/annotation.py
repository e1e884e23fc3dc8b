"""Finding every glossary term in a passage of text.

Names and aliases are compiled into one Aho-Corasick automaton (pyahocorasick),
so a passage is scanned once whatever the size of the glossary. The automaton is
kept in this process per set of statuses; after the glossary changes, requests
use the one they have while a thread builds the next (``MatcherCache``).

Matching is case-insensitive and treats runs of spaces, hyphens and underscores
alike (the lookup key of ``terms.naming``), on whole words only; where matches
overlap, the leftmost longest wins. Offsets are Python string indices into the
original text, so ``text[start:end]`` is the matched surface form.
"""

import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import ahocorasick

from .naming import lookup_key

_SEPARATORS = {"-", "_", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015"}


@dataclass(frozen=True)
class Candidate:
    """A term a key may stand for, and whether the key is its name or an alias."""

    slug: str
    matched_on: str  # "name" or "alias"


@dataclass
class Matcher:
    """A compiled automaton plus what each key means."""

    automaton: ahocorasick.Automaton
    keys: int
    candidates: dict[str, tuple[Candidate, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
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


def build_matcher(entries: Iterable[tuple[str, str, str]]) -> Matcher:
    """Compile ``(text, slug, matched_on)`` entries (names and aliases)."""
    grouped: dict[str, list[Candidate]] = {}
    for text, slug, matched_on in entries:
        key = lookup_key(text)
        if not key:
            continue
        candidates = grouped.setdefault(key, [])
        if all(c.slug != slug for c in candidates):
            candidates.append(Candidate(slug, matched_on))
    automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY, ahocorasick.KEY_STRING)
    candidates_by_key = {}
    for key, candidates in grouped.items():
        # A term named so comes before terms that only carry it as an alias.
        ordered = tuple(
            sorted(candidates, key=lambda c: (c.matched_on != "name", c.slug))
        )
        candidates_by_key[key] = ordered
        automaton.add_word(key, key)
    if grouped:
        automaton.make_automaton()
    return Matcher(automaton=automaton, keys=len(grouped), candidates=candidates_by_key)


def _normalise(text: str) -> tuple[str, list[int]]:
    """The lookup-key form of ``text`` and, per character, its index in ``text``.

    Each character is folded on its own (NFKC, casefold), so one character may
    become several ("ß" -> "ss"); runs of white space and hyphens become one space.
    """
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char.isspace() or char in _SEPARATORS:
            if chars and chars[-1] == " " and origin[-1] == -1:
                continue
            chars.append(" ")
            origin.append(-1)  # a separator run; resolved below
            continue
        for folded in unicodedata.normalize("NFKC", char).casefold():
            chars.append(folded)
            origin.append(index)
    return "".join(chars), origin


def _is_word(char: str) -> bool:
    return char.isalnum()


def find_spans(matcher: Matcher, text: str) -> list[Span]:
    """Every whole-word occurrence of a key, leftmost-longest, non-overlapping."""
    if not matcher.keys or not text:
        return []
    normal, origin = _normalise(text)
    found = []
    for end, key in matcher.automaton.iter(normal):
        start = end - len(key) + 1
        if start > 0 and _is_word(normal[start - 1]) and _is_word(key[0]):
            continue
        if end + 1 < len(normal) and _is_word(normal[end + 1]) and _is_word(key[-1]):
            continue
        if origin[start] == -1 or origin[end] == -1:
            continue  # keys never start or end with a separator
        found.append((start, end, key))
    found.sort(key=lambda item: (item[0], -(item[1] - item[0])))
    spans = []
    last_end = -1
    for start, end, key in found:
        if start <= last_end:
            continue
        last_end = end
        spans.append(
            Span(
                start=origin[start],
                end=origin[end] + 1,
                key=key,
                candidates=matcher.candidates[key],
            )
        )
    return spans


def without_missing(spans: list[Span], known) -> list[Span]:
    """The spans with only candidates in ``known``; spans left with none dropped."""
    kept = []
    for span in spans:
        candidates = tuple(c for c in span.candidates if c.slug in known)
        if candidates:
            kept.append(replace(span, candidates=candidates))
    return kept


class MatcherCache:
    """The latest matcher per set of statuses, tagged with the glossary version
    it was built for.

    Only the first matcher for a set of statuses is built on a request. When the
    glossary changes, requests keep getting the matcher they have while one
    thread builds its successor (at most one build per set of statuses at a
    time); a build never replaces a matcher made for a newer version. With
    ``background`` off (tests that hold an open transaction), the new matcher is
    built on the request instead.
    """

    def __init__(self, size: int = 8):
        self.size = size
        self.lock = threading.Lock()
        #: statuses -> (version key, matcher)
        self.latest: dict[tuple, tuple[tuple, Matcher]] = {}
        self.building: dict[tuple, threading.Thread] = {}

    def get(
        self, statuses: tuple, version: tuple, build, *, background: bool
    ) -> Matcher:
        """A matcher for ``statuses``: this version's, or the latest while it builds."""
        with self.lock:
            found = self.latest.get(statuses)
            if found is not None and found[0] == version:
                return found[1]
            if found is not None and background:
                if statuses not in self.building:
                    thread = threading.Thread(
                        target=self._build_aside,
                        args=(statuses, version, build),
                        name="annotate-matcher-build",
                        daemon=True,
                    )
                    self.building[statuses] = thread
                    thread.start()
                return found[1]
        matcher = build()
        self._keep(statuses, version, matcher)
        return matcher

    def _build_aside(self, statuses: tuple, version: tuple, build) -> None:
        from django.db import connection

        try:
            self._keep(statuses, version, build())
        finally:
            with self.lock:
                self.building.pop(statuses, None)
            connection.close()  # this thread's own connection

    def _keep(self, statuses: tuple, version: tuple, matcher: Matcher) -> None:
        with self.lock:
            found = self.latest.get(statuses)
            if found is not None and found[0] > version:
                return
            self.latest.pop(statuses, None)
            self.latest[statuses] = (version, matcher)
            while len(self.latest) > self.size:
                self.latest.pop(next(iter(self.latest)))

    def wait(self) -> None:
        """Until no build is running (tests and benchmarks)."""
        while True:
            with self.lock:
                threads = list(self.building.values())
            if not threads:
                return
            for thread in threads:
                thread.join()

    def clear(self) -> None:
        """Forget every matcher (after waiting for running builds)."""
        self.wait()
        with self.lock:
            self.latest.clear()


MATCHERS = MatcherCache()


def glossary_matcher(statuses: list[str], version_key: tuple) -> Matcher:
    """The matcher for the stored glossary's terms in ``statuses`` (kept per
    process; see ``MatcherCache`` for how a change is picked up)."""
    from django.conf import settings

    from .models import Alias, Term

    def build() -> Matcher:
        terms = Term.objects.filter(status__in=statuses)
        entries = [
            (name, slug, "name") for slug, name in terms.values_list("slug", "name")
        ]
        entries += [
            (alias, slug, "alias")
            for slug, alias in Alias.objects.filter(
                term__status__in=statuses
            ).values_list("term__slug", "name")
        ]
        return build_matcher(entries)

    return MATCHERS.get(
        tuple(sorted(statuses)),
        version_key,
        build,
        background=settings.GLOSSARY_ANNOTATE_BUILD_ASIDE,
    )
