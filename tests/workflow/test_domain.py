"""Unit tests of the domain modules, called directly (no HTTP): services,
selectors, search, the resolver and the read cache."""

from dataclasses import replace

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from terms.api.caching import if_match, term_etag
from terms.documents.document import validate_term_data
from terms.documents.mapping import TERM_DOCUMENT_PREFETCH, document_from_term
from terms.documents.resolver import TargetIndex, database_index, relationships_resolve
from terms.models import (
    ChangeSource,
    EventAction,
    Relationship,
    Status,
    Term,
    TermEvent,
    TermRevision,
    WantedTarget,
)
from terms.reads import selectors
from terms.reads.selectors import term_token
from terms.text import search
from terms.workflow import services
from terms.workflow import steps as workflow
from tests.helpers import base_term, make_user

pytestmark = pytest.mark.django_db


def write(*documents, actor=None):
    """Create terms from document data through the one write path."""
    docs = []
    for data in documents:
        document, problems = validate_term_data(
            data, known_roles=selectors.known_roles()
        )
        assert not problems, problems
        docs.append(document)
    return services.terms_write(
        changes=[(document, None) for document in docs],
        actor=actor,
        source=ChangeSource.IMPORT,
    )


# --- services ------------------------------------------------------------------------


def test_terms_write_records_version_revision_event_and_bumps_the_glossary():
    before = selectors.glossary_state().version
    [term] = write(base_term("written"))
    assert term.version == 1
    revision = TermRevision.objects.get(term=term)
    assert revision.document["term"] == "written"
    event = TermEvent.objects.get(term=term)
    assert event.action == EventAction.CREATE
    assert event.to_status == Status.DRAFT
    assert selectors.glossary_state().version == before + 1


def test_terms_write_overwrites_parts_in_their_new_order():
    [term] = write(base_term("ordered", aliases=["b", "a"]))
    stored = Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH).get(pk=term.pk)
    document, _ = validate_term_data(
        base_term("ordered", aliases=["a", "c", "b"]),
        known_roles=selectors.known_roles(),
    )
    services.terms_write(changes=[(document, stored)], actor=None, source="api")
    fresh = Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH).get(pk=term.pk)
    assert document_from_term(fresh).aliases == ("a", "c", "b")
    assert fresh.version == 2


def test_terms_delete_keeps_an_audit_event_and_unresolves_references():
    target, referrer = write(
        base_term("target"),
        base_term("referrer", relationships={"related": ["target"]}),
    )
    assert Relationship.objects.get(term=referrer).target_id == target.pk
    services.terms_delete(terms=[target], actor=None, source=ChangeSource.API)
    assert Relationship.objects.get(term=referrer).target_id is None
    event = TermEvent.objects.get(term_slug="target", action=EventAction.DELETE)
    assert event.term is None


def test_status_write_changes_only_status_and_marks_the_revision():
    [term] = write(base_term("status only"))
    loaded = Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH).get(pk=term.pk)
    document = document_from_term(loaded)
    reviewed = services.term_status_write(
        term=loaded,
        document=document.__class__(**{**document.__dict__, "status": "reviewed"}),
        actor=None,
        source=ChangeSource.API,
        action=EventAction.REVIEW,
    )
    assert reviewed.status == "reviewed"
    assert TermRevision.objects.get(term=term, version=2).status_only


# --- selectors -----------------------------------------------------------------------


def test_visible_statuses_depend_on_the_view_permission(settings):
    settings.GLOSSARY_PUBLIC_STATUSES = ["approved"]
    assert selectors.visible_statuses(None) == ["approved"]
    assert selectors.visible_statuses(make_user("plain")) == ["approved"]
    viewer = make_user("viewer", perms=("view_term",))
    assert selectors.visible_statuses(viewer) == list(Status.values)


def test_relationships_list_derived_inverses_once():
    broad, _ = write(
        base_term("broad", relationships={}),
        base_term("narrow", relationships={"broader": ["broad"]}),
    )
    term = selectors.term_detail_queryset(Status.values).get(pk=broad.pk)
    related = selectors.term_relationships(term, Status.values)
    assert [(r.target, r.derived) for r in related["narrower"]] == [("narrow", True)]
    hidden = selectors.term_detail_queryset(["approved"]).filter(pk=broad.pk).first()
    assert hidden is None  # drafts are not even listed for approved-only readers


def test_wanted_targets_count_and_list_their_referrers():
    write(
        base_term("one", relationships={"related": ["missing term"]}),
        base_term("two", relationships={"related": ["Missing-Term"]}),
    )
    [row] = list(selectors.wanted_targets(Status.values))
    assert row["count"] == 2
    refs = selectors.wanted_references(Status.values, [row["target_key"]])
    assert [r["slug"] for r in refs[row["target_key"]]] == ["one", "two"]


def test_wanted_counts_follow_every_write_by_status(people):
    _, two = write(
        base_term("one", status="approved", relationships={"related": ["future"]}),
        base_term("two", status="draft", relationships={"related": ["Future"]}),
    )

    def counted(statuses):
        return {r["target_key"]: r["count"] for r in selectors.wanted_targets(statuses)}

    assert counted(["approved"]) == {"future": 1}
    assert counted(Status.values) == {"future": 2}
    assert counted(["reviewed"]) == {}
    # A status change alone moves the count.
    document = document_from_term(two)
    services.term_status_write(
        term=two,
        document=replace(document, status="deprecated"),
        actor=people["superuser"],
        source=ChangeSource.ADMIN,
        action=EventAction.DEPRECATE,
    )
    assert counted(["approved", "deprecated"]) == {"future": 2}
    # The term arrives: nothing is wanted; it goes: wanted again.
    [future] = write(base_term("future", relationships={}))
    assert counted(Status.values) == {}
    services.terms_delete(
        terms=[future], actor=people["superuser"], source=ChangeSource.ADMIN
    )
    assert counted(Status.values) == {"future": 2}


def test_category_clashes_and_data_files():
    write(base_term("clash", categories=["LLM Core"]))
    assert selectors.category_clashes(["llm core", "New"]) == {"llm core": "LLM Core"}
    files = selectors.data_files()
    assert set(files) == {"roles.yml", "categories.yml"}
    assert {"name": "LLM Core", "apply_guidance": []} in files["categories.yml"][
        "categories"
    ]


# --- search --------------------------------------------------------------------------


def test_lookup_orders_name_then_alias_and_keeps_every_candidate():
    write(
        base_term("rag", aliases=["retrieval"]),
        base_term("retrieval", aliases=["search step"]),
        base_term("other", aliases=["rag"]),
    )
    matches = search.lookup(Term.objects.all(), "RAG")
    assert [(m.term.slug, m.matched_on) for m in matches] == [
        ("rag", "name"),
        ("other", "alias"),
    ]
    assert search.lookup(Term.objects.all(), "  ") == []


def test_autocomplete_prefers_names_and_falls_back_to_typos():
    write(base_term("temperature", aliases=["sampling heat"]), base_term("token"))
    found = search.autocomplete(Term.objects.all(), "te")
    assert [m.term.slug for m in found] == ["temperature"]
    assert search.autocomplete(Term.objects.all(), "heat")[0].matched_on == "alias"
    fuzzy = search.autocomplete(Term.objects.all(), "temprature")
    assert [(m.term.slug, m.matched_on) for m in fuzzy][:1] == [
        ("temperature", "fuzzy")
    ]


def test_ranked_ids_put_name_hits_before_definition_hits():
    named, defined = write(
        base_term("gradient clipping"),
        base_term("optimizer", long_def=" ".join(["gradient"] + ["word"] * 89)),
    )
    ids = search.ranked_ids(Term.objects.all(), "gradient")
    assert ids.index(named.pk) < ids.index(defined.pk)


# --- resolver ------------------------------------------------------------------------


def test_target_index_resolves_name_then_slug_then_unique_alias():
    index = TargetIndex()
    index.add_term(1, name="Tool use", slug="tool-use", aliases=["calling"])
    index.add_term(2, name="Agent", slug="agent", aliases=["calling", "bot"])
    assert index.resolve("tool_use") == 1
    assert index.resolve("BOT") == 2
    assert index.resolve("calling") is None  # shared: never a guess
    assert index.candidates("calling") == {1, 2}
    assert index.resolve("nothing") is None


def test_relationships_resolve_when_the_target_arrives_later():
    [referrer] = write(base_term("early", relationships={"related": ["late comer"]}))
    assert Relationship.objects.get(term=referrer).target_id is None
    [late] = write(base_term("late comer"))
    assert Relationship.objects.get(term=referrer).target_id == late.pk
    # Nothing left to change: a second pass writes nothing.
    assert relationships_resolve(index=database_index()) == 0


# --- caching -------------------------------------------------------------------------


def test_term_tokens_change_with_the_term_only():
    [term] = write(base_term("tokened"))
    token = term_token(term)
    assert term_etag(term, 7) == f'"{token}.g7"'
    term.version += 1
    assert term_token(term) != token


def test_if_match_accepts_the_current_etag_and_refuses_an_old_one():
    editor = make_user("if-match-editor", "editors")
    [term] = write(base_term("matched", status="draft"))
    factory = RequestFactory()
    current = if_match(_drf(factory.patch("/", HTTP_IF_MATCH=term_etag(term, 3))))
    assert current == {term_token(term)}
    assert if_match(_drf(factory.patch("/", HTTP_IF_MATCH="*"))) is None
    assert if_match(_drf(factory.patch("/"))) is None
    stale = if_match(_drf(factory.patch("/", HTTP_IF_MATCH='"t1-0-0.g1"')))
    document, problems = validate_term_data(
        base_term("matched", status="draft", short_def="Edited after reading it."),
        known_roles=selectors.known_roles(),
    )
    assert not problems, problems
    with pytest.raises(workflow.Stale):
        workflow.term_edit(
            term=term,
            document=document,
            actor=editor,
            source=ChangeSource.API,
            expected=stale,
        )
    edited = workflow.term_edit(
        term=term,
        document=document,
        actor=editor,
        source=ChangeSource.API,
        expected=current,
    )
    assert edited.term.version == term.version + 1


def _drf(request):
    from rest_framework.request import Request

    return Request(request)


def test_cached_responses_are_keyed_on_the_glossary_version(api):
    write(base_term("cached", status="approved"))
    first = api.get("/api/v1/terms/")
    assert cache.get_many([]) == {}  # the configured cache answers
    assert api.get("/api/v1/terms/")["ETag"] == first["ETag"]
    services.glossary_touch()
    second = api.get("/api/v1/terms/")
    assert second["ETag"] != first["ETag"]
    assert second.json() == first.json()


# --- summaries kept from the changed terms only -------------------------------------


def _summaries():
    """What the incremental upkeep maintains: every link's target, the wanted
    targets with their counts, and the terms by status."""
    links = dict(Relationship.objects.values_list("pk", "target_id"))
    wanted = {
        row["target_key"]: row
        for row in WantedTarget.objects.values(
            "target_key", "draft", "reviewed", "approved", "deprecated"
        )
    }
    return links, wanted, selectors.glossary_state().status_counts


def _recounted():
    """The same summaries worked out again over the whole glossary."""
    from terms.workflow.summaries import status_counts

    relationships_resolve()
    services.wanted_refresh()
    links, wanted, _ = _summaries()
    return links, wanted, status_counts(None, None)


def _document(data):
    document, problems = validate_term_data(data, known_roles=selectors.known_roles())
    assert not problems, problems
    return document


def test_each_write_keeps_links_wanted_terms_and_counts_as_a_recount_would():
    rel = {"related": ["Gamma", "shared alias", "nowhere"], "broader": ["delta-slug"]}
    rel_beta = {"related": ["Gamma", "nowhere"], "broader": ["delta-slug"]}
    write(
        base_term("Alpha", relationships=rel),
        base_term("Beta", aliases=["shared alias"], relationships=rel_beta),
        base_term("Zeta", aliases=["shared alias"], status="approved"),
        base_term("Omega", relationships={"related": ["Alpha", "Epsilon"]}),
    )
    steps = []

    def check(label):
        after = _summaries()
        assert after == _recounted(), label
        steps.append(after)

    check("created")
    # A new term resolves links that named it by name and by slug.
    write(base_term("Gamma"), base_term("Delta Slug", status="reviewed"))
    check("targets created")
    # A rename: links to the old name fall back to wanted, the new name resolves.
    gamma = Term.objects.get(slug="gamma")
    services.terms_write(
        changes=[(_document(base_term("Epsilon")), gamma)],
        actor=None,
        source=ChangeSource.IMPORT,
    )
    check("renamed")
    # A shared alias resolves once only one term carries it.
    beta = Term.objects.get(slug="beta")
    services.terms_write(
        changes=[
            (_document(base_term("Beta", aliases=[], relationships=rel_beta)), beta)
        ],
        actor=None,
        source=ChangeSource.IMPORT,
    )
    check("alias dropped")
    # A status change moves the wanted counts of the term's own links.
    alpha = Term.objects.get(slug="alpha")
    services.term_status_write(
        term=alpha,
        document=_document(base_term("Alpha", relationships=rel, status="reviewed")),
        actor=None,
        source=ChangeSource.API,
        action=EventAction.REVIEW,
    )
    check("reviewed")
    # A delete: links to it are wanted again, its own links no longer count.
    services.terms_delete(
        terms=Term.objects.filter(slug__in=["zeta", "delta-slug"]),
        actor=None,
        source=ChangeSource.API,
    )
    check("deleted")
    # The upkeep did change things along the way (so the checks compared
    # something): links resolved, wanted targets came and went, counts moved.
    assert len({repr(step) for step in steps}) == len(steps)
    _, wanted, counts = steps[-1]
    assert "nowhere" in wanted
    assert "shared alias" in wanted
    assert counts == {"draft": 3, "reviewed": 1}


def test_an_edit_replaces_labels_and_keeps_unchanged_parts_as_stored():
    editor = make_user("label-editor", "editors")
    data = base_term("labelled", status="draft", labels={"fr": {"name": "étiqueté"}})
    [term] = write(data)
    aliases_before = list(term.aliases.values_list("pk", flat=True))
    changed = base_term("labelled", status="draft", labels={"fr": {"name": "marqué"}})
    result = workflow.term_edit(
        term=term, document=_document(changed), actor=editor, source=ChangeSource.API
    )
    stored = Term.objects.get(pk=result.term.pk)
    assert list(stored.labels.values_list("text", flat=True)) == ["marqué"]
    # The aliases did not change: their rows are the same rows.
    assert list(stored.aliases.values_list("pk", flat=True)) == aliases_before
    reloaded = Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH).get(pk=term.pk)
    assert document_from_term(reloaded).to_data() == _document(changed).to_data()
