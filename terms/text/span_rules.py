"""Rules that grow, join or drop the spans annotate's scan found, each stated
from the glossary and the text alone (``docs/embedding.md`` lists them):
coordinated words, qualifiers, subtype designations, and abbreviations a text
defines (for a matched term, or as something else).

Every rule is linear in the text: its searches look only a bounded way before
a span, and overlaps are tested by bisection (``tests/test_security_faults.py``
counts the work on adversarial shapes).
"""

import re
from bisect import bisect_left
from dataclasses import replace
from itertools import accumulate

from terms.documents.naming import lookup_key
from terms.text.inflection import ACRONYM, is_acronym
from terms.text.matcher import LABEL, QUALIFIED, Candidate, Matcher, Span


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


def with_qualifiers(spans: list[Span], text: str, matcher: Matcher) -> list[Span]:
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


def with_types(spans: list[Span], text: str) -> list[Span]:
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


def with_coordinated(spans: list[Span], text: str, matcher: Matcher) -> list[Span]:
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


def _names(matcher: Matcher, abbreviation: str, span: Span) -> bool:
    """Whether the glossary gives ``abbreviation`` to a term ``span`` names."""
    slugs = {candidate.slug for candidate in span.candidates}
    return any(c.slug in slugs for c in matcher.meaning(lookup_key(abbreviation)))


def with_defined_abbreviations(
    spans: list[Span], text: str, matcher: Matcher
) -> list[Span]:
    """Link "ABBR" to the term matched right before "(ABBR)", in this text only.

    The abbreviation must be written like one (a capital after its first
    character, or all capitals) and its letters must spell the words before it
    (see ``_long_form_start``); when the long form starts before the matched
    term ("insulin-dependent diabetes mellitus (IDDM)" where the glossary knows
    "diabetes mellitus"), the span grows to cover it, unless the glossary
    already gives ABBR to the matched term. Every occurrence of ABBR
    (and its plural with "s") in the text joins the spans, replacing a span that
    covers exactly the same characters.
    """
    if not spans or "(" not in text:
        return spans
    ends = {span.end: span for span in spans}
    by_range = {(span.start, span.end): span for span in spans}
    redefined = _redefined(text, spans, ends, [span.start for span in spans])
    defined = _definitions(spans, text, matcher, ends, by_range, redefined)
    if redefined:
        # The glossary's acronym of that name means something else here.
        by_range = {
            where: span
            for where, span in by_range.items()
            if not _redefined_acronym(span, text, redefined)
        }
    if defined:
        _link_occurrences(by_range, defined, text)
    return sorted(by_range.values(), key=lambda span: span.start)


def _definitions(
    spans: list[Span],
    text: str,
    matcher: Matcher,
    ends: dict[int, Span],
    by_range: dict,
    redefined: set,
) -> dict[str, tuple[Candidate, ...]]:
    """What each abbreviation the text defines for a matched term stands for;
    a long form the letters spell further back grows its span in
    ``by_range``."""
    # Overlap tests by bisection over the spans in order: testing every span
    # for every occurrence made a text repeating one abbreviation quadratic.
    starts = [span.start for span in spans]
    reach = list(accumulate((span.end for span in spans), max))
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
        if long_form is None or _redefined_acronym(long_form, text, redefined):
            continue
        start = _long_form_start(text, before, abbreviation)
        # The glossary itself may say the matched term is ABBR ("myotonic
        # dystrophy", whose term is also "DM"): then the span is the long form
        # as matched, wherever else the letters could be spelt from ("meiotic
        # drive at the myotonic dystrophy (DM)").
        confirmed = _names(matcher, abbreviation, long_form)
        if not confirmed and (start is None or start > long_form.start):
            # The letters spell no long form, or only the end of the matched
            # name: "deficiency of aspartoacylase (ASPA)" abbreviates the
            # enzyme, not the disease.
            continue
        before_long_form = bisect_left(starts, long_form.start)
        if (
            not confirmed
            and start < long_form.start
            and not (before_long_form and reach[before_long_form - 1] > start)
        ):
            del by_range[(long_form.start, long_form.end)]
            long_form = replace(long_form, start=start)
            by_range[(long_form.start, long_form.end)] = long_form
        defined[abbreviation] = tuple(
            replace(c, match="defined_abbreviation", case=None)
            for c in long_form.candidates
        )
    return defined


def _link_occurrences(by_range: dict, defined: dict, text: str) -> None:
    """Add every occurrence of a defined abbreviation (and its plural) to
    ``by_range``, replacing a span of exactly its characters."""
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
