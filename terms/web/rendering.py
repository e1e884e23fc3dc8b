"""A term as a readable page: the sections shared by the HTML page and the
Markdown document (``/api/v1/terms/{slug}.md``).

The role takeaways, category guidance and site-wide sentences come from imported
data (``roles.yml``, ``categories.yml``, ``site.yml``), never from this code.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from terms.documents.document import FIELDS, DocumentField, TermDocument
from terms.documents.mapping import document_from_term
from terms.models import Status, Term
from terms.reads.selectors import (
    RelatedTerm,
    site_texts,
    term_relationships,
)
from terms.serving.stamp import glossary_stamp

#: Document values the page lays out in sections of their own (the reference
#: page's layout). Any other declared value is listed under "More", so a field
#: added to ``terms.documents.fields.FIELDS`` shows on the pages without code here.
PLACED = frozenset(
    {
        "term",
        "aliases",
        "categories",
        "roles",
        "part_of_speech",
        "status",
        "last_reviewed",
        "short_def",
        "long_def",
        "exec_perspective",
        "engineer_perspective",
        "examples_do",
        "examples_dont",
        "nist_rmf_tags",
        "risk_notes",
        "broader",
        "narrower",
        "related",
        "citations",
        "license",
    }
)


def other_values(
    document: TermDocument, fields: tuple[DocumentField, ...] = FIELDS
) -> list[tuple[str, str]]:
    """Declared values the layout does not place, as (label, text), when set."""
    found = []
    for spec in fields:
        if spec.attr in PLACED:
            continue
        value = getattr(document, spec.attr)
        if value in (None, "", ()):
            continue
        text = ", ".join(map(str, value)) if isinstance(value, tuple) else str(value)
        found.append((spec.attr.replace("_", " ").capitalize(), text))
    return found


MARKDOWN_HEADER = (
    "<!--\n"
    "  Rendered by the glossary service from the term document; edit the term.\n"
    "-->\n"
)


@dataclass
class TermPage:
    """Everything a page about one term shows, in the order it shows it."""

    term: Term
    document: TermDocument
    role_titles: list[str]
    takeaways: list[tuple[str, str]]
    practice: list[str]
    relationships: dict[str, list[RelatedTerm]]
    feedback_title: str | None
    feedback_note: str | None
    status_label: str
    tags: list[str] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)
    #: Terms alike in content that no relationship joins yet: (slug, name).
    suggested: list[tuple[str, str]] = field(default_factory=list)
    #: False when the suggestions came from an index of an earlier version
    #: (this version's is being built): such a page is not worth caching.
    suggestions_fresh: bool = True

    @property
    def feedback_html(self) -> str:
        return inline_markdown_links(self.feedback_note or "")


_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def inline_markdown_links(text: str) -> str:
    """HTML for a sentence whose only markup is Markdown links; the rest is escaped."""
    parts, last = [], 0
    for match in _MARKDOWN_LINK.finditer(text):
        parts.append(escape(text[last : match.start()]))
        label, url = match.groups()
        if url.startswith(("http://", "https://", "/", "../", "./")):
            parts.append(format_html('<a href="{}">{}</a>', url, label))
        else:
            parts.append(escape(match.group(0)))
        last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(str(part) for part in parts))


def term_page(term: Term, statuses: list[str]) -> TermPage:
    """Gather a page's sections. ``term`` comes from ``term_detail_queryset``."""
    document = document_from_term(term)
    roles = [link.role for link in term.term_roles.all()]
    categories = [link.category for link in term.term_categories.all()]
    texts = site_texts()
    practice: list[str] = []
    for category in categories:
        for line in category.apply_guidance:
            if line not in practice:
                practice.append(line)
    if texts.get("practice_footer"):
        practice.append(texts["practice_footer"])
    note = texts.get("feedback_note")
    return TermPage(
        term=term,
        document=document,
        role_titles=[role.title or role.slug for role in roles],
        takeaways=[
            (role.title or role.slug, role.takeaway) for role in roles if role.takeaway
        ],
        practice=practice,
        relationships=term_relationships(term, statuses),
        feedback_title=texts.get("feedback_title"),
        feedback_note=note.replace("{term}", term.name) if note else None,
        status_label=Status(term.status).label,
        tags=list(document.nist_rmf_tags),
        other=other_values(document),
    )


#: How many suggested related terms a page shows.
SUGGESTED = 5


def with_suggestions(
    page: TermPage, statuses: list[str], stamp_token: str | None = None
) -> TermPage:
    """The page with the terms most alike in content that are not linked yet
    (``stamp_token``: the glossary version the caller already read)."""
    from terms.serving.derived import similar_terms

    linked = {
        entry.term.slug
        for entries in page.relationships.values()
        for entry in entries
        if entry.term is not None
    }
    similar, page.suggestions_fresh = similar_terms(
        statuses,
        stamp_token or glossary_stamp().token,
        page.term.slug,
        SUGGESTED + len(linked),
    )
    ranked = [slug for slug, _ in similar if slug not in linked][:SUGGESTED]
    names = dict(Term.objects.filter(slug__in=ranked).values_list("slug", "name"))
    page.suggested = [(slug, names[slug]) for slug in ranked if slug in names]
    return page


def _md(text: str) -> str:
    """Term text for Markdown: angle brackets escaped, so text written in a term
    can never become HTML in a page a docs pipeline publishes, and square
    brackets (after backslashes) escaped, so it can never become a link
    (``[x](javascript:...)``, ``[x]: url``) either."""
    return (
        text.replace("\\", "\\\\")
        .replace("[", "\\[")
        .replace("]", "\\]")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


#: What a link destination may hold as it is; the rest is percent-encoded
#: (parentheses, spaces and angle brackets would end or break it).
_URL_SAFE = ":/?#@!$&'*+,;=%~-._"


def _md_site_text(text: str) -> str:
    """A site text (written by administrators) for Markdown: its own links to
    http(s) or relative addresses kept, everything else escaped as ``_md``."""
    parts, last = [], 0
    for match in _MARKDOWN_LINK.finditer(text):
        label, url = match.groups()
        if url.lower().startswith(("http://", "https://", "/", "../", "./")):
            parts += [_md(text[last : match.start()]), f"[{_md(label)}]({url})"]
            last = match.end()
    parts.append(_md(text[last:]))
    return "".join(parts)


def _md_link(text: str, url: str) -> str:
    """A Markdown link to an http(s) URL; any other URL is shown as text, so a
    citation can never carry a ``javascript:`` or ``data:`` link."""
    if not url.lower().startswith(("http://", "https://")):
        return f"{_md(text)} ({_md(url)})"
    return f"[{_md(text)}]({quote(url, safe=_URL_SAFE)})"


def _markdown_links(page: TermPage) -> list[str]:
    """The relationships as written, then the suggested related terms."""
    lines = []
    written = [
        f"- **{kind.capitalize()}:** {_md(', '.join(targets))}"
        for kind, targets in page.document.relationships().items()
        if targets
    ]
    if written:
        lines += ["## Relationships", *written, ""]
    if page.suggested:
        lines += [
            "## Suggested related terms",
            *(f"- [{_md(name)}]({slug}.md)" for slug, name in page.suggested),
            "",
        ]
    return lines


def render_markdown(page: TermPage) -> str:
    """The term as the reference project's documentation page (Markdown)."""
    doc = page.document
    lines = [
        MARKDOWN_HEADER,
        f"# {_md(doc.term)}",
        "",
        f"**Aliases:** {_md(', '.join(doc.aliases))}",
        f"**Categories:** {_md(', '.join(doc.categories))}",
        f"**Roles:** {_md(', '.join(page.role_titles))}",
        f"**Part of speech:** `{doc.part_of_speech}`",
        f'**Status:** <span class="status-chip status-{doc.status}">'
        f"{page.status_label}</span> (Last reviewed: {doc.last_reviewed.isoformat()})",
        "",
    ]
    if page.takeaways:
        lines += ["## Role takeaways"]
        lines += [
            f"- **{_md(title)}:** {_md(takeaway)}" for title, takeaway in page.takeaways
        ]
        lines += [""]
    if page.practice:
        lines += [
            "## Practice & apply",
            *(f"- {_md(line)}" for line in page.practice),
            "",
        ]
    lines += ["## Short definition", _md(doc.short_def), ""]
    lines += ["## Long definition", _md(doc.long_def), ""]
    lines += [
        "## Audience perspectives",
        f"- **Exec:** {_md(doc.exec_perspective)}",
        f"- **Engineer:** {_md(doc.engineer_perspective)}",
        "",
    ]
    lines += [
        "## Examples",
        "**Do**",
        *(f"- {_md(text)}" for text in doc.examples_do),
        "",
    ]
    lines += ["**Don't**", *(f"- {_md(text)}" for text in doc.examples_dont), ""]
    governance = []
    if doc.nist_rmf_tags:
        governance.append(f"- **NIST RMF tags:** {_md(', '.join(doc.nist_rmf_tags))}")
    if doc.risk_notes:
        governance.append(f"- **Risk notes:** {_md(doc.risk_notes)}")
    if governance:
        lines += ["## Governance", *governance, ""]
    lines += _markdown_links(page)
    if page.other:
        lines += [
            "## More",
            *(f"- **{label}:** {_md(text)}" for label, text in page.other),
        ]
        lines += [""]
    if page.feedback_title and page.feedback_note:
        lines += [
            f'!!! info "{_md(page.feedback_title)}"',
            f"    {_md_site_text(page.feedback_note)}",
            "",
        ]
    lines += [
        "## Citations",
        *(f"- {_md_link(source, url)}" for source, url in doc.citations),
        "",
    ]
    lines += [f"_License: {_md(doc.license)}_", ""]
    lines += [f"_Source file: `{page.term.slug}.yml`_", ""]
    # The header already ends in a newline of its own.
    return lines[0] + "\n" + "\n".join(lines[1:])


#: What a comment's HTML may hold: text formatting, lists, quotes, code and
#: links (no images: a comment cannot make readers fetch anything).
COMMENT_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "i", "li", "ol", "p",
    "pre", "strong", "ul",
}  # fmt: skip


def comment_html(body: str) -> str:
    """A comment's Markdown as HTML that is safe to show: rendered by
    Python-Markdown, then cleaned by nh3 to ``COMMENT_TAGS`` (links keep http,
    https and mailto addresses only, and get ``rel="noopener noreferrer"``)."""
    import markdown
    import nh3

    html = markdown.markdown(body, output_format="html")
    return nh3.clean(
        html,
        tags=COMMENT_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
    )


def comment_threads(comments) -> list[dict]:
    """Comments as threads for a page: each starting comment with its safe
    HTML, its replies, and whether it is resolved."""
    threads: dict[int, dict] = {}
    for comment in comments:
        entry = {"comment": comment, "html": comment_html(comment.body)}
        if comment.reply_to_id is None:
            threads[comment.pk] = {**entry, "replies": []}
        elif comment.reply_to_id in threads:
            threads[comment.reply_to_id]["replies"].append(entry)
    return list(threads.values())
