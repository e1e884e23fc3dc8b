"""Writes to the glossary: the one path by which term content reaches the database.

The importer, the API and the workflow all write through these functions, so every
write records a revision and an audit event, resolves relationships and bumps the
glossary version (which invalidates cached API responses) in one transaction.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from terms import events
from terms.documents.document import TermDocument
from terms.documents.mapping import (
    PARTS,
    term_child_rows,
    term_field_values,
    unchanged_parts,
)
from terms.documents.naming import lookup_key
from terms.documents.resolver import (
    chunks,
    database_index,
    relationships_resolve,
)
from terms.models import (
    Category,
    ChangeSource,
    EventAction,
    GlossaryState,
    GovernanceTag,
    LinkCheck,
    Relationship,
    Role,
    Term,
    TermEvent,
    TermRevision,
    TermSource,
)
from terms.workflow import history
from terms.workflow.bulk import Copying, insert_rows
from terms.workflow.summaries import (
    keys_of,
    status_counts,
    status_delta,
    union_of,
    wanted_refresh,
)


@transaction.atomic(savepoint=False)
def glossary_touch(
    changed: Iterable[int] | None = None,
    *,
    public: bool | None = None,
    wanted: Iterable[str] | None = None,
    counts: Mapping[str, int] | None = None,
) -> None:
    """Record that the glossary changed: bump its version, bring its summaries
    up to date and announce the change (``terms.events``).

    ``changed`` names the terms (ids) the write changed, created or deleted.
    None: the write may affect any term (roles, categories, site texts).

    ``public`` says whether anonymous readers can see the change; only then do
    the version and time they are shown move (``GlossaryState.public_version``),
    so nothing about drafts or pending changes shows in what they read. None:
    worked out from ``changed`` (any changed term now public, or gone).

    The summaries follow the write, not the glossary: ``wanted`` are the
    relationship target keys whose wanted-term counts it may have changed, and
    ``counts`` how many terms each status gained (or lost, negative). None for
    either: recounted over the whole glossary.
    """
    changed = None if changed is None else tuple(changed)
    if public is None:
        public = changed is None or _touches_public(list(changed))
    wanted_refresh(wanted)
    now = timezone.now()
    # Locked from here to the commit: writers take turns on this row.
    state = GlossaryState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        state, _ = GlossaryState.objects.get_or_create(
            pk=1, defaults={"changed_at": now, "public_changed_at": now, "version": 0}
        )
    state.version += 1
    state.changed_at = now
    if public:
        state.public_version += 1
        state.public_changed_at = now
    state.status_counts = status_counts(state.status_counts, counts)
    state.save(
        update_fields=[
            "version",
            "changed_at",
            "public_version",
            "public_changed_at",
            "status_counts",
        ]
    )
    events.announce(
        events.GlossaryChanged(
            terms=changed,
            public=public,
            version=state.version,
            changed_at=state.changed_at,
            public_version=state.public_version,
            public_changed_at=state.public_changed_at or state.changed_at,
        )
    )


def pending_touch(term: Term) -> None:
    """Record a write of a term's pending change: the live term, its links and
    the counts stay as they are; only signed-in readers see the change."""
    glossary_touch([term.pk], public=False, wanted=(), counts={})


def _touches_public(changed: list[int]) -> bool:
    """Whether any of the terms (ids) is public now, or gone (a deleted term
    that was public; callers that know otherwise say ``public=False``)."""
    if not changed:
        return False
    found = dict(Term.objects.filter(pk__in=changed[:1000]).values_list("pk", "status"))
    if len(changed) > 1000 or len(found) < len(set(changed)):
        return True
    return any(status in settings.GLOSSARY_PUBLIC_STATUSES for status in found.values())


def _ensure_categories(
    documents: Sequence[TermDocument], known: dict[str, Category]
) -> dict[str, Category]:
    names = {name for document in documents for name in document.categories}
    existing = {name: known[name] for name in names if name in known}
    asked = names - set(existing)
    if asked:
        existing.update(
            (c.name, c) for c in Category.objects.filter(name__in=sorted(asked))
        )
    missing = sorted(names - set(existing))
    if missing:
        start = (Category.objects.aggregate(top=Max("position"))["top"] or 0) + 1
        Category.objects.bulk_create(
            Category(name=name, slug=slugify(name), position=start + offset)
            for offset, name in enumerate(missing)
        )
        existing.update((c.name, c) for c in Category.objects.filter(name__in=missing))
    return existing


def _ensure_tags(
    documents: Sequence[TermDocument], known: dict[str, GovernanceTag]
) -> dict[str, GovernanceTag]:
    names = {tag for document in documents for tag in document.nist_rmf_tags}
    existing = {name: known[name] for name in names if name in known}
    asked = sorted(names - set(existing))
    if asked:
        GovernanceTag.objects.bulk_create(
            (GovernanceTag(name=name) for name in asked), ignore_conflicts=True
        )
        existing.update(
            (tag.name, tag) for tag in GovernanceTag.objects.filter(name__in=asked)
        )
    return existing


# No savepoint of its own: a failure here fails the caller's whole step.
@transaction.atomic(savepoint=False)
def terms_write(
    *,
    changes: Sequence[tuple[TermDocument, Term | None]],
    actor,
    source: ChangeSource,
    comment: str = "",
    author=None,
    action: EventAction | None = None,
    from_status: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    digests: Mapping[str, str] | None = None,
) -> list[Term]:
    """Create (``None``) or overwrite (a stored ``Term``) terms from documents.

    Each written term gets a new version, a revision holding its document and an
    audit event. ``author`` (default: the actor) is who wrote the content, when
    someone else puts it live (an approver applying a pending change); ``action``
    overrides the recorded event action and ``from_status`` the state it records
    the change as leaving (a pending change's). ``digests`` (an import's) map
    slugs to the SHA-256 of the file each document was read from
    (``TermSource``). Returns the written terms in order.
    """
    if not changes:
        return []
    lookups = _part_lookups(
        [document for document, _ in changes], [term for _, term in changes if term]
    )
    # What the terms answered to and linked to before: read before their parts go.
    old_names, old_targets = keys_of([term for _, term in changes if term])
    # Keys whose links may now resolve differently, and keys whose wanted-term
    # counts may move: what each term gave up or took, not all it holds.
    moved_names: set[str] = set()
    moved_targets: set[str] = set()
    child_rows, kept = _stored_parts(changes, lookups)
    written, old_status, copying = _write_columns(changes, kept)
    # Until ``copying`` is done, the connection is the copy's: no queries here.
    rows: dict[type, list] = defaultdict(list)
    for done, ((document, existing), term) in enumerate(
        zip(changes, written, strict=True), start=1
    ):
        parts = (
            child_rows[term.pk]
            if existing is not None
            else term_child_rows(document, term, **lookups)
        )
        for model, instances in parts.items():
            if model not in kept.get(term.pk, ()):
                rows[model].extend(instances)
        moved_names |= _answers(document) ^ old_names.get(term.pk, set())
        links_rewritten = Relationship not in kept.get(term.pk, ())
        if links_rewritten or old_status.get(term.pk) != term.status:
            moved_targets |= old_targets.get(term.pk, set())
            moved_targets.update(row["target_key"] for row in parts[Relationship])
        if progress:
            progress("writing", done, len(changes))
    revisions, events = _history(
        changes, written, old_status, actor=actor, author=author, source=source,
        comment=comment, action=action, from_status=from_status,
    )  # fmt: skip
    if copying is not None:
        copying.wait()  # the new terms' rows, copied meanwhile
    _write_parts(rows, names=moved_names)
    insert_rows(TermRevision, revisions)
    insert_rows(TermEvent, events)
    if digests:
        _write_sources(written, old_status, digests)
    _touch(written, old_status, wanted=moved_names | moved_targets)
    return written


def _history(
    changes, written, old_status, *, actor, author, source, comment, action,
    from_status,
) -> tuple[list[TermRevision], list[TermEvent]]:  # fmt: skip
    """A revision and an event per written term (built, not saved): ``author``
    wrote the revision's content, ``actor`` made the change."""
    revisions, events = [], []
    for (document, existing), term in zip(changes, written, strict=True):
        revisions.append(
            history.revision_for(
                term=term,
                document=document,
                source=source,
                actor=author if author is not None else actor,
            )
        )
        if from_status is not None:
            left = from_status
        else:
            left = "" if existing is None else old_status[term.pk]
        created = EventAction.CREATE if existing is None else EventAction.UPDATE
        events.append(
            history.event_for(
                term=term,
                term_slug=term.slug,
                action=action or created,
                source=source,
                actor=actor,
                from_status=left,
                to_status=document.status,
                version=term.version,
                comment=comment,
            )
        )
    return revisions, events


def _touch(written: list[Term], old_status: dict[int, str], wanted: set[str]):
    """The glossary moved by ``written`` terms (``glossary_touch``): whether
    the public saw it, which wanted keys, and the counts by status."""
    public = set(settings.GLOSSARY_PUBLIC_STATUSES)
    glossary_touch(
        [term.pk for term in written],
        public=any(
            term.status in public or old_status.get(term.pk) in public
            for term in written
        ),
        wanted=wanted,
        counts=status_delta((old_status.get(term.pk), term.status) for term in written),
    )


def _answers(document: TermDocument) -> set[str]:
    """The lookup keys a term answers to: its name, slug and aliases."""
    return {
        lookup_key(document.term),
        lookup_key(document.slug),
        *(lookup_key(alias) for alias in document.aliases),
    }


def _stored_parts(changes, lookups) -> tuple[dict, dict]:
    """The stored terms' new part rows, and which parts stay as they are
    (known where the caller loaded them, as the workflow does: an edit of the
    definition rewrites no alias, link or citation)."""
    child_rows, kept = {}, {}
    for document, term in changes:
        if term is not None:
            child_rows[term.pk] = term_child_rows(document, term, **lookups)
            kept[term.pk] = unchanged_parts(term, child_rows[term.pk])
    return child_rows, kept


def _write_sources(
    written: Sequence[Term], old_status: Mapping[int, str], digests: Mapping[str, str]
) -> None:
    """Record which file bytes each imported term's new version came from (a
    term that existed before may have a record to replace; a new one has none)."""
    for chunk in chunks(list(old_status)):
        TermSource.objects.filter(term_id__in=chunk).delete()
    insert_rows(
        TermSource,
        [
            {"term_id": term.pk, "digest": digests[term.slug], "version": term.version}
            for term in written
            if term.slug in digests
        ],
    )


def _part_lookups(
    documents: Sequence[TermDocument], loaded: Sequence[Term] = ()
) -> dict[str, dict]:
    """Saved categories, roles and tags by name/slug, created where missing.

    Those the ``loaded`` terms hold already (prefetched, as the workflow loads
    a term) are not asked for again: an edit that keeps them asks for nothing.
    """
    known: dict[str, dict] = {"categories": {}, "roles": {}, "tags": {}}
    for term in loaded:
        cache = getattr(term, "_prefetched_objects_cache", {})
        for link in cache.get("term_categories", ()):
            known["categories"][link.category.name] = link.category
        for link in cache.get("term_roles", ()):
            known["roles"][link.role.slug] = link.role
        for link in cache.get("term_tags", ()):
            known["tags"][link.tag.name] = link.tag
    wanted_roles = {slug for document in documents for slug in document.roles}
    roles = known["roles"]
    if not wanted_roles <= set(roles):
        roles = {role.slug: role for role in Role.objects.all()}
    return {
        "categories": _ensure_categories(documents, known["categories"]),
        "roles": roles,
        "tags": _ensure_tags(documents, known["tags"]),
    }


def _write_columns(
    changes: Sequence[tuple[TermDocument, Term | None]],
    kept: Mapping[int, set[type]],
) -> tuple[list[Term], dict[int, str], Copying | None]:
    """Insert new terms and update changed ones; drop the changed ones' parts
    (except the part models ``kept`` names for a term: they stay as stored).

    Returns the written terms in order, the status each changed term had, and
    the copy of the new terms' rows still running on a thread (PostgreSQL; the
    new terms have their keys already): wait for it before the next query.
    """
    now = timezone.now()
    written: list[Term] = []
    new_terms: list[Term] = []
    old_status: dict[int, str] = {}
    changed_terms: list[Term] = []
    for document, term in changes:
        if term is None:
            term = Term(**term_field_values(document))
            new_terms.append(term)
        else:
            old_status[term.pk] = term.status
            for name, value in term_field_values(document).items():
                setattr(term, name, value)
            term.version += 1
            term.updated_at = now
            changed_terms.append(term)
        written.append(term)
    if changed_terms:
        fields = [*term_field_values(changes[0][0]), "version", "updated_at"]
        if len(changed_terms) == 1:  # one plain UPDATE, no CASE per column
            [term] = changed_terms
            Term.objects.filter(pk=term.pk).update(
                **{field: getattr(term, field) for field in fields}
            )
        else:
            Term.objects.bulk_update(changed_terms, fields, batch_size=500)
        for part in PARTS:
            ids = [t.pk for t in changed_terms if part.model not in kept.get(t.pk, ())]
            for chunk in chunks(ids):
                # No signals or dependents: Django deletes these in one statement.
                part.model.objects.filter(term_id__in=chunk).delete()
    copying = insert_rows(Term, new_terms, keys=True, background=True)
    return written, old_status, copying


def _write_parts(rows: dict[type, list[dict]], *, names: set[str]) -> None:
    """Insert part rows; relationships resolved as they are written.

    ``names`` are the lookup keys the written terms gave up or took (as name,
    slug or alias): only links to those can resolve differently afterwards.
    """
    relationships = rows.pop(Relationship, [])
    for model, values in rows.items():
        insert_rows(model, values)
    # New relationships are resolved as they are written; the pass below then
    # only has to re-point older ones that the new names and aliases affect.
    index = database_index(names | {row["target_key"] for row in relationships})
    for relationship in relationships:
        relationship["target_id"] = index.resolve(relationship["target_name"])
    insert_rows(Relationship, relationships)
    relationships_resolve(index=index, keys=names)


@transaction.atomic(savepoint=False)
def terms_delete(
    *, terms: Iterable[Term], actor, source: ChangeSource, comment: str = ""
) -> list[str]:
    """Delete terms, keeping an audit event for each; returns their slugs."""
    doomed = list(terms)
    if not doomed:
        return []
    names, targets = (union_of(keys) for keys in keys_of(doomed))
    TermEvent.objects.bulk_create(
        history.event_for(
            term=None,
            term_slug=term.slug,
            action=EventAction.DELETE,
            source=source,
            actor=actor,
            from_status=term.status,
            version=term.version,
            comment=comment,
        )
        for term in doomed
    )
    for chunk in chunks([term.pk for term in doomed]):
        Term.objects.filter(pk__in=chunk).delete()
    # Links to the deleted terms are now unresolved; an alias they shared with
    # another term may now name that one alone.
    relationships_resolve(keys=names)
    public = settings.GLOSSARY_PUBLIC_STATUSES
    glossary_touch(
        [term.pk for term in doomed],
        public=any(term.status in public for term in doomed),
        wanted=names | targets,
        counts=status_delta((term.status, None) for term in doomed),
    )
    return [term.slug for term in doomed]


@transaction.atomic(savepoint=False)
def term_status_write(
    *,
    term: Term,
    document: TermDocument,
    actor,
    source: ChangeSource,
    action: EventAction,
    comment: str = "",
    replaced_by: Term | None = None,
) -> Term:
    """Write a change of status (and review date) only: no child rows are touched.

    ``document`` is the term's document with the new status; it becomes a new
    version marked as status-only, so it never counts as authored content.
    """
    term.replaced_by = replaced_by
    terms_status_write(
        changes=[(term, document)],
        actor=actor,
        source=source,
        action=action,
        comment=comment,
    )
    return term


def terms_status_write(
    *,
    changes: Sequence[tuple[Term, TermDocument]],
    actor,
    source: ChangeSource,
    action: EventAction,
    comment: str = "",
) -> None:
    """``term_status_write`` for many terms, in a fixed number of queries
    (each term keeps the ``replaced_by`` it carries)."""
    if not changes:
        return
    moves = []
    for term, document in changes:
        moves.append((term.status, document.status))
        term.status = document.status
        term.last_reviewed = document.last_reviewed
        term.version += 1
        term.updated_at = timezone.now()
    terms = [term for term, _ in changes]
    Term.objects.bulk_update(
        terms, ["status", "last_reviewed", "replaced_by", "version", "updated_at"]
    )
    TermRevision.objects.bulk_create(
        history.revision_for(
            term=term, document=document, source=source, actor=actor, status_only=True
        )
        for term, document in changes
    )
    TermEvent.objects.bulk_create(
        history.event_for(
            term=term,
            term_slug=term.slug,
            action=action,
            source=source,
            actor=actor,
            from_status=before,
            to_status=term.status,
            version=term.version,
            comment=comment,
        )
        for term, (before, _) in zip(terms, moves, strict=True)
    )
    public = settings.GLOSSARY_PUBLIC_STATUSES
    targets = union_of(keys_of(terms, names=False)[1])  # their links count elsewhere
    glossary_touch(
        [term.pk for term in terms],
        public=any(a in public or b in public for a, b in moves),
        wanted=targets,
        counts=status_delta(moves),
    )


def store_link_checks(results) -> None:
    """Keep the latest check of each URL (``terms.integrations.linkcheck.LinkResult``s).

    The glossary's version moves on, so cached stats and history show them.
    """
    if not results:
        return
    now = timezone.now()
    rows = [
        LinkCheck(
            url=r.url,
            ok=r.ok,
            status_code=r.status_code,
            final_url=r.final_url[:2000],
            error=r.error,
            elapsed_ms=r.elapsed_ms,
            attempts=r.attempts,
            checked_at=now,
        )
        for r in results
    ]
    fields = ["ok", "status_code", "final_url", "error", "elapsed_ms"]
    with transaction.atomic():
        LinkCheck.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["url"],
            update_fields=[*fields, "attempts", "checked_at"],
        )
        # No term's detail shows link checks; the statistics count them.
        glossary_touch((), public=True, wanted=(), counts={})
