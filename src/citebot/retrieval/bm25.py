"""Sparse, eager BM25Plus whose scores equal `rank_bm25.BM25Plus(docs).get_scores(query)`.

Scoring (rank_bm25 0.2.2 `BM25Plus`, defaults k1=1.5, b=0.75, delta=1.0), for every document d
and every query token q *occurrence* (a token repeated in the query counts each time):

    score(d) += idf(q) * (delta + tf(q,d)*(k1+1) / (k1*(1 - b + b*|d|/avgdl) + tf(q,d)))
    idf(q)    = log((N+1) / df(q))            # > 0 for every indexed term, even in a 1-doc corpus

A token absent from the corpus adds nothing (rank_bm25 uses `idf.get(q) or 0`), not even delta.
The `idf*delta` part is the same for every document, so it is split off: the index stores, per
(term, document) posting, only `idf * tf*(k1+1) / (k1*norm(d) + tf)` (the "excess"), and a query's
score is `query_constant(query) + sum of its postings' excess`.  Ranking uses the excess alone.

Design, with the numbers that chose it (synthetic Zipf corpora of ~45-token passages, 2-core
machine; see benchmarks/bench_retrieval.py and benchmarks/README.md):

* CSR layout: term id -> `indptr` slice of `doc_ids` (int32, ascending) and `weights` (float64).
* float64 weights: float32 fails the 1e-6 absolute parity.  Weights reach ~17 (100k docs),
  where float32 rounds by up to 6e-7, and a query adds several: with float32 weights the max
  score error was 1.36e-6 on the test corpus (2,000 queries) and 1.41e-6 on the 100k benchmark
  corpus (1,000 queries).  The exact-sum grid below needs 53 bits too.  Cost: 12 bytes per
  posting instead of 8 (50 MB on disk for 100k passages, 457 MB for 1M).
* Exact ties: weights are snapped to a 2**-32 grid (error <= 1.2e-10), so sums are exact in any
  order and mathematically tied documents score bit-identically (see postings.GRID); plain
  float sums split such ties by rounding noise, and "ties go to the lower id" would not hold.
* Accumulation: one `np.bincount` over the concatenated postings; queries with fewer than
  ~n/40 postings skip the n-sized buffer (a stable argsort + `np.add.reduceat`), the crossover
  measured at both 100k and 1M docs (`retrieval.accumulate`).
* Top-k: selected from a sample's bound, not by sorting all n scores (`retrieval.topk`).
* Vocabulary: a dict built at load from one UTF-8 blob ("\\n"-joined; tokens may not contain a
  newline).  Lookup 0.6 us/term; bisecting the mmapped blob instead would make load free but
  cost 5-16 us/term.  The dict builds in 20 ms for 100k terms, ~1.5 s for 2M.
* Build is vectorised: tokens -> ids through a C-level dict map, then one in-place int64 sort
  of `term*n + doc` keys gives (term, doc, tf) runs; no per-document Python dicts.  1M passages
  (45M tokens): 29 s, 1.26 GB traced peak.
* File: one checksummed, memory-mapped `binfile` file (`retrieval.bm25_file`).
* Incremental update: each posting's tf (uint16 on disk when it fits) and each document's
  length are kept too (+2 bytes per posting, 79 MB at 1M passages), so `updated` can drop,
  renumber and add documents by merging posting keys and recomputing the weights (idf and
  avgdl change with any edit, so every weight does) without re-reading kept documents; see
  `citebot.retrieval.postings`.
* Queries never write to shared state, so one index can serve several threads.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain, count
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from citebot.binfile import IndexFormatError
from citebot.retrieval import accumulate, bm25_file, postings
from citebot.retrieval.bm25_file import FORMAT_VERSION
from citebot.retrieval.topk import best, best_dense, lowest_absent

__all__ = ["FORMAT_VERSION", "BM25Index", "IndexFormatError"]

# Queries with fewer than n/_SPARSE_RATIO postings are summed without touching all n docs
# (measured crossover ~n/40 at both 100k and 1M docs, see `retrieval.accumulate`).
_SPARSE_RATIO: Final = 40

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class BM25Index:
    """Term -> posting lists of precomputed BM25Plus weights (eager scoring)."""

    n_docs: int
    k1: float
    b: float
    delta: float

    def __init__(
        self,
        *,
        n_docs: int,
        k1: float,
        b: float,
        delta: float,
        terms: list[str],
        idf: FloatArray,
        indptr: IntArray,
        doc_ids: npt.NDArray[np.int32],
        weights: FloatArray,
        tf: npt.NDArray[Any],
        lengths: npt.NDArray[Any],
    ) -> None:
        """Wrap already-built arrays; use `build` or `load` instead."""
        self.n_docs = n_docs
        self.k1, self.b, self.delta = k1, b, delta
        self._terms = terms
        self._vocab = {t: i for i, t in enumerate(terms)}
        self._idf = idf
        self._indptr = indptr
        self._doc_ids = doc_ids
        self._weights = weights
        self._tf = tf
        self._lengths = lengths
        # The same columns as Python sequences (no copy): reading one posting from a view
        # costs a fraction of a numpy scalar read, and `term_weights`,
        # `document_frequency` and `holds` read a few per query term.
        self._indptr_view = indptr.data
        self._doc_ids_view = doc_ids.data
        self._weights_view = weights.data

    # ------------------------------------------------------------------ build

    @classmethod
    def build(
        cls,
        docs: Sequence[Sequence[str]],
        *,
        k1: float = 1.5,
        b: float = 0.75,
        delta: float = 1.0,
        progress: bool = False,
    ) -> BM25Index:
        """Index tokenised documents; doc ids are positions in `docs`."""
        _check_params(k1, b, delta)
        if any(isinstance(d, str) for d in docs):
            # A str is a Sequence[str] too: indexing its characters is never what was meant.
            raise TypeError("each document must be a sequence of tokens, not a str")
        n = len(docs)
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=n)
        # Ids in first-occurrence order; defaultdict(count().__next__) keeps the token loop in C.
        vocab: defaultdict[str, int] = defaultdict(count().__next__)
        it: Iterable[Sequence[str]] = docs
        if progress:
            from tqdm import tqdm

            it = tqdm(docs, desc="BM25 index", unit="doc", mininterval=0.5)
        total = int(lengths.sum())
        tokens = np.fromiter(map(vocab.__getitem__, chain.from_iterable(it)), np.int64, total)
        terms = list(vocab)
        del vocab
        return cls.from_ids(tokens, lengths, terms, k1=k1, b=b, delta=delta)

    @classmethod
    def from_ids(
        cls,
        tokens: npt.NDArray[Any],
        lengths: npt.NDArray[Any],
        terms: list[str],
        *,
        k1: float = 1.5,
        b: float = 0.75,
        delta: float = 1.0,
        consume: bool = False,
    ) -> BM25Index:
        """Index documents given as term ids: `build` for callers that map tokens themselves.

        `tokens` holds every document's ids concatenated, `lengths` each document's number
        of tokens, and `terms[i]` is the token of id i; every id must occur somewhere.
        `consume`: int64 `tokens` may be overwritten (the build then needs no copy of them:
        ~290 MB less at the peak of a 1M-passage build).
        """
        _check_params(k1, b, delta)
        postings.check_terms(terms)
        n = len(lengths)
        if n >= 2**31:
            raise ValueError("more than 2**31-1 documents do not fit int32 doc ids")
        lengths = np.asarray(lengths, dtype=np.int64)
        if int(lengths.sum()) != len(tokens):
            raise ValueError(f"lengths add up to {int(lengths.sum())}, not {len(tokens)} tokens")
        if len(tokens) and (tokens.min() < 0 or tokens.max() >= len(terms)):
            raise ValueError(f"term ids must lie in [0, {len(terms)})")
        stride = max(n, 1)
        doc_ids = np.arange(n, dtype=np.int64)
        keys, tf = postings.from_tokens(tokens, lengths, doc_ids, stride, consume=consume)
        return cls._from_postings(keys, tf, lengths, terms, k1, b, delta)

    def updated(
        self,
        new_id: npt.ArrayLike,
        added: Sequence[Sequence[str]],
        added_at: npt.ArrayLike,
    ) -> BM25Index:
        """This index after dropping, renumbering and adding documents, kept ones not re-read.

        `new_id[d]` is the new id of document d, or -1 to drop it; kept documents keep their
        order. `added[i]` (tokens) becomes document `added_at[i]`, ascending. Together they
        must number the documents 0..n-1. The result equals `build` of the new document list:
        the same scores, bit for bit, and the same rankings.
        """
        if any(isinstance(d, str) for d in added):
            raise TypeError("each document must be a sequence of tokens, not a str")
        keys, tf, lengths, terms = postings.renumbered(
            self._indptr,
            self._doc_ids,
            self._tf,
            self._lengths,
            self._vocab,
            np.asarray(new_id, dtype=np.int64),
            added,
            np.asarray(added_at, dtype=np.int64),
        )
        return self._from_postings(keys, tf, lengths, terms, self.k1, self.b, self.delta)

    @classmethod
    def _from_postings(
        cls,
        keys: IntArray,
        tf: npt.NDArray[Any],
        lengths: IntArray,
        terms: list[str],
        k1: float,
        b: float,
        delta: float,
    ) -> BM25Index:
        """The index of sorted unique posting keys (term * n + doc) and their tf."""
        indptr, idf, doc_ids, weights = postings.weights(keys, tf, lengths, len(terms), k1, b)
        return cls(
            n_docs=len(lengths),
            k1=k1,
            b=b,
            delta=delta,
            terms=terms,
            idf=idf,
            indptr=indptr,
            doc_ids=doc_ids,
            weights=weights,
            tf=tf,
            lengths=lengths.astype(np.int32),
        )

    # ------------------------------------------------------------------ query

    def query_constant(self, query: Sequence[str]) -> float:
        """The `idf*delta` part of the score, equal for every document (0 for unknown tokens)."""
        ids, mult = self._lookup(query)
        return self._constant(ids, mult)

    def scores(self, query: Sequence[str]) -> FloatArray:
        """Every document's score, as `rank_bm25.BM25Plus(docs).get_scores(query)`."""
        ids, mult = self._lookup(query)
        out = accumulate.dense(self._slices(ids, mult), self.n_docs)
        out += self._constant(ids, mult)
        return out

    def top_k(
        self, query: Sequence[str], k: int, *, allowed: npt.ArrayLike | None = None
    ) -> tuple[IntArray, FloatArray]:
        """Best k (doc ids, scores), best first, ties to the lower id; only `allowed` ids if set."""
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        ids, mult = self._lookup(query)
        base = self._constant(ids, mult)
        if allowed is not None:
            universe = self._check_allowed(allowed)
            excess = accumulate.within(self._slices(ids, mult), universe)
            pos = best_dense(excess, k)
            return universe[pos], excess[pos] + base
        k = min(k, self.n_docs)
        if k == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        n_post = int(np.sum(self._indptr[ids + 1] - self._indptr[ids]))
        if n_post * _SPARSE_RATIO < self.n_docs:
            cand, excess = accumulate.sparse(self._slices(ids, mult))
            pos = best(np.arange(len(cand)), excess, k)
            top, top_excess = cand[pos].astype(np.int64), excess[pos]
            if len(top) < k:
                # Every other document scores exactly the constant; the lowest ids come first.
                filler = lowest_absent(cand, k - len(top), self.n_docs)
                top = np.concatenate([top, filler])
                top_excess = np.concatenate([top_excess, np.zeros(len(filler))])
            return top, top_excess + base
        excess = accumulate.dense(self._slices(ids, mult), self.n_docs)
        pos = best_dense(excess, k)
        return pos, excess[pos] + base

    def term_weights(self, query: Sequence[str], doc_id: int) -> dict[str, float]:
        """Each distinct query token's share of `doc_id`'s score, excluding `query_constant`."""
        if not 0 <= doc_id < self.n_docs:
            raise IndexError(f"doc_id {doc_id} out of range for {self.n_docs} documents")
        _check_query(query)
        out: dict[str, float] = {}
        for token in query:
            if token in out:
                continue
            term = self._vocab.get(token)
            weight = 0.0
            if term is not None:
                docs = self._doc_ids_view
                lo, hi = self._indptr_view[term], self._indptr_view[term + 1]
                at = bisect_left(docs, doc_id, lo, hi)
                if at < hi and docs[at] == doc_id:
                    # A token repeated in the query counts once per occurrence, as in rank_bm25.
                    weight = self._weights_view[at] * sum(1 for t in query if t == token)
            out[token] = weight
        return out

    def document_frequency(self, token: str) -> int:
        """How many documents contain `token` (0 for a token the corpus never uses)."""
        term = self._vocab.get(token)
        return 0 if term is None else self._indptr_view[term + 1] - self._indptr_view[term]

    def _lookup(self, query: Sequence[str]) -> tuple[IntArray, FloatArray]:
        """Known query tokens as distinct term ids and their multiplicities, in query order."""
        _check_query(query)
        counts: dict[int, int] = {}
        get = self._vocab.get
        for token in query:
            term = get(token)
            if term is not None:
                counts[term] = counts.get(term, 0) + 1
        ids = np.fromiter(counts.keys(), np.int64, len(counts))
        mult = np.fromiter(counts.values(), np.float64, len(counts))
        return ids, mult

    def _constant(self, ids: IntArray, mult: FloatArray) -> float:
        """Sum of idf*delta over the known query tokens, with repeats."""
        return float(np.dot(self._idf[ids], mult)) * self.delta

    def _slices(self, ids: IntArray, mult: FloatArray) -> accumulate.Slices:
        """Each query term's (doc ids, weights x multiplicity) postings."""
        return accumulate.query_slices(self._indptr, self._doc_ids, self._weights, ids, mult)

    def _check_allowed(self, allowed: npt.ArrayLike) -> IntArray:
        """`allowed` as sorted, distinct, in-range int64 doc ids."""
        arr = np.asarray(allowed)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise TypeError("allowed must be a 1-D array of integer doc ids")
        arr = arr.astype(np.int64, copy=False)
        if arr.size and not bool(np.all(arr[1:] > arr[:-1])):
            arr = np.unique(arr)
        if arr.size and (arr[0] < 0 or arr[-1] >= self.n_docs):
            raise ValueError(f"allowed doc ids must lie in [0, {self.n_docs})")
        return arr

    # ------------------------------------------------------------ persistence

    def save(self, path: Path) -> None:
        """Write the index to `path` atomically (temp file in the same directory, then rename)."""
        bm25_file.save(
            Path(path),
            n_docs=self.n_docs,
            k1=self.k1,
            b=self.b,
            delta=self.delta,
            terms=self._terms,
            arrays={
                "idf": self._idf,
                "indptr": self._indptr,
                "doc_ids": self._doc_ids,
                "weights": self._weights,
                "tf": self._tf,
                "lengths": self._lengths,
            },
        )

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True) -> BM25Index:
        """Read an index written by `save`; IndexFormatError if it is not intact."""
        fields, terms, arrays = bm25_file.load(Path(path), mmap=mmap)
        return cls(
            n_docs=int(fields["n_docs"]),
            k1=float(fields["k1"]),
            b=float(fields["b"]),
            delta=float(fields["delta"]),
            terms=terms,
            idf=arrays["idf"],
            indptr=arrays["indptr"],
            doc_ids=arrays["doc_ids"],
            weights=arrays["weights"],
            tf=arrays["tf"],
            lengths=arrays["lengths"],
        )


# Argument checks, shared by the build and the queries.
def _check_params(k1: float, b: float, delta: float) -> None:
    """Reject parameters that make weights negative, zero or NaN."""
    if not (np.isfinite(k1) and k1 >= 0):
        raise ValueError(f"k1 must be finite and >= 0, got {k1}")
    if not 0 <= b <= 1:
        raise ValueError(f"b must be in [0, 1], got {b}")
    if not (np.isfinite(delta) and delta >= 0):
        raise ValueError(f"delta must be finite and >= 0, got {delta}")


def _check_query(query: Sequence[str]) -> None:
    """A bare str would be scored character by character; refuse it."""
    if isinstance(query, str):
        raise TypeError("query must be a sequence of tokens, not a str")
