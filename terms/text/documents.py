"""The prose of HTML and Markdown documents, for annotate.

Annotate finds terms in prose only. ``prose`` returns the document with every
character that is not prose replaced by a space: tags, attributes, comments,
code, links, and (in Markdown) front matter, fenced and indented code, inline
code, links and their URLs, HTML. The masked text has the document's length,
so a span found in it indexes the document itself (``document[start:end]``
is the matched surface form), and a tag between two words still separates
them. It also returns where each section starts (at each heading), for
marking the first occurrence of a term per section.

Written here, not taken from an HTML or Markdown library: those build a tree
and hand back text without the offsets of the source, and a document's
offsets are what annotate answers with. The scanners are regular
expressions over the whole document, linear in its length.
"""

import html
import re
from dataclasses import dataclass, field

__all__ = ["FORMATS", "Prose", "mark", "prose"]

FORMATS = ("text", "html", "markdown")

#: Elements whose content is never prose: code, links, terms already marked,
#: and what browsers do not show as text.
SKIPPED = frozenset(
    {
        "a",
        "abbr",
        "button",
        "code",
        "dfn",
        "head",
        "kbd",
        "math",
        "option",
        "pre",
        "samp",
        "script",
        "select",
        "style",
        "svg",
        "template",
        "textarea",
        "title",
        "var",
    }
)
#: Elements whose content is raw text: nothing inside is a tag.
RAW = frozenset({"script", "style", "textarea", "title"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

_HTML_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"  # a comment
    r"|<!\[CDATA\[.*?(?:\]\]>|\Z)"
    r"|<[!?][^>]*>?"  # a doctype or processing instruction
    r"|<(/?)([A-Za-z][\w:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)(>|\Z)"  # a tag
    r"|&(?:#\d+|#[xX][0-9a-fA-F]+|\w+);",  # a character reference
    re.DOTALL,
)


@dataclass
class Prose:
    """A document's prose, masked to its length, its sections' starts, and
    the ranges of its headings (found in, never marked)."""

    text: str
    sections: list[int]
    headings: list[tuple[int, int]] = field(default_factory=list)


def _blank(chars: list[str], start: int, end: int) -> None:
    """Mask ``[start, end)``, keeping line breaks (lines still separate)."""
    for index in range(start, end):
        if chars[index] != "\n":
            chars[index] = " "


def _html(
    document: str,
    chars: list[str],
    sections: list[int],
    headings: list[tuple[int, int]],
    base: int = 0,
):
    """Mask what is not prose in an HTML document (or fragment at ``base``).
    The document is scanned as the tokens browsers read: comments, doctypes,
    tags (quoted attribute values may hold ``>``) and character references."""
    depth = 0  # open elements whose content is skipped
    opened_heading = None
    position = 0
    length = len(document)
    while position < length:
        found = _HTML_TOKEN.search(document, position)
        if found is None:
            break
        start, end = found.span()
        if depth:
            _blank(chars, base + position, base + start)
        closing, name, _, _ = found.groups()
        name = (name or "").lower()
        _blank(chars, base + start, base + end)
        position = end
        if not name:
            continue
        self_closing = document[end - 2 : end] == "/>"
        if name in RAW and not closing and not self_closing:
            finish = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(document, end)
            stop = finish.end() if finish else length
            _blank(chars, base + end, base + stop)
            position = stop
            continue
        if name in HEADINGS and not closing:
            sections.append(base + start)
            opened_heading = base + start
        elif name in HEADINGS and opened_heading is not None:
            headings.append((opened_heading, base + end))
            opened_heading = None
        if name in SKIPPED and not self_closing:
            depth = max(0, depth - 1) if closing else depth + 1
    if depth:
        _blank(chars, base + position, base + length)


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)\s*$")
_HTML_BLOCK = re.compile(r"^ {0,3}<(?:[A-Za-z][\w-]*|/[A-Za-z]|!--|\?|!)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s")
_INLINE = re.compile(
    r"(?P<code>`+)"  # an inline code span opens
    r"|!?\[(?:[^\]\\]|\\.)*\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)"  # link
    r"|!?\[(?:[^\]\\]|\\.)*\]\[[^\]]*\]"  # a reference link
    r"|<(?:https?|mailto|ftp):[^>\s]*>|<[\w.+-]+@[\w.-]+>"  # an autolink
    r"|https?://[^\s<>()]+"  # a bare address
    r"|<!--.*?-->"
    r"|</?[A-Za-z][\w-]*(?:[^>\"']|\"[^\"]*\"|'[^']*')*>",  # inline HTML
    re.DOTALL,
)


def _markdown(
    document: str,
    chars: list[str],
    sections: list[int],
    headings: list[tuple[int, int]],
) -> None:
    """Mask what is not prose in a Markdown document."""
    lines = document.splitlines(keepends=True)
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line)
    index = _front_matter(lines, starts, chars)
    paragraph: list[int] = []  # line numbers of the current paragraph
    fence = None
    html_block = False
    previous_blank, previous_list = True, False

    def flush():
        if paragraph:
            first, last = paragraph[0], paragraph[-1]
            _inline(document, chars, starts[first], starts[last] + len(lines[last]))
            paragraph.clear()

    while index < len(lines):
        line = lines[index]
        start, end = starts[index], starts[index] + len(line)
        stripped = line.strip()
        if fence is not None:
            _blank(chars, start, end)
            if re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$", line):
                fence = None
        elif html_block:
            _blank(chars, start, end)
            html_block = bool(stripped)
        elif (opened := _FENCE.match(line)) is not None:
            flush()
            fence = opened.group(1)
            _blank(chars, start, end)
        elif not stripped:
            flush()
        elif previous_blank and not previous_list and line.startswith(("    ", "\t")):
            flush()
            index = _indented_code(lines, starts, chars, index)
            previous_blank = not lines[index - 1].strip()
            continue
        elif _HTML_BLOCK.match(line) and previous_blank:
            flush()
            html_block = True
            _blank(chars, start, end)
        elif _REFERENCE.match(line):
            flush()
            _blank(chars, start, end)
        elif _HEADING.match(line):
            flush()
            sections.append(start)
            headings.append((start, end))
            paragraph.append(index)
            flush()
        elif _SETEXT.match(line) and paragraph:
            sections.append(starts[paragraph[0]])
            headings.append((starts[paragraph[0]], end))
            _blank(chars, start, end)
            flush()
        else:
            paragraph.append(index)
        if stripped:
            previous_list = bool(_LIST_ITEM.match(line)) or (
                previous_list and line.startswith((" ", "\t"))
            )
        previous_blank = not stripped
        index += 1
    flush()


def _front_matter(lines: list[str], starts: list[int], chars: list[str]) -> int:
    """Mask a front matter block ("---" to "---" or "..."); the first line
    after it (0 without one)."""
    if lines and lines[0].rstrip() == "---":
        for close in range(1, len(lines)):
            if lines[close].rstrip() in ("---", "..."):
                _blank(chars, 0, starts[close] + len(lines[close]))
                return close + 1
    return 0


def _indented_code(
    lines: list[str], starts: list[int], chars: list[str], index: int
) -> int:
    """Mask the indented code block starting at line ``index`` (its blank
    lines included); the first line after it."""
    _blank(chars, starts[index], starts[index] + len(lines[index]))
    index += 1
    while index < len(lines) and (
        lines[index].startswith(("    ", "\t")) or not lines[index].strip()
    ):
        _blank(chars, starts[index], starts[index] + len(lines[index]))
        index += 1
    return index


def _inline(document: str, chars: list[str], start: int, end: int) -> None:
    """Mask inline code, links, addresses and HTML within ``[start, end)``."""
    position = start
    while position < end:
        found = _INLINE.search(document, position, end)
        if found is None:
            return
        ticks = found.group("code")
        if ticks is not None:
            close = re.compile(rf"(?<!`){ticks}(?!`)").search(
                document, found.end(), end
            )
            if close is None:  # a lone run of backticks is text
                position = found.end()
                continue
            _blank(chars, found.start(), close.end())
            position = close.end()
            continue
        text = found.group(0)
        if text.startswith("<") and not text.startswith(("<http", "<mailto", "<ftp")):
            name = re.match(r"</?([A-Za-z][\w-]*)", text)
            tag = name.group(1).lower() if name else ""
            _blank(chars, found.start(), found.end())
            if tag in SKIPPED and not text.startswith("</") and not text.endswith("/>"):
                close = re.compile(rf"</{tag}\s*>", re.IGNORECASE).search(
                    document, found.end(), end
                )
                stop = close.end() if close else found.end()
                _blank(chars, found.end(), stop)
                position = stop
                continue
            position = found.end()
            continue
        _blank(chars, found.start(), found.end())
        position = found.end()


def prose(document: str, fmt: str) -> Prose:
    """The prose of ``document`` (``fmt``: text, html or markdown)."""
    if fmt == "text":
        return Prose(document, [0])
    chars = list(document)
    sections, headings = [0], []
    if fmt == "html":
        _html(document, chars, sections, headings)
    else:
        _markdown(document, chars, sections, headings)
    return Prose("".join(chars), sorted(set(sections)), headings)


def chosen(spans, found: Prose, how: str) -> list:
    """The spans to mark, never in a heading: every one (``all``), the first
    of each term in each section (``first``), or in the whole document
    (``once``)."""
    from bisect import bisect_right

    heading_starts = [a for a, _ in found.headings]

    def in_heading(span) -> bool:
        at = bisect_right(heading_starts, span.start) - 1
        return at >= 0 and span.start < found.headings[at][1]

    seen, kept = set(), []
    for span in spans:
        if in_heading(span):
            continue
        if how == "all":
            kept.append(span)
            continue
        section = 0 if how == "once" else bisect_right(found.sections, span.start)
        key = (section, span.best.slug)
        if key not in seen:
            seen.add(key)
            kept.append(span)
    return kept


def mark(document: str, fmt: str, spans, terms: dict, url_of) -> str:
    """``document`` with each of ``spans`` marked: in HTML a ``<dfn>`` holding a
    link titled with the term's short definition; in Markdown a link with that
    title. ``terms`` are the matched terms by slug; ``url_of(slug)`` their
    addresses."""
    parts, position = [], 0
    for span in spans:
        term = terms.get(span.best.slug)
        if term is None:
            continue
        surface = document[span.start : span.end]
        url = url_of(term.slug)
        title = term.short_def or term.name
        parts.append(document[position : span.start])
        if fmt == "markdown":
            safe_title = title.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'[{surface}]({url} "{safe_title}")')
        else:
            parts.append(
                f'<dfn class="glossary-term" data-term="{html.escape(term.slug)}">'
                f'<a href="{html.escape(url)}" title="{html.escape(title)}">'
                f"{surface}</a></dfn>"
            )
        position = span.end
    parts.append(document[position:])
    return "".join(parts)
