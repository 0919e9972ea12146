"""Building BM25 posting lists from term ids, from scratch or by merging into old ones.

A posting is one (term, document) pair with its term frequency. Postings are handled
as sorted int64 keys `term * stride + doc` (stride = number of documents), so one
in-place sort groups them by term with ascending doc ids inside a term, and merging
new documents into an existing index is a `searchsorted` + `insert` on those keys
instead of a re-sort. `weights` turns postings into BM25Plus weights; the full build
and the incremental update both end there, so an updated index is bit-identical to a
rebuilt one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import chain, count
from typing import Any, Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Weights are multiples of 1/GRID (error <= 1.2e-10 each), so float64 sums of them are exact
# up to 2**21 whatever the order: documents whose scores are mathematically tied (e.g. two
# terms with equal df, one in each of two same-length docs) get bit-identical scores, and the
# lower-id tie-break really applies.  Plain float sums would split such ties by rounding noise.
GRID: Final = float(2**32)
# Postings converted per step: bounds temporaries to a few tens of MB.
CHUNK: Final = 1 << 22
# Postings weighted per step in `weights`: each step makes ~8 temporaries as long as the
# step (term and doc ids, tf, the weight expression's parts): ~15 MB at 2**18, where
# 2**22 made ~250 MB, at the top of the 1M-passage build's memory peak.
WEIGHT_CHUNK: Final = 1 << 18


def from_tokens(
    tokens: npt.NDArray[Any],
    lengths: IntArray,
    doc_ids: IntArray,
    stride: int,
    *,
    consume: bool = False,
) -> tuple[IntArray, npt.NDArray[np.uint32]]:
    """Sorted unique keys and their term frequencies of documents given as term ids.

    `tokens` is every document's term ids concatenated, `lengths` the documents' lengths
    and `doc_ids` the id each document gets (ascending). With `consume`, int64 `tokens`
    become the keys in place (overwritten) instead of being copied.
    """
    keys = tokens if consume and tokens.dtype == np.int64 else tokens.astype(np.int64)
    keys *= stride
    _add_doc_ids(keys, lengths, doc_ids)
    keys.sort()
    return _unique_counts(keys)


def _unique_counts(keys: IntArray) -> tuple[IntArray, npt.NDArray[np.uint32]]:
    """Distinct values of sorted `keys` (compacted in place) and how often each occurs.

    Chunk by chunk, so that no temporary is as long as `keys` (at 1M passages a full-length
    array of run starts and their differences would add ~500 MB to the build's peak).
    """
    n = len(keys)
    tf = np.empty(n, dtype=np.uint32)
    out = 0
    prev_key: int | None = None
    open_start = open_out = -1  # the last run seen, whose end is not known yet
    for a in range(0, n, CHUNK):
        z = min(a + CHUNK, n)
        chunk = keys[a:z]
        new = np.empty(z - a, dtype=bool)
        new[0] = prev_key is None or chunk[0] != prev_key
        np.not_equal(chunk[1:], chunk[:-1], out=new[1:])
        prev_key = int(chunk[-1])  # read before the compaction below may overwrite it
        starts = np.flatnonzero(new) + a
        m = len(starts)
        if m == 0:
            continue
        if open_out >= 0:
            tf[open_out] = starts[0] - open_start
        tf[out : out + m - 1] = np.diff(starts)
        # Writes land at or below the positions read (out <= a <= starts): safe in place.
        keys[out : out + m] = keys[starts]
        open_start, open_out = int(starts[-1]), out + m - 1
        out += m
    if open_out >= 0:
        tf[open_out] = n - open_start
    return keys[:out], tf[:out]


def old_keys(
    indptr: IntArray, doc_ids: npt.NDArray[np.int32], new_id: IntArray, stride: int
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Keys of an index's postings with doc ids renumbered by `new_id` (-1: dropped), and
    which postings are kept. Order is preserved when kept documents keep their order."""
    n_post = len(doc_ids)
    mapped = new_id[doc_ids]
    kept = mapped >= 0
    keys = np.empty(int(kept.sum()), dtype=np.int64)
    out = 0
    for a in range(0, n_post, CHUNK):
        z = min(a + CHUNK, n_post)
        # The terms whose posting lists overlap [a, z), each repeated over its overlap.
        t0 = int(np.searchsorted(indptr, a, side="right")) - 1
        t1 = int(np.searchsorted(indptr, z, side="left"))
        cover = np.clip(indptr[t0 : t1 + 1], a, z)
        term = np.repeat(np.arange(t0, t1, dtype=np.int64), np.diff(cover))
        sel = kept[a:z]
        m = int(sel.sum())
        keys[out : out + m] = term[sel] * stride + mapped[a:z][sel]
        out += m
    return keys, kept


def drop_unused_terms(keys: IntArray, n_terms: int, stride: int) -> tuple[IntArray, IntArray]:
    """Renumber the terms that still have postings to 0..m-1; returns (keys, kept term ids)."""
    used = np.zeros(n_terms, dtype=bool)
    for a in range(0, len(keys), CHUNK):
        used[keys[a : a + CHUNK] // stride] = True
    if used.all():
        return keys, np.arange(n_terms, dtype=np.int64)
    rank = np.cumsum(used) - 1
    for a in range(0, len(keys), CHUNK):
        term, doc = np.divmod(keys[a : a + CHUNK], stride)
        keys[a : a + CHUNK] = rank[term] * stride + doc
    return keys, np.flatnonzero(used)


def weights(
    keys: IntArray,
    tf: npt.NDArray[Any],
    lengths: IntArray,
    n_terms: int,
    k1: float,
    b: float,
) -> tuple[IntArray, FloatArray, npt.NDArray[np.int32], FloatArray]:
    """(indptr, idf, doc_ids, weights) of sorted unique keys: the BM25Plus arrays.

    The weights are written over `keys` (float64 and int64 are both 8 bytes, and each
    step reads its keys before writing their weights): a build never holds both, ~290 MB
    at 1M passages. Callers pass keys they no longer need (`from_tokens`, an update).
    """
    n = len(lengths)
    stride = max(n, 1)
    lengths = lengths.astype(np.int64, copy=False)
    total = int(lengths.sum())
    # Keys are sorted by term, so each term's slice bound is a searchsorted of term*n.
    bounds = np.arange(n_terms + 1, dtype=np.int64) * stride
    indptr = np.searchsorted(keys, bounds).astype(np.int64)
    df = np.diff(indptr).astype(np.float64)
    if n_terms and df.min() == 0:
        raise ValueError("every term id must occur in some document")
    idf = np.log((n + 1) / df)
    avgdl = total / n if n else 0.0
    # Guarded: an all-empty corpus has no postings, and avgdl=0 would divide by zero.
    norm = k1 * (1 - b + b * lengths / avgdl) if total else np.zeros(n)
    n_post = len(keys)
    doc_ids = np.empty(n_post, dtype=np.int32)
    writable = keys.flags.writeable and keys.flags.c_contiguous
    out = keys.view(np.float64) if writable else np.empty(n_post, dtype=np.float64)
    for a in range(0, n_post, WEIGHT_CHUNK):
        z = min(a + WEIGHT_CHUNK, n_post)
        term, doc = np.divmod(keys[a:z], stride)
        doc_ids[a:z] = doc
        f = tf[a:z].astype(np.float64)
        # rank_bm25's expression and operation order, without its `delta +` term, then
        # snapped to the 2**-32 grid so that sums are exact (see GRID).
        w = idf[term] * ((f * (k1 + 1)) / (norm[doc] + f))
        out[a:z] = np.round(w * GRID) / GRID
    return indptr, idf, doc_ids, out


def run_starts(sorted_keys: npt.NDArray[Any]) -> IntArray:
    """Positions where a run of equal values starts in a sorted array."""
    if len(sorted_keys) == 0:
        return np.zeros(0, np.int64)
    new = np.empty(len(sorted_keys), dtype=bool)
    new[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    return np.flatnonzero(new)


def _add_doc_ids(keys: IntArray, lengths: IntArray, doc_ids: IntArray) -> None:
    """Add each token's doc id to `keys` in place, a block of docs at a time (bounded temp)."""
    ends = np.cumsum(lengths)
    step = max(1, CHUNK // 64)
    for d0 in range(0, len(lengths), step):
        d1 = min(d0 + step, len(lengths))
        t0 = int(ends[d0 - 1]) if d0 else 0
        t1 = int(ends[d1 - 1])
        keys[t0:t1] += np.repeat(doc_ids[d0:d1], lengths[d0:d1])


def renumbered(
    indptr: IntArray,
    doc_ids: npt.NDArray[np.int32],
    tf: npt.NDArray[Any],
    lengths: npt.NDArray[Any],
    vocab: Mapping[str, int],
    new_id: IntArray,
    added: Sequence[Sequence[str]],
    added_at: IntArray,
) -> tuple[IntArray, npt.NDArray[Any], IntArray, list[str]]:
    """(keys, tf, lengths, terms) of an index's postings (`indptr`, `doc_ids`, `tf`, doc
    `lengths`, term ids `vocab`) after renumbering, dropping and adding documents, for
    `weights`: see `BM25Index.updated` for `new_id`, `added` and `added_at`.
    """
    if new_id.shape != (len(lengths),) or added_at.shape != (len(added),):
        raise ValueError("new_id needs one entry per document, added_at one per added doc")
    kept = new_id[new_id >= 0]
    n = len(kept) + len(added)
    slots = np.zeros(n, dtype=np.int64)
    inside = bool(np.all((added_at >= 0) & (added_at < n))) and bool(np.all(kept < n))
    if inside:
        np.add.at(slots, kept, 1)
        np.add.at(slots, added_at, 1)
    if (
        not inside
        or not bool(np.all(slots == 1))
        or bool(np.any(np.diff(kept) <= 0))
        or bool(np.any(np.diff(added_at) <= 0))
    ):
        raise ValueError(
            "new_id (kept, in order) and added_at (ascending) must number 0..n-1 once each"
        )
    stride = max(n, 1)
    ids: defaultdict[str, int] = defaultdict(count(len(vocab)).__next__)
    ids.update(vocab)
    add_lengths = np.fromiter(map(len, added), dtype=np.int64, count=len(added))
    tokens = np.fromiter(
        map(ids.__getitem__, chain.from_iterable(added)), np.int64, int(add_lengths.sum())
    )
    terms = list(ids)  # the old terms, then new ones in first-occurrence order
    check_terms(terms[len(vocab) :])
    add_keys, add_tf = from_tokens(tokens, add_lengths, added_at, stride)
    keys, kept_postings = old_keys(indptr, doc_ids, new_id, stride)
    # Both key lists are sorted and disjoint (different docs): insert, do not re-sort.
    at = np.searchsorted(keys, add_keys)
    keys = np.insert(keys, at, add_keys)
    new_tf = np.insert(tf[kept_postings].astype(np.uint32), at, add_tf)
    keys, used = drop_unused_terms(keys, len(terms), stride)
    new_lengths = np.empty(n, dtype=np.int64)
    new_lengths[kept] = lengths[new_id >= 0]
    new_lengths[added_at] = add_lengths
    return keys, new_tf, new_lengths, [terms[i] for i in used.tolist()]


def check_terms(terms: list[str]) -> None:
    """Tokens must be str without newlines (the saved vocabulary is newline-separated)."""
    for t in terms:
        if not isinstance(t, str):
            raise TypeError(f"tokens must be str, got {type(t).__name__}: {t!r}")
    if sum(t.count("\n") for t in terms):
        bad = next(t for t in terms if "\n" in t)
        raise ValueError(f"tokens must not contain a newline: {bad!r}")
