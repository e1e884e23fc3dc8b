"""Human-readable pages: the index, term, category and role pages, and the demo
of the embeddable widget. Server-rendered; they work without JavaScript."""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from terms.documents.diffs import diff_rows
from terms.models import (
    Category,
    ChangeSource,
    Comment,
    EventAction,
    PendingChange,
    Role,
    Status,
    Term,
    TermCategory,
    TermRole,
    UsageKind,
    Watch,
)
from terms.reads import releases, selectors
from terms.serving import usage
from terms.text import search
from terms.web import dashboard
from terms.web.rendering import comment_threads, term_page, with_suggestions
from terms.workflow import comments


def _visible(request) -> list[str]:
    return selectors.visible_statuses(request.user)


def index(request):
    """Search box, filters and the alphabetical list of terms."""
    statuses = _visible(request)
    chosen_status = [s for s in request.GET.getlist("status") if s in statuses]
    queryset = selectors.term_list_queryset(chosen_status or statuses)
    category = request.GET.get("category", "")
    role = request.GET.get("role", "")
    if category:
        queryset = queryset.filter(
            Exists(
                TermCategory.objects.filter(
                    term=OuterRef("pk"), category__slug=slugify(category)
                )
            )
        )
    if role:
        queryset = queryset.filter(
            Exists(TermRole.objects.filter(term=OuterRef("pk"), role__slug=role))
        )
    text = request.GET.get("q", "").strip()[:200]
    if text:
        ids = search.ranked_ids(queryset.order_by(), text)[:100]
        position = {pk: index for index, pk in enumerate(ids)}
        terms = sorted(queryset.filter(pk__in=ids), key=lambda t: position[t.pk])
        groups = [("Results", terms)] if terms else []
        best = [t.slug for t in terms[:1]]
        usage.note(request.META, [usage.search(UsageKind.SEARCH, text, best)])
    else:
        terms = list(queryset.order_by("name_key"))
        groups = [
            (letter, list(items))
            for letter, items in groupby(
                terms, key=lambda t: (t.name[:1] or "#").upper()
            )
        ]
    return render(
        request,
        "glossary/index.html",
        {
            "groups": groups,
            "count": len(terms),
            "q": text,
            "categories": Category.objects.all(),
            "roles": Role.objects.all(),
            "statuses": [(s, Status(s).label) for s in statuses],
            "chosen_status": chosen_status,
            "category": slugify(category),
            "role": role,
        },
    )


def dashboard_page(request):
    """Coverage, the review funnel and freshness, the backlog, recent changes."""
    figures = dashboard.dashboard(_visible(request))
    return render(request, "glossary/dashboard.html", figures)


def term_detail(request, slug):
    """Every section of a term, as the reference page has them, and the
    releases it is in with what changed in each."""
    statuses = _visible(request)
    term = selectors.term_detail_queryset(statuses).filter(slug=slug).first()
    if term is None:
        raise Http404(f"No term with slug {slug!r}.")
    page = with_suggestions(term_page(term, statuses), statuses)
    usage.note(request.META, [usage.terms_used(UsageKind.VIEW, [term.slug])])
    held = releases.term_releases(slug)
    context = {"page": page, "releases": held}
    if request.user.is_authenticated:
        context.update(_discussion(request, term))
    return render(request, "glossary/term.html", context)


def _discussion(request, term: Term) -> dict:
    """What a signed-in reader sees under a term: its comment threads, the
    forms to add one, and whether they watch it."""
    return {
        "threads": comment_threads(comments.thread_of(term, request.user)),
        "post_url": reverse("term-comment", args=[term.slug]),
        "resolve_base": f"/terms/{term.slug}/comments/",
        "has_pending": PendingChange.objects.filter(term=term).exists(),
        "watching": Watch.objects.filter(user=request.user, term=term).exists(),
        "watch_url": reverse("term-watch", args=[term.slug]),
    }


@require_POST
@login_required
def term_comment(request, slug):
    """Post a comment from the term page (a reply when ``reply_to`` is set)."""
    term = get_object_or_404(Term, slug=slug)
    try:
        comments.comment_from_form(
            term=term, actor=request.user, data=request.POST, source=ChangeSource.ADMIN
        )
    except comments.WorkflowError as error:
        messages.error(request, error.message)
    return redirect(f"{reverse('term-page', args=[slug])}#comments-heading")


@require_POST
@login_required
def term_comment_resolve(request, slug, pk):
    """Resolve a thread from the term page."""
    comment = get_object_or_404(Comment, pk=pk, term__slug=slug)
    try:
        comments.thread_resolve(comment=comment, actor=request.user)
    except comments.WorkflowError as error:
        messages.error(request, error.message)
    return redirect(f"{reverse('term-page', args=[slug])}#comment-{comment.pk}")


@require_POST
@login_required
def term_watch(request, slug):
    """Start or stop watching the term (told when it is approved or deprecated)."""
    term = get_object_or_404(Term, slug=slug)
    found = Watch.objects.filter(user=request.user, term=term)
    if found.exists():
        found.delete()
        messages.success(request, f"You no longer watch {term.name}.")
    else:
        Watch.objects.create(user=request.user, term=term)
        messages.success(request, f"You watch {term.name}.")
    return redirect("term-page", slug=slug)


def release_list(request):
    """Every release, newest first, each with a link to what it changed."""
    found = list(releases.listed())
    rows = [
        (
            release,
            found[i + 1] if i + 1 < len(found) else None,
            sum(release.counts.values()),
        )
        for i, release in enumerate(found)
    ]
    return render(request, "glossary/releases.html", {"rows": rows})


def release_diff(request, a, b):
    """What changed from release ``a`` to ``b`` (``latest``, ``current``),
    each changed field before and after with a word-level diff."""
    try:
        for name in (a, b):
            if name != releases.CURRENT:
                releases.find(name)
    except releases.UnknownRelease as exc:
        raise Http404(str(exc)) from exc
    found = releases.diff(a, b)
    changed = [
        {
            "slug": item["slug"],
            "name": item["name"],
            "rows": diff_rows(
                {f["field"]: f["before"] for f in item["fields"]},
                {f["field"]: f["after"] for f in item["fields"]},
            ),
        }
        for item in found.changed
    ]
    return render(
        request,
        "glossary/release_diff.html",
        {"diff": found, "changed": changed, "a": a, "b": b},
    )


def term_history(request, slug):
    """When the term changed and how its status moved (names only for staff)."""
    visible = _visible(request)
    term = get_object_or_404(Term, slug=slug, status__in=visible)
    events = term.events.order_by("-id")
    if not request.user.is_authenticated:
        events = events.exclude(action=EventAction.COMMENT)  # for signed-in eyes
    show_names = request.user.is_authenticated and request.user.has_perm(
        "terms.view_term"
    )
    if "draft" not in visible:
        # Review stays among reviewers: no pending change's events, and no
        # comment made while the term was not public.
        events = [
            event if event.to_status in visible else _without_comment(event)
            for event in events.filter(pending=False)
        ]
    return render(
        request,
        "glossary/history.html",
        {"term": term, "events": events, "show_names": show_names},
    )


def _without_comment(event):
    event.comment = ""
    return event


def _linked_terms(request, link_model, **link):
    """Visible terms linked to one category or role, by name."""
    return (
        selectors.term_list_queryset(_visible(request))
        .filter(Exists(link_model.objects.filter(term=OuterRef("pk"), **link)))
        .order_by("name_key")
    )


def category_detail(request, slug):
    """A category's guidance, its visible terms and how they relate (the explorer)."""
    category = get_object_or_404(Category, slug=slug)
    terms = list(_linked_terms(request, TermCategory, category=category))
    by_id = {term.pk: term for term in terms}
    links = [
        (by_id[source], kind, by_id[target])
        for source, kind, target in selectors.links_among(list(by_id))
    ]
    linked = {term.pk for source, _, target in links for term in (source, target)}
    return render(
        request,
        "glossary/category.html",
        {
            "category": category,
            "terms": terms,
            "links": links,
            "unlinked": [term for term in terms if term.pk not in linked],
        },
    )


#: How many terms a role's starter pack lists.
STARTER_PACK = 5


def role_detail(request, slug):
    """A role's texts, what to read first (the starter pack) and its terms."""
    role = get_object_or_404(Role, slug=slug)
    terms = list(_linked_terms(request, TermRole, role=role))
    # The terms the rest lean on most: the most relationships either way.
    counts = selectors.link_counts([term.pk for term in terms])
    approved_first = sorted(
        terms,
        key=lambda t: (t.status != Status.APPROVED, -counts.get(t.pk, 0), t.name_key),
    )
    return render(
        request,
        "glossary/role.html",
        {"role": role, "terms": terms, "starter": approved_first[:STARTER_PACK]},
    )


def embed_demo(request):
    """A page that uses the embeddable widget, as another site would."""
    return render(request, "glossary/embed_demo.html")
