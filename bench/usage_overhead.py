"""What counting usage costs cached reads (figures, not a test).

    .venv/bin/python bench/usage_overhead.py \\
        --database-url postgres://postgres@127.0.0.1:5432/glossary_usage_bench

Loads the reference corpus into a scratch database and serves it under
granian with 2 workers and the Redis cache, as ``make serve`` does, once with
usage counting on (``terms.serving.usage``) and once with ``GLOSSARY_USAGE=off``,
in alternating rounds so that a drift of the machine's speed falls on both.
Each round warms every URL, then drives each with ``wrk -t2 -c32`` for a few
seconds; nearly every request is answered by the front cache, the path whose
cost counting adds to most. Prints the median req/s of each read with
counting off and on, and their ratio; then the counts the server wrote, to
show the counted run counted.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import (
    ROOT,
    granian,
    import_corpus,
    run_wrk,
    scratch_database,
    wait_until_up,
)

PORT = 8961
REDIS = "redis://127.0.0.1:6379/9"
READS = [
    ("one term", "/api/v1/terms/log-probability/"),
    ("lookup", "/api/v1/lookup/?q=logprob"),
    ("search q=prob", "/api/v1/terms/?q=prob"),
    ("lookup that finds nothing", "/api/v1/lookup/?q=quantum+annealing"),
]


def serve(env: dict) -> subprocess.Popen:
    server = granian("glossary.wsgi:application", PORT, env, ROOT)
    wait_until_up(f"http://127.0.0.1:{PORT}/healthz", server)
    return server


def one_round(env: dict, counting: bool, seconds: int) -> dict[str, float]:
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    run_env = {**env, "GLOSSARY_USAGE": "on" if counting else "off"}
    server = serve(run_env)
    figures = {}
    try:
        for name, path in READS:
            url = f"http://127.0.0.1:{PORT}{path}"
            for _ in range(4):  # both workers, both caches
                httpx.get(url, timeout=30, headers={"Connection": "close"})
            figures[name] = run_wrk(url, seconds=seconds, connections=32)["rps"]
    finally:
        server.terminate()
        server.wait(timeout=60)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    options = parser.parse_args()
    url = scratch_database(options.database_url)
    import_corpus()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GLOSSARY_CACHE_URL": REDIS,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # As bench/serve.py: the throttle counts, at a limit never reached.
        "GLOSSARY_ANON_THROTTLE_RATE": "100000000/minute",
        "GLOSSARY_USAGE_FLUSH_SECONDS": "5",
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    runs: dict[bool, list[dict]] = {False: [], True: []}
    for number in range(options.rounds):
        for counting in (False, True) if number % 2 == 0 else (True, False):
            runs[counting].append(one_round(env, counting, options.seconds))
            time.sleep(1)
    print(f"req/s, median of {options.rounds} rounds of {options.seconds} s, wrk -c32")
    print(f"{'read':28} {'counting off':>13} {'counting on':>12} {'on/off':>7}")
    for name, _ in READS:
        off = statistics.median(run[name] for run in runs[False])
        on = statistics.median(run[name] for run in runs[True])
        print(f"{name:28} {off:13,.0f} {on:12,.0f} {on / off:7.3f}")
    from terms.models import SearchUse, TermUse

    counted = sum(TermUse.objects.values_list("count", flat=True))
    searched = sum(SearchUse.objects.values_list("count", flat=True))
    print(f"written by the counted runs: {counted:,} term uses, {searched:,} searches")


if __name__ == "__main__":
    main()
