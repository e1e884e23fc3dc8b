"""Terms similar in content: suggestions for the relationships editors curate.

A term's content is everything in its document but its relationships (those
are what the ranking helps editors find): name and aliases, definitions,
risk notes, audiences, examples, categories, tags and roles. Each term becomes a TF-IDF
vector of its words, each word reduced to its shortest noun form
(``terms.text.inflection``), weighted by where it stands (a name counts three times
a long definition). Similarity is the cosine of two vectors, plus a little for
a definition that names the other term (found with the annotate matcher) and
for shared categories.

Then the curated links of the other terms vote: each of the term's eight
nearest neighbours by content passes its score, shared out over its own links
(divided by the square root of how many it has), to the terms it links to.
The votes, scaled so the best is 1, add a fifth of that to the scores. What
editors linked around a term says what belongs near it; the term's own links
never count (a vote from a neighbour to this term, or from this term, is not
taken), so a new term with no links gets the same help as an old one.

Chosen by measuring on the reference corpus against its curated links
(``bench/similar.py``): content alone ranked them better than TF-IDF alone and
than the reference project's own suggestions; the votes of the neighbours'
links added about four points of recall@8, in a broad plateau of settings
(three to twelve neighbours, a tenth to three tenths of the votes); a
sentence-embedding model (all-MiniLM-L6-v2, the reference project's) scored
below the content part alone and added little beside it, for PyTorch's
weight. Written here with numpy (already installed for lemminflect) rather
than taken from scikit-learn, which would add it and SciPy (over 100 MB) for
a few array operations.

An index is built once per glossary version and set of statuses, kept in the
process (after a change, requests use the previous one while a thread builds
the next: ``terms.text.aside``), and answers a term's neighbours through an
inverted index held in compressed arrays, so a query touches only the terms
that share a feature with it, in array operations; the links' votes come
from the few best of those (only they and the terms voted for can end among
the best, since votes only add).
"""

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from terms.documents.document import TermDocument
from terms.documents.resolver import TargetIndex
from terms.text.annotation import build_matcher, find_spans
from terms.text.aside import LatestBuilds
from terms.text.inflection import word_forms

__all__ = ["INDEXES", "SimilarityIndex", "similarity_index", "similarity_index_fresh"]

#: How much a word counts by where it stands.
WEIGHTS = {
    "name": 3.0,
    "alias": 2.1,
    "short_def": 1.5,
    "long_def": 1.0,
    "risk_notes": 1.0,
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
#: How many nearest neighbours by content vote with their links, and how much
#: the votes (the best scaled to 1) add.
LINK_VOTERS = 8
LINK_WEIGHT = 0.2

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


class _Words:
    """Words in their shortest noun form, each worked out once per build.

    A memo of one build, dropped with it: kept across builds (a module-level
    cache), the hundreds of thousands of small strings of a large glossary
    stay scattered through the process's memory after the index is built,
    which then cannot be given back.
    """

    def __init__(self):
        self.shortest: dict[str, str] = {}

    def form(self, word: str) -> str:
        found = self.shortest.get(word)
        if found is None:
            forms = word_forms(word) if word.isalpha() else ()
            found = self.shortest[word] = min((word, *forms), key=lambda f: (len(f), f))
        return found

    def tokens(self, text: str) -> list[str]:
        return [
            self.form(word)
            for word in _WORD.findall(text.casefold())
            if len(word) >= 2 and word not in _STOP
        ]


def _weighted_words(document: TermDocument, words: _Words) -> Counter:
    counts: Counter = Counter()

    def add(where: str, text: str | None) -> None:
        for word in words.tokens(text or ""):
            counts[word] += WEIGHTS[where]

    add("name", document.term)
    for alias in document.aliases:
        add("alias", alias)
    add("short_def", document.short_def)
    add("long_def", document.long_def)
    add("risk_notes", document.risk_notes)
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


def _ranges(indptr: np.ndarray, rows) -> np.ndarray:
    """The positions of ``rows``' entries in a compressed (CSR-like) layout."""
    pieces = [np.arange(indptr[row], indptr[row + 1]) for row in rows]
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)


@dataclass
class SimilarityIndex:
    """Term vectors by term and by feature (an inverted index), who names
    whom, and categories: compressed numpy arrays, so a query is a few array
    operations over the terms that share a feature, and 100,000 terms take
    hundreds of megabytes, not gigabytes."""

    slugs: list[str]
    position: dict[str, int]
    #: Whether some feature is carried by every term (and so left out of the
    #: arrays below): then every term is a candidate for every other.
    shared_by_all: bool
    #: Term-major: term ``i``'s features and weights are at
    #: ``term_ptr[i]:term_ptr[i + 1]`` of ``term_features`` / ``term_weights``.
    term_ptr: np.ndarray
    term_features: np.ndarray
    term_weights: np.ndarray
    #: Feature-major, the same entries: which terms carry feature ``f``.
    feature_ptr: np.ndarray
    feature_terms: np.ndarray
    feature_weights: np.ndarray
    #: Term positions each term's text names, and the reverse.
    names: dict[int, set[int]]
    named_by: dict[int, set[int]]
    #: Categories as numbers, term-major and category-major, and their counts.
    category_ptr: np.ndarray
    category_ids: np.ndarray
    category_members_ptr: np.ndarray
    category_members: np.ndarray
    category_counts: np.ndarray
    #: Curated links among these terms, both ways, term-major.
    link_ptr: np.ndarray
    link_terms: np.ndarray

    @classmethod
    def build(cls, documents: dict[str, TermDocument]) -> "SimilarityIndex":
        """The index of ``documents`` (slug -> document)."""
        slugs = list(documents)
        position = {slug: index for index, slug in enumerate(slugs)}
        words = _Words()
        counts = [_weighted_words(documents[slug], words) for slug in slugs]
        del words
        frequency = Counter(word for words in counts for word in words)
        total = len(slugs)
        feature_of = {word: index for index, word in enumerate(frequency)}
        idf = {
            word: math.log((total + 1) / (seen + 1)) for word, seen in frequency.items()
        }
        term_ptr, features, weights = [0], [], []
        for words in counts:
            vector = {
                word: (1 + math.log(count)) * idf[word] for word, count in words.items()
            }
            norm = math.sqrt(sum(value * value for value in vector.values())) or 1.0
            for word, value in vector.items():
                # A word every term carries weighs nothing (its idf is 0): left
                # out, it spares each query a pass over every term.
                if idf[word]:
                    features.append(feature_of[word])
                    weights.append(value / norm)
            term_ptr.append(len(features))
        term_ptr_array = np.array(term_ptr, dtype=np.int64)
        term_features = np.array(features, dtype=np.int32)
        term_weights = np.array(weights, dtype=np.float32)
        owners = np.repeat(np.arange(total, dtype=np.int32), np.diff(term_ptr_array))
        feature_ptr, feature_terms, feature_weights = _by_column(
            term_features, owners, term_weights, len(feature_of)
        )
        names, named_by = _mentions(documents, position)
        category_of: dict[str, int] = {}
        category_ptr, category_ids = [0], []
        for slug in slugs:
            for category in sorted(set(documents[slug].categories)):
                category_ids.append(category_of.setdefault(category, len(category_of)))
            category_ptr.append(len(category_ids))
        category_ptr_array = np.array(category_ptr, dtype=np.int64)
        category_array = np.array(category_ids, dtype=np.int32)
        members_ptr, members, _ = _by_column(
            category_array,
            np.repeat(np.arange(total, dtype=np.int32), np.diff(category_ptr_array)),
            np.zeros(len(category_array)),
            len(category_of),
        )
        link_ptr, link_terms = _links(documents, slugs, position)
        return cls(
            slugs=slugs,
            position=position,
            shared_by_all=any(seen == total for seen in frequency.values()),
            term_ptr=term_ptr_array,
            term_features=term_features,
            term_weights=term_weights,
            feature_ptr=feature_ptr,
            feature_terms=feature_terms,
            feature_weights=feature_weights,
            names=names,
            named_by=named_by,
            category_ptr=category_ptr_array,
            category_ids=category_array,
            category_members_ptr=members_ptr,
            category_members=members,
            category_counts=np.diff(category_ptr_array).astype(np.float64),
            link_ptr=link_ptr,
            link_terms=link_terms,
        )

    def similar(self, slug: str, limit: int = 8) -> list[tuple[str, float]]:
        """The ``limit`` terms most like ``slug``, best first, with their scores:
        the cosine of their vectors, plus a little for each naming the other and
        for shared categories (terms sharing no feature are not candidates)."""
        mine = self.position.get(slug)
        if mine is None:
            return []
        start, end = self.term_ptr[mine], self.term_ptr[mine + 1]
        entries = _ranges(self.feature_ptr, self.term_features[start:end])
        query = np.repeat(
            self.term_weights[start:end],
            np.diff(self.feature_ptr)[self.term_features[start:end]],
        )
        total = len(self.slugs)
        sharing = self.feature_terms[entries]
        # As floats even when nothing is shared (bincount of nothing gives
        # integers): a term whose every word is in every term has no entries.
        scores = np.bincount(
            sharing, weights=self.feature_weights[entries] * query, minlength=total
        ).astype(np.float64, copy=False)
        # Every term sharing a feature is a candidate, even one whose weight
        # is nil (a feature every term carries): its bonuses may still count.
        if self.shared_by_all:
            candidate = np.ones(total, dtype=bool)
        else:
            candidate = np.bincount(sharing, minlength=total) > 0
        candidate[mine] = False
        for other in self.names.get(mine, ()):
            scores[other] += MENTION_BONUS * candidate[other]
        for other in self.named_by.get(mine, ()):
            scores[other] += MENTION_BONUS * candidate[other]
        own_count = self.category_counts[mine]
        if own_count:
            own = self.category_ids[
                self.category_ptr[mine] : self.category_ptr[mine + 1]
            ]
            shared = np.bincount(
                self.category_members[_ranges(self.category_members_ptr, own)],
                minlength=total,
            ).astype(np.float64)
            union = self.category_counts + own_count - shared
            jaccard = np.divide(
                shared, union, out=np.zeros(total), where=self.category_counts > 0
            )
            scores += CATEGORY_BONUS * jaccard * candidate
        scores *= candidate
        found = np.flatnonzero(candidate)
        keep = max(limit, LINK_VOTERS) * 4 + 16
        if len(found) > keep:
            # The best few by content. Only they and the terms the links vote
            # for can end among the best: votes only add.
            found = found[np.argpartition(-scores[found], keep - 1)[:keep]]
        voted, votes = self._link_votes(mine, scores, found)
        pool = np.union1d(found, voted)
        final = scores[pool]
        final[np.searchsorted(pool, voted)] += LINK_WEIGHT * votes
        # Ties broken by slug, as a full sort would.
        ranked = sorted(
            (
                (self.slugs[index], float(score))
                for index, score in zip(pool, final, strict=True)
            ),
            key=lambda item: (-item[1], item[0]),
        )
        return [(other, round(score, 4)) for other, score in ranked[:limit]]

    def _link_votes(self, mine: int, scores: np.ndarray, found: np.ndarray):
        """``(terms, votes)``: what the curated links of the nearest
        neighbours among ``found`` vote for, the best vote scaled to 1."""
        found = found[scores[found] > 0]
        # The nearest first, ties broken by position (as a stable sort would).
        voters = found[np.lexsort((found, -scores[found]))[:LINK_VOTERS]]
        counts = np.diff(self.link_ptr)[voters]
        # A voter's share is as if it had no link to this term: the term's own
        # links must not sway its suggestions, not even that way.
        own = self.link_terms[self.link_ptr[mine] : self.link_ptr[mine + 1]]
        share = 1 / np.sqrt(np.maximum(counts - np.isin(voters, own), 1))
        targets = self.link_terms[_ranges(self.link_ptr, voters)]
        weights = np.repeat(scores[voters] * share, counts)
        # A vote for this term itself is one of its own links: not counted.
        weights = weights[targets != mine]
        terms, which = np.unique(targets[targets != mine], return_inverse=True)
        votes = np.bincount(which, weights=weights, minlength=len(terms))
        if not len(votes) or votes.max() <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return terms, votes / votes.max()


def _by_column(columns: np.ndarray, rows: np.ndarray, values: np.ndarray, size: int):
    """The same entries grouped by column: (pointer, rows, values)."""
    order = np.argsort(columns, kind="stable")
    pointer = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(columns, minlength=size), out=pointer[1:])
    return pointer, rows[order], values[order]


def _links(documents: dict[str, TermDocument], slugs: list[str], position):
    """The curated links among ``documents`` as (pointer, terms), both ways and
    each once: targets resolved as stored relationships are
    (``terms.documents.resolver``), among these terms only."""
    targets = TargetIndex()
    for slug in slugs:
        document = documents[slug]
        targets.add_term(slug, name=document.term, slug=slug, aliases=document.aliases)
    pairs = set()
    for slug in slugs:
        mine = position[slug]
        for names in documents[slug].relationships().values():
            for name in names:
                other = targets.resolve(name)
                if other is not None and other != slug:
                    pairs.add((mine, position[other]))
                    pairs.add((position[other], mine))
    ordered = np.array(sorted(pairs), dtype=np.int32).reshape(-1, 2)
    pointer, terms, _ = _by_column(
        ordered[:, 0], ordered[:, 1], np.zeros(len(ordered)), len(slugs)
    )
    return pointer, terms


def _mentions(documents: dict[str, TermDocument], position: dict[str, int]):
    """Which terms each term's text names (annotate's matcher), both ways."""
    matcher = build_matcher(
        [(d.term, slug, "name") for slug, d in documents.items()]
        + [(a, slug, "alias") for slug, d in documents.items() for a in d.aliases]
    )
    names: dict[int, set[int]] = defaultdict(set)
    named_by: dict[int, set[int]] = defaultdict(set)
    for slug, document in documents.items():
        mine = position[slug]
        for span in find_spans(matcher, _prose(document)):
            for candidate in span.candidates:
                other = position[candidate.slug]
                if other != mine:
                    names[mine].add(other)
                    named_by[other].add(mine)
    return dict(names), dict(named_by)


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

    from terms.documents.mapping import documents_for
    from terms.models import Term

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
