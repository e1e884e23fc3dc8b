"""Reads of releases: which one a name means, the glossary as it stood in it,
and what changed between two of them (or between one and the working glossary).
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Q

from terms.documents.diffs import document_diff
from terms.documents.document import TermDocument, validate_term_data
from terms.models import Release, ReleaseEntry, TermRevision

#: Names the API gives the newest release and the working glossary.
LATEST, CURRENT = "latest", "current"


class UnknownRelease(LookupError):
    """No release of that name (the API answers 404 naming it)."""

    def __init__(self, name: str):
        super().__init__(f"There is no release {name!r}.")
        self.name = name


def listed():
    """Releases readers see: every one not retired, newest first."""
    return Release.objects.filter(retired=False).order_by("-sequence")


def find(name: str) -> Release:
    """The release ``name`` (``latest``: the newest one)."""
    if name == LATEST:
        found = listed().first()
    else:
        found = Release.objects.filter(name=name).first()
    if found is None:
        raise UnknownRelease(name)
    return found


def _entries(release: Release):
    return ReleaseEntry.objects.filter(
        Q(until=None) | Q(until__gte=release.sequence), since__lte=release.sequence
    )


def revisions(release: Release | None, slugs=None) -> dict[str, int]:
    """Slug -> revision id of every term in ``release`` (None: the working
    glossary's public terms and their latest revisions), or of ``slugs``."""
    if release is None:
        rows = TermRevision.objects.filter(
            term__status__in=list(settings.GLOSSARY_PUBLIC_STATUSES),
            version=F("term__version"),
        )
        if slugs is not None:
            rows = rows.filter(term__slug__in=list(slugs))
        return dict(rows.values_list("term__slug", "pk"))
    rows = _entries(release)
    if slugs is not None:
        rows = rows.filter(slug__in=list(slugs))
    return dict(rows.values_list("slug", "revision_id"))


def documents(release: Release | None, slugs=None) -> dict[str, dict]:
    """Slug -> document data of the terms in ``release`` (or of ``slugs`` among
    them), in slug order."""
    wanted = revisions(release, slugs)
    data = dict(
        TermRevision.objects.filter(pk__in=list(wanted.values())).values_list(
            "pk", "document"
        )
    )
    return {slug: data[wanted[slug]] for slug in sorted(wanted)}


def term_documents(release: Release | None) -> list[TermDocument]:
    """The release's terms as validated documents (exports read these)."""
    found = []
    for data in documents(release).values():
        document, _ = validate_term_data(data)
        if document is not None:
            found.append(document)
    return found


@dataclass
class Diff:
    """What changed from release ``a`` to release ``b``."""

    a: str
    b: str
    added: list[dict]
    removed: list[dict]
    renamed: list[dict]
    changed: list[dict]

    def as_dict(self) -> dict:
        return {
            "from": self.a,
            "to": self.b,
            "added": self.added,
            "removed": self.removed,
            "renamed": self.renamed,
            "changed": self.changed,
        }


def _resolve(name: str) -> Release | None:
    return None if name == CURRENT else find(name)


def diff(a: str, b: str) -> Diff:
    """Terms added, removed, renamed (slug kept, name changed) and changed,
    with every changed field's values before and after."""
    old, new = revisions(_resolve(a)), revisions(_resolve(b))
    moved = sorted(slug for slug in old.keys() & new.keys() if old[slug] != new[slug])
    wanted = {
        *(old[slug] for slug in old.keys() - new.keys()),
        *(new[slug] for slug in new.keys() - old.keys()),
        *(old[slug] for slug in moved),
        *(new[slug] for slug in moved),
    }
    data = dict(
        TermRevision.objects.filter(pk__in=list(wanted)).values_list("pk", "document")
    )
    added = [
        {"slug": slug, "name": data[new[slug]]["term"]}
        for slug in sorted(new.keys() - old.keys())
    ]
    removed = [
        {"slug": slug, "name": data[old[slug]]["term"]}
        for slug in sorted(old.keys() - new.keys())
    ]
    renamed, changed = [], []
    for slug in moved:
        before, after = data[old[slug]], data[new[slug]]
        fields = document_diff(before, after)
        if not fields:
            continue  # a new revision with the same content (a status-only write)
        if before.get("term") != after.get("term"):
            renamed.append({"slug": slug, "from": before["term"], "to": after["term"]})
        changed.append({"slug": slug, "name": after["term"], "fields": fields})
    return Diff(a, b, added, removed, renamed, changed)


@dataclass
class TermInRelease:
    """What one release holds of a term, against the release before it."""

    release: Release
    #: "added" (first in this release, or back), "changed", "unchanged" or
    #: "removed" (in the release before, not in this one).
    change: str
    #: The fields that changed (for "changed"), in format order.
    fields: list[str]


def term_releases(slug: str) -> list[TermInRelease]:
    """The releases that hold (or dropped) the term ``slug``, newest first,
    each with what changed in it since the release before."""
    entries = list(
        ReleaseEntry.objects.filter(slug=slug).values_list(
            "since", "until", "revision_id"
        )
    )
    if not entries:
        return []
    data = dict(
        TermRevision.objects.filter(pk__in=[e[2] for e in entries]).values_list(
            "pk", "document"
        )
    )
    found, before = [], None
    for release in listed().reverse():
        held = next(
            (
                rev
                for since, until, rev in entries
                if since <= release.sequence
                and (until is None or until >= release.sequence)
            ),
            None,
        )
        if held is None and before is None:
            continue
        if held is None:
            found.append(TermInRelease(release, "removed", []))
        elif before is None:
            found.append(TermInRelease(release, "added", []))
        elif held == before:
            found.append(TermInRelease(release, "unchanged", []))
        else:
            fields = [f["field"] for f in document_diff(data[before], data[held])]
            found.append(
                TermInRelease(release, "changed" if fields else "unchanged", fields)
            )
        before = held
    return found[::-1]


def _md(text) -> str:
    """Text safe inside Markdown prose (its markup characters escaped)."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>" else c for c in str(text))


def diff_markdown(found: Diff) -> str:
    """The diff as a changelog fit to paste into release notes."""
    lines = [f"## Changes from {_md(found.a)} to {_md(found.b)}", ""]
    if not (found.added or found.removed or found.changed):
        lines += ["No term changed.", ""]
    for title, items in (("Added", found.added), ("Removed", found.removed)):
        if items:
            lines += [f"### {title}", ""]
            lines += [f"- **{_md(i['name'])}** (`{i['slug']}`)" for i in items]
            lines.append("")
    if found.renamed:
        lines += ["### Renamed", ""]
        lines += [
            f"- {_md(i['from'])} → **{_md(i['to'])}** (`{i['slug']}`)"
            for i in found.renamed
        ]
        lines.append("")
    if found.changed:
        lines += ["### Changed", ""]
        for item in found.changed:
            names = ", ".join(f"`{f['field']}`" for f in item["fields"])
            lines.append(f"- **{_md(item['name'])}** (`{item['slug']}`): {names}")
        lines.append("")
    return "\n".join(lines)
