"""Annotation speed and memory: 100 KB of text against the reference corpus and
against a synthetic glossary of 100,000 terms (plus one alias each).

    .venv/bin/python bench/annotate.py [--database-url postgres://.../glossary_bench]

Reports matcher build time, annotate time (median of 5) and resident memory:
of the matcher with the entries it was built from (the figure earlier runs
printed), and of the matcher alone.
"""

import random
import statistics
import time

from _setup import arguments, import_corpus, scratch_database

TEXT_BYTES = 100_000


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(function, repeat: int = 5):
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def corpus_text(terms) -> str:
    parts, size = [], 0
    while size < TEXT_BYTES:
        for term in terms:
            parts.append(term.long_def)
            size += len(term.long_def.encode()) + 2
            if size >= TEXT_BYTES:
                break
    return "\n\n".join(parts)


def synthetic_glossary(count: int, seed: int = 7):
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = sorted(
        {
            "".join(rng.choice(letters) for _ in range(rng.randint(4, 9)))
            for _ in range(6000)
        }
    )
    names = set()
    while len(names) < count:
        names.add(" ".join(rng.sample(words, rng.randint(1, 3))))
    names = sorted(names)
    entries = [(name, f"t{index}", "name") for index, name in enumerate(names)]
    entries += [
        (f"{name} system", f"t{index}", "alias") for index, name in enumerate(names)
    ]
    return entries, names, words


def main() -> None:
    args = arguments(__doc__)
    scratch_database(args.database_url)
    import_corpus()
    from django.db import connection
    from django.test import Client

    from terms.models import Term
    from terms.reads.selectors import glossary_state
    from terms.text.annotation import (
        MATCHERS,
        build_matcher,
        find_spans,
        glossary_matcher,
    )
    from terms.text.aside import give_back_memory

    print(f"database: {connection.vendor}")
    terms = list(Term.objects.all())
    text = corpus_text(terms)
    state = glossary_state()
    MATCHERS.clear()
    build_time, matcher = timed(
        lambda: (
            MATCHERS.clear(),
            glossary_matcher(["approved"], (state.version, 0)),
        )[1],
        repeat=3,
    )
    annotate_time, spans = timed(lambda: find_spans(matcher, text))
    client = Client(HTTP_HOST="localhost")
    client.post("/api/v1/annotate/", {"text": text}, content_type="application/json")
    request_time, response = timed(
        lambda: client.post(
            "/api/v1/annotate/", {"text": text}, content_type="application/json"
        )
    )
    assert response.status_code == 200
    size = len(text.encode())
    print(f"corpus: {len(terms)} terms, {matcher.keys} keys; text {size:,} bytes")
    print(f"  build (2 queries + compile): {build_time * 1000:8.1f} ms")
    spent = annotate_time * 1000
    print(f"  annotate (matcher only):     {spent:8.1f} ms, {len(spans)} spans")
    print(f"  POST /api/v1/annotate/:      {request_time * 1000:8.1f} ms")

    before = rss_mib()
    entries, names, words = synthetic_glossary(100_000)
    with_entries = rss_mib()
    started = time.perf_counter()
    big = build_matcher(entries)
    build = time.perf_counter() - started
    give_back_memory()  # as every build the server keeps (terms.text.aside)
    after = rss_mib()
    rng = random.Random(11)
    pieces, length = [], 0
    while length < TEXT_BYTES:
        piece = rng.choice(names) if rng.random() < 0.15 else rng.choice(words)
        pieces.append(piece)
        length += len(piece) + 1
    big_text = " ".join(pieces)
    annotate_big, big_spans = timed(lambda: find_spans(big, big_text))
    size = len(big_text.encode())
    print(f"synthetic: 100,000 terms, {big.keys:,} keys; text {size:,} bytes")
    print(f"  build (compile):             {build * 1000:8.1f} ms")
    spent = annotate_big * 1000
    print(f"  annotate (matcher only):     {spent:8.1f} ms, {len(big_spans)} spans")
    print(f"  resident memory of matcher + entries: {after - before:6.1f} MiB")
    print(f"  resident memory of the matcher alone: {after - with_entries:6.1f} MiB")


if __name__ == "__main__":
    main()
