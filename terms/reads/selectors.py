"""Reads of the glossary: visibility, querysets for the API, facets, wanted terms.

Each function runs a fixed number of queries, whatever the size of the result.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, F, Max, Min, Prefetch, Q, QuerySet, Value
from django.utils.text import slugify

from terms.documents.datafiles import (
    CATEGORIES_FILE,
    ROLES_FILE,
    SITE_FILE,
    SITE_TEXT_KEYS,
)
from terms.models import (
    Alias,
    Category,
    Citation,
    GlossaryState,
    GovernanceTag,
    LinkCheck,
    RelationKind,
    Relationship,
    Role,
    SiteText,
    Status,
    Term,
    TermCategory,
    TermRole,
    TermTag,
    WantedTarget,
)

# What a relationship from A to B says about A, seen from B.
INVERSE_KIND = {
    RelationKind.BROADER: RelationKind.NARROWER,
    RelationKind.NARROWER: RelationKind.BROADER,
    RelationKind.RELATED: RelationKind.RELATED,
}


def public_statuses() -> list[str]:
    """Statuses anonymous clients may see (``GLOSSARY_PUBLIC_STATUSES``)."""
    return list(settings.GLOSSARY_PUBLIC_STATUSES)


def visible_statuses(user) -> list[str]:
    """Statuses ``user`` may see: all of them with ``terms.view_term``."""
    if user is not None and user.is_authenticated and user.has_perm("terms.view_term"):
        return list(Status.values)
    return public_statuses()


def counted_terms(statuses: list[str]) -> int | None:
    """How many terms are in ``statuses``, as the latest write counted them (one
    small query instead of counting the table); None before any write has."""
    counts = (
        GlossaryState.objects.filter(pk=1)
        .values_list("status_counts", flat=True)
        .first()
    )
    if counts is None:
        return None
    return sum(counts.get(status, 0) for status in statuses)


def glossary_state() -> GlossaryState:
    """The glossary's version row (one query)."""
    state = GlossaryState.objects.filter(pk=1).first()
    if state is None:  # Only before migration 0004 has run.
        from django.utils import timezone

        state, _ = GlossaryState.objects.get_or_create(
            pk=1, defaults={"changed_at": timezone.now()}
        )
    return state


def term_list_queryset(statuses: list[str]) -> QuerySet[Term]:
    """Terms with what the list representation needs, prefetched."""
    return Term.objects.filter(status__in=statuses).prefetch_related(
        "aliases",
        Prefetch(
            "term_categories",
            queryset=TermCategory.objects.select_related("category"),
        ),
        Prefetch("term_roles", queryset=TermRole.objects.select_related("role")),
        Prefetch("term_tags", queryset=TermTag.objects.select_related("tag")),
    )


@dataclass(frozen=True)
class SummaryParts:
    """The names a term summary lists, read flat (``with_summary_parts``)."""

    aliases: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def with_summary_parts(terms: list[Term]) -> list[Term]:
    """Give each term the names its summary lists (``term.summary_parts``), in
    four flat queries, each in its model's order.

    Serializing a page this way builds no related objects: prefetching builds a
    model and a queryset per row, which at a page of 50 terms costs more than
    the queries themselves.
    """
    parts = {term.pk: SummaryParts() for term in terms}
    ids = list(parts)
    for model, column, attribute in (
        (Alias, "name", "aliases"),
        (TermCategory, "category__name", "categories"),
        (TermRole, "role__slug", "roles"),
        (TermTag, "tag__name", "tags"),
    ):
        rows = model.objects.filter(term_id__in=ids).values_list("term_id", column)
        for term_id, value in rows:
            getattr(parts[term_id], attribute).append(value)
    for term in terms:
        term.summary_parts = parts[term.pk]
    return terms


def term_detail_queryset(statuses: list[str]) -> QuerySet[Term]:
    """Terms with everything the full representation needs, prefetched."""
    return (
        term_list_queryset(statuses)
        .select_related("replaced_by", "pending__author")
        .prefetch_related(
            "examples",
            "citations",
            Prefetch(
                "relationships",
                queryset=Relationship.objects.select_related("target"),
            ),
            Prefetch(
                "incoming_relationships",
                queryset=Relationship.objects.filter(term__status__in=statuses)
                .select_related("term")
                .order_by("term__name_key"),
                to_attr="visible_incoming",
            ),
        )
    )


@dataclass
class RelatedTerm:
    """One entry of a term's relationships as shown to a reader."""

    target: str
    term: Term | None
    derived: bool


def term_relationships(term: Term, statuses: list[str]) -> dict[str, list[RelatedTerm]]:
    """Outgoing relationships as written plus derived inverses (no queries).

    A term that names this one as broader is listed under this one's narrower
    terms, and related is symmetric. Targets the reader may not see are shown
    as unresolved.
    """
    result: dict[str, list[RelatedTerm]] = {kind: [] for kind in RelationKind.values}
    seen: dict[str, set[int]] = defaultdict(set)
    for rel in term.relationships.all():
        target = rel.target if rel.target and rel.target.status in statuses else None
        result[rel.kind].append(RelatedTerm(rel.target_name, target, derived=False))
        if target is not None:
            seen[rel.kind].add(target.pk)
    for rel in getattr(term, "visible_incoming", ()):
        kind = INVERSE_KIND[rel.kind]
        if rel.term_id == term.pk or rel.term_id in seen[kind]:
            continue
        seen[kind].add(rel.term_id)
        result[kind].append(RelatedTerm(rel.term.name, rel.term, derived=True))
    return result


def _counted(model, link: str, statuses: list[str]):
    return model.objects.annotate(
        term_count=Count(
            f"{link}__term",
            filter=Q(**{f"{link}__term__status__in": statuses}),
            distinct=True,
        )
    )


def categories_with_counts(statuses: list[str]) -> QuerySet[Category]:
    """Categories with ``term_count`` of terms in ``statuses``."""
    return _counted(Category, "term_links", statuses).order_by("position", "name")


def roles_with_counts(statuses: list[str]) -> QuerySet[Role]:
    """Roles with ``term_count`` of terms in ``statuses``."""
    return _counted(Role, "term_links", statuses).order_by("position", "slug")


def tags_with_counts(statuses: list[str]) -> QuerySet[GovernanceTag]:
    """Governance tags with ``term_count`` of terms in ``statuses``."""
    return _counted(GovernanceTag, "term_links", statuses).order_by("name")


def citation_checks(term: Term) -> list[tuple[Citation, LinkCheck | None]]:
    """The term's citations, each with its link's last check (None: unchecked)."""
    citations = list(term.citations.order_by("position"))
    checks = LinkCheck.objects.in_bulk([c.url for c in citations], field_name="url")
    return [(c, checks.get(c.url)) for c in citations]


def citation_link_counts(statuses: list[str]) -> dict[str, int]:
    """Citations of visible terms: how many, and how many links are broken or
    not yet checked (``manage.py check_citations``). One query."""
    broken = LinkCheck.objects.filter(ok=False).values("url")
    checked = LinkCheck.objects.values("url")
    return Citation.objects.filter(term__status__in=statuses).aggregate(
        total=Count("id"),
        broken=Count("id", filter=Q(url__in=broken)),
        unchecked=Count("id", filter=~Q(url__in=checked)),
    )


def links_among(term_ids: list[int]) -> list[tuple[int, str, int]]:
    """Resolved relationships from one of ``term_ids`` to another:
    ``(term id, kind, target id)``, as written."""
    return list(
        Relationship.objects.filter(term_id__in=term_ids, target_id__in=term_ids)
        .order_by("term__name_key", "kind", "position")
        .values_list("term_id", "kind", "target_id")
    )


def link_counts(term_ids: list[int]) -> dict[int, int]:
    """For each term, how many resolved relationships touch it (either end)."""
    counts: dict[int, int] = defaultdict(int)
    for source, target in Relationship.objects.filter(
        Q(term_id__in=term_ids) | Q(target_id__in=term_ids), target__isnull=False
    ).values_list("term_id", "target_id"):
        counts[source] += 1
        counts[target] += 1
    return counts


def linked_slugs(term: Term, statuses: list[str]) -> set[str]:
    """Slugs of the visible terms a curated relationship joins to ``term``,
    either way round."""
    outgoing = Relationship.objects.filter(
        term=term, target__status__in=statuses
    ).values_list("target__slug", flat=True)
    incoming = Relationship.objects.filter(
        target=term, term__status__in=statuses
    ).values_list("term__slug", flat=True)
    return set(outgoing) | set(incoming)


def glossary_stats(statuses: list[str]) -> dict:
    """Term counts by status, category, role and tag, and the last change time."""
    terms = Term.objects.filter(status__in=statuses)
    by_status = dict(
        terms.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {
        "terms": sum(by_status.values()),
        "by_status": {status: by_status.get(status, 0) for status in statuses},
        "by_category": {
            c.name: c.term_count
            for c in categories_with_counts(statuses)
            if c.term_count
        },
        "by_role": {
            r.slug: r.term_count for r in roles_with_counts(statuses) if r.term_count
        },
        "by_tag": {
            t.name: t.term_count for t in tags_with_counts(statuses) if t.term_count
        },
        "last_term_update": terms.aggregate(last=Max("updated_at"))["last"],
        "citations": citation_link_counts(statuses),
    }


# How many referencing terms a wanted target lists (its count says how many in all).
WANTED_REFERENCES_SHOWN = 100


def wanted_targets(statuses: list[str]) -> QuerySet:
    """Unresolved targets of visible terms with how often each is named, most first.

    A queryset of ``{"target_key", "target", "count"}``, to be paginated, read
    from the summary every write keeps (``WantedTarget``).

    A target that names a term the reader may not see (a draft) is still
    wanted for them: what they are shown must not change with what they
    cannot see.
    """
    count = sum((F(status) for status in statuses), Value(0))
    wanted = (
        WantedTarget.objects.annotate(count=count)
        .filter(count__gt=0)
        .order_by()
        .values("target_key", "target", "count")
    )
    hidden = [status for status in Status.values if status not in statuses]
    if hidden:
        # A union's rows take the first query's names ("spelling": "target"
        # is the relationship's own field).
        resolved_unseen = (
            Relationship.objects.filter(
                target__status__in=hidden, term__status__in=statuses
            )
            .order_by()
            .values("target_key")
            .annotate(spelling=Min("target_name"), count=Count("id"))
            .values("target_key", "spelling", "count")
        )
        wanted = wanted.union(resolved_unseen, all=True)
    return wanted.order_by("-count", "target_key")


def wanted_references(statuses: list[str], keys: list[str]) -> dict[str, list[dict]]:
    """For each target key, the terms naming it: ``{slug, term, kind}`` (a
    target the reader cannot see counts as unresolved, as in
    ``wanted_targets``)."""
    hidden = [status for status in Status.values if status not in statuses]
    unseen = Q(target=None) | Q(target__status__in=hidden)
    rows = (
        Relationship.objects.filter(
            unseen, term__status__in=statuses, target_key__in=keys
        )
        .order_by("target_key", "term__name_key")
        .values_list("target_key", "term__slug", "term__name", "kind")
    )
    found: dict[str, list[dict]] = {key: [] for key in keys}
    for key, slug, name, kind in rows:
        if len(found[key]) < WANTED_REFERENCES_SHOWN:
            found[key].append({"slug": slug, "term": name, "kind": kind})
    return found


# --- roles, categories and site texts ----------------------------------------------


def known_roles() -> set[str]:
    """Slugs of the roles a term may name."""
    return set(Role.objects.values_list("slug", flat=True))


def category_clashes(names: Iterable[str]) -> dict[str, str]:
    """Category names that differ only in spelling from a stored one, with that one."""
    wanted = {slugify(name): name for name in names}
    stored = Category.objects.filter(slug__in=list(wanted)).values_list("slug", "name")
    return {wanted[slug]: name for slug, name in stored if wanted[slug] != name}


def site_texts() -> dict[str, str]:
    """The stored site-wide sentences, in the order of ``SITE_TEXT_KEYS``."""
    stored = dict(SiteText.objects.values_list("key", "value"))
    return {key: stored[key] for key in SITE_TEXT_KEYS if key in stored}


def roles_data() -> dict:
    """``roles.yml`` as data."""
    return {
        "roles": [
            {
                "slug": r.slug,
                "title": r.title,
                "summary": r.summary,
                "takeaway": r.takeaway,
            }
            for r in Role.objects.all()
        ]
    }


def categories_data() -> dict:
    """``categories.yml`` as data."""
    return {
        "categories": [
            {"name": c.name, "apply_guidance": list(c.apply_guidance)}
            for c in Category.objects.all()
        ]
    }


def data_files() -> dict[str, dict]:
    """The data files of an export by file name (``site.yml`` only when set)."""
    files = {ROLES_FILE: roles_data(), CATEGORIES_FILE: categories_data()}
    texts = site_texts()
    if texts:
        files[SITE_FILE] = texts
    return files


def term_token(term, *, pending: bool = True) -> str:
    """Changes whenever the term's content, status or pending change changes.

    A pending change does not alter the live term, but a writer who read the
    term before it was proposed must not overwrite it unawares. Anonymous
    readers never see pending changes, so their token (``pending=False``)
    leaves it out: it must not move when only a pending change does.
    """
    token = f"t{term.pk}-{term.version}-{int(term.updated_at.timestamp() * 1e6)}"
    if not pending:
        return token
    try:
        pending = term.pending
    except ObjectDoesNotExist:
        return token
    return f"{token}-p{int(pending.updated_at.timestamp() * 1e6)}"
