"""Search quality on the reference corpus: hit@1 / hit@5 through the real API.

    .venv/bin/python bench/search_quality.py
    .venv/bin/python bench/search_quality.py --database-url postgres://postgres@127.0.0.1:5432/glossary_bench

(a) every name and alias as a lookup; (b) every name with one typo, as a lookup
(its suggestions) and as a search; (c) for every term, the word of its long
definition that fewest other terms use, as a search.
"""

import re
from collections import Counter, defaultdict

from _setup import arguments, import_corpus, scratch_database


def typo(name: str) -> str:
    """A deterministic one-edit typo in the longest word of ``name``."""
    words = name.split()
    index = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[index]
    if len(word) < 4:
        word = word + word[-1]  # doubled letter
    else:
        middle = len(word) // 2
        word = word[:middle] + word[middle + 1 :]  # dropped letter
    words[index] = word
    return " ".join(words)


def rate(hits: list[bool]) -> str:
    return f"{100 * sum(hits) / len(hits):5.1f}% ({sum(hits)}/{len(hits)})"


def main() -> None:
    args = arguments(__doc__)
    url = scratch_database(args.database_url)
    import_corpus()
    from django.db import connection
    from django.test import Client

    from terms.documents.naming import lookup_key
    from terms.models import Alias, Term

    client = Client(HTTP_HOST="localhost")
    terms = list(Term.objects.all())
    owners = defaultdict(set)
    for alias in Alias.objects.select_related("term"):
        owners[alias.key].add(alias.term.slug)
    names = {lookup_key(t.name): t.slug for t in terms}

    def lookup(q):
        response = client.get("/api/v1/lookup/", {"q": q})
        body = response.json()
        return [m["slug"] for m in body["matches"]] or [
            s["slug"] for s in body.get("suggestions", [])
        ]

    def search(q):
        body = client.get("/api/v1/terms/", {"q": q, "page_size": 5}).json()
        return [r["slug"] for r in body["results"]]

    print(f"database: {connection.vendor} ({url.split('@')[-1]})")
    print(f"terms: {len(terms)}")

    # (a) names and aliases
    name_hits = [lookup(t.name)[:1] == [t.slug] for t in terms]
    unambiguous, ambiguous_complete = [], []
    for alias in Alias.objects.select_related("term"):
        found = lookup(alias.name)
        if len(owners[alias.key]) == 1 and alias.key not in names:
            unambiguous.append(found[:1] == [alias.term.slug])
        else:
            ambiguous_complete.append(alias.term.slug in found)
    print("(a) lookup by name               hit@1", rate(name_hits))
    print("    lookup by unambiguous alias  hit@1", rate(unambiguous))
    print("    shared alias/name: term among matches", rate(ambiguous_complete))

    # (b) one typo
    typos = [(typo(t.name), t.slug) for t in terms]
    suggest = [lookup(q) for q, _ in typos]
    searched = [search(q) for q, _ in typos]
    print(
        "(b) typo lookup suggestions      hit@1",
        rate([r[:1] == [s] for r, (_, s) in zip(suggest, typos, strict=True)]),
    )
    print(
        "                                 hit@5",
        rate([s in r[:5] for r, (_, s) in zip(suggest, typos, strict=True)]),
    )
    print(
        "    typo as search q             hit@1",
        rate([r[:1] == [s] for r, (_, s) in zip(searched, typos, strict=True)]),
    )
    print(
        "                                 hit@5",
        rate([s in r[:5] for r, (_, s) in zip(searched, typos, strict=True)]),
    )

    # (c) distinctive long-definition words
    word = re.compile(r"[a-z]{6,}")
    vocab = {t.slug: set(word.findall(t.long_def.lower())) for t in terms}
    frequency = Counter(w for words in vocab.values() for w in words)
    top1, top3, top5 = [], [], []
    for t in terms:
        candidates = sorted(vocab[t.slug], key=lambda w: (frequency[w], w))
        if not candidates:
            continue
        found = search(candidates[0])
        top1.append(found[:1] == [t.slug])
        top3.append(t.slug in found[:3])
        top5.append(t.slug in found[:5])
    print("(c) distinctive definition word  hit@1", rate(top1))
    print("                                 hit@3", rate(top3))
    print("                                 hit@5", rate(top5))


if __name__ == "__main__":
    main()
