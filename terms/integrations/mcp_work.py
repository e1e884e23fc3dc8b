"""What the MCP tools and resources do (``terms.integrations.mcp_server``), in
Django's synchronous world: each function runs in a worker thread
(``mcp_server.in_django``), reads and writes through the same selectors and
workflow as the API, and answers with plain data, or ``ToolError`` naming the
field at fault.
"""

from typing import Any

from mcp.server.mcpserver.exceptions import ToolError


def visible(actor) -> list[str]:
    """The statuses ``actor`` (None: anonymous) may see."""
    from terms.reads.selectors import visible_statuses

    return visible_statuses(actor)


def statuses_for(actor, wanted: list[str] | None) -> list[str]:
    """The statuses a search asked for (default approved), all of them visible."""
    seen = visible(actor)
    if not wanted:
        return ["approved"]
    hidden = [s for s in wanted if s not in seen]
    if hidden:
        raise ToolError(f"status: {', '.join(hidden)} is not visible to this caller")
    return wanted


def count(kind: str, slugs, words: str | None = None) -> None:
    """Count a tool's read as the API counts its own (``terms.serving.usage``)."""
    from terms.models import UsageSource
    from terms.serving import usage

    use = (
        usage.terms_used(kind, slugs)
        if words is None
        else usage.search(kind, words, slugs)
    )
    usage.record(UsageSource.MCP.value, [use])


def search(query, category, role, status, lang, limit, actor, statuses_for):
    """``search_terms``: the terms a query finds, as the API's list shows them."""
    from django.utils.text import slugify

    from terms.models import Term
    from terms.reads.languages import LanguageError, localize, preference
    from terms.text import search

    statuses = statuses_for(actor, status)
    try:
        wanted = preference(lang) if lang else ()
    except LanguageError as exc:
        raise ToolError(f"lang: {exc}") from None
    terms = Term.objects.filter(status__in=statuses)
    if category:
        terms = terms.filter(categories__slug=slugify(category))
    if role:
        terms = terms.filter(roles__slug=role)
    ids = search.ranked_ids(terms.order_by(), query)[: max(1, min(limit, 50))]
    found = {
        t.pk: t for t in Term.objects.filter(pk__in=ids).prefetch_related("labels")
    }
    results = []
    for pk in ids:
        term = found[pk]
        shown = localize(term, wanted)
        results.append(
            {
                "slug": term.slug,
                "term": shown.name,
                "language": shown.name_language,
                "short_def": shown.short_def,
                "status": term.status,
            }
        )
    count("search", [r["slug"] for r in results[:1]], query)
    return results


def find_term(slug: str, statuses):
    """The term ``slug`` among ``statuses``; ``ToolError`` when there is none."""
    from terms.models import Term

    term = Term.objects.filter(slug=slug, status__in=statuses).first()
    if term is None:
        raise ToolError(f"slug: no term {slug!r} is visible here")
    return term


def get_term(slug, fmt, statuses, release=None):
    """``get_term``: one term as its Markdown page or its JSON document."""
    from terms.documents.mapping import TERM_DOCUMENT_PREFETCH, document_from_term
    from terms.models import Term
    from terms.web.rendering import render_markdown, term_page, with_suggestions

    term = find_term(slug, statuses)
    term = Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH).get(pk=term.pk)
    count("view", [term.slug])
    if release is not None:  # as the release holds it; no suggestions of today's
        if fmt == "json":
            return {
                "slug": term.slug,
                "release": release,
                **document_from_term(term).to_data(),
            }
        return render_markdown(term_page(term, statuses))
    if fmt == "json":
        return {
            "slug": term.slug,
            "version": term.version,
            **document_from_term(term).to_data(),
        }
    return render_markdown(with_suggestions(term_page(term, statuses), statuses))


def lookup(name, statuses):
    """``lookup``: the terms a name resolves to, or suggestions."""
    from terms.models import Term
    from terms.text import search

    terms = Term.objects.filter(status__in=statuses)
    matches = search.lookup(terms, name)
    body: dict[str, Any] = {
        "query": name,
        "matches": [
            {
                "slug": m.term.slug,
                "term": m.term.name,
                "short_def": m.term.short_def,
                "status": m.term.status,
                "matched_on": m.matched_on,
                "alias": m.alias,
                "language": m.language,
            }
            for m in matches
        ],
    }
    body["ambiguous"] = len(body["matches"]) > 1
    count("lookup", [m.term.slug for m in matches], name)
    if not matches:
        body["suggestions"] = [
            {"slug": t.slug, "term": t.name} for t in search.suggestions(terms, name)
        ]
    return body


def annotate(text, release=None, fmt="text"):
    """``annotate_text``: the spans of glossary terms in a text, with the terms."""
    from django.conf import settings

    from terms.models import Term
    from terms.serving import derived, snapshots
    from terms.serving.stamp import glossary_stamp
    from terms.text.annotation import BudgetSpent, find_spans, release_matcher
    from terms.text.documents import prose

    scanned = prose(text, fmt).text
    try:
        if release is not None:  # the release's snapshot is the database here
            found = snapshots.reading()
            key = (snapshots.identity(found),)
            matcher = release_matcher(["approved"], key)
            budget = settings.GLOSSARY_ANNOTATE_BUDGET_SECONDS
            spans = find_spans(matcher, scanned, budget=budget)
        else:
            state = glossary_stamp()
            spans = derived.annotate_spans(
                ["approved"], (state.version, state.changed_at.timestamp()), scanned
            )
    except BudgetSpent as spent:
        raise ToolError(f"text: {spent}") from spent
    slugs = {span.best.slug for span in spans}
    terms = {t.slug: t for t in Term.objects.filter(slug__in=slugs, status="approved")}
    count("annotate", terms)
    return {
        "spans": [
            {
                "start": span.start,
                "end": span.end,
                "text": text[span.start : span.end],
                "slug": span.best.slug,
                "term": terms[span.best.slug].name,
                "short_def": terms[span.best.slug].short_def,
                "match": span.best.match,
                "ambiguous": [c.slug for c in span.candidates]
                if len(span.candidates) > 1
                else [],
            }
            for span in spans
            if span.best.slug in terms
        ]
    }


def problems_error(problems) -> ToolError:
    """Every problem, each naming its field."""
    return ToolError(
        "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in problems)
    )


def refusal(exc) -> ToolError:
    """A refused workflow step as a tool error."""
    if getattr(exc, "problems", None):
        return problems_error(exc.problems)
    return ToolError(getattr(exc, "message", str(exc)))


def build_document(data, base=None):
    """A term document from a tool's argument (over ``base``, for a change);
    ``ToolError`` naming the fields at fault."""
    from terms.documents.document import validate_term_data
    from terms.reads.selectors import known_roles

    if not isinstance(data, dict):
        raise ToolError("document: must be an object holding a term document")
    document, problems = validate_term_data(
        {**base, **data} if base is not None else data, known_roles=known_roles()
    )
    if problems:
        raise problems_error(problems)
    return document


def need_user(actor):
    """Refuse a write without a user to make it as."""
    if actor is None:
        raise ToolError(
            "authorization: writing needs an API token (Authorization: Token <key>)"
        )


def propose_term(data, actor):
    """``propose_term``: a new draft, made as ``actor`` through the workflow."""
    from terms.models import ChangeSource
    from terms.workflow import steps as workflow
    from terms.workflow.transitions import WorkflowError, check_permission

    if not isinstance(data, dict):
        raise ToolError("document: must be an object holding a term document")
    if data.get("status", "draft") != "draft":
        raise ToolError(
            "status: a proposed term is a draft; editors review and approve it"
        )
    need_user(actor)
    try:
        check_permission(actor, "terms.add_term", "create terms")
    except WorkflowError as exc:
        raise refusal(exc) from None
    data = {"status": "draft", **data}
    if "last_reviewed" not in data:
        import datetime

        data["last_reviewed"] = datetime.date.today().isoformat()
    document = build_document(data)
    try:
        result = workflow.term_create(
            document=document, actor=actor, source=ChangeSource.API
        )
    except WorkflowError as exc:
        raise refusal(exc) from None
    return {
        "slug": result.term.slug,
        "status": result.term.status,
        "outcome": result.outcome,
    }


def propose_change(slug, changes, actor):
    """``propose_change``: an edit made as ``actor`` (a pending change on a
    reviewed or approved term)."""
    from django.db import transaction

    from terms.documents.mapping import document_from_term
    from terms.models import ChangeSource, Term
    from terms.workflow import steps as workflow
    from terms.workflow.transitions import WorkflowError, check_permission

    need_user(actor)
    # Permission first, then only terms the caller may see: a caller who may
    # not write learns nothing about drafts from what is refused and why.
    try:
        check_permission(actor, "terms.change_term", "edit terms")
    except WorkflowError as exc:
        raise refusal(exc) from None
    if not isinstance(changes, dict) or not changes:
        raise ToolError("changes: an object of document keys to replace")
    term = Term.objects.filter(slug=slug, status__in=visible(actor)).first()
    if term is None:
        raise ToolError(f"slug: no term {slug!r}")
    with transaction.atomic():
        pending = getattr(term, "pending", None)
        base = pending.document if pending else document_from_term(term).to_data()
        document = build_document(changes, base=base)
        try:
            result = workflow.term_edit(
                term=term, document=document, actor=actor, source=ChangeSource.API
            )
        except WorkflowError as exc:
            raise refusal(exc) from None
    return {
        "slug": result.term.slug,
        "outcome": result.outcome,
        "status": result.term.status,
    }


def export_yaml(statuses):
    """The ``glossary://export.yaml`` resource: every visible term document."""
    from terms.formats.exporter import term_documents

    return "".join(f"---\n{d.to_yaml()}" for d in term_documents(statuses))


def complete_slugs(prefix, statuses):
    """Slugs completing ``prefix`` for the term resource's template."""
    from terms.models import Term
    from terms.text import search

    if not prefix.strip():
        return list(
            Term.objects.filter(status__in=statuses)
            .order_by("slug")
            .values_list("slug", flat=True)[:20]
        )
    terms = Term.objects.filter(status__in=statuses)
    return [m.term.slug for m in search.autocomplete(terms, prefix, limit=20)]
