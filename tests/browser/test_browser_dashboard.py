"""The dashboard in Debian's Chromium: every chart drawn, its numbers the API's."""

import pytest

from tests.helpers import import_folders, restore_migration_data, screenshot


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_in_a_browser(browser, live_server, corpus):
    restore_migration_data()
    import_folders(corpus / "ai-glossary", corpus / "ai-glossary-site")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/dashboard/")
        charts = page.locator("figure.chart svg[role=img]")
        assert charts.count() == 5
        for index in range(5):
            assert charts.nth(index).is_visible()
            assert charts.nth(index).bounding_box()["height"] > 20
        stats = page.request.get(f"{live_server.url}/api/v1/stats/").json()
        shown = page.locator("#chart-roles g.bar").evaluate_all(
            "bars => Object.fromEntries(bars.map(b => "
            "[b.dataset.label, Number(b.dataset.value)]))"
        )
        assert shown == stats["by_role"]
        screenshot(page, "dashboard")
    finally:
        context.close()
