"""Similar terms against what editors linked (figures, not a test).

Imports the reference corpus into a scratch database, asks
``GET /api/v1/terms/{slug}/similar/?limit=8`` for every term, and scores the
eight answers against the term's curated broader/narrower/related links that
name a term of the corpus (both directions: a link joins two terms):
recall@8 (share of a term's links among its eight) and precision@8 (share of
the eight that are links), averaged over the terms that have links. Usage:

    .venv/bin/python bench/similar.py [--database-url postgres://...]
"""

import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import arguments, import_corpus, scratch_database

#: The reference project's own suggestions on the same data, as the issue
#: that asked for this measured them.
REFERENCE = {"recall@8": 0.585, "precision@8": 0.305}


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
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


if __name__ == "__main__":
    main()
