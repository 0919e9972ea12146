"""What the re-ranker knows of each of BM25's best passages: FEATURES, each in [0, 1].

BM25 sees a passage as a bag of words. A question is usually answered by one
sentence that holds most of its words close together, often in the question's own
order ("the Bank of England raised" / "when did the Bank of England raise"), in an
article whose title is about the same thing. Each feature below measures one of those
things from the passage's text and BM25's own score, and is scaled into [0, 1] so that
a learned weight means the same for every question (`retrieval.rerank` adds them up).
Term weights are BM25's idf, shares are of the question's total idf, and "terms" are
index terms (stemmed, stop words dropped), read in the question's order.

`soft_sentence` also counts words the question and the passage use alike without
sharing them ("when did it begin" / "it started"): a question term the sentence lacks
counts the cosine of its vector with the sentence's closest term (`retrieval.vectors`,
learned from SQuAD v1.1 train): recall@1 (as below) 85.26 -> 85.85 %, on each half of
the articles 83.67 -> 84.53 and 86.90 -> 87.21 (100-d vectors of the 23,499 terms used
3 times or more: 85.86 %, no better than the shipped 64-d ones of 16,413 terms).

Measured and left out (SQuAD 2.0 dev, recall@1 of a model fitted on v1.1 train,
scripts/train_reranker.py --choose): BM25's rank, the neighbouring passages' BM25
scores and the share of the re-ranked passages from the same article (without them
+0.09), the best two adjacent sentences' share and the rarest missing term (+0.07 and
+0.03 with 30,000 training questions), and whether the best sentence holds a number
when the question wants one (+0.19: it needs the reader's answer type, which retrieval
is not given). Gradient-boosted trees (LightGBM's lambdarank, 15-63 leaves, 200-400
trees) over the same features instead of the linear score: 84.87-85.29 against 85.26,
no gain.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from citebot.retrieval.offsets import body_of
from citebot.retrieval.vectors import load_term_vectors
from citebot.text.tokenizer import content_terms, term_pairs, term_set

if TYPE_CHECKING:  # the index calls this module; at run time it is handed one
    from citebot.retrieval.index import Index

FEATURES = (
    "bm25",  # BM25 score over the query's best
    "sentence",  # idf share of the question held by the passage's best sentence
    "pairs",  # share of the question's adjacent term pairs found adjacent in a sentence
    "coverage",  # idf share of the question anywhere in the passage (title excluded)
    "window",  # idf share held by the best run of a few consecutive passage terms
    "run",  # longest run of passage terms that follow the question's order
    "title",  # idf share of the question in the article's title
    "length",  # the passage's terms, over LONG_PASSAGE (capped at 1)
    "prefix",  # `sentence`, a term matching any that shares its first PREFIX letters
    "prefix_coverage",  # `coverage`, matching so
    "soft_sentence",  # `sentence`, a term counting its best cosine with the sentence's terms
)
# A passage of this many terms or more counts as long (`length` = 1); the shipped
# passages hold at most ~150 words, about 80 terms.
LONG_PASSAGE = 100
# The `window` is this many terms longer than the question: room for a few words
# between the question's own.
WINDOW_SLACK = 4
# Terms meet in `prefix` when they share this many first letters: the stemmer keeps
# "history" (histori) and "historical" (histor), "applicants" and "applications" apart
# (SQuAD 2.0 dev, recall@1 +0.7 on each half of the articles; 4 letters did as well, 6
# worse).
PREFIX = 5

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Query:
    """The question's distinct terms in order, and what every passage is measured against."""

    terms: tuple[str, ...]
    idf: dict[str, float]
    total: float  # the question's total idf
    pairs: frozenset[tuple[str, str]]
    position: dict[str, int]  # a term's place in the question

    @classmethod
    def of(cls, index: Index, terms: Sequence[str]) -> Query:
        unique = tuple(dict.fromkeys(terms))
        idf = {t: index.idf(t) for t in unique}
        return cls(
            terms=unique,
            idf=idf,
            total=sum(idf.values()) or 1.0,
            pairs=frozenset(pairwise(unique)),
            position={t: i for i, t in enumerate(unique)},
        )

    def share(self, present: frozenset[str] | set[str]) -> float:
        """The idf share of the question's terms in `present`."""
        return sum(w for t, w in self.idf.items() if t in present) / self.total

    def share_of_prefixes(self, prefixes: frozenset[str] | set[str]) -> float:
        """The idf share of the question's terms whose first PREFIX letters are in `prefixes`."""
        return sum(w for t, w in self.idf.items() if t[:PREFIX] in prefixes) / self.total


def passage_features(
    index: Index, terms: Sequence[str], ids: Sequence[int], bm25: Sequence[float]
) -> Matrix:
    """FEATURES of each passage of `ids` (BM25's order, scores `bm25`), one row each."""
    out = np.zeros((len(ids), len(FEATURES)), dtype=np.float64)
    top = max(bm25, default=0.0)
    if not len(ids) or top <= 0:
        return out
    query = Query.of(index, terms)
    rows = index.rows
    located = index.passages.sentence_offsets(ids)
    passages = []
    for n, (position, _, starts, ends) in enumerate(located):
        article = rows[position]
        body = body_of(article)
        texts = [body[start:end] for start, end in zip(starts, ends, strict=True)]
        passages.append(texts)
        words, soft = _text_features(query, texts)
        out[n, :-1] = (
            bm25[n] / top,
            *words,
            query.share(term_set(article.title)) if article is not None else 0.0,
            min(sum(len(content_terms(t)) for t in texts) / LONG_PASSAGE, 1.0),
            *soft,
        )
    out[:, -1] = _soft_sentence(query, passages)  # all passages in one product: faster
    return out


def _soft_sentence(query: Query, passages: list[list[str]]) -> npt.NDArray[np.float64]:
    """`soft_sentence` of each passage (its sentences' texts): the best sentence's idf share
    of the question, each question term counting 1 when the sentence holds it and else its
    best cosine (at least 0) with the sentence's terms."""
    out = np.zeros(len(passages))
    sentences = [(n, t) for n, texts in enumerate(passages) for t in texts if content_terms(t)]
    if not sentences or not query.terms:
        return out
    vectors = load_term_vectors()
    terms = [term for _, text in sentences for term in content_terms(text)]
    similar = vectors.of(query.terms) @ vectors.of(terms).T
    starts = np.cumsum([0] + [len(content_terms(text)) for _, text in sentences[:-1]])
    best = np.clip(np.maximum.reduceat(similar, starts, axis=1), 0.0, 1.0)
    held = np.array([[term in term_set(text) for _, text in sentences] for term in query.terms])
    best[held] = 1.0  # (question term, sentence)
    idf = np.array([query.idf[t] for t in query.terms])
    np.maximum.at(out, [n for n, _ in sentences], idf @ best / query.total)
    return out


def _text_features(
    query: Query, texts: list[str]
) -> tuple[tuple[float, float, float, float, float], tuple[float, float]]:
    """(`sentence`, `pairs`, `coverage`, `window`, `run`), (`prefix`, `prefix_coverage`) of
    a passage's sentences."""
    best = soft = 0.0
    pairs: set[tuple[str, str]] = set()
    present: set[str] = set()
    prefixes: set[str] = set()
    sequence: list[str] = []
    for text in texts:
        own, keys = term_set(text), _prefixes(text)
        best = max(best, query.share(own))
        soft = max(soft, query.share_of_prefixes(keys))
        pairs |= term_pairs(text) & query.pairs
        present |= own
        prefixes |= keys
        sequence += content_terms(text)
    pair_share = len(pairs) / len(query.pairs) if query.pairs else 0.0
    exact = (
        best,
        pair_share,
        query.share(present),
        _window(query, sequence),
        _run(query, sequence),
    )
    return exact, (soft, query.share_of_prefixes(prefixes))


@functools.lru_cache(maxsize=65_536)
def _prefixes(text: str) -> frozenset[str]:
    """The first PREFIX letters of each of a text's terms (cached, as `term_set` is)."""
    return frozenset(t[:PREFIX] for t in content_terms(text))


def _window(query: Query, sequence: list[str]) -> float:
    """The best idf share of the question among `len(question) + WINDOW_SLACK` consecutive
    terms of `sequence` (proximity: the question's words close together)."""
    width = len(query.terms) + WINDOW_SLACK
    hits = [(i, t) for i, t in enumerate(sequence) if t in query.idf]
    best = 0.0
    for a, (start, _) in enumerate(hits):
        inside = {t for i, t in hits[a:] if i < start + width}
        best = max(best, sum(query.idf[t] for t in inside))
    return best / query.total


def _run(query: Query, sequence: list[str]) -> float:
    """The longest run of consecutive terms of `sequence` that are consecutive terms of the
    question, in its order (1 for the whole question, 0 for no two in a row)."""
    if len(query.terms) < 2:
        return 0.0
    longest = run = 0
    previous = -2
    for term in sequence:
        at = query.position.get(term, -2)
        run = run + 1 if at >= 0 and at == previous + 1 else int(at >= 0)
        longest = max(longest, run)
        previous = at
    return max(longest - 1, 0) / (len(query.terms) - 1)
