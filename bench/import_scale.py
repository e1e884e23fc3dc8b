"""Import and query a large synthetic glossary.

    .venv/bin/python bench/import_scale.py --terms 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/glossary_bench

Writes N synthetic term files (with aliases, categories, roles, relationships
among them and some dangling ones) to a temporary folder, imports them, imports
them again unchanged, then times search, lookup, autocomplete, list and detail
requests through the API (median of 5, uncached), and editing one draft
(``PUT /api/v1/terms/{slug}/``, median of 41 after one untimed): what one
write costs at this scale.
"""

import argparse
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _setup import scratch_database

TOPICS = [
    "adaptive",
    "agent",
    "alignment",
    "anomaly",
    "attention",
    "audit",
    "batch",
    "benchmark",
    "bias",
    "cache",
    "calibration",
    "causal",
    "classifier",
    "cluster",
    "context",
    "corpus",
    "decoder",
    "drift",
    "embedding",
    "encoder",
    "ensemble",
    "evaluation",
    "feature",
    "filter",
    "gradient",
    "graph",
    "guard",
    "index",
    "inference",
    "kernel",
    "label",
    "latent",
    "layer",
    "lineage",
    "model",
    "monitor",
    "policy",
    "privacy",
    "probe",
    "prompt",
    "ranking",
    "reasoning",
    "recall",
    "retrieval",
    "reward",
    "risk",
    "safety",
    "sampling",
    "schema",
    "score",
    "token",
    "training",
    "transfer",
    "vector",
    "weight",
]


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    """Made-up words, so that a definition word is as rare as in real text."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return sorted(
        {
            "".join(rng.choice(letters) for _ in range(rng.randint(5, 10)))
            for _ in range(size)
        }
    )


def synthetic_documents(count: int, seed: int = 3):
    rng = random.Random(seed)
    words = vocabulary(rng)
    names: list[str] = []
    seen = set()
    while len(names) < count:
        name = " ".join(rng.sample(TOPICS, 3)) + f" {len(names)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    for index, name in enumerate(names):
        related = rng.sample(names[: max(index, 1)], k=min(2, max(index, 1)))
        yield (
            name,
            {
                "term": name,
                "aliases": [f"{name} method", f"alias {index}"],
                "categories": [f"Category {index % 12}"],
                "roles": ["engineering", "product"],
                "part_of_speech": "concept",
                "short_def": "A synthetic concept about "
                + " and ".join(rng.sample(TOPICS, 3))
                + ".",
                "long_def": " ".join(rng.choice(words) for _ in range(90)) + ".",
                "audiences": {
                    "exec": "Why it matters.",
                    "engineer": "How to build it.",
                },
                "examples": {"do": ["Measure it."], "dont": ["Guess."]},
                "governance": {
                    "nist_rmf_tags": ["validity"],
                    "risk_notes": "Some risk.",
                },
                "relationships": {
                    "related": [r for r in related if r != name]
                    or [f"missing {index}"],
                    "broader": [f"wanted topic {index % 500}"],
                },
                "citations": [
                    {"source": "Example", "url": f"https://example.org/{index}"}
                ],
                "license": "CC BY-SA 4.0",
                "status": "approved",
                "last_reviewed": "2026-11-01",
            },
        )


def median_ms(client, url: str, repeat: int = 5) -> float:
    from django.core.cache import cache

    times = []
    for _ in range(repeat):
        cache.clear()
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code in (200, 404), (url, response.status_code)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--terms", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="time the reads against the database as a previous run left it",
    )
    args = parser.parse_args()
    if args.queries_only:
        os.environ["DATABASE_URL"] = args.database_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glossary.settings")
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import django

        django.setup()
        from terms.models import Term

        print(f"{Term.objects.count():,} terms stored")
        names = list(Term.objects.order_by("name_key").values_list("name", flat=True))
        time_reads(names)
        time_edit(names)
        return
    scratch_database(args.database_url)
    import yaml
    from django.core.management import call_command
    from django.db import connection

    Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    from terms.documents.naming import term_slug

    folder = Path(tempfile.mkdtemp(prefix="glossary-scale-"))
    try:
        started = time.perf_counter()
        names = []
        for name, data in synthetic_documents(args.terms):
            text = yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True)
            (folder / f"{term_slug(name)}.yml").write_text(text, "utf-8")
            names.append(name)
        print(
            f"database: {connection.vendor}; {args.terms:,} term files written in "
            f"{time.perf_counter() - started:.1f}s"
        )
        for label in ("first import", "unchanged re-import"):
            started = time.perf_counter()
            out = io.StringIO()
            call_command("import_terms", str(folder), stdout=out, stderr=io.StringIO())
            summary = out.getvalue().strip().splitlines()[-1]
            print(f"{label}: {time.perf_counter() - started:.1f}s  ({summary})")
        time_reads(names)
        time_edit(names)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def time_reads(names) -> None:
    """Median uncached time of each read, in milliseconds."""
    from django.test import Client

    from terms.documents.naming import term_slug

    names = list(names)
    client = Client(HTTP_HOST="localhost")
    sample = names[len(names) // 2]
    slug = term_slug(sample)
    for label, url in (
        ("list page", "/api/v1/terms/?page_size=50"),
        ("list, filtered", "/api/v1/terms/?category=Category 3&role=engineering"),
        ("search q", "/api/v1/terms/?q=retrieval drift"),
        ("search typo", "/api/v1/terms/?q=halucination"),
        ("detail", f"/api/v1/terms/{slug}/"),
        ("lookup by alias", f"/api/v1/lookup/?q={sample} method"),
        ("lookup miss", "/api/v1/lookup/?q=retreival drfit"),
        ("autocomplete", "/api/v1/autocomplete/?q=retr"),
        ("wanted", "/api/v1/wanted/"),
    ):
        print(f"  {label:18} {median_ms(client, url):8.1f} ms")


def time_edit(names, repeat: int = 41) -> None:
    """Median time of one editor's PUT of a draft that links to stored terms
    and to a wanted one: the whole write path, as the API runs it."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from terms.documents.naming import term_slug

    user = get_user_model().objects.filter(username="bench-editor").first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench-editor", "", "x")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    sample = names[len(names) // 3 : len(names) // 3 + 2]
    document = {
        "term": "bench edited draft",
        "aliases": ["bench draft alias"],
        "categories": ["Category 1"],
        "roles": ["engineering"],
        "part_of_speech": "concept",
        "short_def": "A draft the benchmark edits again and again.",
        "long_def": " ".join(["word"] * 90) + ".",
        "audiences": {"exec": "Why it matters.", "engineer": "How to build it."},
        "examples": {"do": ["Measure it."], "dont": ["Guess."]},
        "governance": {"nist_rmf_tags": ["validity"], "risk_notes": "Some risk."},
        "relationships": {"related": sample, "broader": ["a topic nobody wrote"]},
        "citations": [{"source": "Example", "url": "https://example.org/draft"}],
        "license": "CC BY-SA 4.0",
        "status": "draft",
        "last_reviewed": "2026-11-01",
    }
    slug = term_slug(document["term"])
    client.delete(f"/api/v1/terms/{slug}/")
    created = client.post("/api/v1/terms/", document, content_type="application/json")
    assert created.status_code == 201, created.content[:300]
    times = []
    for round_ in range(-1, repeat):
        body = {**document, "short_def": f"A draft edited {round_} times over."}
        started = time.perf_counter()
        response = client.put(
            f"/api/v1/terms/{slug}/", body, content_type="application/json"
        )
        assert response.status_code == 200, response.content[:300]
        if round_ >= 0:  # the first warms this process's caches
            times.append(time.perf_counter() - started)
    quartiles = statistics.quantiles(times, n=4)
    print(
        f"  {'edit a draft (PUT)':18} {statistics.median(times) * 1000:8.1f} ms"
        f"  (quartiles {quartiles[0] * 1000:.1f}-{quartiles[2] * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_LOG_LEVEL", "ERROR")
    sys.exit(main())
