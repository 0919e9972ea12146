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
  order and mathematically tied documents score bit-identically (see _GRID); plain float sums
  split such ties by rounding noise, and "ties go to the lower id" would not hold.
* Accumulation: `np.bincount(ids, weights, minlength=n)` over the concatenated postings (0.17 ms
  for a median 83k postings at 100k docs) beat per-term `buf[ids] += w` (0.45 ms) and matched
  `np.add.at` (0.17 ms).  Queries with few postings skip the n-sized buffer: a stable argsort
  of their doc ids + `np.add.reduceat`.  Measured crossover ~n/40 postings at both 100k and 1M
  docs (at n/1000: 0.06 ms sparse vs 0.49 ms dense at 1M docs; at n/6: 1.1 vs 2.7 ms dense).
* Top-k: `np.argpartition` over all n scores costs 0.63 ms at 100k docs, more than scoring.  We
  take the k-th best of a strided sample of ~2,048 scores -- a lower bound on the true k-th
  best -- keep the documents at or above it (typically a few hundred) and order those exactly
  by (score desc, doc id asc): 0.28 ms per query at 100k instead of 1.2 ms.  np.partition is
  ~15x slower when one value dominates (zeros, big tie blocks), so those are set aside first.
* Vocabulary: a dict built at load from one UTF-8 blob ("\\n"-joined; tokens may not contain a
  newline).  Lookup 0.6 us/term; bisecting the mmapped blob instead would make load free but
  cost 5-16 us/term.  The dict builds in 20 ms for 100k terms, ~1.5 s for 2M.
* Build is vectorised: tokens -> ids through a C-level dict map, then one in-place int64 sort
  of `term*n + doc` keys gives (term, doc, tf) runs; no per-document Python dicts.  1M passages
  (45M tokens): 29 s, 1.26 GB traced peak.
* File: one binary file -- 32-byte prelude (magic, format version, header length, header CRC32),
  a JSON header (parameters, array table, payload CRC32), then 64-byte-aligned raw arrays,
  memory-mapped on load.  Loading verifies both CRCs (zlib.crc32: ~4 GB/s, 0.1 s for 457 MB)
  and that uncovered bytes are zero, so a corrupt file raises instead of mis-ranking.
* Queries never write to shared state, so one index can serve several threads.
"""

from __future__ import annotations

import json
import mmap as mmap_module
import os
import struct
import tempfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain, count
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from citebot.errors import CitebotError

__all__ = ["FORMAT_VERSION", "BM25Index", "IndexFormatError"]

FORMAT_VERSION: Final = 1
_MAGIC: Final = b"CBBM25IX"
# magic, format version, header length, header crc32, 12 reserved bytes (must be zero).
_PRELUDE: Final = struct.Struct("<8sIII12s")
_ALIGN: Final = 64
# Queries with fewer than n/_SPARSE_RATIO postings are summed without touching all n docs
# (measured crossover ~n/40 at both 100k and 1M docs, see module docstring).
_SPARSE_RATIO: Final = 40
# Size of the strided sample whose k-th best score bounds the true k-th best from below.
_SAMPLE: Final = 2048
# Weights are multiples of 1/_GRID (error <= 1.2e-10 each), so float64 sums of them are exact
# up to 2**21 whatever the order: documents whose scores are mathematically tied (e.g. two
# terms with equal df, one in each of two same-length docs) get bit-identical scores, and the
# lower-id tie-break really applies.  Plain float sums would split such ties by rounding noise.
_GRID: Final = float(2**32)
# Postings converted per step while building: bounds temporaries to a few tens of MB.
_CHUNK: Final = 1 << 22
_ARRAYS: Final = ("vocab", "idf", "indptr", "doc_ids", "weights")
_DTYPES: Final[dict[str, np.dtype[Any]]] = {
    "vocab": np.dtype(np.uint8),
    "idf": np.dtype("<f8"),
    "indptr": np.dtype("<i8"),
    "doc_ids": np.dtype("<i4"),
    "weights": np.dtype("<f8"),
}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class IndexFormatError(CitebotError, ValueError):
    """A saved BM25 index is truncated, corrupt, or of an unsupported format version."""


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
        if n >= 2**31:
            raise ValueError("more than 2**31-1 documents do not fit int32 doc ids")
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=n)
        total = int(lengths.sum())

        # Ids in first-occurrence order; defaultdict(count().__next__) keeps the token loop in C.
        vocab: defaultdict[str, int] = defaultdict(count().__next__)
        it: Iterable[Sequence[str]] = docs
        if progress:
            from tqdm import tqdm

            it = tqdm(docs, desc="BM25 index", unit="doc", mininterval=0.5)
        tokens = np.fromiter(map(vocab.__getitem__, chain.from_iterable(it)), np.int64, total)
        terms = list(vocab)
        del vocab
        _check_terms(terms)
        n_terms = len(terms)

        # One in-place sort of term*n + doc keys groups postings by term, ascending doc id
        # within a term; equal keys are one (term, doc) pair and their run length is tf.
        keys = tokens
        del tokens
        stride = max(n, 1)
        keys *= stride
        _add_doc_ids(keys, lengths)
        keys.sort()
        starts = _run_starts(keys)
        n_post = len(starts)
        tf = np.diff(starts, append=total).astype(np.float64)
        _compact(keys, starts)
        del starts
        keys = keys[:n_post]

        # Keys are sorted by term, so each term's slice bound is a searchsorted of term*n.
        bounds = np.arange(n_terms + 1, dtype=np.int64) * stride
        indptr = np.searchsorted(keys, bounds).astype(np.int64)
        df = np.diff(indptr).astype(np.float64)
        idf = np.log((n + 1) / df)

        avgdl = total / n if n else 0.0
        # Guarded: an all-empty corpus has no postings, and avgdl=0 would divide by zero.
        norm = k1 * (1 - b + b * lengths / avgdl) if total else np.zeros(n)
        doc_ids = np.empty(n_post, dtype=np.int32)
        weights = tf  # filled in place, chunk by chunk, to keep peak memory near the final size
        for a in range(0, n_post, _CHUNK):
            z = min(a + _CHUNK, n_post)
            term, doc = np.divmod(keys[a:z], stride)
            doc_ids[a:z] = doc
            f = tf[a:z]
            # rank_bm25's expression and operation order, without its `delta +` term, then
            # snapped to the 2**-32 grid so that sums are exact (see _GRID).
            w = idf[term] * ((f * (k1 + 1)) / (norm[doc] + f))
            weights[a:z] = np.round(w * _GRID) / _GRID
        del keys
        return cls(
            n_docs=n,
            k1=k1,
            b=b,
            delta=delta,
            terms=terms,
            idf=idf,
            indptr=indptr,
            doc_ids=doc_ids,
            weights=weights,
        )

    # ------------------------------------------------------------------ query

    def query_constant(self, query: Sequence[str]) -> float:
        """The `idf*delta` part of the score, equal for every document (0 for unknown tokens)."""
        ids, mult = self._lookup(query)
        return self._constant(ids, mult)

    def scores(self, query: Sequence[str]) -> FloatArray:
        """Every document's score, as `rank_bm25.BM25Plus(docs).get_scores(query)`."""
        ids, mult = self._lookup(query)
        doc, w = self._postings(ids, mult)
        out = np.bincount(doc, weights=w, minlength=self.n_docs).astype(np.float64, copy=False)
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
            excess = self._excess_within(ids, mult, universe)
            pos = _best_dense(excess, k)
            return universe[pos], excess[pos] + base
        k = min(k, self.n_docs)
        if k == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        n_post = int(np.sum(self._indptr[ids + 1] - self._indptr[ids]))
        if n_post * _SPARSE_RATIO < self.n_docs:
            cand, excess = self._excess_sparse(ids, mult)
            pos = _best(np.arange(len(cand)), excess, k)
            top, top_excess = cand[pos].astype(np.int64), excess[pos]
            if len(top) < k:
                # Every other document scores exactly the constant; the lowest ids come first.
                filler = _lowest_absent(cand, k - len(top), self.n_docs)
                top = np.concatenate([top, filler])
                top_excess = np.concatenate([top_excess, np.zeros(len(filler))])
            return top, top_excess + base
        doc, w = self._postings(ids, mult)
        excess = np.bincount(doc, weights=w, minlength=self.n_docs).astype(np.float64, copy=False)
        pos = _best_dense(excess, k)
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
                lo, hi = int(self._indptr[term]), int(self._indptr[term + 1])
                at = lo + int(np.searchsorted(self._doc_ids[lo:hi], doc_id))
                if at < hi and self._doc_ids[at] == doc_id:
                    # A token repeated in the query counts once per occurrence, as in rank_bm25.
                    weight = float(self._weights[at]) * sum(1 for t in query if t == token)
            out[token] = weight
        return out

    def document_frequency(self, token: str) -> int:
        """How many documents contain `token` (0 for a token the corpus never uses)."""
        term = self._vocab.get(token)
        return 0 if term is None else int(self._indptr[term + 1] - self._indptr[term])

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

    def _slices(
        self, ids: IntArray, mult: FloatArray
    ) -> Iterable[tuple[npt.NDArray[np.int32], FloatArray]]:
        """Each query term's (doc ids, weights x multiplicity) postings."""
        indptr, doc_ids, weights = self._indptr, self._doc_ids, self._weights
        for term, m in zip(ids.tolist(), mult.tolist(), strict=True):
            lo, hi = indptr[term], indptr[term + 1]
            w = weights[lo:hi]
            yield doc_ids[lo:hi], (w if m == 1.0 else w * m)

    def _postings(
        self, ids: IntArray, mult: FloatArray
    ) -> tuple[npt.NDArray[np.int32], FloatArray]:
        """The query's postings concatenated in query-term order (the summation order)."""
        parts = list(self._slices(ids, mult))
        if not parts:
            return np.zeros(0, np.int32), np.zeros(0, np.float64)
        if len(parts) == 1:
            return parts[0]
        return (
            np.concatenate([d for d, _ in parts]),
            np.concatenate([w for _, w in parts]),
        )

    def _excess_sparse(self, ids: IntArray, mult: FloatArray) -> tuple[IntArray, FloatArray]:
        """Matching doc ids (ascending) and their excess scores, touching only the postings."""
        doc, w = self._postings(ids, mult)
        if len(ids) <= 1:
            return doc.astype(np.int64), w  # one posting list: already unique and sorted
        # A stable sort keeps each document's additions in query-term order, like bincount.
        order = np.argsort(doc, kind="stable")
        doc, w = doc[order], w[order]
        starts = _run_starts(doc)
        return doc[starts].astype(np.int64), np.add.reduceat(w, starts)

    def _excess_within(self, ids: IntArray, mult: FloatArray, universe: IntArray) -> FloatArray:
        """Excess scores of the documents in `universe` (sorted ids), aligned with it."""
        excess = np.zeros(len(universe))
        if len(universe) == 0:
            return excess
        for post, w in self._slices(ids, mult):
            # Binary-search the shorter list in the longer one: O(short * log long).
            if len(universe) <= len(post):
                at = np.minimum(np.searchsorted(post, universe), len(post) - 1)
                hit = post[at] == universe
                excess[hit] += w[at[hit]]
            else:
                at = np.minimum(np.searchsorted(universe, post), len(universe) - 1)
                hit = universe[at] == post
                excess[at[hit]] += w[hit]
        return excess

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
        path = Path(path)
        arrays = self._arrays()
        layout: dict[str, dict[str, Any]] = {}
        offset = 0
        for name in _ARRAYS:
            arr = arrays[name]
            offset = _align(offset)
            layout[name] = {"dtype": arr.dtype.str, "length": len(arr), "offset": offset}
            offset += arr.nbytes
        payload_size = offset
        crc = 0
        for chunk in _payload_chunks(arrays, layout):
            crc = zlib.crc32(chunk, crc)
        header = json.dumps(
            {
                "n_docs": self.n_docs,
                "n_terms": len(self._terms),
                "k1": self.k1,
                "b": self.b,
                "delta": self.delta,
                "arrays": layout,
                "payload_size": payload_size,
                "payload_crc32": crc,
            },
            sort_keys=True,
        ).encode()
        prelude = _PRELUDE.pack(_MAGIC, FORMAT_VERSION, len(header), zlib.crc32(header), bytes(12))
        head = prelude + header
        head += bytes(_align(len(head)) - len(head))

        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(head)
                for chunk in _payload_chunks(arrays, layout):
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the index from other users
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True) -> BM25Index:
        """Read an index written by `save`; IndexFormatError if it is not intact."""
        path = Path(path)
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < _PRELUDE.size:
                raise IndexFormatError(f"{path}: truncated ({size} bytes)")
            buf: mmap_module.mmap | bytes
            if mmap:
                buf = mmap_module.mmap(f.fileno(), 0, access=mmap_module.ACCESS_READ)
            else:
                buf = f.read()
        try:
            return cls._from_buffer(memoryview(buf), size)
        except IndexFormatError as e:
            raise IndexFormatError(f"{path}: {e}") from None

    @classmethod
    def _from_buffer(cls, buf: memoryview, size: int) -> BM25Index:
        """Validate and wrap the bytes of a saved index (zero-copy for the big arrays)."""
        magic, version, header_len, header_crc, reserved = _PRELUDE.unpack_from(buf, 0)
        if magic != _MAGIC:
            raise IndexFormatError("not a citebot BM25 index (bad magic bytes)")
        if version != FORMAT_VERSION:
            raise IndexFormatError(
                f"unsupported format version {version} (this citebot reads version "
                f"{FORMAT_VERSION}); rebuild the index"
            )
        header_end = _PRELUDE.size + header_len
        if header_end > size:
            raise IndexFormatError(f"truncated: header needs {header_end} bytes, file has {size}")
        raw = buf[_PRELUDE.size : header_end]
        if zlib.crc32(raw) != header_crc:
            raise IndexFormatError("corrupt header (checksum mismatch)")
        start = _align(header_end)
        # Bytes no checksum covers must be zero, so that every flipped byte is noticed.
        if any(reserved) or any(buf[header_end : min(start, size)]):
            raise IndexFormatError("corrupt header (non-zero reserved bytes)")
        try:
            header = json.loads(bytes(raw))
            n_docs, n_terms = int(header["n_docs"]), int(header["n_terms"])
            k1, b, delta = float(header["k1"]), float(header["b"]), float(header["delta"])
            layout = header["arrays"]
            payload_size, payload_crc = int(header["payload_size"]), int(header["payload_crc32"])
        except (ValueError, KeyError, TypeError) as e:
            raise IndexFormatError(f"malformed header: {e}") from None
        if min(n_docs, n_terms, payload_size) < 0:
            raise IndexFormatError("malformed header: negative count")
        if size < start + payload_size:
            raise IndexFormatError(f"truncated: expected {start + payload_size} bytes, got {size}")
        if size > start + payload_size:
            raise IndexFormatError(f"{size - start - payload_size} unexpected trailing bytes")
        if zlib.crc32(buf[start:]) != payload_crc:
            raise IndexFormatError("corrupt data (checksum mismatch)")

        arrays: dict[str, npt.NDArray[Any]] = {}
        for name in _ARRAYS:
            try:
                spec = layout[name]
                dtype, length = np.dtype(spec["dtype"]), int(spec["length"])
                offset = int(spec["offset"])
            except (KeyError, TypeError, ValueError) as e:
                raise IndexFormatError(f"malformed array table: {e}") from None
            end = offset + length * dtype.itemsize
            if dtype != _DTYPES[name] or min(length, offset) < 0 or end > payload_size:
                raise IndexFormatError(f"bad layout for array {name!r}")
            arrays[name] = np.frombuffer(buf, dtype, length, start + offset)

        indptr, doc_ids = arrays["indptr"], arrays["doc_ids"]
        try:
            text = bytes(arrays["vocab"]).decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as e:
            raise IndexFormatError(f"corrupt vocabulary: {e}") from None
        terms = text.split("\n") if n_terms else []
        if (
            len(terms) != n_terms
            or len(arrays["idf"]) != n_terms
            or len(indptr) != n_terms + 1
            or indptr[0] != 0
            or indptr[-1] != len(doc_ids)
            or len(arrays["weights"]) != len(doc_ids)
            or bool(np.any(np.diff(indptr) <= 0))
            or (len(doc_ids) and (doc_ids.min() < 0 or doc_ids.max() >= n_docs))
        ):
            raise IndexFormatError("inconsistent arrays")
        return cls(
            n_docs=n_docs,
            k1=k1,
            b=b,
            delta=delta,
            terms=terms,
            idf=arrays["idf"],
            indptr=indptr,
            doc_ids=doc_ids,
            weights=arrays["weights"],
        )

    def _arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The arrays `save` writes, in their on-disk dtypes."""
        blob = "\n".join(self._terms).encode("utf-8", "surrogatepass")
        own: dict[str, npt.NDArray[Any]] = {
            "vocab": np.frombuffer(blob, np.uint8),
            "idf": self._idf,
            "indptr": self._indptr,
            "doc_ids": self._doc_ids,
            "weights": self._weights,
        }
        return {k: np.ascontiguousarray(v, dtype=_DTYPES[k]) for k, v in own.items()}


# ---------------------------------------------------------------------- helpers


def _check_params(k1: float, b: float, delta: float) -> None:
    """Reject parameters that make weights negative, zero or NaN."""
    if not (np.isfinite(k1) and k1 >= 0):
        raise ValueError(f"k1 must be finite and >= 0, got {k1}")
    if not 0 <= b <= 1:
        raise ValueError(f"b must be in [0, 1], got {b}")
    if not (np.isfinite(delta) and delta >= 0):
        raise ValueError(f"delta must be finite and >= 0, got {delta}")


def _check_terms(terms: list[str]) -> None:
    """Tokens must be str without newlines (the saved vocabulary is newline-separated)."""
    for t in terms:
        if not isinstance(t, str):
            raise TypeError(f"tokens must be str, got {type(t).__name__}: {t!r}")
    if sum(t.count("\n") for t in terms):
        bad = next(t for t in terms if "\n" in t)
        raise ValueError(f"tokens must not contain a newline: {bad!r}")


def _check_query(query: Sequence[str]) -> None:
    """A bare str would be scored character by character; refuse it."""
    if isinstance(query, str):
        raise TypeError("query must be a sequence of tokens, not a str")


def _add_doc_ids(keys: IntArray, lengths: IntArray) -> None:
    """Add each token's doc id to `keys` in place, a block of docs at a time (bounded temp)."""
    ends = np.cumsum(lengths)
    step = max(1, _CHUNK // 64)
    for d0 in range(0, len(lengths), step):
        d1 = min(d0 + step, len(lengths))
        t0 = int(ends[d0 - 1]) if d0 else 0
        t1 = int(ends[d1 - 1])
        keys[t0:t1] += np.repeat(np.arange(d0, d1, dtype=np.int64), lengths[d0:d1])


def _run_starts(sorted_keys: npt.NDArray[Any]) -> IntArray:
    """Positions where a run of equal values starts in a sorted array."""
    if len(sorted_keys) == 0:
        return np.zeros(0, np.int64)
    new = np.empty(len(sorted_keys), dtype=bool)
    new[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    return np.flatnonzero(new)


def _compact(keys: IntArray, starts: IntArray) -> None:
    """keys[:len(starts)] = keys[starts] in place, safe because starts[i] >= i."""
    for a in range(0, len(starts), _CHUNK):
        z = min(a + _CHUNK, len(starts))
        # The gather reads positions >= a, which earlier chunks (writing below a) left intact.
        keys[a:z] = keys[starts[a:z]]


def _kth_largest(values: FloatArray, k: int) -> float:
    """The k-th largest of `values` (1 <= k <= len(values))."""
    # np.partition slows ~15x when one value fills most of the array (0.6 ms for 2,048
    # entries), and that value is typically the minimum here (zeros, or one big tie at the
    # bottom of the candidates), so it is set aside first.
    low = values.min()
    higher = values[values > low]
    if len(higher) < k:
        return float(low)
    return float(np.partition(higher, len(higher) - k)[len(higher) - k])


def _best(pos: IntArray, score: FloatArray, k: int) -> IntArray:
    """The k entries of `pos` (ascending) with the highest `score`, best first, ties by pos."""
    if len(pos) <= k:
        return pos[np.argsort(-score, kind="stable")]
    kth = _kth_largest(score, k)
    above = score > kth  # fewer than k entries
    first = pos[above][np.argsort(-score[above], kind="stable")]
    # Ties at the k-th score: `pos` is ascending, so the lowest ids come first.
    return np.concatenate([first, pos[score == kth][: k - len(first)]])


def _best_dense(excess: FloatArray, k: int) -> IntArray:
    """Positions of the k highest entries of `excess` (all >= 0), best first, ties by position."""
    m = len(excess)
    k = min(k, m)
    if k == 0:
        return np.zeros(0, np.int64)
    bound = 0.0
    if m > 2 * _SAMPLE:
        # The k-th best of a sample is <= the k-th best overall, so everything at or above it
        # contains the answer: usually a few hundred entries instead of m.
        sample = excess[:: m // _SAMPLE]
        sample = sample[sample > 0]
        if len(sample) >= k:
            bound = _kth_largest(sample, k)
    cand = np.flatnonzero(excess >= bound) if bound > 0 else np.flatnonzero(excess > 0)
    if len(cand) >= k:
        return _best(cand, excess[cand], k)
    # Fewer than k matches: the rest score 0 (the constant only); lowest positions first.
    top = cand[np.argsort(-excess[cand], kind="stable")]
    return np.concatenate([top, np.flatnonzero(excess == 0)[: k - len(top)]])


def _lowest_absent(present: IntArray, count_: int, n: int) -> IntArray:
    """The `count_` smallest ids in [0, n) that are not in `present`."""
    head = np.arange(min(n, count_ + len(present)), dtype=np.int64)
    return head[~np.isin(head, present)][:count_]


def _align(offset: int) -> int:
    """Round up to the array alignment."""
    return -(-offset // _ALIGN) * _ALIGN


def _payload_chunks(
    arrays: dict[str, npt.NDArray[Any]], layout: dict[str, dict[str, Any]]
) -> Iterable[memoryview | bytes]:
    """The payload bytes in file order: each array preceded by its alignment padding."""
    pos = 0
    for name in _ARRAYS:
        off = layout[name]["offset"]
        if off > pos:
            yield bytes(off - pos)
        data = arrays[name].data.cast("B")
        for i in range(0, len(data), 1 << 26):
            yield data[i : i + (1 << 26)]
        pos = off + arrays[name].nbytes


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself; best effort where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
