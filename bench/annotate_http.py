"""Annotate over HTTP, through the production server (figures, not a test).

    .venv/bin/python bench/annotate_http.py \\
        --database-url postgres://postgres@127.0.0.1:5432/glossary_annotate

Loads the reference corpus into a scratch database, starts ``manage.py serve``
with 2 workers (as ``make serve``: granian, and the derived process that keeps
annotate's matcher for both), and prints:

- 100 KB of the corpus's own prose annotated one request after another: the
  median and the 90th percentile of 21 (after one untimed);
- 1 KB annotated by 8 connections for 10 s with ``wrk``: requests per second
  and the median latency;

then the same with ``--no-derived`` (each worker keeps its own matcher), so
the two paths are compared in one run.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, import_corpus, run_wrk, scratch_database, wait_until_up

PORT = 8951


def corpus_prose(size: int) -> str:
    from terms.models import Term

    parts, total = [], 0
    while total < size:
        for text in Term.objects.order_by("slug").values_list("long_def", flat=True):
            parts.append(text)
            total += len(text) + 1
            if total >= size:
                break
    return "\n".join(parts)[:size]


def serve(env: dict, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "manage.py", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(PORT), "--workers", "2", "--no-worker", *extra]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def measure(label: str, big: str, small_script: Path) -> None:
    url = f"http://127.0.0.1:{PORT}/api/v1/annotate/"
    times = []
    with httpx.Client(timeout=60) as client:
        for number in range(22):
            started = time.perf_counter()
            answer = client.post(url, json={"text": big})
            took = time.perf_counter() - started
            assert answer.status_code == 200, answer.text[:300]
            if number:  # the first builds the matcher
                times.append(took)
    times.sort()
    spans = len(answer.json()["spans"])
    print(
        f"{label}: 100 KB one at a time: median {statistics.median(times) * 1000:.1f}"
        f" ms, p90 {times[int(len(times) * 0.9)] * 1000:.1f} ms ({spans} spans)"
    )
    figures = run_wrk(url, seconds=10, connections=8, script=small_script)
    print(
        f"{label}: 1 KB under wrk -c8: {figures['rps']:.0f} req/s, "
        f"p50 {figures['p50']} ms, non-2xx {figures['non_2xx']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = scratch_database(args.database_url)
    import_corpus()
    big = corpus_prose(100_000)
    small = corpus_prose(1_000)
    script = Path(tempfile.mkdtemp()) / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(json.dumps({'text': small}))}\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GLOSSARY_ANON_THROTTLE_RATE": "",
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    for label, extra in (("derived process", ()), ("--no-derived", ("--no-derived",))):
        server = serve(env, *extra)
        try:
            wait_until_up(f"http://127.0.0.1:{PORT}/healthz", server)
            measure(label, big, script)
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
