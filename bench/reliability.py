"""Reliability under load (figures, not a test): the production server as
`make serve` runs it (`manage.py serve`: granian, the derived process and the
task worker, supervised), then faults caused in the middle of traffic.

1. 60 s of `wrk` at 64 connections over list, detail, search, lookup and
   annotate: counts requests, errors and non-2xx answers.
2. Threads read the API while PostgreSQL is stopped and started again: every
   answer during the outage must be a 200 served without the database (a
   cached read: the glossary's stamp comes from Redis) or a 503 (never a 500,
   never a hang), and reads must answer 200 again within 3 s of PostgreSQL
   being back.
3. The same with Redis (a redis-server of the script's own) killed and
   started again empty: every read must still be a 200, from the database.
4. One granian worker killed (SIGKILL) under `wrk`: only requests in flight on
   it may fail, and the server keeps answering (granian starts another).
5. The derived process stopped (SIGSTOP) for 5 s under annotate traffic:
   annotate answers from each worker's own copy after its budget.
6. A writer killed as its transaction commits (before it can set the new
   stamp), while a reader put the old stamp back: how long readers keep
   seeing the glossary as it was (bounded by the stamp's lifetime).
7. The same with Redis refusing every write at the moment of the commit.

Needs PostgreSQL (the cluster is restarted: run it on a machine of your own),
redis-server and `wrk` (apt-get install redis-server wrk). Usage:

    .venv/bin/python bench/reliability.py \\
        --database-url postgres://postgres@127.0.0.1:5432/glossary_bench
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import (
    ROOT,
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
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(PORT), "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_until_up(f"{BASE}/healthz", server)
    return server


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def child_named(server: subprocess.Popen, name: str) -> int:
    return next(pid for pid in children(server.pid) if name in cmdline(pid))


def kill_worker_under_load(server: subprocess.Popen, connections: int) -> dict:
    """wrk for 15 s; one granian worker killed 5 s in."""
    workers = children(child_named(server, "granian"))
    killer = threading.Timer(5, lambda: os.kill(workers[0], signal.SIGKILL))
    killer.start()
    figures = load(15, connections)
    killer.join()
    after = children(child_named(server, "granian"))
    return {**figures, "workers_after": len(after), "replaced": workers[0] not in after}


def stop_derived_under_annotate(server: subprocess.Popen) -> dict:
    """Annotate from 4 threads for 12 s; the derived process stopped for 5 s."""
    derived = child_named(server, "manage.py derived")
    answers: list[tuple[float, int | str, float]] = []
    stop = threading.Event()

    def annotate() -> None:
        with httpx.Client(base_url=BASE, timeout=60) as client:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    code: int | str = client.post(
                        "/api/v1/annotate/",
                        json={
                            "text": "Log probability and temperature shape a prompt."
                        },
                    ).status_code
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                answers.append((started, code, time.monotonic() - started))

    threads = [threading.Thread(target=annotate) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    os.kill(derived, signal.SIGSTOP)
    stopped_at = time.monotonic()
    time.sleep(5)
    os.kill(derived, signal.SIGCONT)
    time.sleep(5)
    stop.set()
    for thread in threads:
        thread.join()
    during = [a for a in answers if a[0] >= stopped_at - 0.5]
    codes = [str(code) for _, code, _ in answers]
    return {
        "answers": len(answers),
        "codes": {c: codes.count(c) for c in sorted(set(codes))},
        "slowest_s": round(max(d for _, _, d in during), 2) if during else None,
    }


KILLED_WRITER = """
import os, signal, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection
import redis

commit = connection._commit
fault = sys.argv[2]

def commit_when_told():
    print("committing", flush=True)
    sys.stdin.readline()
    if fault == "refuse":
        client = redis.Redis.from_url(os.environ["GLOSSARY_CACHE_URL"])
        client.config_set("min-replicas-to-write", 1)
        commit()
        return
    commit()
    os.kill(os.getpid(), signal.SIGKILL)

connection._commit = commit_when_told
call_command("import_terms", sys.argv[1])
"""


def stale_after_write_fault(env: dict, fault: str, number: int) -> dict:
    """A writer dies at its commit ("kill") or Redis refuses the new stamp then
    ("refuse"), after a reader put the old stamp back; how long readers keep
    seeing a search (a cached read) that does not find the term it added."""
    folder = Path(tempfile.mkdtemp())
    slug = f"faultprobe{fault}{number}"  # one word no other term shares
    (folder / f"{slug}.yml").write_text(FAULT_TERM.format(name=slug))
    path = f"/api/v1/terms/?q={slug}"

    def found(client) -> bool:
        results = client.get(path).json()["results"]
        return any(term["slug"] == slug for term in results)

    with httpx.Client(base_url=BASE, timeout=10) as client:
        assert not found(client)
        writer = subprocess.Popen(
            [sys.executable, "-c", KILLED_WRITER, str(folder), fault],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert writer.stdout.readline().strip() == "committing"
        for _ in range(20):  # readers meanwhile: the old glossary, stamp put back
            found(client)
        writer.stdin.write("go\n")
        writer.stdin.flush()
        writer.wait(timeout=60)
        committed = time.monotonic()
        if fault == "refuse":
            time.sleep(0.2)
            redis.Redis.from_url(env["GLOSSARY_CACHE_URL"]).config_set(
                "min-replicas-to-write", 0
            )
        stale = 0
        while time.monotonic() - committed < 10:
            if found(client):
                return {"seen_after_s": round(time.monotonic() - committed, 2),
                        "stale_answers": stale}  # fmt: skip
            stale += 1
            time.sleep(0.05)
    return {"seen_after_s": None, "stale_answers": stale}


FAULT_TERM = """term: {name}
aliases: [{name} alias]
categories: [Testing]
roles: [engineering]
part_of_speech: noun
short_def: A term written while a fault is caused.
long_def: {long}
audiences: {{exec: Why leaders care., engineer: How builders use it.}}
examples: {{do: [Do this.], dont: [Not that.]}}
governance: {{nist_rmf_tags: [validity], risk_notes: Some risk.}}
relationships: {{}}
citations: [{{source: Example, url: "https://example.org/"}}]
license: CC BY-SA 4.0
status: approved
last_reviewed: "2026-01-15"
""".replace("{long}", " ".join(["word"] * 90))


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
        killed = kill_worker_under_load(server, args.connections)
        stopped = stop_derived_under_annotate(server)
        writer_killed = stale_after_write_fault(env, "kill", 1)
        refused = stale_after_write_fault(env, "refuse", 2)
    finally:
        server.terminate()
        server.wait(timeout=60)
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
    print(
        f"| a granian worker killed under 15 s of wrk | {killed['requests']:,} "
        f"requests, {killed['errors']} socket errors, {killed['non_2xx']} non-2xx; "
        f"workers after: {killed['workers_after']} (replaced: {killed['replaced']}) |"
    )
    print(
        f"| derived process stopped 5 s under annotate | {stopped['answers']} "
        f"answers {stopped['codes']}; slowest while stopped {stopped['slowest_s']} s |"
    )
    for name, figures in (
        ("writer killed at commit", writer_killed),
        ("Redis refusing the stamp at commit", refused),
    ):
        print(
            f"| {name} | readers saw the write after {figures['seen_after_s']} s "
            f"({figures['stale_answers']} stale answers before) |"
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
