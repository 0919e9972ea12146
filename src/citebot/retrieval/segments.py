"""BM25Plus over a main index plus a small delta, scored as one rebuilt index would be.

Adding one article to a 1M-passage index used to recompute every posting's weight (any
change moves every idf and the average passage length) and rewrite the 550 MB file:
3.3-5.3 s. Instead the new and changed articles go into a delta `BM25Index`, and the
main index's documents of replaced or removed articles are marked dead. Document ids
are the main's (0..n_main-1, dead ones never returned) then the delta's.

Scores are not approximated: both indexes keep each posting's tf and each document's
length, so a query term's weights are recomputed from them with the statistics of the
live documents (N, their total length, the term's live document frequency), by the
expression and rounding `postings.weights` uses. Documents therefore score exactly as
in `Index.build` of the same corpus; only their ids differ (a delta document comes
after every main one), so of two passages with bit-identical scores, which comes first
may differ from a rebuild. The cost is per query: the query terms' postings are
weighted again (a few ms for a common term at 1M passages, remembered per term).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from citebot.retrieval.bm25 import BM25Index
from citebot.retrieval.postings import GRID
from citebot.retrieval.topk import best_dense

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Postings whose recomputed weights are remembered (16 bytes each: 32 MB): a question
# scores its terms, then asks their weights and document frequencies again.
_CACHE_POSTINGS: Final = 2_000_000
_UNSEEN: Final = "unseen"  # `_terms` holds no str: a term never weighed yet


@dataclass(frozen=True, slots=True)
class _Segment:
    """One index's postings, the global id of its document 0, and its dead documents."""

    vocab: dict[str, int]
    indptr: IntArray
    doc_ids: npt.NDArray[np.int32]
    tf: npt.NDArray[Any]
    base: int
    dead: npt.NDArray[np.bool_] | None


def _segment(index: BM25Index, base: int, dead: npt.NDArray[np.bool_] | None) -> _Segment:
    # The columns are BM25Index's own (it has no accessors for them): read here, in one
    # place, rather than giving it an API only this module uses.
    return _Segment(index._vocab, index._indptr, index._doc_ids, index._tf, base, dead)


class DeltaBM25:
    """A main BM25 index less its `dead` documents, plus a delta index, as one index."""

    def __init__(self, main: BM25Index, delta: BM25Index, dead: npt.NDArray[np.bool_]) -> None:
        """`dead[d]`: main document d is no longer in the corpus (replaced or removed)."""
        if (main.k1, main.b, main.delta) != (delta.k1, delta.b, delta.delta):
            raise ValueError("the main and delta indexes were built with other BM25 parameters")
        if dead.shape != (main.n_docs,):
            raise ValueError(f"dead needs one flag per main document ({main.n_docs})")
        self.k1, self.b, self.delta = main.k1, main.b, main.delta
        self.n_main = main.n_docs
        self.n_docs = main.n_docs + delta.n_docs  # the id space, dead ids included
        self._dead_ids = np.flatnonzero(dead)
        self._segments = (
            _segment(main, 0, dead if len(self._dead_ids) else None),
            _segment(delta, main.n_docs, None),
        )
        lengths = np.concatenate([main._lengths, delta._lengths]).astype(np.int64)
        live = np.ones(self.n_docs, dtype=np.bool_)
        live[self._dead_ids] = False
        self.n_live = int(live.sum())
        # As `postings.weights` computes them for a corpus of the live documents alone.
        total = int(lengths[live].sum())
        avgdl = total / self.n_live if self.n_live else 0.0
        self._norm = (
            self.k1 * (1 - self.b + self.b * lengths / avgdl) if total else np.zeros(self.n_docs)
        )
        self._terms: dict[str, tuple[IntArray, FloatArray, float] | None] = {}
        self._cached = 0

    def _term(self, token: str) -> tuple[IntArray, FloatArray, float] | None:
        """A token's live postings (global ids, ascending), their weights and its idf."""
        known = self._terms.get(token, _UNSEEN)  # one read: another thread may clear it
        if not isinstance(known, str):
            return known
        docs: list[IntArray] = []
        tfs: list[npt.NDArray[Any]] = []
        for seg in self._segments:
            term = seg.vocab.get(token)
            if term is None:
                continue
            lo, hi = int(seg.indptr[term]), int(seg.indptr[term + 1])
            d, f = seg.doc_ids[lo:hi], seg.tf[lo:hi]
            if seg.dead is not None:
                keep = ~seg.dead[d]
                d, f = d[keep], f[keep]
            docs.append(d.astype(np.int64) + seg.base)
            tfs.append(f)
        found = None
        ids = np.concatenate(docs) if docs else np.zeros(0, np.int64)
        if len(ids):
            tf = np.concatenate(tfs).astype(np.float64)
            # `postings.weights`' expressions, in its order, so the weights are the same.
            idf = np.log((self.n_live + 1) / np.array([len(ids)], dtype=np.float64))
            w = idf[0] * ((tf * (self.k1 + 1)) / (self._norm[ids] + tf))
            found = (ids, np.round(w * GRID) / GRID, float(idf[0]))
        if self._cached + len(ids) > _CACHE_POSTINGS:
            # Emptied, not evicted one by one: a question's terms are met again at once.
            # Under threads a lost race only weighs a term twice.
            self._terms.clear()
            self._cached = 0
        self._terms[token] = found
        self._cached += len(ids)
        return found

    def _lookup(self, query: Sequence[str]) -> list[tuple[IntArray, FloatArray, float, int]]:
        """The query's known distinct tokens' postings, idf and multiplicity, in query order."""
        if isinstance(query, str):
            raise TypeError("query must be a sequence of tokens, not a str")
        counts: dict[str, int] = {}
        for token in query:
            counts[token] = counts.get(token, 0) + 1
        out = []
        for token, m in counts.items():
            found = self._term(token)
            if found is not None:
                out.append((*found, m))
        return out

    def top_k(
        self, query: Sequence[str], k: int, *, allowed: npt.ArrayLike | None = None
    ) -> tuple[IntArray, FloatArray]:
        """Best k live (doc ids, scores), best first, ties to the lower id; only `allowed`
        ids if set (`BM25Index.top_k`)."""
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        terms = self._lookup(query)
        base = float(np.dot([t[2] for t in terms], [float(t[3]) for t in terms])) * self.delta
        if allowed is not None:
            universe = np.unique(np.asarray(allowed, dtype=np.int64))
            if len(universe) and (universe[0] < 0 or universe[-1] >= self.n_docs):
                raise ValueError(f"allowed doc ids must lie in [0, {self.n_docs})")
            universe = universe[~np.isin(universe, self._dead_ids)]
            excess = np.zeros(len(universe))
            for ids, w, _, m in terms:
                at = np.minimum(np.searchsorted(ids, universe), max(len(ids) - 1, 0))
                hit = ids[at] == universe
                excess[hit] += w[at[hit]] * m
            pos = best_dense(excess, k)
            return universe[pos], excess[pos] + base
        k = min(k, self.n_live)
        if k == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        doc = np.concatenate([t[0] for t in terms]) if terms else np.zeros(0, np.int64)
        w = np.concatenate([t[1] * t[3] for t in terms]) if terms else np.zeros(0)
        excess = np.bincount(doc, weights=w, minlength=self.n_docs).astype(np.float64)
        # Below every live score (>= 0): never chosen, not even to fill k.
        excess[self._dead_ids] = -1.0
        pos = best_dense(excess, k)
        return pos, excess[pos] + base

    def term_weights(self, query: Sequence[str], doc_id: int) -> dict[str, float]:
        """Each distinct query token's share of `doc_id`'s score (`BM25Index.term_weights`)."""
        if not 0 <= doc_id < self.n_docs:
            raise IndexError(f"doc_id {doc_id} out of range for {self.n_docs} documents")
        out: dict[str, float] = {}
        for token in query:
            if token in out:
                continue
            found = self._term(token)
            weight = 0.0
            if found is not None:
                ids, w, _ = found
                at = int(np.searchsorted(ids, doc_id))
                if at < len(ids) and ids[at] == doc_id:
                    weight = float(w[at]) * sum(1 for t in query if t == token)
            out[token] = weight
        return out

    def document_frequency(self, token: str) -> int:
        """How many live documents contain `token`."""
        found = self._term(token)
        return 0 if found is None else len(found[0])
