"""Instant search on the index page, in Debian's Chromium."""

import pytest

from terms.models import Category
from tests.helpers import import_folders, restore_migration_data, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def glossary(live_server):
    restore_migration_data()
    import_folders("fixtures")
    return live_server.url


def result_names(page) -> list[str]:
    return page.locator("#instant-results li > a").all_inner_texts()


def test_typing_shows_matches_and_chips_filter_them(browser, glossary):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{glossary}/")
        page.fill("#q", "prompt")
        page.wait_for_selector("#instant-results li")
        names = result_names(page)
        assert "prompt injection" in names
        assert "system prompt" in names
        assert "q=prompt" in page.url
        # A category chip narrows the results, and says it is pressed.
        category = Category.objects.get(terms__slug="prompt-injection")
        chip = page.locator(f".chip[data-filter=category][data-value={category.slug}]")
        chip.click()
        page.wait_for_function("() => location.search.includes('category=')")
        page.wait_for_timeout(300)
        assert chip.get_attribute("aria-pressed") == "true"
        narrowed = result_names(page)
        assert "prompt injection" in narrowed
        assert set(narrowed) <= set(names)
        assert f"category={category.slug}" in page.url
        # The keyboard moves from the box into the results.
        page.wait_for_load_state("networkidle")
        page.focus("#q")
        page.keyboard.press("ArrowDown")
        focused = page.evaluate("document.activeElement.textContent")
        # The first result as the list stands now (read after the key press, so
        # a late re-render cannot make the two disagree).
        assert focused == result_names(page)[0]
        assert focused in narrowed
        screenshot(page, "instant-search")
        # The shared address shows the same filtered view without typing.
        shared = context.new_page()
        shared.goto(page.url)
        assert shared.locator("#q").input_value() == "prompt"
        assert "prompt injection" in shared.inner_text("#results-area")
    finally:
        context.close()
