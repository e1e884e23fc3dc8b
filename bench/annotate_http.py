"""Annotate over HTTP, through the production server (figures, not a test).

    .venv/bin/python bench/annotate_http.py \\
        --database-url postgres://postgres@127.0.0.1:5432/glossary_annotate

Loads the reference corpus into a scratch database, starts ``manage.py serve``
with 2 workers (as ``make serve``: granian, and the derived process that keeps
annotate's matcher for both), and prints:

- 100 KB of the corpus's own prose annotated one request after another: the
  median and the 90th percentile of 21 (after one untimed);
- 1 KB annotated by 8 connections and 100 KB by 4, each for 10 s with
  ``wrk``: requests per second and the median latency;

then the same with ``--no-derived`` (each worker keeps its own matcher), so
the two paths are compared in one run: ``--rounds`` rounds (3), the two paths
alternated, and each figure's median.
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


def measure(big: str, small_script: Path, big_script: Path) -> dict:
    """One round's figures: 100 KB one at a time (median, p90 in ms), then
    requests per second for 1 KB and 100 KB under wrk."""
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
    figures = {
        "100 KB median ms": statistics.median(times) * 1000,
        "100 KB p90 ms": times[int(len(times) * 0.9)] * 1000,
    }
    for size, script, connections in (
        ("1 KB", small_script, 8),
        ("100 KB", big_script, 4),
    ):
        run = run_wrk(url, seconds=10, connections=connections, script=script)
        assert not run["non_2xx"], run
        assert not run["errors"], run
        figures[f"{size} wrk -c{connections} req/s"] = run["rps"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = scratch_database(args.database_url)
    import_corpus()
    big = corpus_prose(100_000)
    small = corpus_prose(1_000)
    scripts = []
    for text in (small, big):
        script = Path(tempfile.mkdtemp()) / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(json.dumps({'text': text}))}\n"
        )
        scripts.append(script)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GLOSSARY_ANON_THROTTLE_RATE": "",
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    paths = {"derived process": (), "--no-derived": ("--no-derived",)}
    rounds = {label: [] for label in paths}
    for number in range(args.rounds):  # alternated: the machine's speed drifts
        for label, extra in paths.items():
            server = serve(env, *extra)
            try:
                wait_until_up(f"http://127.0.0.1:{PORT}/healthz", server)
                figures = measure(big, *scripts)
            finally:
                os.killpg(server.pid, 15)
                server.wait(timeout=60)
            rounds[label].append(figures)
            shown = ", ".join(f"{name} {value:.1f}" for name, value in figures.items())
            print(f"round {number + 1}, {label}: {shown}", flush=True)
    print(f"medians of {args.rounds} rounds:")
    for label, runs in rounds.items():
        shown = ", ".join(
            f"{name} {statistics.median(run[name] for run in runs):.1f}"
            for name in runs[0]
        )
        print(f"  {label}: {shown}")


if __name__ == "__main__":
    main()
