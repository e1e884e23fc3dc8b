"""The declaration of the term document: every value once (``FIELDS``).

Each ``DocumentField`` says where a value sits in the YAML, its kind and
limits, the ``Term`` column that stores it (if any), the admin section that
shows it and what an editor must write. Validation and the canonical form
(``terms.documents.document``), the admin form, the API serializers, the JSON Schema and
the new-term skeleton all derive from it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from terms.documents.naming import lookup_key
from terms.models import NAME_MAX_CHARS, PartOfSpeech, RelationKind, Status

__all__ = [
    "CHOICE",
    "CITATIONS",
    "DATE",
    "FIELDS",
    "GROUPS",
    "LABELS",
    "LABEL_DEF_MAX_CHARS",
    "LONG_DEF_WORDS",
    "NAME_MAX_CHARS",
    "RELATION_KEYS",
    "SHORT_DEF_MAX_CHARS",
    "SHORT_DEF_MAX_WORDS",
    "TERM_COLUMNS",
    "TERM_KEYS",
    "TEXT",
    "TEXTS",
    "DocumentField",
    "LanguageLabels",
]

SHORT_DEF_MAX_CHARS = 320
SHORT_DEF_MAX_WORDS = 40
LONG_DEF_WORDS = (80, 220)
#: A label's short definition may be longer than an English one: translations
#: and thesaurus scope notes run longer, and no word limit applies to them.
LABEL_DEF_MAX_CHARS = 1000


TEXT, TEXTS, CHOICE, DATE, CITATIONS = "text", "texts", "choice", "date", "citations"
LABELS = "labels"


class LanguageLabels(NamedTuple):
    """A term's name, aliases and short definition in one other language."""

    language: str
    name: str
    aliases: tuple[str, ...] = ()
    short_def: str = ""


@dataclass(frozen=True)
class DocumentField:
    """One value of the term document, declared once for every edge."""

    #: Where the value sits: ``("short_def",)`` or ``("audiences", "exec")``.
    path: tuple[str, ...]
    #: The ``TermDocument`` attribute that holds it.
    attr: str
    #: ``text``, ``texts`` (a list of strings), ``choice``, ``date``, ``citations``
    #: or ``labels`` (a mapping of language tag to ``LanguageLabels``).
    kind: str
    #: Whether the key must be present in its mapping.
    required: bool = True
    #: The ``Term`` column that stores the value, for single values.
    column: str | None = None
    max_chars: int | None = None
    #: For lists: the fewest items, how one is called, what makes two the same.
    min_items: int = 1
    what: str = "item"
    unique: Callable[[str], str] = lookup_key
    choices: tuple[str, ...] = ()
    #: The admin fieldset that shows a column (None: the first, untitled one).
    section: str | None = None
    #: What an editor must write, in a few words (schemas, scaffolds).
    help: str = ""
    #: Lines of a form's text box (1: a one-line input).
    lines: int = 1
    #: An editorial value: a draft may leave it out or empty (vocabularies from
    #: elsewhere lack it); the review and approval gates demand it.
    editorial: bool = True

    @property
    def key(self) -> str:
        """The top-level document key."""
        return self.path[0]

    def empty(self) -> Any:
        """The value of an optional field that is left out."""
        return () if self.kind in (TEXTS, LABELS) else None

    @property
    def draft_may_omit(self) -> bool:
        """Required for review, but a draft may leave it out, null or empty."""
        return self.required and self.editorial

    def blank(self) -> Any:
        """The value of an editorial field a draft leaves out."""
        return () if self.kind in (TEXTS, CITATIONS) else ""


FIELDS: tuple[DocumentField, ...] = (
    DocumentField(
        ("term",),
        "term",
        TEXT,
        column="name",
        max_chars=NAME_MAX_CHARS,
        help="the display name; its slug is the file name",
        editorial=False,
    ),
    DocumentField(
        ("aliases",),
        "aliases",
        TEXTS,
        what="alias",
        max_chars=NAME_MAX_CHARS,
        help="other names, abbreviations and spellings",
    ),
    DocumentField(
        ("labels",),
        "labels",
        LABELS,
        required=False,
        editorial=False,
        help="name, aliases and short definition in other languages, by BCP 47 tag",
    ),
    DocumentField(
        ("categories",),
        "categories",
        TEXTS,
        what="category",
        max_chars=200,
        help="the first is the primary category",
    ),
    DocumentField(
        ("roles",),
        "roles",
        TEXTS,
        what="role",
        unique=str,
        help="slugs of the roles the term matters to",
    ),
    DocumentField(
        ("part_of_speech",),
        "part_of_speech",
        CHOICE,
        column="part_of_speech",
        choices=tuple(PartOfSpeech.values),
        section="Definition",
    ),
    DocumentField(
        ("short_def",),
        "short_def",
        TEXT,
        column="short_def",
        lines=2,
        max_chars=SHORT_DEF_MAX_CHARS,
        section="Definition",
        help=f"one sentence; at most {SHORT_DEF_MAX_WORDS} words to be reviewed",
    ),
    DocumentField(
        ("long_def",),
        "long_def",
        TEXT,
        column="long_def",
        lines=8,
        section="Definition",
        help=f"{LONG_DEF_WORDS[0]} to {LONG_DEF_WORDS[1]} words to be reviewed",
    ),
    DocumentField(
        ("audiences", "exec"),
        "exec_perspective",
        TEXT,
        column="exec_perspective",
        lines=2,
        section="Audiences",
        help="why a leader should care",
    ),
    DocumentField(
        ("audiences", "engineer"),
        "engineer_perspective",
        TEXT,
        column="engineer_perspective",
        lines=2,
        section="Audiences",
        help="how a builder uses it",
    ),
    DocumentField(
        ("examples", "do"), "examples_do", TEXTS, what="example", help="good usage"
    ),
    DocumentField(
        ("examples", "dont"),
        "examples_dont",
        TEXTS,
        what="example",
        help="usage to avoid",
    ),
    DocumentField(
        ("governance", "nist_rmf_tags"),
        "nist_rmf_tags",
        TEXTS,
        required=False,
        what="tag",
        max_chars=200,
        unique=str,
        help="NIST AI RMF trustworthiness characteristics",
    ),
    DocumentField(
        ("governance", "risk_notes"),
        "risk_notes",
        TEXT,
        required=False,
        column="risk_notes",
        lines=2,
        section="Governance",
    ),
    *(
        DocumentField(
            ("relationships", kind),
            kind,
            TEXTS,
            required=False,
            min_items=0,
            what="target",
            max_chars=NAME_MAX_CHARS,
            help=f"{kind} terms by name, alias or slug",
        )
        for kind in RelationKind.values
    ),
    DocumentField(
        ("citations",),
        "citations",
        CITATIONS,
        help="sources, each with an http(s) URL",
    ),
    DocumentField(
        ("license",),
        "license",
        TEXT,
        column="license",
        max_chars=100,
        section="Governance",
    ),
    DocumentField(
        ("status",),
        "status",
        CHOICE,
        column="status",
        choices=tuple(Status.values),
        editorial=False,
    ),
    DocumentField(
        ("last_reviewed",),
        "last_reviewed",
        DATE,
        column="last_reviewed",
        section="Governance",
        help="YYYY-MM-DD",
        editorial=False,
    ),
)

#: Top-level keys in the order of term-format.md.
TERM_KEYS: tuple[str, ...] = tuple(dict.fromkeys(f.key for f in FIELDS))
#: Keys that hold a mapping, with the fields inside each.
GROUPS: dict[str, tuple[DocumentField, ...]] = {
    key: tuple(f for f in FIELDS if f.key == key and len(f.path) == 2)
    for key in TERM_KEYS
    if any(len(f.path) == 2 for f in FIELDS if f.key == key)
}
#: ``Term`` columns that hold a document value, in document order.
TERM_COLUMNS: tuple[str, ...] = tuple(f.column for f in FIELDS if f.column)
RELATION_KEYS = tuple(RelationKind.values)
