"""The three ways of summing a query's postings give the same sums, bit for bit, on the
weight grid the index stores."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from citebot.retrieval import accumulate, postings

N_DOCS = 50


# Weights as the index stores them: multiples of 1/GRID, up to ~20 (100k documents).
GRID_WEIGHTS = st.integers(0, 20 * int(postings.GRID)).map(lambda k: k / postings.GRID)


@st.composite
def slices(draw: st.DrawFn) -> accumulate.Slices:
    """0-4 posting slices over 50 documents, each with ascending doc ids and grid weights."""
    out: accumulate.Slices = []
    for _ in range(draw(st.integers(0, 4))):
        docs = sorted(draw(st.sets(st.integers(0, N_DOCS - 1), max_size=N_DOCS)))
        weights = draw(st.lists(GRID_WEIGHTS, min_size=len(docs), max_size=len(docs)))
        out.append((np.array(docs, np.int32), np.array(weights, np.float64)))
    return out


@settings(max_examples=200, deadline=None)
@given(slices(), st.sets(st.integers(0, N_DOCS - 1)))
def test_dense_sparse_and_within_agree(query: accumulate.Slices, subset: set[int]) -> None:
    """On the index's weight grid the three ways give the same sums, bit for bit."""
    dense = accumulate.dense(query, N_DOCS)
    docs, sums = accumulate.sparse(query)
    matched = sorted({int(d) for doc_ids, _ in query for d in doc_ids})
    assert docs.tolist() == matched
    assert sums.tobytes() == dense[docs].tobytes()
    universe = np.array(sorted(subset), np.int64)
    assert accumulate.within(query, universe).tobytes() == dense[universe].tobytes()


def test_query_slices_scale_a_repeated_term_by_its_count() -> None:
    """A term asked twice contributes twice its weights; one asked once, its stored weights."""
    indptr = np.array([0, 2, 3], np.int64)
    doc_ids = np.array([0, 3, 1], np.int32)
    weights = np.array([1.5, 2.0, 4.0])
    got = accumulate.query_slices(
        indptr, doc_ids, weights, np.array([1, 0], np.int64), np.array([1.0, 2.0])
    )
    assert [(d.tolist(), w.tolist()) for d, w in got] == [([1], [4.0]), ([0, 3], [3.0, 4.0])]
    assert accumulate.dense(got, 4).tolist() == [3.0, 4.0, 0.0, 4.0]
