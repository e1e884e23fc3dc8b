"""Shared set-up for the benchmark scripts: a scratch database with the corpus.

Each benchmark runs against a database of its own so it never touches the one
``make run`` uses: a temporary SQLite file by default, or the PostgreSQL database
named by ``--database-url`` (dropped and created anew).
"""

import argparse
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("GLOSSARY_SHARED_DIR", ROOT.parent / "shared")) / "corpus"


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--database-url",
        default="",
        help="postgres://... of a scratch database (recreated); default: temp SQLite",
    )
    return parser.parse_args()


def scratch_database(url: str) -> str:
    """Point Django at a fresh, empty database and return its URL."""
    if not url:
        folder = tempfile.mkdtemp(prefix="glossary-bench-")
        url = f"sqlite:///{folder}/bench.sqlite3"
    elif url.startswith(("postgres://", "postgresql://")):
        import psycopg
        from psycopg import sql

        base, _, name = url.rpartition("/")
        name = name.split("?")[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glossary.settings")
    os.environ.setdefault("GLOSSARY_ANON_THROTTLE_RATE", "")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def import_corpus() -> None:
    from django.core.management import call_command

    if not (CORPUS / "ai-glossary").is_dir():
        sys.exit(f"reference corpus not found at {CORPUS}")
    call_command(
        "import_terms",
        str(CORPUS / "ai-glossary"),
        str(CORPUS / "ai-glossary-site"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )


# --- servers and load (bench/serve.py, bench/reliability.py) -------------------------


def wait_until_up(url: str, server) -> None:
    """Until ``url`` answers below 500; exit if the server stops or never does."""
    import time

    import httpx

    for _ in range(300):
        if server.poll() is not None:
            sys.exit(f"the server for {url} exited ({server.returncode})")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.terminate()
    sys.exit(f"{url} did not answer")


def granian(app: str, port: int, env: dict, cwd: Path, workers: int = 2):
    """``app`` under granian as ``make serve`` runs it (one thread per worker)."""
    import subprocess

    command = [str(ROOT / ".venv" / "bin" / "granian"), "--interface", "wsgi", app]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--blocking-threads", "1"]
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run_wrk(url: str, *, seconds: int, connections: int, script=None) -> dict:
    """One wrk run: requests, req/s, p50/p99 in ms, non-2xx and socket errors."""
    import subprocess

    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    figures = {"requests": 0, "rps": 0.0, "p50": None, "p99": None}
    figures.update(non_2xx=0, errors=0)
    for line in out.splitlines():
        words = line.split()
        if "requests in" in line:
            figures["requests"] = int(words[0])
        elif line.startswith("Requests/sec"):
            figures["rps"] = float(words[1])
        elif words[:1] in (["50%"], ["99%"]):
            figures["p" + words[0].rstrip("%")] = _ms(words[1])
        elif line.strip().startswith("Non-2xx"):
            figures["non_2xx"] = int(words[-1])
        elif line.strip().startswith("Socket errors"):
            figures["errors"] = sum(
                int(part.strip(",")) for part in words if part.strip(",").isdigit()
            )
    return figures


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return round(float(text[: -len(unit)]) * factor, 2)
    return float(text)
