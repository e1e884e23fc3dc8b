"""Releases at scale, on the database ``bench/import_scale.py`` left.

    .venv/bin/python bench/import_scale.py --terms 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/glossary_bench
    .venv/bin/python bench/releases.py \\
        --database-url postgres://postgres@127.0.0.1:5432/glossary_bench

Cuts a release, then nine more with 1% of the terms changed before each (new
revisions through the one write path), and prints: the time of each cut, the
diff of two releases 1% apart, one term read as of a release (uncached,
median of 21), and the storage of the release tables after one release and
after ten. Then the release's snapshot (``terms/serving/snapshots.py``): the
time to build it and its size, and the median of reads that run on it (the
term list, a search, lookup, autocomplete; annotate of 1 KB), each uncached.
Releases the script made before are removed first.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--releases", type=int, default=10)
    parser.add_argument("--share", type=float, default=0.01)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glossary.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "ERROR")
    os.environ.setdefault("GLOSSARY_CACHE_URL", "none")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import django

    django.setup()
    from dataclasses import replace

    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a database made before releases

    from django.db import connection
    from django.test import Client

    from terms.documents.mapping import TERM_DOCUMENT_PREFETCH, document_from_term
    from terms.models import ChangeSource, Release, ReleaseEntry, Term
    from terms.reads import releases
    from terms.workflow import services
    from terms.workflow.releases import release_create

    ReleaseEntry.objects.all().delete()
    Release.objects.all().delete()
    if connection.vendor == "postgresql":  # what earlier runs left on disk
        with connection.cursor() as cursor:
            cursor.execute("VACUUM FULL terms_releaseentry")
            cursor.execute("VACUUM FULL terms_release")
    run = time.strftime("%H:%M:%S")
    total = Term.objects.count()
    step = max(1, int(total * args.share))
    print(f"{connection.vendor}; {total:,} terms; {step:,} changed between releases")

    def storage() -> int:
        """The release tables on disk after routine maintenance (VACUUM)."""
        if connection.vendor != "postgresql":
            return ReleaseEntry.objects.count()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM terms_releaseentry")
            cursor.execute("VACUUM terms_release")
            cursor.execute(
                "SELECT pg_total_relation_size('terms_releaseentry') "
                "+ pg_total_relation_size('terms_release')"
            )
            return cursor.fetchone()[0]

    sizes, cuts = [], []
    pks = list(Term.objects.order_by("pk").values_list("pk", flat=True))
    for number in range(1, args.releases + 1):
        if number > 1:
            chosen = pks[(number - 2) * step : (number - 1) * step]
            terms = Term.objects.filter(pk__in=chosen).prefetch_related(
                *TERM_DOCUMENT_PREFETCH
            )
            changes = [
                (
                    replace(
                        document_from_term(term),
                        short_def=f"Edited at {run} for release {number}.",
                    ),
                    term,
                )
                for term in terms
            ]
            services.terms_write(
                changes=changes, actor=None, source=ChangeSource.IMPORT
            )
        started = time.perf_counter()
        release_create(name=f"bench-{number}", actor=None, force=True)
        cuts.append(time.perf_counter() - started)
        sizes.append(storage())
        print(f"  cut bench-{number}: {cuts[-1]:.2f} s")
    started = time.perf_counter()
    found = releases.diff("bench-1", "bench-2")
    took = time.perf_counter() - started
    print(
        f"diff of two releases {args.share:.0%} apart: {took:.2f} s "
        f"({len(found.changed):,} changed)"
    )
    client = Client(HTTP_HOST="localhost")
    slug = Term.objects.order_by("pk").values_list("slug", flat=True)[step // 2]
    times = []
    for _ in range(21):
        started = time.perf_counter()
        response = client.get(f"/api/v1/terms/{slug}/", {"release": "bench-1"})
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:200]
    print(f"one term as of a release: {statistics.median(times) * 1000:.1f} ms median")
    from terms.serving import snapshots

    release = Release.objects.get(name="bench-1")
    snapshots.path_for(release).unlink(missing_ok=True)
    started = time.perf_counter()
    path = snapshots.build(release)
    built = time.perf_counter() - started
    print(
        f"snapshot of a release: built in {built:.1f} s, "
        f"{path.stat().st_size / 1e6:.0f} MB on disk"
    )
    name = Term.objects.order_by("pk").values_list("name", flat=True)[step // 2]
    reads = {
        "term list": ("/api/v1/terms/", {}),
        "search (q)": ("/api/v1/terms/", {"q": name}),
        "lookup": ("/api/v1/lookup/", {"q": name}),
        "autocomplete": ("/api/v1/autocomplete/", {"q": name[:4]}),
    }
    text = (f"We looked at {name} and what follows from it. " * 25)[:1000]
    for label, (path_, query) in reads.items():
        times = []
        for _ in range(11):
            started = time.perf_counter()
            # GLOSSARY_CACHE_URL=none: every read is rendered.
            response = client.get(path_, {**query, "release": "bench-1"})
            times.append(time.perf_counter() - started)
            assert response.status_code in (200, 404), response.content[:200]
        print(f"  as of a release, {label}: {statistics.median(times) * 1000:.1f} ms")
    times = []
    for number in range(11):
        started = time.perf_counter()
        response = client.post(
            "/api/v1/annotate/?release=bench-1",
            {"text": text + str(number)},
            content_type="application/json",
        )
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:200]
    print(
        f"  as of a release, annotate 1 KB: {statistics.median(times) * 1000:.1f} ms "
        f"(the first, which builds the release's matcher: {times[0]:.1f} s)"
    )
    unit = "bytes" if connection.vendor == "postgresql" else "rows"
    print(
        f"release storage: one release {sizes[0]:,} {unit}; {args.releases} "
        f"releases {sizes[-1]:,} {unit} ({sizes[-1] / sizes[0]:.2f}x)"
    )


if __name__ == "__main__":
    main()
