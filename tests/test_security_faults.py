"""Round three of the security probe (issue 24), one test or more per finding:
what a hostile client could hold, slow down, read, redirect or break."""

import csv
import io
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import markdown
import pytest
from django.test import Client

from terms.integrations import outbound
from terms.models import (
    ChangeSource,
    Citation,
    Term,
    WebhookDelivery,
    WebhookSubscription,
)
from terms.text import annotation, normalise, span_rules
from terms.text import matcher as matcher_module
from terms.workflow import steps as workflow

from .helpers import (
    api_client_for,
    base_term,
    make_user,
    run_import,
    seed_term,
    write_term,
)

pytestmark = pytest.mark.django_db


def test_pages_and_the_reconciliation_preview_share_the_anonymous_limit(
    fixtures_db, settings
):
    settings.GLOSSARY_ANON_THROTTLE_RATE = "4/minute"
    client = Client()
    assert client.get("/").status_code == 200
    assert client.get("/terms/prompt/").status_code == 200
    assert client.get("/api/v1/reconcile/preview/", {"id": "prompt"}).status_code == 200
    assert client.get("/api/v1/terms/prompt/").status_code == 200  # the same count
    page = client.get("/terms/prompt/")
    assert page.status_code == 429
    assert int(page["Retry-After"]) > 0
    preview = client.get("/api/v1/reconcile/preview/", {"id": "prompt"})
    assert preview.status_code == 429
    assert preview.json()["error"]["code"] == "throttled"
    # Signed-in people and static files are not counted.
    client.force_login(make_user("ed", "editors"))
    assert client.get("/terms/prompt/").status_code == 200
    assert Client().get("/healthz").status_code == 200


# --- 2. annotate: linear on adversarial shapes, and bounded -------------------------


class _Reach:
    """A compiled pattern that counts the characters its searches may look at."""

    def __init__(self, pattern):
        self.pattern, self.chars = pattern, 0

    def search(self, string, pos=0, endpos=sys.maxsize):
        self.chars += max(0, min(endpos, len(string)) - pos)
        return self.pattern.search(string, pos, endpos)

    def __getattr__(self, name):
        return getattr(self.pattern, name)


def _work(matcher, text, monkeypatch) -> int:
    """Lines of the scan's modules run (``annotation.py``, ``matcher.py``,
    ``normalise.py`` and ``span_rules.py`` in ``terms/text``), plus characters
    the coordination rule's searches reach: a count of the work done,
    independent of the clock."""
    reach = _Reach(span_rules._CONJUNCT_BEFORE)
    monkeypatch.setattr(span_rules, "_CONJUNCT_BEFORE", reach)
    lines = 0
    sources = {
        module.__file__
        for module in (annotation, matcher_module, normalise, span_rules)
    }

    def tracer(frame, event, arg):
        nonlocal lines
        if frame.f_code.co_filename not in sources:
            return None
        if event == "line":
            lines += 1
        return tracer

    sys.settrace(tracer)
    try:
        annotation.find_spans(matcher, text)
    finally:
        sys.settrace(None)
        monkeypatch.setattr(span_rules, "_CONJUNCT_BEFORE", reach.pattern)
    return lines + reach.chars


ADVERSARIAL = {
    "a defined abbreviation used over and over": lambda n: (
        "attention mechanism (AM) " + "AM " * (n // 3)
    ),
    "one endless word before a term": lambda n: "x" * n + " cancer",
    "a long run of coordinated words": lambda n: "breast, " * (n // 8) + "cancer",
    "thousands of overlapping candidates": lambda n: "a " * (n // 2),
    "combining marks": lambda n: "e\u0301\u0302\u0303" * (n // 4) + " cancer",
    "many definitions": lambda n: "".join(
        f"attention mechanism (A{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}) "
        for i in range(n // 27)
    ),
}


@pytest.mark.parametrize("shape", sorted(ADVERSARIAL))
def test_annotate_work_grows_linearly_with_adversarial_text(shape, monkeypatch):
    matcher = annotation.build_matcher(
        [
            ("attention mechanism", "attention-mechanism", "name"),
            ("cancer", "cancer", "name"),
            ("breast cancer", "breast-cancer", "name"),
            ("a", "a", "name"),
            ("a a", "a-a", "name"),
            ("a a a", "a-a-a", "name"),
        ]
    )
    make = ADVERSARIAL[shape]
    small = _work(matcher, make(1500), monkeypatch)
    large = _work(matcher, make(6000), monkeypatch)
    # Four times the text: about four times the work when linear, sixteen when
    # quadratic (the defined abbreviation took 17.6 s for 64 KB before).
    assert large < 6 * small, (shape, small, large)


def test_annotate_stops_past_its_budget_with_a_413(fixtures_db, api, settings):
    text = "Every prompt fills the context window. " * 50
    assert (
        api.post("/api/v1/annotate/", {"text": text}, format="json").status_code == 200
    )
    settings.GLOSSARY_ANNOTATE_BUDGET_SECONDS = 0.0
    response = api.post("/api/v1/annotate/", {"text": text}, format="json")
    assert response.status_code == 413
    message = response.json()["error"]["message"]
    assert "longer than 0 seconds" in message
    assert "smaller parts" in message


# --- 9. webhooks belong to administrators -------------------------------------------


def test_webhook_subscriptions_need_their_own_permissions(people, settings):
    from django.core.management import call_command

    settings.GLOSSARY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    root = api_client_for(people["superuser"])
    body = {
        "name": "pipeline",
        "url": "http://127.0.0.1:9/hook",
        "secret": "a-secret-of-sixteen",
    }
    created = root.post("/api/v1/webhooks/", body, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/webhooks/{created.json()['id']}/"
    # Every workflow role is made staff by `manage.py grant`: none may touch it.
    for role in ("editors", "reviewers", "approvers"):
        call_command("grant", role[:-1] + "x", role, "--create", stdout=io.StringIO())
        person = api_client_for(
            Term._meta.apps.get_model("auth", "User").objects.get(
                username=role[:-1] + "x"
            )
        )
        assert person.get("/api/v1/webhooks/").status_code == 403
        assert person.get(url).status_code == 403
        moved = person.patch(url, {"url": "http://127.0.0.1:1/mine"}, format="json")
        assert moved.status_code == 403
        assert person.delete(url).status_code == 403
    assert WebhookSubscription.objects.get().url == body["url"]
    # One given the view permission reads, and no more.
    viewer = api_client_for(make_user("val", perms=("view_webhooksubscription",)))
    assert viewer.get(url).status_code == 200
    assert viewer.delete(url).status_code == 403
    assert root.delete(url).status_code == 204


# --- 11. drafts change nothing an anonymous reader sees ------------------------------


def test_a_draft_named_like_a_wanted_target_keeps_it_wanted_for_readers(people, api):
    seed_term(
        "quokka card",
        "approved",
        people["author"],
        relationships={"related": ["zephyr sheet"]},
    )
    before = api.get("/api/v1/wanted/").json()
    assert "zephyr sheet" in [row["target"] for row in before["results"]]
    seed_term("zephyr sheet", "draft", people["author"])
    assert api.get("/api/v1/wanted/").json() == before
    staff = api_client_for(people["editor"])
    staff_rows = staff.get("/api/v1/wanted/").json()["results"]
    assert "zephyr sheet" not in [row["target"] for row in staff_rows]


def test_anonymous_version_and_etags_move_only_with_what_readers_see(people, api):
    approved = seed_term("quokka card", "approved", people["author"])
    stats = api.get("/api/v1/stats/").json()
    listed = api.get("/api/v1/terms/")
    detail = api.get("/api/v1/terms/quokka-card/")
    staff = api_client_for(people["editor"])
    staff_version = staff.get("/api/v1/stats/").json()["glossary_version"]
    # Draft-only writes: a new draft, and a pending change on the approved term.
    draft = seed_term("zephyr sheet", "draft", people["author"])
    _propose_new_wording(approved, people["editor"])
    assert (
        api.get("/api/v1/stats/").json()["glossary_version"]
        == stats["glossary_version"]
    )
    assert api.get("/api/v1/terms/")["ETag"] == listed["ETag"]
    assert api.get("/api/v1/terms/quokka-card/")["ETag"] == detail["ETag"]
    assert staff.get("/api/v1/stats/").json()["glossary_version"] > staff_version
    # A write readers can see moves it.
    workflow.term_transition(term=draft, name="review", actor=people["reviewer"])
    assert (
        api.get("/api/v1/stats/").json()["glossary_version"] > stats["glossary_version"]
    )


def _propose_new_wording(term, editor) -> None:
    """A pending change to the approved "quokka card", written by ``editor``."""
    from terms.documents.document import validate_term_data
    from terms.reads.selectors import known_roles

    data = base_term("quokka card", status="approved", short_def="New.")
    document, problems = validate_term_data(data, known_roles=known_roles())
    assert not problems, problems
    workflow.term_edit(
        term=term, document=document, actor=editor, source=ChangeSource.API
    )


def test_the_public_history_page_shows_no_review_of_a_pending_change(people, client):
    term = seed_term("quokka card", "approved", people["author"])
    _propose_new_wording(term, people["editor"])
    workflow.term_transition(
        term=Term.objects.get(pk=term.pk), name="review", actor=people["reviewer"]
    )
    workflow.term_transition(
        term=Term.objects.get(pk=term.pk),
        name="request_changes",
        actor=people["approver"],
        comment="The new wording names an internal project.",
    )
    page = client.get("/terms/quokka-card/history/").content.decode()
    assert "internal project" not in page
    assert "proposed change" not in page
    client.force_login(people["editor"])
    page = client.get("/terms/quokka-card/history/").content.decode()
    assert "internal project" in page


def test_mcp_propose_change_checks_permission_before_anything_else(people):
    from mcp.server.mcpserver.exceptions import ToolError

    from terms.integrations.mcp_work import propose_change

    seed_term("secret project", "draft", people["author"])
    reader = make_user("rory")  # signed in, no permission to write
    answers = []
    for slug in ("secret-project", "no-such-term"):
        with pytest.raises(ToolError) as refused:
            propose_change(slug, {"short_def": 3}, reader)
        answers.append(str(refused.value))
    assert answers[0] == answers[1]
    assert "lacks the permission" in answers[0]


# --- 12. one reader's Host or Accept never shapes another's body ----------------------


@pytest.mark.parametrize("front", [False, True])
def test_a_host_header_does_not_poison_cached_links(
    fixtures_db, settings, request, front
):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    if front:
        request.getfixturevalue("redis_cache")
    plain = Client()
    hostile = Client(HTTP_HOST="127.0.0.1:6666")
    url = "/api/v1/terms/?page_size=2"
    assert "6666" in hostile.get(url).json()["next"]
    assert "6666" in hostile.get("/api/v1/reconcile/").content.decode()
    assert "6666" not in plain.get(url).json()["next"]
    assert "6666" not in plain.get("/api/v1/reconcile/").content.decode()
    refused = Client(HTTP_HOST="evil.example").get(url)
    assert refused.status_code == 400


def test_an_indented_accept_does_not_change_what_plain_readers_get(fixtures_db):
    indented = Client().get(
        "/api/v1/terms/prompt/", HTTP_ACCEPT="application/json; indent=8"
    )
    assert b'\n        "' in indented.content
    plain = Client().get("/api/v1/terms/prompt/")
    assert b"\n" not in plain.content.strip()


# --- 13. no requests to private addresses ---------------------------------------------

LOOPBACK_SPELLINGS = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://localhost/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://[fd00::1]/",
    "http://[2002:7f00:1::]/",
]


@pytest.mark.parametrize("url", LOOPBACK_SPELLINGS)
def test_webhook_urls_must_be_public_in_every_spelling(url, people):
    assert outbound.check_url(url) is not None
    root = api_client_for(people["superuser"])
    body = {"name": "x", "url": url, "secret": "a-secret-of-sixteen"}
    refused = root.post("/api/v1/webhooks/", body, format="json")
    assert refused.status_code == 400
    assert "not a public address" in refused.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_a_public_address_is_allowed_and_an_allow_list_opens_a_network(settings):
    assert outbound.check_url("http://93.184.215.14/hook") is None
    assert outbound.check_url("ftp://93.184.215.14/") is not None
    settings.GLOSSARY_OUTBOUND_ALLOW = ["10.0.0.0/8"]
    assert outbound.check_url("http://10.1.2.3/hook") is None
    assert outbound.check_url("http://127.0.0.1/hook") is not None


class _Redirecting(BaseHTTPRequestHandler):
    """Answers every request with a redirect to loopback's other address."""

    target = ""
    hits: list = []

    def do_GET(self):
        type(self).hits.append(self.path)
        self.send_response(302)
        self.send_header("Location", self.target)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def redirecting():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    _Redirecting.target = f"http://127.0.0.2:{server.server_port}/inside"
    _Redirecting.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_link_checker_checks_every_redirect_hop(redirecting, settings):
    from terms.integrations.linkcheck import CheckSettings, check_urls

    settings.GLOSSARY_OUTBOUND_ALLOW = ["127.0.0.1/32"]  # the first hop only
    [result] = check_urls(
        [f"{redirecting}/start"],
        CheckSettings(timeout=5, retries=2, backoff=0, user_agent="test"),
    )
    assert not result.ok
    assert "127.0.0.2" in result.error
    assert "not a public address" in result.error
    assert result.attempts == 1  # refused, not retried
    assert _Redirecting.hits == ["/start"]  # the second hop was never requested
    settings.GLOSSARY_OUTBOUND_ALLOW = []
    [direct] = check_urls(
        [f"{redirecting}/again"],
        CheckSettings(timeout=5, retries=0, backoff=0, user_agent="test"),
    )
    assert "not a public address" in direct.error
    assert _Redirecting.hits == ["/start"]


def test_a_delivery_stores_no_connection_detail(people, settings):
    """A subscription allowed by the allow-list at creation, whose port is
    closed: the log says it could not connect, not what the system said."""
    from terms.integrations.webhooks import deliver

    settings.GLOSSARY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    with socket_closed_port() as port:
        subscription = WebhookSubscription.objects.create(
            name="x", url=f"http://127.0.0.1:{port}/", secret="s" * 16
        )
        seed_term("quokka card", "approved", people["author"])
        deliver.call(subscription.pk)
    log = WebhookDelivery.objects.get()
    assert not log.delivered
    assert log.error == "could not connect"
    settings.GLOSSARY_OUTBOUND_ALLOW = []
    WebhookSubscription.objects.filter(pk=subscription.pk).update(retry_at=None)
    deliver.call(subscription.pk, retry=True)
    latest = WebhookDelivery.objects.order_by("-id").first()
    assert "not a public address" in latest.error


class socket_closed_port:
    """A port on loopback that nothing listens on."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def __exit__(self, *exc):
        return False


# --- 14. Markdown pages carry no links but http(s) ones ----------------------------


def test_markdown_pages_never_carry_a_script_link(people, api):
    seed_term(
        "quokka card",
        "approved",
        people["author"],
        short_def="See [x](javascript:alert(1)) and <b>bold</b> \\[y].",
        citations=[
            {"source": "[z](javascript:alert(2))", "url": "https://example.org/a(b)"}
        ],
    )
    page = api.get("/api/v1/terms/quokka-card.md").content.decode()
    html = markdown.markdown(page)
    assert "javascript:" not in re.findall(r'href="([^"]*)"', html).__str__()
    assert "<b>" not in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "https://example.org/a%28b%29" in hrefs
    assert "[x](javascript:alert(1))" in html  # shown as the text it is


# --- 15. CSV exports cannot run formulas --------------------------------------------


def test_csv_cells_that_would_be_formulas_are_neutralised_and_restored(
    people, api, tmp_path
):
    names = ["=HYPERLINK(1)", "+sum", "-minus", "@at", "'=quoted"]
    for number, name in enumerate(names):
        seed_term(name, "approved", people["author"], aliases=[f"alias {number}"])
    text = api.get("/api/v1/export/", {"format": "csv"}).content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    cells = [row["name*"] for row in rows]
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@"))
    assert "'=HYPERLINK(1)" in cells
    assert "''=quoted" in cells
    (tmp_path / "glossary.csv").write_text(text, "utf-8")
    Term.objects.all().delete()
    report, _ = run_import(tmp_path / "glossary.csv")
    assert not report["errors"], report["errors"]
    assert set(names) <= set(Term.objects.values_list("name", flat=True))


# --- 16. one URL never breaks a whole export -----------------------------------------


def test_urls_rdf_cannot_carry_are_refused_and_old_ones_are_encoded(
    people, tmp_path, api
):
    bad = base_term("quokka card", status="approved")
    bad["citations"] = [{"source": "s", "url": "https://example.org/a|b{c}"}]
    write_term(tmp_path, bad)
    report, _ = run_import(tmp_path)
    [problem] = report["errors"]
    assert "percent-encode" in problem["message"]
    assert "%7C" in problem["message"]
    assert not Term.objects.filter(slug="quokka-card").exists()
    # One stored before the check (written straight to the table).
    term = seed_term("quokka card", "approved", people["author"])
    Citation.objects.filter(term=term).update(url='https://example.org/a|b"`^')
    response = api.get("/api/v1/export/", {"format": "ttl"})
    assert response.status_code == 200
    assert "https://example.org/a%7Cb%22%60%5E" in response.content.decode()


# --- 17. errors that were 500s -----------------------------------------------------


def test_relate_from_the_admin_works_on_every_database(people, client):
    term = seed_term("quokka card", "draft", people["author"])
    seed_term("zephyr sheet", "approved", people["author"])
    client.force_login(people["superuser"])
    response = client.post(f"/admin/terms/term/{term.pk}/relate/zephyr-sheet/")
    assert response.status_code == 302
    related = api_client_for(people["superuser"]).get("/api/v1/terms/quokka-card/")
    assert "zephyr sheet" in json.dumps(related.json()["relationships"])


def test_deeply_nested_reconciliation_queries_are_a_400(api):
    nested = '{"q0": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "}"
    response = api.post(
        "/api/v1/reconcile/",
        urlencode({"queries": nested}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "nested more than" in response.content.decode()
    response = api.get("/api/v1/reconcile/", {"queries": "[" * 5000 + "]" * 5000})
    assert response.status_code == 400


def test_a_name_holding_next_line_survives_export_and_import(people, tmp_path):
    from .helpers import export

    name = "quokka\x85card"
    seed_term(name, "approved", people["author"])
    files = export(tmp_path / "out")
    Term.objects.all().delete()
    report, _ = run_import(tmp_path / "out")
    assert not report["errors"], report["errors"]
    assert Term.objects.filter(name=name).exists()
    assert any(b"\\N" in data for data in files.values())


# --- 5. RDF files cannot make the importer expand or fetch -----------------------

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
 <!ENTITY a "haha">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:skos="http://www.w3.org/2004/02/skos/core#">
  <skos:Concept rdf:about="https://example.org/laugh">
    <skos:prefLabel xml:lang="en">&e;</skos:prefLabel>
    <skos:definition xml:lang="en">A concept whose label is a hundred thousand laughs.</skos:definition>
  </skos:Concept>
</rdf:RDF>
"""


def test_rdf_xml_with_entity_declarations_is_refused(tmp_path):
    path = tmp_path / "laughs.rdf"
    path.write_text(LAUGHS, "utf-8")
    for dry_run in (True, False):
        report, _ = run_import(path, dry_run=dry_run)
        [problem] = report["errors"]
        assert "DTD" in problem["message"]
        assert "laughs.rdf" in problem["file"]
    assert not Term.objects.filter(name__startswith="haha").exists()


class _Counting(BaseHTTPRequestHandler):
    """Counts requests (a JSON-LD context server that must never be asked)."""

    hits: list = []

    def do_GET(self):
        type(self).hits.append(self.path)
        body = b'{"@context": {"skos": "http://www.w3.org/2004/02/skos/core#"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_json_ld_contexts_by_reference_are_refused_and_never_fetched(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    _Counting.hits = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = tmp_path / "secret.json"
    secret.write_text('{"@context": {}}', "utf-8")
    try:
        for context in (
            f"http://127.0.0.1:{server.server_port}/context.jsonld",
            secret.as_uri(),
            [{"skos": "http://www.w3.org/2004/02/skos/core#"}, secret.as_uri()],
        ):
            document = {
                "@context": context,
                "@id": "https://example.org/x",
                "@type": "skos:Concept",
                "skos:prefLabel": "x",
            }
            path = tmp_path / "remote.jsonld"
            path.write_text(json.dumps(document), "utf-8")
            report, _ = run_import(path, dry_run=True)
            [problem] = report["errors"]
            assert "inline only" in problem["message"]
    finally:
        server.shutdown()
    assert _Counting.hits == []
    inline = tmp_path / "inline.jsonld"
    inline.write_text(
        json.dumps(
            {
                "@context": {"skos": "http://www.w3.org/2004/02/skos/core#"},
                "@id": "https://example.org/x",
                "@type": "skos:Concept",
                "skos:prefLabel": "x",
            }
        ),
        "utf-8",
    )
    report, _ = run_import(inline, dry_run=True)
    assert not any("inline only" in p["message"] for p in report["errors"])
