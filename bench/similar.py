"""Similar terms against what editors linked (figures, not a test).

Imports the reference corpus into a scratch database, asks
``GET /api/v1/terms/{slug}/similar/?limit=8`` for every term, and scores the
eight answers against the term's curated broader/narrower/related links that
name a term of the corpus (both directions: a link joins two terms):
recall@8 (share of a term's links among its eight) and precision@8 (share of
the eight that are links), averaged over the terms that have links.

Then, to show the choice of the links' votes (``terms/text/similarity.py``) rests
on more than one lucky setting: the same scores with no votes and around the
chosen setting (nearest neighbours voting x weight of the votes), and a
held-out estimate: twenty random halvings of the terms, the best setting
picked on one half and scored on the other.

Then, at scale: builds the index of a synthetic glossary (``--scale``, 100,000
terms by default, the documents of ``bench/import_scale.py``, validated in
memory) and times the build and the answer for 1,000 terms. Usage:

    .venv/bin/python bench/similar.py [--database-url postgres://...] [--scale N]
"""

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import import_corpus, scratch_database

#: The reference project's own suggestions on the same data, as the issue
#: that asked for this measured them.
REFERENCE = {"recall@8": 0.585, "precision@8": 0.305}


def _resident_mib() -> float:
    """This process's resident memory now, in MiB (Linux)."""
    import gc
    import os

    gc.collect()
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def at_scale(count: int) -> None:
    """Build the index of ``count`` synthetic terms; time it and its answers."""
    import resource

    from import_scale import synthetic_documents

    from terms.documents.document import validate_term_data
    from terms.documents.naming import term_slug
    from terms.text.aside import give_back_memory
    from terms.text.similarity import SimilarityIndex

    documents = {}
    for name, data in synthetic_documents(count):
        document, problems = validate_term_data(
            data, known_roles={"engineering", "product"}
        )
        assert not problems, problems
        documents[term_slug(name)] = document
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    held_before = _resident_mib()
    started = time.perf_counter()
    index = SimilarityIndex.build(documents)
    built = time.perf_counter() - started
    give_back_memory()  # as a server does once a build is kept (terms.text.aside)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    held = _resident_mib() - held_before
    arrays = (
        sum(value.nbytes for value in vars(index).values() if hasattr(value, "nbytes"))
        / 2**20
    )
    slugs = random.Random(7).sample(sorted(documents), min(1000, len(documents)))
    times = []
    for slug in slugs:
        started = time.perf_counter()
        index.similar(slug, 8)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(
        f"\n{count:,} synthetic terms: index built in {built:.1f} s "
        f"(peak memory grew {grown:.0f} MiB while building; resident memory "
        f"stayed {held:.0f} MiB higher, of which its arrays are {arrays:.0f} MiB); "
        f"similar(limit=8) for {len(times):,} terms: "
        f"median {statistics.median(times):.2f} ms, "
        f"p99 {times[int(len(times) * 0.99)]:.2f} ms"
    )


def _scores(index, links, slugs) -> tuple[float, float]:
    """Mean recall@8 and precision@8 of ``index`` over ``slugs``."""
    recall = precision = 0.0
    for slug in slugs:
        found = {other for other, _ in index.similar(slug, 8)}
        hits = len(found & links[slug])
        recall += hits / len(links[slug])
        precision += hits / 8
    return recall / len(slugs), precision / len(slugs)


def sweep(links: dict[str, set[str]]) -> None:
    """Recall@8 without the links' votes and around the chosen setting, and
    the held-out estimate of picking a setting on half the terms."""
    from terms.documents.mapping import documents_for
    from terms.models import Term
    from terms.text import similarity

    documents = documents_for(Term.objects.filter(status__in=["approved"]))
    index = similarity.SimilarityIndex.build({d.slug: d for d in documents.values()})
    scored = sorted(slug for slug in index.slugs if links[slug])
    chosen = (similarity.LINK_VOTERS, similarity.LINK_WEIGHT)
    settings = [
        (voters, weight) for voters in (3, 5, 8, 12) for weight in (0.1, 0.2, 0.3)
    ]
    per_term: dict[tuple, dict[str, float]] = {}
    try:
        for setting in [(0, 0.0), *settings]:
            similarity.LINK_VOTERS, similarity.LINK_WEIGHT = setting
            per_term[setting] = {
                slug: _scores(index, links, [slug])[0] for slug in scored
            }
    finally:
        similarity.LINK_VOTERS, similarity.LINK_WEIGHT = chosen
    mean = {key: statistics.fmean(values.values()) for key, values in per_term.items()}
    print(f"\nrecall@8 over {len(scored)} approved terms with links, by setting")
    print(f"no votes (content only): {mean[(0, 0.0)]:.3f}")
    print(
        "| neighbours voting | "
        + " | ".join(f"weight {w}" for w in (0.1, 0.2, 0.3))
        + " |"
    )
    print("| ---: | ---: | ---: | ---: |")
    for voters in (3, 5, 8, 12):
        cells = []
        for weight in (0.1, 0.2, 0.3):
            cell = f"{mean[(voters, weight)]:.3f}"
            cells.append(f"**{cell}**" if (voters, weight) == chosen else cell)
        print(f"| {voters} | " + " | ".join(cells) + " |")
    rng = random.Random(1)
    held_out = []
    for _ in range(20):
        order = scored[:]
        rng.shuffle(order)
        halves = (order[: len(order) // 2], order[len(order) // 2 :])
        for pick, score in (halves, halves[::-1]):
            best = max(
                settings, key=lambda key: sum(per_term[key][slug] for slug in pick)
            )
            held_out.append(statistics.fmean(per_term[best][slug] for slug in score))
    print(
        f"held out (setting picked on one half, scored on the other, "
        f"{len(held_out)} times): recall@8 {statistics.fmean(held_out):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--scale", type=int, default=100_000)
    args = parser.parse_args()
    scratch_database(args.database_url)
    import_corpus()
    from django.test import Client

    from terms.models import Relationship, Term

    links: dict[str, set[str]] = defaultdict(set)
    for source, target in Relationship.objects.exclude(target=None).values_list(
        "term__slug", "target__slug"
    ):
        if source != target:
            links[source].add(target)
            links[target].add(source)
    client = Client(HTTP_HOST="localhost")
    recall = precision = 0.0
    scored = 0
    for slug in Term.objects.order_by("slug").values_list("slug", flat=True):
        if not links[slug]:
            continue
        response = client.get(f"/api/v1/terms/{slug}/similar/", {"limit": 8})
        assert response.status_code == 200, response.content[:300]
        found = {row["slug"] for row in response.json()["results"]}
        hits = len(found & links[slug])
        recall += hits / len(links[slug])
        precision += hits / 8
        scored += 1
    print(f"{scored} terms with links")
    print("| | recall@8 | precision@8 |")
    print("| --- | ---: | ---: |")
    print(f"| this project | {recall / scored:.3f} | {precision / scored:.3f} |")
    print(
        f"| reference project | {REFERENCE['recall@8']:.3f} | "
        f"{REFERENCE['precision@8']:.3f} |"
    )
    sweep(links)
    if args.scale:
        at_scale(args.scale)


if __name__ == "__main__":
    main()
