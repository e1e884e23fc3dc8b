"""The derived process (``terms.serving.derived``): annotate's matcher and the
similar-terms index kept once, for every server process, behind a Unix
socket; the server processes answer the same with it as without it, build
nothing themselves while it answers, and answer from their own copy when it
does not."""

import contextlib
import os
import subprocess
import sys
import threading
import time

import pytest
from django.core.cache import cache
from django.db import connection

from terms.serving import derived, stamp
from terms.text.annotation import MATCHERS
from terms.text.similarity import INDEXES
from tests.helpers import (
    FIXTURES,
    ROOT,
    base_term,
    import_folders,
    other_sessions_gone,
    write_term,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TEXT = (
    "An AI agent grounds its answers with retrieval-augmented generation, and "
    "guardrails catch prompt injections before the context window fills."
)


@pytest.fixture
def glossary():
    import_folders(FIXTURES)
    MATCHERS.clear()
    INDEXES.clear()
    yield
    MATCHERS.clear()
    INDEXES.clear()


def forget_cache() -> None:
    """Empty the cache, as after a write (an emptied Redis numbers the stamp's
    changes from zero again: this process's watch starts over)."""
    cache.clear()
    stamp.forget()


@contextlib.contextmanager
def in_thread(path: str):
    """The derived process's server, on a thread of this process."""
    server = derived.make_server(path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()


#: Characters outside ASCII and one outside the Basic Multilingual Plane: the
#: text crosses the socket as UTF-8 bytes, the offsets must still index the
#: string the reader sent.
ODD = r'{"text": "Na\u00efve \ud83d\ude00 a context window and \u00e9 prompt injections."}'


def answers(api) -> dict:
    """What readers get from everything the derived structures feed."""
    return {
        "annotate": api.post("/api/v1/annotate/", {"text": TEXT}, format="json").json(),
        "odd": api.post(
            "/api/v1/annotate/", ODD, content_type="application/json"
        ).json(),
        "similar": api.get("/api/v1/terms/prompt/similar/?limit=5").json(),
        "page": api.get("/api/v1/terms/prompt.md").content,
    }


def test_answers_come_from_the_derived_process_and_match_our_own(
    glossary, api, settings, tmp_path
):
    own = answers(api)
    assert own["annotate"]["spans"]
    assert [(s["start"], s["end"]) for s in own["odd"]["spans"]] == [
        (10, 24),  # "context window": the emoji is one index (a Python string's)
        (31, 48),  # "prompt injections"
    ]
    assert own["similar"]["results"]
    forget_cache()
    MATCHERS.clear()
    INDEXES.clear()
    settings.GLOSSARY_DERIVED_SOCKET = str(tmp_path / "derived.sock")
    with in_thread(settings.GLOSSARY_DERIVED_SOCKET):
        assert answers(api) == own
        assert (
            os.stat(settings.GLOSSARY_DERIVED_SOCKET).st_mode & 0o077 == 0
        )  # owner only
        # A new term reaches the derived process's next answer.
        import_folders(
            write_term(tmp_path / "new", base_term("vector store", status="approved"))
        )
        body = api.post(
            "/api/v1/annotate/", {"text": "a vector store"}, format="json"
        ).json()
        assert [span["slug"] for span in body["spans"]] == ["vector-store"]
        asked = answers(api)
    # Not answering: this process answers from its own copy, the same.
    forget_cache()
    MATCHERS.clear()
    INDEXES.clear()
    assert answers(api) == asked
    assert MATCHERS.latest
    assert INDEXES.latest


def test_a_derived_process_of_its_own_serves_every_server_process(
    glossary, api, settings, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("another process reads the test database on PostgreSQL only")
    own = answers(api)
    forget_cache()
    MATCHERS.clear()
    INDEXES.clear()
    path = str(tmp_path / "derived.sock")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "derived", "--socket", path],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            if os.path.exists(path):
                break
            time.sleep(0.05)
        settings.GLOSSARY_DERIVED_SOCKET = path
        assert answers(api) == own
        # Nothing was built in this process: the other one holds them.
        assert MATCHERS.latest == {}
        assert INDEXES.latest == {}
        process.terminate()
        process.wait(timeout=30)
        assert not os.path.exists(path)  # it cleans up after itself
        # Gone: this process answers from its own copy.
        forget_cache()
        assert answers(api) == own
        assert MATCHERS.latest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        other_sessions_gone()
