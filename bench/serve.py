"""Serving benchmark (figures, not a test): this project beside the reference
glossary's FastAPI service and a constant-response ceiling, in one run.

Starts, each with 2 workers on 127.0.0.1:
- this project under granian (as `make serve`) on a scratch PostgreSQL database
  holding the reference corpus, with the Redis cache (warm: every URL read once
  first) and again with caching off (`GLOSSARY_CACHE_URL=none`: cold; the
  one-term JSON read is then answered from the read model, terms/serving/readmodel.py,
  which its first read fills), and once more with the read model off too, for
  the one-term read rendered on every request;
- the reference service (`../shared/reference-service`) under uvicorn, in a
  virtualenv of its own (made once in /tmp, from its README's pins);
- a WSGI app answering a constant 2-byte body under granian: the ceiling of
  the server on this machine.

Then drives each read with `wrk -t2 -c32` and prints req/s, p50 and p99
latency, non-2xx and socket errors, and the ratios to the reference and to the
ceiling. Anonymous throttling stays on in the warm run, at a limit the load
does not reach (100,000,000 a minute), so its counting is part of the measured
path: at that limit a worker takes numbers from Redis in blocks of a million
(``terms.serving.throttle``), so nearly every request is counted in the worker. Usage:

    .venv/bin/python bench/serve.py \\
        --database-url postgres://postgres@127.0.0.1:5432/glossary_bench
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import (
    CORPUS,
    ROOT,
    granian,
    import_corpus,
    run_wrk,
    scratch_database,
    wait_until_up,
)

OURS, COLD, REFERENCE, CEILING, OTHER = 8941, 8942, 8943, 8944, 8945
#: Another server to compare granian with (--compare-gunicorn), in a virtualenv
#: of its own so the project's stays as requirements.txt pins it.
GUNICORN_ENV = Path(tempfile.gettempdir()) / "glossary-bench-gunicorn"
GUNICORN_PIN = "gunicorn==23.0.0"
REFERENCE_SERVICE = CORPUS.parent / "reference-service"
REFERENCE_ENV = Path(tempfile.gettempdir()) / "glossary-bench-reference"
REFERENCE_PINS = ["fastapi==0.110.2", "uvicorn[standard]==0.29.0", "PyYAML==6.0.1"]
CATEGORY = "Governance & Risk"

#: (name, our path, the reference service's path or None)
READS = [
    ("one term", "/api/v1/terms/log-probability/", "/terms/log-probability"),
    ("one term .yaml", "/api/v1/terms/log-probability.yaml", None),
    ("one term .md", "/api/v1/terms/log-probability.md", None),
    (
        "filtered list (category + role)",
        "/api/v1/terms/?category=Governance%20%26%20Risk&role=policy",
        "/terms?category=Governance%20%26%20Risk&role=policy",
    ),
    ("search q=prob", "/api/v1/terms/?q=prob", "/terms?q=prob"),
    ("lookup", "/api/v1/lookup/?q=logprob", None),
    ("autocomplete", "/api/v1/autocomplete/?q=prob", None),
    ("categories", "/api/v1/categories/", "/categories"),
    ("stats", "/api/v1/stats/", None),
    ("wanted", "/api/v1/wanted/", None),
    ("all terms (export / /terms)", "/api/v1/export/", "/terms"),
]

CONSTANT_APP = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""

POST_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("%s", "rb")
wrk.body = f:read("*a")
f:close()
"""


def gunicorn(app: str, port: int, env: dict, cwd: Path) -> subprocess.Popen:
    """``app`` under gunicorn with 2 sync workers (the usual Django set-up)."""
    python = GUNICORN_ENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(GUNICORN_ENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                GUNICORN_PIN,
                "-r",
                str(ROOT / "requirements.txt"),
            ],
            check=True,
        )
    return subprocess.Popen(
        [
            str(GUNICORN_ENV / "bin" / "gunicorn"),
            app,
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def compare_servers(seconds: int, env: dict, work: Path) -> dict:
    """Ceiling and a warm one-term read under gunicorn's sync workers."""
    figures = {}
    for name, app, cwd, path in (
        ("constant response", "constant_app:application", work, "/"),
        ("one term (warm)", "glossary.wsgi:application", ROOT, READS[0][1]),
    ):
        server = gunicorn(app, OTHER, env, cwd)
        try:
            wait_until_up(f"http://127.0.0.1:{OTHER}{path}", server)
            httpx.get(f"http://127.0.0.1:{OTHER}{path}", timeout=30)
            figures[name] = wrk(f"http://127.0.0.1:{OTHER}{path}", seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return figures


def reference_service() -> subprocess.Popen | None:
    """The reference FastAPI service under uvicorn, or None when it is missing."""
    if not REFERENCE_SERVICE.is_dir():
        print(f"reference service not found at {REFERENCE_SERVICE}; skipping it")
        return None
    python = REFERENCE_ENV / "env" / "bin" / "python"
    if not python.exists():
        subprocess.run(
            [sys.executable, "-m", "venv", str(REFERENCE_ENV / "env")], check=True
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *REFERENCE_PINS],
            check=True,
        )
    app = REFERENCE_ENV / "app"
    shutil.rmtree(app, ignore_errors=True)
    shutil.copytree(REFERENCE_SERVICE, app)
    (app / "data").mkdir(exist_ok=True)
    (app / "data" / "terms").symlink_to((CORPUS / "ai-glossary").resolve())
    server = subprocess.Popen(
        [
            str(REFERENCE_ENV / "env" / "bin" / "uvicorn"),
            "api.main:app",
            "--workers",
            "2",
            "--host",
            "127.0.0.1",
            "--port",
            str(REFERENCE),
            "--no-access-log",
        ],
        cwd=app,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_up(f"http://127.0.0.1:{REFERENCE}/terms/log-probability", server)
    return server


def wrk(url: str, seconds: int, script: Path | None = None) -> dict:
    """One wrk run at 32 connections: req/s, p50/p99 in ms, non-2xx, errors."""
    return run_wrk(url, seconds=seconds, connections=32, script=script)


def annotate_bodies(folder: Path) -> dict[str, Path]:
    """JSON bodies of about 1 KB and 100 KB of glossary prose."""
    import yaml

    prose = []
    for path in sorted((CORPUS / "ai-glossary").glob("*.yml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        prose.append(str(data.get("long_def") or data.get("short_def") or ""))
    text = " ".join(prose)
    while len(text) < 100_000:
        text += " " + text
    bodies = {}
    for name, size in (("annotate 1 KB", 1_000), ("annotate 100 KB", 100_000)):
        body = folder / f"{size}.json"
        body.write_text(json.dumps({"text": text[:size]}), "utf-8")
        script = folder / f"{size}.lua"
        script.write_text(POST_SCRIPT % body)
        bodies[name] = script
    return bodies


def measure(base: str, seconds: int, scripts: dict[str, Path], warm: bool) -> dict:
    results = {}
    for name, path, _ in READS:
        if warm:
            httpx.get(base + path, timeout=30)
        results[name] = wrk(base + path, seconds)
    # The process's first annotate loads the inflection lexicon and builds the
    # matcher: not what a steady server does per request.
    for _ in range(4):  # each worker
        httpx.post(base + "/api/v1/annotate/", json={"text": "warm up"}, timeout=60)
    for name, script in scripts.items():
        results[name] = wrk(base + "/api/v1/annotate/", seconds, script)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=int, default=10, help="per read (10)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    parser.add_argument(
        "--compare-gunicorn",
        action="store_true",
        help="also measure gunicorn (2 sync workers): ceiling and one warm read",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found (apt-get install wrk)")
    url = scratch_database(args.database_url)
    import_corpus()
    import redis

    redis.Redis.from_url(args.redis).flushdb()
    work = Path(tempfile.mkdtemp(prefix="glossary-serve-"))
    (work / "constant_app.py").write_text(CONSTANT_APP)
    scripts = annotate_bodies(work)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GLOSSARY_STATEMENT_TIMEOUT_MS": "15000",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECRET_KEY": "bench-only-" + "x" * 40,
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    warm_env = {
        **env,
        "GLOSSARY_CACHE_URL": args.redis,
        "GLOSSARY_ANON_THROTTLE_RATE": "100000000/minute",
    }
    cold_env = {**env, "GLOSSARY_CACHE_URL": "none", "GLOSSARY_ANON_THROTTLE_RATE": ""}
    render_env = {**cold_env, "GLOSSARY_READ_MODEL": "off"}
    servers = []
    try:
        ceiling = granian("constant_app:application", CEILING, env, work)
        servers.append(ceiling)
        wait_until_up(f"http://127.0.0.1:{CEILING}/", ceiling)
        top = wrk(f"http://127.0.0.1:{CEILING}/", args.seconds)
        ceiling.terminate()

        reference = reference_service()
        ref = {}
        if reference is not None:
            servers.append(reference)
            for name, _, path in READS:
                if path:
                    ref[name] = wrk(f"http://127.0.0.1:{REFERENCE}{path}", args.seconds)
            reference.terminate()

        ours = granian("glossary.wsgi:application", OURS, warm_env, ROOT)
        servers.append(ours)
        wait_until_up(f"http://127.0.0.1:{OURS}/healthz", ours)
        warm = measure(f"http://127.0.0.1:{OURS}", args.seconds, scripts, warm=True)
        ours.terminate()

        cold_server = granian("glossary.wsgi:application", COLD, cold_env, ROOT)
        servers.append(cold_server)
        wait_until_up(f"http://127.0.0.1:{COLD}/healthz", cold_server)
        cold = measure(f"http://127.0.0.1:{COLD}", args.seconds, scripts, warm=False)
        cold_server.terminate()
        cold_server.wait(timeout=30)

        render_server = granian("glossary.wsgi:application", COLD, render_env, ROOT)
        servers.append(render_server)
        wait_until_up(f"http://127.0.0.1:{COLD}/healthz", render_server)
        rendered = wrk(f"http://127.0.0.1:{COLD}{READS[0][1]}", args.seconds)
        render_server.terminate()
        others = (
            compare_servers(args.seconds, warm_env, work)
            if args.compare_gunicorn
            else {}
        )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    report(top, ref, warm, cold)
    one = ref.get("one term")
    print(
        f"\none term, no cache and no read model (rendered on every request): "
        f"{rendered['rps']:,.0f} req/s, p99 {rendered['p99']} ms"
        + (f" ({rendered['rps'] / one['rps']:.2f} of the reference)" if one else "")
    )
    for name, figures in others.items():
        print(
            f"gunicorn (2 sync workers), {name}: {figures['rps']:,.0f} req/s, "
            f"p99 {figures['p99']} ms (granian: "
            f"{(top if name.startswith('constant') else warm['one term'])['rps']:,.0f})"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "ceiling": top,
                    "reference": ref,
                    "warm": warm,
                    "cold": cold,
                    "rendered": rendered,
                    "gunicorn": others,
                }
            )
        )


def report(top: dict, ref: dict, warm: dict, cold: dict) -> None:
    print(
        f"ceiling (constant response, granian, 2 workers): {top['rps']:,.0f} req/s, "
        f"p50 {top['p50']} ms, p99 {top['p99']} ms\n"
    )
    print(
        "| read | reference req/s | warm req/s | p50 ms | p99 ms | cold req/s | "
        "cold p99 ms | warm/ref | cold/ref | warm/ceiling | errors |"
    )
    print(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    for name in warm:
        w, c, r = warm[name], cold[name], ref.get(name)
        errors = w["non_2xx"] + w["errors"] + c["non_2xx"] + c["errors"]
        cells = [
            name,
            f"{r['rps']:,.0f}" if r else "-",
            f"{w['rps']:,.0f}",
            w["p50"],
            w["p99"],
            f"{c['rps']:,.0f}",
            c["p99"],
            f"{w['rps'] / r['rps']:.2f}" if r else "-",
            f"{c['rps'] / r['rps']:.2f}" if r else "-",
            f"{w['rps'] / top['rps']:.3f}",
            errors,
        ]
        print("| " + " | ".join(str(cell) for cell in cells) + " |")


if __name__ == "__main__":
    main()
