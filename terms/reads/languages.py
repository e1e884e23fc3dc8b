"""The reader's languages, and a term's name and definition in them.

A term's own name, aliases and definitions are in the glossary's default
language (``GLOSSARY_LANGUAGE``); its labels (``terms.models.Label``) add other
languages. A reader asks with ``?lang=fr`` (several, best first:
``?lang=fr-CA,fr``) or, failing that, with the ``Accept-Language`` header. Each
text falls back on its own: a term with a French name but no French definition
shows the French name and the default definition, and says so.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation.trans_real import parse_accept_lang_header

from terms.documents.naming import language_tag
from terms.models import LabelKind, Term

__all__ = ["Localized", "default_language", "localize", "preference", "primary"]

#: More languages than this in one request are refused (``?lang=``) or ignored.
MAX_LANGUAGES = 8


def default_language() -> str:
    """The language of the terms' own names and definitions."""
    return language_tag(settings.GLOSSARY_LANGUAGE) or "en"


def primary(tag: str) -> str:
    """The language subtag: "fr" of "fr-CA"."""
    return tag.split("-", 1)[0]


class LanguageError(ValueError):
    """``?lang=`` names something that is not a language tag."""


def preference(lang: str | None, accept_language: str = "") -> tuple[str, ...]:
    """The reader's languages other than the default, best first.

    ``lang`` (the query parameter) wins over ``accept_language`` (the header).
    Everything from the default language on is dropped: the default is always
    there to fall back on, so ``en-US,en;q=0.9`` asks for nothing special.
    Raises ``LanguageError`` for a malformed ``lang``; a malformed header part
    is skipped, as HTTP clients send all sorts.
    """
    if lang is not None:
        tags = []
        for raw in lang.split(","):
            tag = language_tag(raw)
            if tag is None:
                raise LanguageError(
                    f"{raw.strip()!r} is not a BCP 47 language tag (like 'fr', 'pt-BR')"
                )
            tags.append(tag)
        if len(tags) > MAX_LANGUAGES:
            raise LanguageError(f"at most {MAX_LANGUAGES} languages, best first")
    else:
        parsed = parse_accept_lang_header(accept_language[:500])
        tags = [language_tag(raw) for raw, _ in parsed if raw != "*"]
        tags = [tag for tag in tags if tag][:MAX_LANGUAGES]
    wanted: list[str] = []
    default = primary(default_language())
    for tag in tags:
        if primary(tag) == default:
            break
        wanted.append(tag)
    return tuple(dict.fromkeys(wanted))


@dataclass(frozen=True)
class Localized:
    """What a reader sees of a term: each text with the language it is in."""

    name: str
    name_language: str
    short_def: str
    short_def_language: str
    aliases: tuple[str, ...] = ()


def _best(labels: dict[str, str], wanted: Iterable[str]) -> tuple[str, str] | None:
    """The label in the first wanted language that has one: the tag itself,
    else another tag of the same language ("fr" for "fr-CA", or the reverse)."""
    for tag in wanted:
        if tag in labels:
            return tag, labels[tag]
        for have in sorted(labels):
            if primary(have) == primary(tag):
                return have, labels[have]
    return None


def localize(term: Term, wanted: tuple[str, ...]) -> Localized:
    """The term's name, definition and aliases in the reader's languages.

    Reads ``term.labels.all()``: prefetch ``labels`` for many terms.
    """
    default = default_language()
    if not wanted:
        return Localized(term.name, default, term.short_def, default)
    names: dict[str, str] = {}
    definitions: dict[str, str] = {}
    aliases: dict[str, list[str]] = {}
    for label in term.labels.all():
        if label.kind == LabelKind.NAME:
            names[label.language] = label.text
        elif label.kind == LabelKind.SHORT_DEF:
            definitions[label.language] = label.text
        else:
            aliases.setdefault(label.language, []).append(label.text)
    name = _best(names, wanted)
    definition = _best(definitions, wanted)
    return Localized(
        name[1] if name else term.name,
        name[0] if name else default,
        definition[1] if definition else term.short_def,
        definition[0] if definition else default,
        tuple(aliases.get(name[0], ())) if name else (),
    )
