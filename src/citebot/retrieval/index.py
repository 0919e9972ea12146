"""The searchable index: every article's sentences and passages, and BM25 over passages.

BM25 variant: rank-bm25's `BM25Plus` with k1=0.9, b=0.75, delta=1. Its idf,
log((N+1)/df), is positive for every term, so a corpus of one, two or three
articles still ranks sensibly; `BM25Okapi` gives a term found in half the
passages an idf of 0 and floors negative ones, which with two articles silences
most of the vocabulary. k1=0.9 (Anserini's default; rank-bm25's is 1.5)
saturates a repeated word sooner, so a passage that names more of the question's
words beats one that repeats a single word (SQuAD 2.0 dev, open mode: paragraph
recall@1 +0.8 on either half of the articles, @5 unchanged; b=0.5/0.9 and
k1=1.2/2.0 were no better). delta only adds a per-query constant and never
changes a ranking. A passage is indexed with its article's title, because
titles name what an article is about in words its passages may not repeat.

Searching (`Index.search`, what the reader uses) is two steps:

1. BM25 (`Index.bm25_search`) over each distinct question term once: the ranking is
   exactly rank-bm25's `BM25Plus(...).get_scores` for those terms (tests check it).
   A caller's repeated term (the reader's emphasis on the question's verb) is the
   reader's business, not retrieval's: counted twice it pulled passages that
   repeat the verb above the paragraph the question was written about (recall@1
   -1.4, @5 -1.0 on SQuAD dev).
2. Re-ranking (`rerank`, `retrieval.rerank`) of the best `RERANK_DEPTH` passages by a
   linear score learned on SQuAD v1.1 train over where the question's words sit inside
   them (`retrieval.features`: the best sentence's share of the question, its word
   pairs and runs in order, proximity, the title, the neighbouring passages).

Scoring is `bm25.BM25Index`: the same BM25Plus scores as rank-bm25 (a parity test
checks them within 1e-6), precomputed per term and summed sparsely, so a query costs
a fraction of a millisecond at 100k passages instead of rank-bm25's Python loop.
Sentences and passages are offsets in numpy columns (`citebot.retrieval.offsets`); the
`Sentence` and `Passage` objects the reader uses are made when read.

`updated` re-indexes a changed corpus reusing the unchanged articles' work: only new
or edited articles are split and tokenised (splitting is most of a build's cost),
while the BM25 weights are all recomputed from the kept term frequencies, because
any edit moves every term's idf and the average passage length. That is seconds at 1M
passages, so a small change is kept as a delta instead (`retrieval.delta`), and
`updated` is what folding a delta in does.

On disk, an index is kept in a cache folder by `retrieval.cache.load_index`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from citebot.corpus.articles import Article, Corpus
from citebot.corpus.passages import Passage, passage_bounds, sentence_spans
from citebot.retrieval.bm25 import BM25Index
from citebot.retrieval.offsets import (
    Offsets,
    OffsetsBuilder,
    PassageList,
    SentenceMap,
)
from citebot.retrieval.rerank import RERANK_DEPTH, reranked
from citebot.retrieval.segments import DeltaBM25
from citebot.retrieval.terms import TermIds, passage_terms
from citebot.text.tokenizer import term_set

if TYPE_CHECKING:
    from citebot.retrieval.delta import Segments

log = logging.getLogger(__name__)

# An article's sentence spans (start, end, paragraph) and passage bounds (first, last).
Split = tuple[list[tuple[int, int, int]], list[tuple[int, int]]]

# BM25Plus parameters of every index built here (see the module docstring). BM25Index's
# own defaults stay rank-bm25's, and the parity tests run with these values too.
BM25_K1 = 0.9
BM25_B = 0.75
BM25_DELTA = 1.0
# Articles whose terms an index remembers (`Index.mentions`).
_ARTICLE_TERMS_CACHE = 256
# An update that keeps less than this share of the passages is done as a full build:
# it would split and tokenise most of the corpus anyway.
_MIN_REUSE = 0.5


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved passage, the score it is ranked by, and its BM25Plus score.

    `score` is `bm25` plus the re-ranking bonus (`rerank`), so hits come in order of
    `score`; a hit `bm25_search` returns has `score == bm25`.
    """

    passage: Passage
    score: float
    bm25: float


class Index:
    """Sentences, passages and a BM25 model over a corpus."""

    def __init__(
        self,
        corpus: Corpus,
        offsets: Offsets,
        bm25: BM25Index | DeltaBM25,
        *,
        rows: Sequence[Article | None] | None = None,
    ) -> None:
        """Wrap a corpus and its checked offsets and BM25 index; see `build` and `load_index`.

        `rows` is the article of each row of `offsets` when they are not the corpus's
        articles in order (a main index and a delta, `retrieval.delta`): None for a row
        of an article no longer in the corpus, whose passages are never returned.
        """
        if bm25.n_docs != offsets.n_passages:
            raise ValueError(
                f"the BM25 index has {bm25.n_docs} documents but there are "
                f"{offsets.n_passages} passages"
            )
        self.corpus = corpus
        self.offsets = offsets
        self.bm25 = bm25
        articles: Sequence[Article | None] = corpus.articles if rows is None else rows
        self._rows = articles
        self._positions = {a.id: i for i, a in enumerate(articles) if a is not None}
        # Passages that count for BM25 (N in idf): those of removed articles do not.
        self.n_live = bm25.n_live if isinstance(bm25, DeltaBM25) else bm25.n_docs
        self.sentences = SentenceMap(articles, self._positions, offsets)
        self.passages = PassageList(articles, offsets)
        self._article_terms: dict[str, frozenset[str]] = {}  # `mentions`' articles, lately
        # A main index and a delta: what it was made of (set by `retrieval.delta`).
        self.segments: Segments | None = None

    @classmethod
    def build(cls, corpus: Corpus, *, progress: bool = False) -> Index:
        """Split every article and index its passages (title words included)."""
        builder = OffsetsBuilder()
        tokens = TermIds()
        for article in _progress(corpus.articles, progress, "indexing"):
            spans, bounds = _split(article)
            builder.add(spans, bounds)
            tokens.add(article, spans, bounds)
        ids, lengths, terms = tokens.finish()
        offsets = builder.finish()
        del tokens, builder  # their buffers are not needed during the BM25 build (its peak)
        bm25 = BM25Index.from_ids(
            ids, lengths, terms, k1=BM25_K1, b=BM25_B, delta=BM25_DELTA, consume=True
        )
        del ids  # overwritten by the build (consume)
        return cls(corpus, offsets, bm25)

    def updated(self, corpus: Corpus, *, progress: bool = False) -> Index:
        """The index of `corpus`, splitting and tokenising only articles this one lacks.

        The result equals `Index.build(corpus)`: same passages, same scores, same order.
        A delta this index has is folded in (`retrieval.delta`).
        """
        from citebot.retrieval.delta import fold, main_of  # it builds on this module

        delta = self.segments.delta if self.segments is not None else None
        return fold(main_of(self), delta, corpus, progress=progress)

    @property
    def rows(self) -> Sequence[Article | None]:
        """The article of each row of `offsets`: the corpus's articles, in order, unless a
        delta is searched beside a main index (then a removed article's row is None; no
        passage of it is ever returned)."""
        return self._rows

    @property
    def version(self) -> str:
        """The corpus version this index was built from."""
        return self.corpus.version

    def article(self, article_id: str) -> Article:
        article = self._rows[self._positions[article_id]]
        assert article is not None  # positions hold live rows only
        return article

    def passages_of(self, article_id: str) -> range:
        """The ids of an article's passages (empty for an unknown article), without making them."""
        position = self._positions.get(article_id)
        return range(*self.passages.range_of(position)) if position is not None else range(0)

    def idf(self, term: str) -> float:
        """BM25Plus idf; a term the corpus never uses gets the largest possible idf."""
        frequency = max(self.bm25.document_frequency(term), 0.5)
        return float(np.log((self.n_live + 1) / frequency))

    def mentions(self, term: str, article_id: str | None = None) -> bool:
        """Whether any passage uses an index term, or, given `article_id`, that article's
        title or sentences (the reader's `CorpusView.mentions`)."""
        if article_id is None:
            return self.bm25.document_frequency(term) > 0
        terms = self._article_terms.get(article_id)
        if terms is None:
            # Remembered: a question restricted to an article asks this for each of its
            # names, and reading a whole article's words is the cost.
            article = self.article(article_id)
            terms = term_set(article.title).union(
                *(term_set(s.text) for s in self.sentences[article_id])
            )
            if len(self._article_terms) >= _ARTICLE_TERMS_CACHE:
                self._article_terms.clear()
            self._article_terms[article_id] = terms
        return term in terms

    def article_date(self, article_id: str) -> dt.date | None:
        """The article's publication date."""
        return self.article(article_id).date

    def search(self, terms: Sequence[str], k: int, article_id: str | None = None) -> list[Hit]:
        """The k best passages for the query terms, optionally within one article.

        BM25 over the distinct terms, then the best `RERANK_DEPTH` passages re-ranked
        by `rerank` (see the module docstring); hits below that depth keep BM25's order.
        Only the k returned are made into `Passage` objects.
        """
        unique = list(dict.fromkeys(terms))
        ids, bm25 = self._bm25_top(unique, max(k, RERANK_DEPTH), article_id)
        depth = min(RERANK_DEPTH, len(ids))
        order = reranked(self, unique, ids[:depth], bm25[:depth])
        if order is None:
            order = [(j, bm25[j]) for j in range(depth)]
        chosen = (order + [(j, bm25[j]) for j in range(depth, len(ids))])[:k]
        passages = self.passages.take([ids[j] for j, _ in chosen])
        return [Hit(p, score, bm25[j]) for p, (j, score) in zip(passages, chosen, strict=True)]

    def bm25_search(self, terms: Sequence[str], k: int, article_id: str | None = None) -> list[Hit]:
        """The k best passages by BM25Plus alone (rank-bm25's ranking), ties to the lower id.

        Every occurrence of a term counts, as in rank-bm25; `search` passes distinct terms.
        """
        ids, scores = self._bm25_top(terms, k, article_id)
        return [Hit(p, s, s) for p, s in zip(self.passages.take(ids), scores, strict=True)]

    def _bm25_top(
        self, terms: Sequence[str], k: int, article_id: str | None
    ) -> tuple[list[int], list[float]]:
        """The passage ids and BM25Plus scores of `bm25_search`'s hits."""
        if not self.n_live or not terms:
            return [], []
        allowed = None
        if article_id is not None:
            own = self.passages_of(article_id)
            if not own:
                return [], []
            allowed = np.arange(own.start, own.stop, dtype=np.int64)
        ids, scores = self.bm25.top_k(list(terms), k, allowed=allowed)
        return ids.tolist(), scores.tolist()

    def term_contributions(self, terms: Sequence[str], passage_index: int) -> dict[str, float]:
        """Each query term's share of one passage's score (the per-query constant excluded)."""
        weights = self.bm25.term_weights(list(terms), passage_index)
        return {t: round(w, 4) for t, w in weights.items() if w > 0}


def rerank(index: Index, terms: Sequence[str], hits: Sequence[Hit]) -> list[Hit]:
    """`hits` re-ordered by BM25 plus the learned re-ranking bonus (`retrieval.rerank`).

    `terms` are the query's distinct terms in question order. A hit's new score is
    `bm25 + best_bm25 * bonus`, the bonus never negative; the sort is stable, so equal
    scores keep BM25's order.
    """
    order = reranked(index, terms, [h.passage.index for h in hits], [h.bm25 for h in hits])
    if order is None:
        return list(hits)
    return [Hit(hits[j].passage, score, hits[j].bm25) for j, score in order]


def update(
    old_articles: Sequence[tuple[str, str]],
    old_offsets: Offsets,
    old_bm25: BM25Index,
    corpus: Corpus,
    *,
    progress: bool = False,
    presplit: Mapping[tuple[str, str], Split] | None = None,
) -> Index:
    """The index of `corpus` from an index of articles `(id, content_hash)` and its parts.

    An article with the same id and hash keeps its rows and postings; the others are
    tokenised, and split unless `presplit` has their sentences and passages (a delta
    folded into its main index). Kept articles must stay in their old order (a reordered
    corpus, or one that keeps under half the passages, is built from scratch).
    """
    old = {key: i for i, key in enumerate(old_articles)}
    reuse = [old.get((a.id, a.content_hash)) for a in corpus.articles]
    kept = [i for i in reuse if i is not None]
    old_p = old_offsets.article_passages
    kept_passages = sum(int(old_p[i + 1] - old_p[i]) for i in kept)
    if (
        any(b <= a for a, b in pairwise(kept))
        or kept_passages < _MIN_REUSE * old_offsets.n_passages
    ):
        return Index.build(corpus, progress=progress)
    builder = OffsetsBuilder()
    new_id = np.full(old_bm25.n_docs, -1, dtype=np.int64)
    added: list[list[str]] = []
    added_at: list[int] = []
    next_id = 0
    fresh = [a for a, i in zip(corpus.articles, reuse, strict=True) if i is None]
    known = presplit or {}
    split = {
        a.id: known.get((a.id, a.content_hash)) or _split(a)
        for a in _progress(fresh, progress, "indexing changes")
    }
    for article, i in zip(corpus.articles, reuse, strict=True):
        if i is not None:
            builder.copy(old_offsets, i)
            lo, hi = int(old_p[i]), int(old_p[i + 1])
            new_id[lo:hi] = np.arange(next_id, next_id + hi - lo)
            next_id += hi - lo
            continue
        spans, bounds = split[article.id]
        builder.add(spans, bounds)
        for terms in passage_terms(article, spans, bounds):
            added.append(terms)
            added_at.append(next_id)
            next_id += 1
    bm25 = old_bm25.updated(new_id, added, np.asarray(added_at, dtype=np.int64))
    log.info(
        "index updated: %d of %d articles split again, %d of %d passages kept",
        len(fresh),
        len(corpus.articles),
        kept_passages,
        len(added) + kept_passages,
    )
    return Index(corpus, builder.finish(), bm25)


def _split(article: Article) -> Split:
    """An article's sentence spans and passage bounds."""
    spans = sentence_spans(article.body)
    return spans, passage_bounds(article.body, spans)


def _progress(articles: Sequence[Article], enabled: bool, label: str) -> Iterable[Article]:
    """The articles, with a progress bar on request when there are enough to wait for."""
    if not enabled or len(articles) < 50:
        return articles
    from tqdm import tqdm

    return tqdm(articles, desc=label, unit="article", leave=False)
