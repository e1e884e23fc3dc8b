"""The review story in a real browser: three people, the admin pages, a live server."""

import json

import pytest

from terms.documents.document import validate_term_data
from terms.models import Category, ChangeSource, Term
from terms.reads.selectors import known_roles
from terms.workflow.steps import term_edit
from tests.helpers import (
    PASSWORD,
    base_term,
    make_user,
    restore_migration_data,
    screenshot,
    seed_term,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(django_user_model):
    restore_migration_data()
    Category.objects.get_or_create(name="Testing", slug="testing")
    users = {}
    for name, group in (
        ("edna", "editors"),
        ("rafa", "reviewers"),
        ("ana", "approvers"),
    ):
        users[group] = make_user(name, group, staff=True)
    return users


@pytest.fixture
def signed_in(browser, live_server):
    """Sign a person in to the admin in a browser context of their own.

    The contexts close before the live server stops, so no request of theirs is
    still open when it does.
    """
    contexts = []

    def sign_in(username: str):
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")
        return page

    yield sign_in
    for context in contexts:
        context.close()


def public_json(browser, url: str) -> tuple[int, dict]:
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(url)
    status, body = response.status, json.loads(page.inner_text("body") or "{}")
    context.close()
    return status, body


def click_transition(page, name: str, comment: str = "") -> None:
    form = page.locator(f"form.transition-{name}")
    if comment:
        form.locator("textarea[name=comment]").fill(comment)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".messagelist")


def test_review_story_in_the_browser(browser, live_server, people, signed_in):
    base = live_server.url
    long_def = " ".join(
        ["Guardrails", "constrain", "model", "output", "before", "users", "see", "it."]
        * 12
    )

    # The editor writes a draft in the admin.
    edna = signed_in("edna")
    edna.goto(f"{base}/admin/terms/term/add/")
    edna.fill("#id_name", "output filter")
    edna.select_option("#id_part_of_speech", "noun_phrase")
    edna.fill("#id_short_def", "A check that blocks unsafe model output.")
    edna.fill("#id_long_def", long_def)
    edna.fill("#id_exec_perspective", "Stops harmful answers reaching customers.")
    edna.fill("#id_engineer_perspective", "A classifier or rule run on every response.")
    edna.fill("#id_license", "CC BY-SA 4.0")
    edna.fill("#id_last_reviewed", "2026-11-01")
    edna.fill("#id_aliases-0-name", "response filter")
    edna.select_option("#id_term_categories-0-category", label="Testing")
    edna.select_option("#id_term_roles-0-role", label="Engineering")
    edna.select_option("#id_examples-0-kind", "do")
    edna.fill("#id_examples-0-text", "Log every blocked response.")
    edna.click("#examples-group .add-row a")
    edna.select_option("#id_examples-1-kind", "dont")
    edna.fill("#id_examples-1-text", "Block silently without telling anyone.")
    edna.fill("#id_citations-0-source", "Example guidance")
    edna.fill("#id_citations-0-url", "https://example.org/guidance")
    screenshot(edna, "workflow-01-editor-add-form")
    edna.click("input[name=_save]")
    edna.wait_for_selector(".messagelist")
    term = Term.objects.get(slug="output-filter")
    assert term.status == "draft"

    # The editor cannot review their own draft: the button says why.
    edna.goto(f"{base}/admin/terms/term/{term.pk}/change/")
    assert "lacks the permission to mark reviewed" in edna.inner_text("#why-review")
    screenshot(edna, "workflow-02-editor-cannot-review")

    # Reviewer and approver sign it off.
    rafa = signed_in("rafa")
    rafa.goto(f"{base}/admin/terms/term/waiting/")
    assert "output filter" in rafa.inner_text("#waiting")
    rafa.goto(f"{base}/admin/terms/term/{term.pk}/change/")
    click_transition(rafa, "review", "Reads well.")
    assert "Mark reviewed: done" in rafa.inner_text(".messagelist")
    ana = signed_in("ana")
    ana.goto(f"{base}/admin/terms/term/{term.pk}/change/")
    click_transition(ana, "approve")
    screenshot(ana, "workflow-03-approved")
    status, body = public_json(browser, f"{base}/api/v1/terms/output-filter/")
    assert status == 200
    assert body["short_def"] == "A check that blocks unsafe model output."

    # The editor changes the approved term: readers keep the old text.
    edna.goto(f"{base}/admin/terms/term/{term.pk}/change/")
    edna.fill("#id_short_def", "A check that blocks or rewrites unsafe model output.")
    edna.click("input[name=_continue]")
    edna.wait_for_selector(".pending-change")
    assert "A check that blocks" in edna.inner_text(".pending-diff")
    screenshot(edna, "workflow-04-pending-change")
    _, body = public_json(browser, f"{base}/api/v1/terms/output-filter/")
    assert body["short_def"] == "A check that blocks unsafe model output."

    rafa.goto(f"{base}/admin/terms/term/{term.pk}/change/")
    click_transition(rafa, "review")
    _, body = public_json(browser, f"{base}/api/v1/terms/output-filter/")
    assert body["short_def"] == "A check that blocks unsafe model output."
    ana.goto(f"{base}/admin/terms/term/{term.pk}/change/")
    click_transition(ana, "approve")
    _, body = public_json(browser, f"{base}/api/v1/terms/output-filter/")
    assert body["short_def"] == "A check that blocks or rewrites unsafe model output."
    assert body["status"] == "approved"

    # The history page shows every step with who took it.
    ana.goto(f"{base}/admin/terms/term/{term.pk}/history/")
    rows = ana.locator("#history-events tbody tr").all_inner_texts()
    steps = [row.split("\t")[1:3] for row in reversed(rows)]
    assert steps == [
        ["Created", "edna"],
        ["Reviewed", "rafa"],
        ["Approved", "ana"],
        ["Change proposed (pending change)", "edna"],
        ["Reviewed (pending change)", "rafa"],
        ["Approved", "ana"],
    ]
    screenshot(ana, "workflow-05-history")


def test_disabled_button_names_each_failing_gate(
    browser, live_server, people, signed_in
):
    long_short_def = " ".join(["word"] * 45)
    # A draft may be incomplete; the review gate is where that is refused.
    term = seed_term(
        "thin draft",
        "draft",
        people["editors"],
        short_def=long_short_def,
        long_def="Far too short.",
    )

    rafa = signed_in("rafa")
    rafa.goto(f"{live_server.url}/admin/terms/term/{term.pk}/change/")
    button = rafa.locator("form.transition-review button")
    assert button.is_disabled()
    why = rafa.locator("#why-review")
    # The reason sits beside the button and is what the button is described by.
    assert button.get_attribute("aria-describedby") == "why-review"
    assert "2 quality checks fail" in why.inner_text()
    items = why.locator("ul.failing-gates li").all_inner_texts()
    assert len(items) == 2
    assert any(i.startswith("short_def has 45 words") for i in items), items
    assert any(i.startswith("long_def has 3 words") for i in items), items
    screenshot(rafa, "workflow-06-failing-gates")

    # Fixing the text (as the editor does, through the workflow) enables the button.
    fixed, _ = validate_term_data(base_term("thin draft"), known_roles=known_roles())
    term_edit(
        term=term, document=fixed, actor=people["editors"], source=ChangeSource.API
    )
    rafa.reload()
    assert not rafa.locator("form.transition-review button[type=submit]").is_disabled()
    assert rafa.locator("#why-review").count() == 0
