"""Slugs and lookup keys: how names are compared across the glossary.

A *slug* follows term-format.md (lower-case, spaces and underscores to ``-``,
repeated ``-`` collapsed). A *lookup key* is looser: it ignores case, Unicode
compatibility forms and the difference between spaces, hyphens and underscores,
so "LogProb", "log-probability", "Log Probability" and "log_probability" compare
by the same key as their canonical forms.
"""

import re
import unicodedata

_SLUG_SEPARATORS = re.compile(r"[\s_]+")
_REPEATED_HYPHENS = re.compile(r"-{2,}")
_KEY_SEPARATORS = re.compile(r"[\s_\-\u2010-\u2015]+")


def term_slug(name: str) -> str:
    """Return the slug of a term name, as term-format.md defines it."""
    slug = _SLUG_SEPARATORS.sub("-", name.strip().lower())
    return _REPEATED_HYPHENS.sub("-", slug)


#: Typographic quotes compare as the plain ones (U+2019 is an apostrophe).
QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'}
)


def lookup_key(text: str) -> str:
    """Return the case-, width-, quote- and separator-insensitive key of a name
    or alias."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(QUOTES)
    return _KEY_SEPARATORS.sub(" ", folded).strip()
