"""A term request in Debian's Chromium: a reader asks, an editor drafts it."""

import pytest

from terms.models import RequestStatus, Status, TermRequest
from tests.helpers import PASSWORD, make_user, restore_migration_data, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_asks_and_an_editor_turns_it_into_a_draft(browser, live_server):
    restore_migration_data()
    make_user("edna", "editors", staff=True)
    base = live_server.url
    reader = browser.new_context()
    editor = browser.new_context()
    try:
        # A reader who is not signed in finds nothing, and asks for the term.
        page = reader.new_page()
        page.goto(f"{base}/?q=prompt+caching")
        page.click("text=Request “prompt caching”")
        assert page.input_value("#id_term") == "prompt caching"
        assert not page.locator("#id_website").is_visible()  # the spam trap
        page.fill("#id_context", "The vendor bills cached prompts at a discount.")
        page.fill("#id_why", "Finance asked what it means.")
        page.select_option("#id_urgency", "high")
        page.click("button[type=submit]")
        page.wait_for_selector("text=Bookmark this page")
        status_url = page.url.split("?")[0]
        assert page.inner_text(".request-status") == "Open"
        screenshot(page, "request-status")

        # The editor sees it in the admin and turns it into a draft.
        desk = editor.new_page()
        desk.goto(f"{base}/admin/login/")
        desk.fill("#id_username", "edna")
        desk.fill("#id_password", PASSWORD)
        desk.click("input[type=submit]")
        desk.wait_for_selector("#site-name")
        desk.goto(f"{base}/admin/terms/termrequest/")
        desk.click("#result_list >> text=prompt caching")
        desk.click("input[name=_convert]")
        desk.wait_for_selector(".messagelist >> text=is now the draft")
        stored = TermRequest.objects.select_related("draft").get()
        assert stored.status == RequestStatus.DRAFTED
        assert stored.draft.status == Status.DRAFT
        assert stored.draft.name == "prompt caching"

        # The reader's bookmarked page shows what became of it.
        page.goto(status_url)
        assert "Turned into a draft" in page.inner_text(".request-status")
        assert "prompt caching" in page.inner_text(".request-term")
        assert "Draft" in page.inner_text(".request-term")
    finally:
        reader.close()
        editor.close()
