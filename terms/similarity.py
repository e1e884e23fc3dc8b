"""Terms similar in content: suggestions for the relationships editors curate.

A term's content is everything in its document but its relationships (those
are what the ranking helps editors find): name and aliases, definitions,
audiences, examples, categories, tags and roles. Each term becomes a TF-IDF
vector of its words, each word reduced to its shortest noun form
(``terms.inflection``), weighted by where it stands (a name counts three times
a long definition). Similarity is the cosine of two vectors, plus a little for
a definition that names the other term (found with the annotate matcher) and
for shared categories.

Chosen by measuring on the reference corpus against its curated links
(``bench/similar.py``): this mix ranked them better than TF-IDF alone and
than the reference project's own suggestions. Written here rather than taken
from scikit-learn, which would add it and SciPy (over 100 MB) for thirty lines
of arithmetic over sparse dictionaries.

An index is built once per glossary version and set of statuses, kept in the
process (after a change, requests use the previous one while a thread builds
the next: ``terms.aside``), and answers a term's neighbours through an
inverted index, so a query touches only terms that share a word with it.
"""

import functools
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from .annotation import build_matcher, find_spans
from .aside import LatestBuilds
from .document import TermDocument
from .inflection import word_forms

__all__ = ["INDEXES", "SimilarityIndex", "similarity_index", "similarity_index_fresh"]

#: How much a word counts by where it stands.
WEIGHTS = {
    "name": 3.0,
    "alias": 2.1,
    "short_def": 1.5,
    "long_def": 1.0,
    "audiences": 0.5,
    "examples": 0.5,
    "category": 1.0,
    "tag": 0.5,
    "role": 0.3,
}
#: Added when one term's text names the other (each way), and per shared
#: category (as a share of both terms' categories).
MENTION_BONUS = 0.1
CATEGORY_BONUS = 0.1

_WORD = re.compile(r"[^\W_]+")
# Words too common in any glossary prose to say what a term is about.
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "for",
        "from",
        "how",
        "in",
        "into",
        "is",
        "it",
        "its",
        "may",
        "more",
        "not",
        "of",
        "on",
        "or",
        "such",
        "than",
        "that",
        "the",
        "their",
        "this",
        "to",
        "use",
        "used",
        "using",
        "when",
        "which",
        "with",
    ]
)


#: A feature carried by more terms than this (and than ``COMMON_SHARE`` of
#: them) is left out of the inverted index: it says little about any two terms
#: (its weight is small) and would make every query visit most of the glossary.
COMMON_MIN = 1000
COMMON_SHARE = 0.05


@functools.lru_cache(maxsize=200_000)
def _shortest_form(word: str) -> str:
    """The word in its shortest noun form (worked out once per word)."""
    forms = word_forms(word) if word.isalpha() else ()
    return min((word, *forms), key=lambda f: (len(f), f))


def _tokens(text: str) -> list[str]:
    return [
        _shortest_form(word)
        for word in _WORD.findall(text.casefold())
        if len(word) >= 2 and word not in _STOP
    ]


def _weighted_words(document: TermDocument) -> Counter:
    counts: Counter = Counter()

    def add(where: str, text: str | None) -> None:
        for word in _tokens(text or ""):
            counts[word] += WEIGHTS[where]

    add("name", document.term)
    for alias in document.aliases:
        add("alias", alias)
    add("short_def", document.short_def)
    add("long_def", document.long_def)
    add("audiences", f"{document.exec_perspective} {document.engineer_perspective}")
    add("examples", " ".join((*document.examples_do, *document.examples_dont)))
    for category in document.categories:
        counts[f"category:{category.casefold()}"] += WEIGHTS["category"]
    for tag in document.nist_rmf_tags:
        counts[f"tag:{tag.casefold()}"] += WEIGHTS["tag"]
    for role in document.roles:
        counts[f"role:{role}"] += WEIGHTS["role"]
    return counts


def _prose(document: TermDocument) -> str:
    return " . ".join(
        (
            document.short_def,
            document.long_def,
            document.exec_perspective,
            document.engineer_perspective,
            *document.examples_do,
            *document.examples_dont,
            document.risk_notes or "",
        )
    )


@dataclass
class SimilarityIndex:
    """Vectors, an inverted index, who names whom, and categories, by slug."""

    vectors: dict[str, dict[str, float]]
    postings: dict[str, list[tuple[str, float]]]
    mentions: dict[str, set[str]]
    categories: dict[str, frozenset[str]]

    @classmethod
    def build(cls, documents: dict[str, TermDocument]) -> "SimilarityIndex":
        """The index of ``documents`` (slug -> document)."""
        counts = {slug: _weighted_words(d) for slug, d in documents.items()}
        frequency = Counter(word for words in counts.values() for word in words)
        total = len(documents)
        common = max(COMMON_MIN, total * COMMON_SHARE)
        vectors, postings = {}, defaultdict(list)
        for slug, words in counts.items():
            vector = {
                word: (1 + math.log(count))
                * math.log((total + 1) / (frequency[word] + 1))
                for word, count in words.items()
            }
            norm = math.sqrt(sum(value * value for value in vector.values())) or 1.0
            vectors[slug] = {word: value / norm for word, value in vector.items()}
            for word, value in vectors[slug].items():
                if frequency[word] <= common:
                    postings[word].append((slug, value))
        matcher = build_matcher(
            [(d.term, slug, "name") for slug, d in documents.items()]
            + [(a, slug, "alias") for slug, d in documents.items() for a in d.aliases]
        )
        mentions: dict[str, set[str]] = defaultdict(set)
        for slug, document in documents.items():
            for span in find_spans(matcher, _prose(document)):
                mentions[slug].update(c.slug for c in span.candidates if c.slug != slug)
        return cls(
            vectors=vectors,
            postings=dict(postings),
            mentions=dict(mentions),
            categories={s: frozenset(d.categories) for s, d in documents.items()},
        )

    def similar(self, slug: str, limit: int = 8) -> list[tuple[str, float]]:
        """The ``limit`` terms most like ``slug``, best first, with their scores."""
        vector = self.vectors.get(slug)
        if vector is None:
            return []
        scores: dict[str, float] = defaultdict(float)
        for word, value in vector.items():
            for other, weight in self.postings.get(word, ()):
                if other != slug:
                    scores[other] += value * weight
        named = self.mentions.get(slug, set())
        for other in list(scores):
            if other in named:
                scores[other] += MENTION_BONUS
            if slug in self.mentions.get(other, ()):
                scores[other] += MENTION_BONUS
            mine, theirs = self.categories[slug], self.categories[other]
            if mine and theirs:
                scores[other] += (
                    CATEGORY_BONUS * len(mine & theirs) / len(mine | theirs)
                )
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return [(other, round(score, 4)) for other, score in ranked[:limit]]


#: The latest index per set of statuses (built aside after a change).
INDEXES = LatestBuilds("similar-terms")


def similarity_index(statuses: list[str], stamp_token: str) -> SimilarityIndex:
    """The index of the terms in ``statuses`` at this glossary version, or
    while that one is built (after a change), the latest one there is."""
    return similarity_index_fresh(statuses, stamp_token)[0]


def similarity_index_fresh(
    statuses: list[str], stamp_token: str
) -> tuple[SimilarityIndex, bool]:
    """``(index, fresh)``: fresh is False while this version's is being built."""
    from django.conf import settings

    from .mapping import documents_for
    from .models import Term

    def build() -> SimilarityIndex:
        documents = documents_for(Term.objects.filter(status__in=statuses))
        return SimilarityIndex.build({d.slug: d for d in documents.values()})

    version = tuple(int(part) for part in stamp_token.split(":"))
    return INDEXES.get_fresh(
        tuple(sorted(statuses)),
        version,
        build,
        background=settings.GLOSSARY_BUILD_ASIDE,
    )
