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


#: Characters a file name or a URL path segment cannot hold as they are; a
#: slug has ``-`` in their place ("TV/radio producers" -> ``tv-radio-producers``).
_UNSAFE_IN_SLUG = re.compile(r'[/\\?#%"<>|*:]')


def term_slug(name: str) -> str:
    """Return the slug of a term name, as term-format.md defines it."""
    slug = _SLUG_SEPARATORS.sub("-", name.strip().lower())
    return _REPEATED_HYPHENS.sub("-", _UNSAFE_IN_SLUG.sub("-", slug))


#: Typographic quotes compare as the plain ones (U+2019 is an apostrophe).
QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'}
)


#: Arabic short vowels and other marks (harakat, U+064B-U+065F, the dagger alif
#: U+0670) and the tatweel (U+0640) are left out of keys: everyday Arabic text
#: rarely writes them, so "صُمِّم" and "صمم" compare equal.
ARABIC_MARKS = re.compile("[\u0640\u064b-\u065f\u0670]")


def lookup_key(text: str) -> str:
    """Return the case-, width-, quote- and separator-insensitive key of a name
    or alias (Arabic vowel marks ignored)."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(QUOTES)
    return _KEY_SEPARATORS.sub(" ", ARABIC_MARKS.sub("", folded)).strip()


# A well-formed BCP 47 tag, simplified: language, optional script, optional
# region, variants (RFC 5646 section 2.1; extensions and private use are not
# needed for labels).
_LANGUAGE_TAG = re.compile(
    r"^(?P<language>[a-z]{2,3})(?:-(?P<script>[a-z]{4}))?"
    r"(?:-(?P<region>[a-z]{2}|[0-9]{3}))?(?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)$"
)


def language_tag(text: str) -> str | None:
    """The canonical case of a BCP 47 tag ("pt-br" -> "pt-BR"), None if malformed."""
    found = _LANGUAGE_TAG.match(text.strip().replace("_", "-").lower())
    if found is None:
        return None
    parts = [found["language"]]
    if found["script"]:
        parts.append(found["script"].title())
    if found["region"]:
        parts.append(found["region"].upper())
    return "-".join(parts) + found["variants"]
