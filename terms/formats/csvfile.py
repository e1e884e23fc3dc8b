"""CSV in and out, in the column layout of OpenMetadata's glossary CSV.

OpenMetadata documents its glossary CSV (``glossaryCsvDocumentation.json`` in
its repository) with these columns, in this order: ``parent``, ``name*``,
``displayName``, ``description``, ``synonyms``, ``relatedTerms``,
``references``, ``tags``, ``reviewers``, ``owner``, ``glossaryStatus``,
``color``, ``iconURL``, ``extension``. A glossary moves between the two tools
through it. How a term fills them:

- ``name*`` and ``displayName``: the term's name (on import ``displayName``
  wins, and a different ``name`` becomes an alias);
- ``description``: the short definition, a blank line, the long definition;
- ``synonyms``: aliases, ``;``-separated;
- ``parent``: the first broader term, as a fully qualified name
  (``Glossary.Parent``; names holding a dot are double-quoted);
- ``relatedTerms``: ``relationType:FQN`` items, ``;``-separated: related terms
  (``relatedTo``, the default), further broader and narrower terms;
- ``references``: citations as ``source;URL`` pairs;
- ``tags``: categories as ``Category.<name>``, roles as ``Role.<slug>``, NIST
  AI RMF tags as ``NISTAIRMF.<tag>``;
- ``glossaryStatus``: Draft, In Review (our ``reviewed``), Approved, Deprecated;
- ``extension``: what OpenMetadata has no column for, as its custom
  properties (``name:value`` items, ``;``-separated, a value holding ``;``,
  ``|`` or ``"`` double-quoted): ``partOfSpeech``, ``execPerspective``,
  ``engineerPerspective``, ``examplesDo`` and ``examplesDont`` (items
  ``|``-separated), ``riskNotes``, ``license``, ``lastReviewed``.

What CSV cannot carry: labels in other languages (OpenMetadata's CSV has no
column for them), a ``;`` inside an alias, a citation's source or a link
target (the separator), and reviewers, owners, colours and icons of
OpenMetadata (nothing here holds them; import ignores them).
"""

import csv
import datetime
import io
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from terms.documents.document import TermDocument
from terms.documents.fields import SHORT_DEF_MAX_CHARS
from terms.documents.naming import lookup_key
from terms.documents.yaml_loader import Problem
from terms.formats.skos_import import Entry

__all__ = ["COLUMNS", "read_csv", "write_csv"]

COLUMNS = (
    "parent",
    "name*",
    "displayName",
    "description",
    "synonyms",
    "relatedTerms",
    "references",
    "tags",
    "reviewers",
    "owner",
    "glossaryStatus",
    "color",
    "iconURL",
    "extension",
)
STATUS_OUT = {
    "draft": "Draft",
    "reviewed": "In Review",
    "approved": "Approved",
    "deprecated": "Deprecated",
}
STATUS_IN = {value.lower(): key for key, value in STATUS_OUT.items()}
#: OpenMetadata's relation types that have a counterpart here.
RELATIONS_IN = {"relatedto": "related", "broader": "broader", "narrower": "narrower"}
TAG_GROUPS = {"Category": "categories", "Role": "roles", "NISTAIRMF": "nist_rmf_tags"}
#: The custom property that keeps links as the document wrote them, where the
#: parent and relatedTerms columns cannot (``write_csv``).
LINKS_AS_WRITTEN = "linksAsWritten"
#: extension property -> (document path, a list of items?)
EXTENSION = {
    "partOfSpeech": (("part_of_speech",), False),
    "execPerspective": (("audiences", "exec"), False),
    "engineerPerspective": (("audiences", "engineer"), False),
    "examplesDo": (("examples", "do"), True),
    "examplesDont": (("examples", "dont"), True),
    "riskNotes": (("governance", "risk_notes"), False),
    "license": (("license",), False),
    "lastReviewed": (("last_reviewed",), False),
}


def glossary_name() -> str:
    """The first part of every fully qualified name written."""
    return getattr(settings, "GLOSSARY_CSV_GLOSSARY", "Glossary")


# --- fully qualified names and delimited values -----------------------------------


def fqn(*parts: str) -> str:
    """``Glossary.Parent``; a part holding a dot is double-quoted."""
    return ".".join(f'"{part}"' if "." in part else part for part in parts)


def fqn_last(text: str) -> str:
    """The last part of a fully qualified name (quotes removed)."""
    parts = re.findall(r'"([^"]*)"|([^.]+)', text.strip())
    return (parts[-1][0] or parts[-1][1]).strip() if parts else ""


#: What makes a spreadsheet read a cell as a formula (OWASP's list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _formula_like(value: str) -> bool:
    """Whether a cell would be read as a formula, or is one neutralised."""
    return value.startswith(_FORMULA_STARTS) or (
        value.startswith("'") and _formula_like(value[1:])
    )


def neutralise(value: str) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula
    gets a leading ``'`` (OWASP's advice for CSV injection)."""
    return "'" + value if _formula_like(value) else value


def restore(value: str) -> str:
    """``neutralise`` undone (reading our own files back is lossless)."""
    return value[1:] if value.startswith("'") and _formula_like(value[1:]) else value


def _extension_item(name: str, value: str, lost: list) -> str:
    """One ``name:value`` custom property as OpenMetadata's ``CsvUtil`` writes
    the items of a ``;``-separated field: the whole item in double quotes when
    it holds a ``,`` or ``;`` (never the value alone, which OpenMetadata would
    read back with the quotes in it). A value holding a double quote has it
    doubled, which this glossary reads back but OpenMetadata shows doubled."""
    item = f"{name}:{value}"
    if '"' in item:
        lost.append(f"{name} holds '\"' (OpenMetadata shows it doubled)")
        return '"' + item.replace('"', '""') + '"'
    if any(char in item for char in ",;\n"):
        return f'"{item}"'
    return item


def _list_item(item: str) -> str:
    """One value of a ``|``-separated list; one holding ``|`` or a double
    quote is quoted itself (this glossary reads it back whole; OpenMetadata
    would split it at the ``|``)."""
    return _quoted(item) if "|" in item or '"' in item else item


def _quoted(value: str) -> str:
    if any(char in value for char in ';|"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _split(text: str, separator: str) -> list[str]:
    """``text`` split on ``separator`` outside double quotes; quotes undone."""
    items, current, quoted, index = [], [], False, 0
    while index < len(text):
        char = text[index]
        if char == '"':
            if quoted and text[index + 1 : index + 2] == '"':
                current.append('"')
                index += 1
            else:
                quoted = not quoted
        elif char == separator and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


# --- out --------------------------------------------------------------------------


def write_csv(documents: Iterable[TermDocument]) -> tuple[str, list[str]]:
    """The CSV text of ``documents`` and what it could not carry, per term.

    As OpenMetadata imports it: a term's fully qualified name is the glossary,
    its ancestors (through first broader links to terms in the file) and its
    name; ``parent`` and ``relatedTerms`` name only terms that are rows of the
    file, by those names, and every parent comes before its children. Links
    OpenMetadata could not follow (a target that is no row, or written other
    than the row's name) are also kept, in the document's order, in the
    ``linksAsWritten`` custom property, so this glossary reads them back as
    they were.
    """
    documents = list(documents)
    rows = _Rows(documents)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    losses = []
    for document in sorted(documents, key=lambda d: len(rows.chain(d))):
        row, lost = _row(document, rows)
        writer.writerow([neutralise(cell) for cell in row])
        losses.extend(f"{document.slug}: {what}" for what in lost)
    return out.getvalue(), losses


class _Rows:
    """The documents of one CSV file, found by any name or alias, with each
    one's chain of ancestors among them."""

    def __init__(self, documents: list[TermDocument]):
        self.by_key: dict[str, TermDocument] = {}
        for document in documents:
            for name in (*document.aliases, document.slug, document.term):
                self.by_key[lookup_key(name)] = document  # names win: last
        self.chains: dict[str, list[str]] = {}

    def find(self, target: str) -> TermDocument | None:
        """The row a link's target names, if any."""
        return self.by_key.get(lookup_key(target))

    def parent(self, document: TermDocument) -> TermDocument | None:
        """The row of the document's first broader term, if it is one."""
        return self.find(document.broader[0]) if document.broader else None

    def chain(self, document: TermDocument) -> list[str]:
        """The names of the document's ancestors, the farthest first."""
        found = self.chains.get(document.slug)
        if found is None:
            found, seen, current = [], {document.slug}, document
            while (parent := self.parent(current)) and parent.slug not in seen:
                seen.add(parent.slug)
                found.insert(0, parent.term)
                current = parent
            self.chains[document.slug] = found
        return found

    def fqn(self, document: TermDocument) -> str:
        """The document's fully qualified name."""
        return fqn(glossary_name(), *self.chain(document), document.term)


def _row(document: TermDocument, rows: _Rows) -> tuple[list[str], list]:
    lost = []
    if document.labels:
        lost.append("labels in other languages")
    parent_row = rows.parent(document)
    parent = rows.fqn(parent_row) if parent_row else ""
    related, as_written = [], []
    for kind in ("broader", "narrower", "related"):
        targets = getattr(document, kind)
        found = [rows.find(target) for target in targets]
        for index, row in enumerate(found):
            if row is None or (kind == "broader" and index == 0):
                continue  # no row to name; or the parent column's
            prefix = "" if kind == "related" else f"{kind}:"
            related.append(prefix + rows.fqn(row))
        if any(
            row is None or row.term != target
            for target, row in zip(targets, found, strict=True)
        ):
            as_written += [f"{kind}:{target}" for target in targets]
    for value in (
        *document.aliases,
        *document.broader,
        *document.narrower,
        *document.related,
    ):
        if ";" in value:
            lost.append(f"{value!r} holds ';'")
    references = []
    for source, url in document.citations:
        if ";" in source:
            lost.append(f"citation {source!r} holds ';'")
        references += [source, url]
    tags = [fqn("Category", name) for name in document.categories]
    tags += [fqn("Role", slug) for slug in document.roles]
    tags += [fqn("NISTAIRMF", tag) for tag in document.nist_rmf_tags]
    data = document.to_data()
    extension = []
    for name, (path, many) in EXTENSION.items():
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value in (None, "", []):
            continue
        if many:
            value = "|".join(_list_item(item) for item in value)
        extension.append(_extension_item(name, str(value), lost))
    if as_written:
        written = "|".join(_list_item(item) for item in as_written)
        extension.append(_extension_item(LINKS_AS_WRITTEN, written, lost))
    description = document.short_def
    if document.long_def:
        description = f"{description}\n\n{document.long_def}"
    row = [
        parent,
        document.term,
        document.term,
        description,
        ";".join(document.aliases),
        ";".join(related),
        ";".join(references),
        ";".join(tags),
        "",
        "",
        STATUS_OUT[document.status],
        "",
        "",
        ";".join(extension),
    ]
    return row, lost


# --- in ---------------------------------------------------------------------------


def read_csv(raw: bytes, *, file: str) -> tuple[list[Entry], list[Problem]]:
    """The term documents of an OpenMetadata-layout glossary CSV, one per row."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Problem(f"not UTF-8 text (byte {exc.start})", file=file)]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return [], [Problem("empty file: a CSV needs a header row", file=file, line=1)]
    columns = [name.strip().rstrip("*") for name in header]
    known = [name.rstrip("*") for name in COLUMNS]
    unknown = [name for name in columns if name not in known]
    problems = []
    if unknown:
        problems.append(
            Problem(
                f"unknown column(s) {', '.join(map(repr, unknown))}; the columns "
                f"are: {', '.join(COLUMNS)}",
                file=file,
                line=1,
            )
        )
    if "name" not in columns:
        problems.append(Problem("no name column", file=file, line=1))
    if problems:
        return [], problems
    entries = []
    roles = _Roles()
    line = reader.line_num + 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            row = dict(zip(columns, map(restore, cells), strict=False))
            data, row_problems = _document(row)
            entry = Entry(data, file, start)
            for message, field in row_problems:
                problem = Problem(message, file=file, line=start, field=field)
                if field in _LENIENT_FIELDS:
                    entry.warnings.append(problem)  # left out, not refused
                else:
                    problems.append(problem)
            _draft_unless_ready(entry, file, roles)
            entries.append(entry)
    except csv.Error as exc:
        problems.append(Problem(f"not valid CSV: {exc}", file=file, line=line))
    return entries, problems


#: What another tool's file may hold that this glossary does not keep (tags of
#: other classifications, other custom properties): reported and left out,
#: never a reason to refuse the file.
_LENIENT_FIELDS = ("tags", "extension")


class _Roles:
    """The stored role slugs, read once per file and only if a row needs them."""

    def __init__(self):
        self.slugs: set[str] | None = None

    def known(self) -> set[str]:
        """The role slugs the gates accept."""
        if self.slugs is None:
            from terms.reads.selectors import known_roles

            self.slugs = known_roles()
        return self.slugs


def _draft_unless_ready(entry: Entry, file: str, roles: "_Roles") -> None:
    """A row whose stated status its content does not meet here (OpenMetadata
    approves terms without the audiences, examples and the like this
    glossary's gates ask for) comes in as a draft, with a warning naming what
    the status needs; an editor completes it and takes it through review."""
    status = entry.data.get("status", "draft")
    if status == "draft":
        return
    from terms.workflow.transitions import gate_problems

    missing = gate_problems(entry.data, roles.known())
    if not missing:
        return
    entry.data["status"] = "draft"
    needs = "; ".join(
        f"{p.field}: {p.message}" if p.field else p.message for p in missing[:5]
    )
    more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
    entry.warnings.append(
        Problem(
            f"{STATUS_OUT[status]} in the file, but {status} terms here need more "
            f"({needs}{more}); imported as a draft",
            file=file,
            line=entry.line,
            field="glossaryStatus",
        )
    )


def _document(row: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    problems = []
    name = (row.get("displayName") or "").strip() or (row.get("name") or "").strip()
    aliases = _split(row.get("synonyms", ""), ";")
    other = (row.get("name") or "").strip()
    if other and other != name:
        aliases.insert(0, other)
    description = (row.get("description") or "").strip()
    short_def, _, long_def = description.partition("\n\n")
    if len(short_def) > SHORT_DEF_MAX_CHARS and not long_def:
        short_def, long_def = "", description
    links = _links(row)
    references = _split(row.get("references", ""), ";")
    if len(references) % 2:
        problems.append(("must hold source;URL pairs", "references"))
    citations = [
        {"source": references[i], "url": references[i + 1]}
        for i in range(0, len(references) - 1, 2)
    ]
    grouped = _tags(row, problems)
    raw_status = (row.get("glossaryStatus") or "Draft").strip()
    status = STATUS_IN.get(raw_status.lower())
    if status is None:
        problems.append(
            (
                f"unknown status {raw_status!r}; one of: "
                + ", ".join(STATUS_OUT.values()),
                "glossaryStatus",
            )
        )
        status = "draft"
    data: dict[str, Any] = {
        "term": name,
        "aliases": aliases,
        "categories": grouped["categories"],
        "roles": grouped["roles"],
        "part_of_speech": "",
        "short_def": short_def.strip(),
        "long_def": long_def.strip(),
        "audiences": {"exec": "", "engineer": ""},
        "examples": {"do": [], "dont": []},
        "governance": {},
        "relationships": links,
        "citations": citations,
        "license": "",
        "status": status,
        "last_reviewed": datetime.date.today().isoformat(),
    }
    if grouped["nist_rmf_tags"]:
        data["governance"]["nist_rmf_tags"] = grouped["nist_rmf_tags"]
    _extension(row, data, problems)
    return data, problems


def _links(row: dict[str, str]) -> dict[str, list[str]]:
    """The parent as the first broader term, then typed related terms."""
    links: dict[str, list[str]] = {}
    parent = fqn_last(row.get("parent", ""))
    if parent:
        links["broader"] = [parent]
    for item in _split(row.get("relatedTerms", ""), ";"):
        kind, _, target = item.partition(":")
        relation = RELATIONS_IN.get(kind.strip().lower())
        if relation is None or not target:
            relation, target = "related", item  # no known type: all of it is the name
        links.setdefault(relation, []).append(fqn_last(target))
    return links


def _tags(row: dict[str, str], problems: list) -> dict[str, list[str]]:
    """Categories, roles and NIST tags from their classifications."""
    grouped: dict[str, list[str]] = {key: [] for key in TAG_GROUPS.values()}
    for tag in _split(row.get("tags", ""), ";"):
        group, _, rest = tag.partition(".")
        if group in TAG_GROUPS and rest:
            grouped[TAG_GROUPS[group]].append(fqn_last(tag))
        else:
            problems.append(
                (
                    f"tag {tag!r} is in no classification kept here "
                    f"({', '.join(TAG_GROUPS)})",
                    "tags",
                )
            )
    return grouped


def _extension(row: dict[str, str], data: dict[str, Any], problems: list) -> None:
    """The custom properties, each into its place in the document."""
    for item in _split(row.get("extension", ""), ";"):
        prop, _, value = item.partition(":")
        if prop == LINKS_AS_WRITTEN:
            written: dict[str, list[str]] = {}
            for link in _split(value, "|"):
                kind, _, target = link.partition(":")
                if kind in RELATIONS_IN.values() and target:
                    written.setdefault(kind, []).append(target)
            data["relationships"].update(written)  # as written, in order
            continue
        if prop not in EXTENSION:
            problems.append(
                (
                    f"custom property {prop!r} is not kept here; known: "
                    f"{', '.join(EXTENSION)}",
                    "extension",
                )
            )
            continue
        path, many = EXTENSION[prop]
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = _split(value, "|") if many else value.strip()
