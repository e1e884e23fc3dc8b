"""``manage.py check_citations`` against a real local HTTP server: redirects,
errors, retries, timeouts, the per-host limit, and where broken links show."""

import io
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from terms.models import LinkCheck, Term
from tests.helpers import base_term, import_folders, make_user, write_term


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    """The receivers here listen on loopback: allowed as a private deployment
    allows its own network (tests/test_security_faults.py checks that by
    default such addresses are refused)."""
    settings.GLOSSARY_OUTBOUND_ALLOW = ["127.0.0.0/8"]


pytestmark = pytest.mark.django_db


class Site:
    """What the server saw: hits per path, user agents, most requests at once."""

    def __init__(self):
        self.hits: Counter = Counter()
        self.agents: set[str] = set()
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()


def handler_for(site: Site):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            with site.lock:
                site.hits[path] += 1
                site.agents.add(self.headers.get("User-Agent", ""))
                site.in_flight += 1
                site.most_in_flight = max(site.most_in_flight, site.in_flight)
                hits = site.hits[path]
            try:
                self.answer(path, hits)
            finally:
                with site.lock:
                    site.in_flight -= 1

        def answer(self, path: str, hits: int):
            if path == "/moved":
                return self.redirect("/moved-again")
            if path == "/moved-again":
                return self.redirect("/ok")
            if path == "/slow":
                time.sleep(1.5)
            if path.startswith("/pause/"):
                time.sleep(0.2)
            status = {
                "/missing": 404,
                "/broken": 500,
                "/flaky": 500 if hits == 1 else 200,
            }.get(path, 200)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def redirect(self, to: str):
            self.send_response(301)
            self.send_header("Location", to)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@pytest.fixture
def site():
    state = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def cite(tmp_path, name: str, *urls: str):
    citations = [{"source": f"source {i}", "url": url} for i, url in enumerate(urls)]
    write_term(tmp_path, base_term(name, status="approved", citations=citations))


def check(*args) -> int:
    try:
        call_command("check_citations", *args, stdout=io.StringIO())
    except SystemExit as exc:
        return exc.code
    return 0


def test_each_kind_of_answer_is_stored(site, tmp_path, client):
    base = site.url
    cite(tmp_path, "good links", f"{base}/ok", f"{base}/moved", f"{base}/flaky")
    cite(tmp_path, "bad links", f"{base}/missing", f"{base}/broken", f"{base}/slow")
    import_folders(tmp_path)

    status = check("--timeout", "0.5", "--retries", "1", "--backoff", "0.05")
    assert status == 1  # some links are broken
    checks = {c.url.removeprefix(base): c for c in LinkCheck.objects.all()}
    assert set(checks) == {"/ok", "/moved", "/flaky", "/missing", "/broken", "/slow"}

    assert (checks["/ok"].ok, checks["/ok"].status_code) == (True, 200)
    # Two redirects followed; the final URL kept.
    moved = checks["/moved"]
    assert (moved.ok, moved.status_code, moved.final_url) == (True, 200, f"{base}/ok")
    # 500 then 200: one retry, and it passes.
    assert (checks["/flaky"].ok, checks["/flaky"].attempts) == (True, 2)
    # 404 is not worth asking again; 500 is, until the retries run out.
    assert (checks["/missing"].ok, checks["/missing"].attempts) == (False, 1)
    assert (checks["/broken"].status_code, checks["/broken"].attempts) == (500, 2)
    assert site.hits["/broken"] == 2
    slow = checks["/slow"]
    assert (slow.ok, slow.status_code, slow.attempts) == (False, None, 2)
    assert slow.error == "no answer within 0.5 s"
    assert all(c.elapsed_ms >= 0 and c.checked_at for c in checks.values())
    assert checks["/missing"].elapsed_ms < 500
    # An honest user agent.
    assert site.agents == {"glossary-citation-check/1.0 (checks citation links)"}

    # Broken links show in the stats...
    stats = client.get("/api/v1/stats/").json()["citations"]
    assert stats == {"total": 6, "broken": 3, "unchecked": 0}
    # ... in the admin's filter and on the term's history page.
    staff = make_user("checker", "editors", staff=True)
    client.force_login(staff)
    page = client.get("/admin/terms/term/", {"citation_links": "broken"})
    listed = page.content.decode()
    assert "bad links" in listed
    assert "good links" not in listed
    page = client.get("/admin/terms/term/", {"citation_links": "ok"}).content.decode()
    assert "good links" in page
    assert "bad links" not in page
    bad = Term.objects.get(slug="bad-links")
    history = client.get(f"/admin/terms/term/{bad.pk}/history/").content.decode()
    table = history[history.index('id="history-citations"') :]
    assert "broken: HTTP 404" in table
    assert "broken: no answer within 0.5 s" in table

    # --broken-only asks again about the broken ones alone.
    before = dict(site.hits)
    check("--broken-only", "--timeout", "0.5", "--retries", "0")
    asked = {path for path, n in site.hits.items() if n > before.get(path, 0)}
    assert asked == {"/missing", "/broken", "/slow"}


def test_the_per_host_limit_holds(site, tmp_path):
    urls = [f"{site.url}/pause/{i}" for i in range(8)]
    cite(tmp_path, "many links", *urls)
    import_folders(tmp_path)
    assert check("--per-host", "2", "--concurrency", "8") == 0
    assert sum(site.hits.values()) == 8
    # Concurrent, but never more than two requests at once to one host.
    assert site.most_in_flight == 2
    assert LinkCheck.objects.filter(ok=True).count() == 8


def test_new_citations_are_unchecked_until_the_checker_runs(site, tmp_path, client):
    cite(tmp_path, "fresh", f"{site.url}/ok")
    import_folders(tmp_path)
    assert client.get("/api/v1/stats/").json()["citations"] == {
        "total": 1,
        "broken": 0,
        "unchecked": 1,
    }
    # Reading never fetches a link: only the command does.
    assert sum(site.hits.values()) == 0
    assert check() == 0
    assert site.hits["/ok"] == 1
    assert client.get("/api/v1/stats/").json()["citations"]["unchecked"] == 0


def test_it_runs_where_an_event_loop_already_runs(site, tmp_path):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from terms.integrations.linkcheck import CheckSettings, check_urls

    async def inside_a_loop():
        return check_urls([f"{site.url}/ok"], CheckSettings(user_agent="test"))

    # On a thread of its own: this test process may hold a loop already (the
    # browser tests' driver).
    with ThreadPoolExecutor(max_workers=1) as pool:
        [result] = pool.submit(asyncio.run, inside_a_loop()).result()
    assert (result.ok, result.status_code) == (True, 200)
