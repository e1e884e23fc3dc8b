"""Reliability under load (figures, not a test): the production server at 64
connections, then a PostgreSQL restart in the middle of traffic.

1. 60 s of `wrk` at 64 connections over list, detail, search, lookup and
   annotate: counts requests, errors and non-2xx answers.
2. Threads read the API while PostgreSQL is stopped and started again: every
   answer during the outage must be a 200 served without the database (a
   cached read: the glossary's stamp comes from Redis) or a 503 (never a 500,
   never a hang), and reads must answer 200 again within 3 s of PostgreSQL
   being back.
3. The same with Redis (a redis-server of the script's own) killed and
   started again empty: every read must still be a 200, from the database.

Needs PostgreSQL (the cluster is restarted: run it on a machine of your own),
redis-server and `wrk` (apt-get install redis-server wrk). Usage:

    .venv/bin/python bench/reliability.py \\
        --database-url postgres://postgres@127.0.0.1:5432/glossary_bench
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
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

PORT = 8931
BASE = f"http://127.0.0.1:{PORT}"
PATHS = [
    "/api/v1/terms/?page_size=20",
    "/api/v1/terms/log-probability/",
    "/api/v1/terms/?q=retrieval%20drift",
    "/api/v1/lookup/?q=logprob",
]
WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  if i %% 5 == 0 then
    return wrk.format("POST", "/api/v1/annotate/",
      {["Content-Type"] = "application/json"},
      '{"text": "Log probability and temperature shape a prompt."}')
  end
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def start_server(env: dict) -> subprocess.Popen:
    """The production server as `make serve` starts it, with 2 workers."""
    server = granian("glossary.wsgi:application", PORT, env, ROOT)
    wait_until_up(f"{BASE}/healthz", server)
    return server


def load(seconds: int, connections: int) -> dict:
    """wrk over the read paths and annotate; its counts."""
    script = Path(tempfile.mkdtemp()) / "mix.lua"
    script.write_text(WRK_SCRIPT % ", ".join(f'"{p}"' for p in PATHS))
    figures = run_wrk(BASE, seconds=seconds, connections=connections, script=script)
    return {
        "requests": figures["requests"],
        "non_2xx": figures["non_2xx"],
        "errors": figures["errors"],
        "req_per_s": figures["rps"],
    }


def pg(action: str) -> None:
    cluster = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", action],
        check=True,
        capture_output=True,
    )


class OwnRedis:
    """A redis-server of this script's own, on a free port, kept in memory."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(200):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        sys.exit("redis-server did not start")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def restart_under_traffic(down, up, outage: float = 5.0) -> dict:
    """Read while ``down()`` stops a service and ``up()`` starts it again;
    classify every answer."""
    answers: list[tuple[float, int | str, float]] = []
    stop = threading.Event()

    def reader(path: str) -> None:
        with httpx.Client(base_url=BASE, timeout=10) as client:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    code: int | str = client.get(path).status_code
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                answers.append((started, code, time.monotonic() - started))

    threads = [threading.Thread(target=reader, args=(p,)) for p in PATHS * 2]
    for thread in threads:
        thread.start()
    time.sleep(3)
    down()
    down_at = time.monotonic()  # from here on the service is down
    time.sleep(outage)
    starting_at = time.monotonic()
    up()
    up_at = time.monotonic()  # returns once it accepts connections
    time.sleep(8)
    stop.set()
    for thread in threads:
        thread.join()
    during = [str(code) for t, code, _ in answers if down_at < t < starting_at]
    after = [(t, code) for t, code, _ in answers if t >= up_at]
    first_ok = next((t for t, code in after if code == 200), None)
    all_ok_from = None
    for t, code in after:
        if code != 200:
            all_ok_from = None
        elif all_ok_from is None:
            all_ok_from = t
    return {
        "answers": len(answers),
        "during_outage": {
            str(c): during.count(c) for c in sorted(set(map(str, during)))
        },
        "server_errors_500": sum(1 for _, code, _ in answers if code == 500),
        "slowest_answer_s": round(max(d for _, _, d in answers), 2),
        "first_200_after_s": round(first_ok - up_at, 2) if first_ok else None,
        "steady_200_after_s": round(all_ok_from - up_at, 2) if all_ok_from else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found (apt-get install wrk)")
    if not shutil.which("redis-server"):
        sys.exit("redis-server not found (apt-get install redis-server)")
    url = scratch_database(args.database_url)
    import_corpus()
    redis_server = OwnRedis()
    redis_server.start()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GLOSSARY_CACHE_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "GLOSSARY_ANON_THROTTLE_RATE": "",
        "GLOSSARY_STATEMENT_TIMEOUT_MS": "15000",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    server = start_server(env)
    try:
        burst = load(args.seconds, args.connections)
        again = load(10, args.connections)
        restart = restart_under_traffic(lambda: pg("stop"), lambda: pg("start"))
        redis_restart = restart_under_traffic(redis_server.stop, redis_server.start)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if redis_server.process.poll() is None:
            redis_server.stop()
    print("| phase | figure |")
    print("| --- | --- |")
    print(
        f"| {args.seconds} s at {args.connections} connections | "
        f"{burst['requests']:,} requests, {burst['req_per_s']:,.0f} req/s, "
        f"{burst['errors']} socket errors, {burst['non_2xx']} non-2xx |"
    )
    print(
        f"| again, 10 s at {args.connections} connections | "
        f"{again['requests']:,} requests, {again['errors']} socket errors, "
        f"{again['non_2xx']} non-2xx |"
    )
    for name, figures in (("PostgreSQL", restart), ("Redis", redis_restart)):
        print(
            f"| {name} stopped 5 s under traffic | answers during the outage: "
            f"{figures['during_outage']}; 500s: {figures['server_errors_500']}; "
            f"slowest answer {figures['slowest_answer_s']} s |"
        )
        print(
            f"| {name} back | first 200 after {figures['first_200_after_s']} s, "
            f"only 200s from {figures['steady_200_after_s']} s |"
        )


if __name__ == "__main__":
    main()
