"""Finding every glossary term in a passage of text.

The glossary's names and aliases are compiled into one automaton
(``terms.text.matcher``), so a passage is scanned once whatever the size of
the glossary. The matcher is kept in this process per set of statuses; after
the glossary changes, requests use the one they have while a thread builds the
next (``terms.text.aside``).

A scan folds the passage to lookup keys (``terms.text.normalise``), finds
every key occurrence, keeps whole words only and, where matches overlap, the
leftmost longest; then the span rules (``terms.text.span_rules``) join
coordinated and qualifying words and link abbreviations the text defines.
Offsets are Python string indices into the original text, so
``text[start:end]`` is the matched surface form.
"""

import contextlib
import gc
import time
from dataclasses import replace

from terms.text.aside import LatestBuilds
from terms.text.inflection import VERB_PARTS
from terms.text.matcher import (
    LABEL,
    MATCH_KINDS,
    Candidate,
    Matcher,
    Span,
    build_matcher,
    fitting,
)
from terms.text.normalise import normalise
from terms.text.span_rules import (
    with_coordinated,
    with_defined_abbreviations,
    with_qualifiers,
    with_types,
)

__all__ = [
    "LABEL",
    "MATCHERS",
    "MATCH_KINDS",
    "RELEASE_MATCHERS",
    "BudgetSpent",
    "Candidate",
    "Matcher",
    "Span",
    "build_matcher",
    "find_spans",
    "glossary_matcher",
    "release_matcher",
    "without_missing",
]


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
    normal, origin = normalise(text)
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
                candidates = fitting(candidates, written)
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
    spans = with_coordinated(spans, text, matcher)
    spans = with_qualifiers(spans, text, matcher)
    spans = with_types(spans, text)
    spans = with_defined_abbreviations(spans, text, matcher)
    if deadline is not None and time.monotonic() > deadline:
        raise BudgetSpent(budget)
    return spans


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
