"""The widget and the term pages in a real browser (Playwright + Debian Chromium)."""

import http.server
import threading

import pytest

from tests.helpers import (
    FIXTURES,
    base_term,
    import_folders,
    restore_migration_data,
    screenshot,
    write_term,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SNEAKY_DEF = '<script>window.glossaryPwned = true</script><img src=x onerror="window.glossaryPwned = true"> tricky'


@pytest.fixture
def site(live_server, tmp_path):
    restore_migration_data()
    import_folders(FIXTURES)
    write_term(
        tmp_path,
        base_term(
            "sneaky term", status="approved", short_def=SNEAKY_DEF, relationships={}
        ),
    )
    import_folders(tmp_path)
    return live_server.url


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def wait_for_widget(page) -> None:
    page.wait_for_selector("a.glossary-term", timeout=15000)


def test_demo_page_shows_tooltips_on_hover_and_keyboard_focus(site, page):
    page.goto(f"{site}/embed/demo/")
    wait_for_widget(page)
    marked = page.locator("a.glossary-term")
    slugs = marked.evaluate_all("els => els.map(e => e.dataset.glossarySlug)")
    assert "retrieval-augmented-generation" in slugs
    assert "hallucination" in slugs
    assert len(slugs) == len(set(slugs))  # only the first occurrence of each term
    assert (
        "vector-database" not in slugs
    )  # reviewed, not approved: not marked by default

    rag = page.locator(
        'a.glossary-term[data-glossary-slug="retrieval-augmented-generation"]'
    )
    assert rag.inner_text() == "retrieval-augmented generation"
    rag.hover()
    tooltip = page.locator("#glossary-tooltip")
    tooltip.wait_for(state="visible")
    assert (
        tooltip.locator(".glossary-name").inner_text()
        == "retrieval-augmented generation"
    )
    assert tooltip.locator(".glossary-status").inner_text() == "approved"
    assert (
        "fetches relevant passages"
        in tooltip.locator(".glossary-definition").inner_text()
    )
    assert (
        tooltip.locator("a")
        .get_attribute("href")
        .endswith("/terms/retrieval-augmented-generation/")
    )
    assert rag.get_attribute("aria-describedby") == "glossary-tooltip"
    screenshot(page, "embed-01-hover")

    page.mouse.move(0, 0)
    tooltip.wait_for(state="hidden")
    page.keyboard.press("Escape")
    # Keyboard: tab until a glossary term has focus; its tooltip opens.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('glossary-term')"):
            break
    focused = page.evaluate("document.activeElement.dataset.glossarySlug")
    assert focused
    tooltip.wait_for(state="visible")
    from terms.models import Term

    assert (
        tooltip.locator(".glossary-name").inner_text()
        == Term.objects.get(slug=focused).name
    )
    screenshot(page, "embed-02-keyboard-focus")
    page.keyboard.press("Escape")
    tooltip.wait_for(state="hidden")


def test_definitions_are_shown_as_text_never_run(site, page):
    page.set_content(
        f"""<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
        <main><p>Beware the sneaky term in this page.</p></main>
        <script src="{site}/static/glossary/widget.js" data-glossary-api="{site}/api/v1/"></script>
        </body></html>"""
    )
    wait_for_widget(page)
    page.locator("a.glossary-term").first.hover()
    tooltip = page.locator("#glossary-tooltip")
    tooltip.wait_for(state="visible")
    assert tooltip.locator(".glossary-definition").inner_text() == SNEAKY_DEF
    assert tooltip.locator("img, script").count() == 0
    assert page.evaluate("window.glossaryPwned === undefined")
    screenshot(page, "embed-03-html-as-text")


def test_the_widget_sends_html_and_marks_only_prose(site, page):
    """The server's HTML mode decides: nothing in an abbreviation, a definition,
    code, a link or a heading; offsets survive escaped characters and text
    outside the BMP; the read is counted as the widget's."""
    from terms.models import TermUse
    from terms.serving import usage

    page.set_content(
        f"""<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
        <main><h2>The prompt</h2>
        <p>Use <abbr title="x">prompt</abbr> and <dfn>guardrail</dfn>, <code>prompt</code>,
        <a href="/x">embedding</a>.</p>
        <p title="embedding">Q&amp;A &lt;tips&gt; 😀: a prompt, an embedding &amp; a guardrail.</p>
        </main>
        <script src="{site}/static/glossary/widget.js" data-glossary-api="{site}/api/v1/"></script>
        </body></html>"""
    )
    wait_for_widget(page)
    marked = page.locator("a.glossary-term").evaluate_all(
        "els => els.map(e => [e.dataset.glossarySlug, e.textContent, e.parentNode.nodeName])"
    )
    assert marked == [
        ["prompt", "prompt", "P"],
        ["embedding", "embedding", "P"],
        ["guardrail", "guardrail", "P"],
    ]
    # The marked paragraph reads as before, its escaped characters intact.
    text = page.locator("main p").nth(1).inner_text()
    assert text.startswith("Q&A <tips> 😀: a prompt, an embedding & a guardrail")
    usage.flush()
    assert TermUse.objects.filter(source="widget", kind="annotate").count() == 3


class _OtherOriginPage(http.server.BaseHTTPRequestHandler):
    html = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args):
        pass


@pytest.fixture
def other_origin(site):
    """A page served from another port (so another origin) that embeds the widget."""
    handler = type("Handler", (_OtherOriginPage,), {})
    handler.html = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
    <title>Partner docs</title>
    <script src="{site}/static/glossary/widget.js" data-glossary-api="{site}/api/v1/"
            data-glossary-scope="article" defer></script></head>
    <body><article><h1>Partner docs</h1>
    <p>Our bot grounds answers with retrieval-augmented generation and a guardrail.</p>
    <p data-glossary-skip>Not here: hallucination.</p></article></body></html>""".encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_widget_works_from_another_origin(other_origin, site, page):
    assert other_origin.split(":")[-1] != site.split(":")[-1]
    page.goto(f"{other_origin}/")
    wait_for_widget(page)
    slugs = page.locator("a.glossary-term").evaluate_all(
        "els => els.map(e => e.dataset.glossarySlug)"
    )
    assert slugs == ["retrieval-augmented-generation", "guardrail"]
    page.locator("a.glossary-term").nth(1).focus()
    page.locator("#glossary-tooltip").wait_for(state="visible")
    assert page.locator("#glossary-tooltip .glossary-name").inner_text() == "guardrail"
    screenshot(page, "embed-04-other-origin")


def test_term_page_in_the_browser(site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.goto(f"{site}/terms/hallucination/")
    headings = page.locator("article h2").all_inner_texts()
    for heading in (
        "Role takeaways",
        "Practice & apply",
        "Short definition",
        "Long definition",
        "Audience perspectives",
        "Examples",
        "Governance",
        "Relationships",
        "Spotted a gap?",
        "Citations",
    ):
        assert heading in headings
    wanted = page.locator(".wanted").all_inner_texts()
    assert "citation verification (wanted)" in wanted
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no sideways scrolling on a phone
    screenshot(page, "page-01-term-phone")
    page.locator("a", has_text="retrieval-augmented generation").first.click()
    page.wait_for_url("**/terms/retrieval-augmented-generation/")
    page.goto(f"{site}/?q=halucination")
    assert "hallucination" in page.locator(".term-list").inner_text()
    screenshot(page, "page-02-search")
    context.close()


def test_pages_work_under_their_content_security_policy(site, browser):
    """Every kind of HTML page loads in Chromium with its policy enforced and
    nothing refused: public pages, the widget demo, the admin and Swagger UI."""
    context = browser.new_context()
    page = context.new_page()
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    checks = [
        ("/", "#results, main"),
        ("/terms/prompt/", "h1"),
        ("/embed/demo/", "a.glossary-term"),
        ("/admin/login/", "#id_username"),
        ("/api/docs/", ".swagger-ui .opblock"),
    ]
    for path, selector in checks:
        response = page.goto(f"{site}{path}")
        policy = response.headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'", path
        page.wait_for_selector(selector, timeout=15000)
    # The widget's tooltip is styled by its stylesheet, not inline CSS.
    page.goto(f"{site}/embed/demo/")
    page.wait_for_selector("a.glossary-term")
    # The stylesheet loads after the link is added: wait for its rules.
    page.wait_for_function(
        "() => document.querySelector('#glossary-widget-style')?.sheet"
        "?.cssRules.length > 0",
        timeout=15000,
    )
    screenshot(page, "csp-01-demo")
    context.close()
    assert refused == []
