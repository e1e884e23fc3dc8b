"""The read model (``terms.serving.readmodel``): anonymous JSON term details stored by
their first read, served by one query before Django, and never stale after a
write to the term or to anything its detail shows (real database, the real
Django application behind it)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from glossary.wsgi import django_application
from terms.api.caching import term_token
from terms.models import ChangeSource, Role, Term, TermRead
from terms.reads.selectors import glossary_state
from terms.serving import readmodel, stamp
from terms.workflow import services
from tests.helpers import corpus_documents, import_folders, write_term
from tests.serving.test_frontcache import Counting, _keep_the_test_connection, call  # noqa: F401

pytestmark = pytest.mark.django_db

#: Headers that belong to the answer, not to where it came from.
COMPARED = ("Content-Type", "ETag", "Last-Modified", "Vary", "Cache-Control", "Allow")


@pytest.fixture
def app():
    return readmodel.ReadModelApp(Counting())


def detail(slug: str) -> str:
    return f"/api/v1/terms/{slug}/"


def rendered(slug: str):
    """What Django itself answers now (no read model in front)."""
    return call(django_application, detail(slug))


def assert_served_fresh(app, slug: str) -> None:
    """The read model answers ``slug`` (storing it first if needed) with the
    bytes and headers Django renders now."""
    call(app, detail(slug))  # stores it when it was not stored
    calls = app.app.calls
    with CaptureQueriesContext(connection) as queries:
        status, headers, body = call(app, detail(slug))
    assert app.app.calls == calls, "answered by Django, not from the read model"
    assert len(queries.captured_queries) == 1
    fresh_status, fresh_headers, fresh_body = rendered(slug)
    assert (status, body) == (fresh_status, fresh_body)
    for name in COMPARED:
        assert headers[name] == fresh_headers[name], name


def test_the_first_read_stores_the_detail_and_later_ones_are_one_query(corpus_db, app):
    status, _, first = call(app, detail("log-probability"))
    assert status == 200
    assert app.app.calls == 1
    stored = TermRead.objects.get(slug="log-probability")
    assert b"\\u0000origin\\u0000/api/v1/terms/log-probability/" in bytes(stored.body)
    assert stored.dependencies.filter(
        depends_on=Term.objects.get(slug="decoding").pk
    ).exists()
    assert_served_fresh(app, "log-probability")
    assert call(app, detail("log-probability"))[2] == first


@pytest.mark.slow
def test_every_corpus_term_is_served_as_django_renders_it(corpus_db, app):
    slugs = list(Term.objects.filter(status="approved").values_list("slug", flat=True))
    assert len(slugs) == 112
    for slug in slugs:
        assert_served_fresh(app, slug)
    assert app.app.calls == 112  # each stored once, by its first read


def test_if_none_match_is_a_304_from_the_read_model(corpus_db, app):
    _, headers, _ = call(app, detail("prompt-injection"))
    calls = app.app.calls
    status, not_modified, body = call(
        app, detail("prompt-injection"), if_none_match=headers["ETag"]
    )
    assert (status, body) == (304, b"")
    assert not_modified["ETag"] == headers["ETag"]
    assert app.app.calls == calls


@pytest.mark.parametrize(
    "header",
    [
        {"authorization": "Token nonsense"},
        {"cookie": "sessionid=abc"},
        {"accept_language": "fr"},
        {"origin": "https://elsewhere.example"},
        {"accept": "application/yaml"},
    ],
)
def test_other_readers_and_formats_go_to_django(corpus_db, app, header):
    call(app, detail("prompt-injection"))
    call(app, detail("prompt-injection"), **header)
    call(app, detail("prompt-injection") + "?lang=fr")
    assert app.app.calls == 3


def test_off_means_every_read_is_rendered(corpus_db, app, settings):
    settings.GLOSSARY_READ_MODEL = False
    for _ in range(2):
        assert call(app, detail("prompt-injection"))[0] == 200
    assert app.app.calls == 2
    assert not TermRead.objects.exists()


def test_a_term_no_longer_public_is_not_served(corpus_db, app, settings):
    call(app, detail("prompt-injection"))
    settings.GLOSSARY_PUBLIC_STATUSES = ["deprecated"]
    assert call(app, detail("prompt-injection"))[0] == 404


def test_a_detail_stored_under_other_settings_is_rendered_again(
    corpus_db, app, settings
):
    call(app, detail("prompt-injection"))
    assert_served_fresh(app, "prompt-injection")
    settings.GLOSSARY_LANGUAGE = "en-GB"
    cache.clear()  # as a restart with new settings and an empty cache
    stamp.forget()
    calls = app.app.calls
    call(app, detail("prompt-injection"))
    assert app.app.calls == calls + 1  # rendered, and stored for these settings
    assert_served_fresh(app, "prompt-injection")
    assert TermRead.objects.get(slug="prompt-injection").variant.endswith("|en-GB")


def test_writes_to_the_term_or_what_it_shows_leave_nothing_stale(
    corpus_db, corpus, app, tmp_path
):
    documents = corpus_documents(corpus)
    slug = "log-probability"
    assert_served_fresh(app, slug)
    # The term itself.
    documents[slug]["short_def"] = "Rewritten for the read model."
    import_folders(write_term(tmp_path / "one", documents[slug]))
    assert b"Rewritten for the read model." in call(app, detail(slug))[2]
    assert_served_fresh(app, slug)
    # A new term linking to it: a derived relationship appears on it.
    new = {**documents["decoding"], "term": "token scoring"}
    new["aliases"] = ["scoring of tokens"]
    new["relationships"] = {"related": ["log probability"]}
    import_folders(write_term(tmp_path / "two", new))
    assert b"token scoring" in call(app, detail(slug))[2]
    assert_served_fresh(app, slug)
    # A term it links to is deleted: the link no longer resolves.
    decoding = Term.objects.get(slug="decoding")
    services.terms_delete(terms=[decoding], actor=None, source=ChangeSource.API)
    assert b"/api/v1/terms/decoding/" not in call(app, detail(slug))[2]
    assert_served_fresh(app, slug)
    # A role's title (roles are edited directly: every stored detail goes).
    role = Role.objects.get(slug="engineering")
    role.title = "Builders"
    role.save()
    assert not TermRead.objects.exists()
    assert b'"title":"Builders"' in call(app, detail(slug))[2]
    assert_served_fresh(app, slug)


def test_a_read_rendered_before_a_write_is_not_stored(corpus_db, tmp_path, corpus):
    term = Term.objects.get(slug="prompt-injection")
    seen = glossary_state().version
    documents = corpus_documents(corpus)
    import_folders(write_term(tmp_path, documents["decoding"] | {"short_def": "x y"}))
    kept = readmodel.store(term, term_token(term), b"{}", seen)
    assert not kept
    assert not TermRead.objects.filter(slug="prompt-injection").exists()
    assert readmodel.store(term, term_token(term), b"{}", glossary_state().version)
