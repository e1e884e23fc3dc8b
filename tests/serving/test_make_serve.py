"""`make serve` as an operator runs it: granian's workers, the derived process
and the task worker beside them, on the test database; annotate answers
through them; a killed worker, derived process or task worker is started
again; stopping the server stops them all (the socket goes with them)."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from django.db import connection

from tests.helpers import (
    FIXTURES,
    import_folders,
    other_sessions_gone,
    start_make_serve,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def granian_pid(make_pid: int) -> int:
    """granian's main process, started by the recipe's shell under make."""
    for child in children(make_pid):
        for grandchild in children(child):
            if "granian" in Path(f"/proc/{grandchild}/cmdline").read_text():
                return grandchild
    raise AssertionError("granian is not running under make")


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def wait_until(condition, seconds: float = 30.0):
    """Poll until ``condition`` holds (a bound on waiting for processes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _replaced(granian: int, killed: int) -> bool:
    workers = children(granian)
    return killed not in workers and len(workers) == 2


def _restarted(supervisor: int, name: str, before: dict) -> bool:
    found = [pid for pid in children(supervisor) if name in cmdline(pid)]
    return bool(found) and found[0] != before[name]


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def test_make_serve_runs_the_derived_process_and_stops_it(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the server's processes read the test database on PostgreSQL only")
    import_folders(FIXTURES)
    db = connection.settings_dict
    path = tmp_path / "derived.sock"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "GLOSSARY_DERIVED_SOCKET": str(path),
        "GLOSSARY_CACHE_URL": "none",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    server = start_make_serve(port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        assert path.is_socket()
        response = httpx.post(
            f"{base}/api/v1/annotate/",
            json={"text": "Every prompt fills the context window."},
            timeout=60,
        )
        assert response.status_code == 200
        slugs = [span["slug"] for span in response.json()["spans"]]
        assert slugs == ["prompt", "context-window"]
        # The derived process answers on its socket itself.
        with socket.socket(socket.AF_UNIX) as probe:
            probe.connect(str(path))
        supervisor = children(server.pid)[0]
        companions = {name: pid for pid in children(supervisor) for name in
                      ("derived", "task_worker", "granian") if name in cmdline(pid)}  # fmt: skip
        assert set(companions) == {"derived", "task_worker", "granian"}
        # kill -9 of one granian worker: it is replaced, the server stays up.
        workers = children(companions["granian"])
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        assert wait_until(lambda: _replaced(companions["granian"], workers[0]))
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        # kill -9 of the derived process and of the task worker: both restarted.
        for name in ("derived", "task_worker"):
            os.kill(companions[name], signal.SIGKILL)
            assert wait_until(
                lambda name=name: _restarted(supervisor, name, companions)
            )
        assert wait_until(path.is_socket)
        again = httpx.post(
            f"{base}/api/v1/annotate/",
            json={"text": "Every prompt fills the context window."},
            timeout=60,
        )
        assert [s["slug"] for s in again.json()["spans"]] == slugs
        # Stop the server as a process manager does (SIGTERM to granian): the
        # recipe's trap then stops the derived process, and make returns.
        os.kill(granian_pid(server.pid), signal.SIGTERM)
        server.wait(timeout=60)
        assert not path.exists()
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{base}/healthz", timeout=1)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        other_sessions_gone()
