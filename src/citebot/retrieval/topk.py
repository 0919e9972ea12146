"""The best k of many scores without sorting them all: the top-k step of a BM25 query.

`np.argpartition` over all n scores costs 0.63 ms at 100k docs, more than scoring.  We
take the k-th best of a strided sample of ~2,048 scores -- a lower bound on the true k-th
best -- keep the documents at or above it (typically a few hundred) and order those exactly
by (score desc, doc id asc): 0.28 ms per query at 100k instead of 1.2 ms.  np.partition is
~15x slower when one value dominates (zeros, big tie blocks), so those are set aside first.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Size of the strided sample whose k-th best score bounds the true k-th best from below.
_SAMPLE: Final = 2048


def kth_largest(values: FloatArray, k: int) -> float:
    """The k-th largest of `values` (1 <= k <= len(values))."""
    # np.partition slows ~15x when one value fills most of the array (0.6 ms for 2,048
    # entries), and that value is typically the minimum here (zeros, or one big tie at the
    # bottom of the candidates), so it is set aside first.
    low = values.min()
    higher = values[values > low]
    if len(higher) < k:
        return float(low)
    return float(np.partition(higher, len(higher) - k)[len(higher) - k])


def best(pos: IntArray, score: FloatArray, k: int) -> IntArray:
    """The k entries of `pos` (ascending) with the highest `score`, best first, ties by pos."""
    if len(pos) <= k:
        return pos[np.argsort(-score, kind="stable")]
    kth = kth_largest(score, k)
    above = score > kth  # fewer than k entries
    first = pos[above][np.argsort(-score[above], kind="stable")]
    # Ties at the k-th score: `pos` is ascending, so the lowest ids come first.
    return np.concatenate([first, pos[score == kth][: k - len(first)]])


def best_dense(excess: FloatArray, k: int) -> IntArray:
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
            bound = kth_largest(sample, k)
    cand = np.flatnonzero(excess >= bound) if bound > 0 else np.flatnonzero(excess > 0)
    if len(cand) >= k:
        return best(cand, excess[cand], k)
    # Fewer than k matches: the rest score 0 (the constant only); lowest positions first.
    top = cand[np.argsort(-excess[cand], kind="stable")]
    return np.concatenate([top, np.flatnonzero(excess == 0)[: k - len(top)]])


def lowest_absent(present: IntArray, count_: int, n: int) -> IntArray:
    """The `count_` smallest ids in [0, n) that are not in `present`."""
    head = np.arange(min(n, count_ + len(present)), dtype=np.int64)
    return head[~np.isin(head, present)][:count_]
