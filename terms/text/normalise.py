"""The lookup-key form of a passage, with each of its characters' index in the
passage: what annotate scans, and how a match's offsets go back to the text
the reader sent.

Three ways, fastest first: ASCII text is folded by a translation table, its
origins worked out from the few runs of separators that shorten it; text with
other characters folds only those one by one; a character whose fold holds a
space sends the text down the character-by-character way.
"""

import re
import unicodedata
from bisect import bisect_right

from terms.documents.naming import ARABIC_MARKS, QUOTES

_SEPARATORS = {"-", "_", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015"}


def normalise(text: str) -> tuple[str, "list[int] | _AsciiOrigin | _FoldedOrigin"]:
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
    """``normalise`` character by character (for the rare text where a
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
    """``normalise``'s per-character origins for ASCII text, without a list
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
    """``normalise`` for text with non-ASCII characters, in stretches: ASCII
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
    """``normalise`` for ASCII text, where folding is lower-casing, one
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
