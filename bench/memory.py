"""Memory of the server processes (figures, not a test) on a large glossary.

Starts the production server as `make serve` does (granian, 2 workers, and the
derived process that keeps annotate's matcher and the similar-terms index for
both, `manage.py derived`) on an existing database, reads every kind of
endpoint through it (term, list, search, lookup, autocomplete, a 100 KB
annotate, similar terms, the Markdown page with its suggestions), waits for
the derived structures to be built, and prints each process's resident memory
(VmRSS) after starting and after the reads. With --no-derived the workers keep
their own copies (the derived process is not started), for comparison.

    .venv/bin/python bench/memory.py \\
        --database-url postgres://postgres@127.0.0.1:5432/glossary_scale

Fill that database first with `bench/import_scale.py --terms 100000`.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, granian, wait_until_up

PORT = 8951
BASE = f"http://127.0.0.1:{PORT}"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def workers(server: subprocess.Popen) -> list[int]:
    """granian's worker processes: the children of its main process."""
    found = subprocess.run(
        ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
    ).stdout.split()
    return sorted(int(pid) for pid in found)


def reads(client: httpx.Client, slug: str, text: str) -> None:
    for path in (
        f"/api/v1/terms/{slug}/",
        "/api/v1/terms/?page_size=50",
        "/api/v1/terms/?q=retrieval drift",
        "/api/v1/lookup/?q=retreival drfit",
        "/api/v1/autocomplete/?q=retr",
        f"/api/v1/terms/{slug}/similar/",
        f"/api/v1/terms/{slug}.md",
    ):
        assert client.get(path).status_code in (200, 404), path
    response = client.post("/api/v1/annotate/", json={"text": text})
    assert response.status_code == 200, response.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--no-derived", action="store_true")
    args = parser.parse_args()
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "GLOSSARY_CACHE_URL": "none",
        "GLOSSARY_ANON_THROTTLE_RATE": "",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECRET_KEY": "bench-only-" + "x" * 40,
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            sys.exit(f"something already listens on port {PORT}; stop it first")
    derived = None
    if not args.no_derived:
        socket_path = str(Path(tempfile.mkdtemp()) / "derived.sock")
        env["GLOSSARY_DERIVED_SOCKET"] = socket_path
        derived = subprocess.Popen(
            [sys.executable, "manage.py", "derived"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        while not os.path.exists(socket_path):
            time.sleep(0.1)
    server = granian("glossary.wsgi:application", PORT, env, ROOT)
    try:
        wait_until_up(f"{BASE}/healthz", server)
        pids = {f"worker {n}": pid for n, pid in enumerate(workers(server), 1)}
        if derived is not None:
            pids["derived process"] = derived.pid
        started = {name: rss_mb(pid) for name, pid in pids.items()}
        slug = httpx.get(f"{BASE}/api/v1/terms/?page_size=1", timeout=60).json()[
            "results"
        ][0]["slug"]
        words = "the retrieval drift of an attention index and a model guard "
        text = (words * (100_000 // len(words) + 1))[:100_000]
        # A new connection for every request, so that both workers read.
        close = {"Connection": "close"}
        with httpx.Client(base_url=BASE, timeout=600, headers=close) as client:
            began = time.perf_counter()
            for _ in range(4):
                reads(client, slug, text)
            # Until the answers are this version's (the first build may run aside).
            while (
                "Suggested related terms"
                not in client.get(f"/api/v1/terms/{slug}.md").text
                and time.perf_counter() - began < 600
            ):
                time.sleep(1)
            for _ in range(4):
                reads(client, slug, text)
        after = {name: rss_mb(pid) for name, pid in pids.items()}
    finally:
        server.terminate()
        server.wait(timeout=30)
        if derived is not None:
            derived.terminate()
            derived.wait(timeout=30)
    print("| process | RSS started | RSS after every read |")
    print("| --- | ---: | ---: |")
    for name in pids:
        print(f"| {name} | {started[name]:,.0f} MB | {after[name]:,.0f} MB |")


if __name__ == "__main__":
    main()
