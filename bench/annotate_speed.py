"""Annotate's scanning speed and accuracy, in process, beside FlashText's.

    .venv/bin/pip install flashtext==2.7   # the comparison only
    .venv/bin/python bench/annotate_speed.py

The glossary is the NCBI disease training split's marked mentions (one term
per concept: its commonest mention as the name, the others as aliases, as
``bench/ncbi_disease.py`` builds it). The text is the development split's
abstracts, repeated to 1 MB. Prints, for our matcher (``find_spans``) and for
FlashText's ``KeywordProcessor`` (case-insensitive, the same names and
aliases), the speed in MB/s (median of 5) and span precision, recall and F1
on the development abstracts (a span counts when its offsets equal a marked
mention's); then our speed on the same abstracts as an HTML page and as a
Markdown document (``format: html | markdown``: prose found, then scanned).
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glossary.settings")
import django

django.setup()
from ncbi_disease import NCBI, glossary_documents, read_split  # noqa: E402

from terms.text.annotation import build_matcher, find_spans  # noqa: E402
from terms.text.documents import prose  # noqa: E402

SIZE = 1_000_000


def median_seconds(function, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def scores(found: dict, abstracts) -> tuple[float, float, float]:
    gold = {(a.pmid, s, e) for a in abstracts for s, e, _, _ in a.mentions}
    predicted = {(pmid, s, e) for pmid, spans in found.items() for s, e in spans}
    hits = len(gold & predicted)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return precision, recall, f1


def main() -> None:
    train = read_split(NCBI / "NCBItrainset_corpus.txt")
    dev = read_split(NCBI / "NCBIdevelopset_corpus.txt")
    documents = glossary_documents(train)
    entries = []
    for concept, document in documents.items():
        slug = concept.lower().replace(":", "-")
        entries.append((document["term"], slug, "name", False))
        entries += [(alias, slug, "alias", False) for alias in document["aliases"]]
    matcher = build_matcher(entries)
    joined = "\n\n".join(a.text for a in dev)
    text = (joined * (SIZE // len(joined) + 1))[:SIZE]
    print(f"glossary: {len(documents):,} terms, {len(entries):,} names and aliases")
    print(f"text: {len(text) / 1e6:.1f} MB of development abstracts\n")

    ours = median_seconds(lambda: find_spans(matcher, text))
    found = {
        a.pmid: [(s.start, s.end) for s in find_spans(matcher, a.text)] for a in dev
    }
    rows = [("ours (find_spans)", ours, scores(found, dev))]

    try:
        from flashtext import KeywordProcessor
    except ImportError:
        print("flashtext is not installed: pip install flashtext==2.7\n")
    else:
        keywords = KeywordProcessor(case_sensitive=False)
        for name, *_ in entries:
            keywords.add_keyword(name)
        theirs = median_seconds(lambda: keywords.extract_keywords(text, span_info=True))
        found = {
            a.pmid: [
                (s, e) for _, s, e in keywords.extract_keywords(a.text, span_info=True)
            ]
            for a in dev
        }
        rows.append(("FlashText 2.7", theirs, scores(found, dev)))

    print(f"{'matcher':20} {'MB/s':>6} {'P':>6} {'R':>6} {'F1':>6}")
    for label, seconds, (p, r, f1) in rows:
        print(
            f"{label:20} {len(text) / seconds / 1e6:6.2f} {p:6.3f} {r:6.3f} {f1:6.3f}"
        )

    page = "".join(
        f"<article><h2>Abstract {a.pmid}</h2><p>{a.text}</p>"
        f'<p>See <a href="https://example.org/{a.pmid}">the source</a> and '
        f"<code>pmid={a.pmid}</code>.</p></article>\n"
        for a in dev
    )
    notes = "".join(
        f"## Abstract {a.pmid}\n\n{a.text}\n\nSee [the source](https://example.org/"
        f"{a.pmid}) and `pmid={a.pmid}`.\n\n"
        for a in dev
    )
    print()
    for fmt, document in (("html", page), ("markdown", notes)):
        document = (document * (SIZE // len(document) + 1))[:SIZE]
        seconds = median_seconds(
            lambda d=document, f=fmt: find_spans(matcher, prose(d, f).text)
        )
        print(f"ours, format {fmt:9} {len(document) / seconds / 1e6:6.2f} MB/s")


if __name__ == "__main__":
    main()
