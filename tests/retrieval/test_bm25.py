"""BM25Index: parity with rank_bm25.BM25Plus, top-k semantics, and safe persistence."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi, BM25Plus

from citebot import binfile
from citebot.retrieval import bm25 as bm25_module
from citebot.retrieval import bm25_file, topk
from citebot.retrieval.bm25 import FORMAT_VERSION, BM25Index, IndexFormatError

TOL = 1e-6
Docs = list[list[str]]


# ---------------------------------------------------------------------- helpers


def zipf_corpus(n_docs: int, vocab: int, seed: int) -> Docs:
    """Documents of 5-80 tokens drawn from a Zipf(1) vocabulary, deterministically."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocab)]
    cdf = np.cumsum(1.0 / np.arange(1, vocab + 1))
    cdf /= cdf[-1]
    lengths = rng.integers(5, 81, n_docs)
    return [[words[i] for i in np.searchsorted(cdf, rng.random(n))] for n in lengths]


def mixed_queries(docs: Docs, n: int, seed: int) -> list[list[str]]:
    """Queries of 1-6 corpus tokens, some with repeats, unknown tokens, or empty."""
    rng = np.random.default_rng(seed)
    queries: list[list[str]] = []
    for i in range(n):
        doc = docs[int(rng.integers(len(docs)))]
        q = [doc[int(j)] for j in rng.integers(0, len(doc), int(rng.integers(1, 7)))]
        if i % 7 == 0:
            q.append(q[0])  # repeated token
        if i % 11 == 0:
            q.insert(int(rng.integers(len(q) + 1)), f"unknown{i}")
        if i % 97 == 0:
            q = []
        queries.append(q)
    return queries


class Reference:
    """rank_bm25.BM25Plus scores, summed exactly per document so that ties are true ties.

    rank_bm25 adds per-term contributions in query order, so two documents whose scores are
    mathematically equal can differ in the last bit; ranking on that noise would make "ties to
    the lower id" untestable.  Each term's contribution vector is rank_bm25's own output for the
    one-token query, and math.fsum (correctly rounded) makes the total order-independent.
    """

    def __init__(self, docs: Docs) -> None:
        self.bm25 = BM25Plus(docs)
        self.n = len(docs)
        self._columns: dict[str, np.ndarray] = {}

    def exact(self, query: Sequence[str]) -> np.ndarray:
        """Order-independent sum of rank_bm25's per-token contributions."""
        for t in query:
            if t not in self._columns:
                self._columns[t] = self.bm25.get_scores([t])
        if not query:
            return np.zeros(self.n)
        cols = np.stack([self._columns[t] for t in query], axis=1)
        return np.array([math.fsum(row) for row in cols.tolist()])

    def top_k(self, query: Sequence[str], k: int, allowed: np.ndarray | None = None) -> np.ndarray:
        """Ids by exact score descending, ties to the lower id."""
        scores = self.exact(query)
        ids = np.arange(self.n) if allowed is None else np.asarray(allowed)
        return ids[np.argsort(-scores[ids], kind="stable")][:k]


def assert_ranking(
    ids: np.ndarray, scores: np.ndarray, ref: np.ndarray, k: int, *, strict: bool
) -> None:
    """Same top-k as `ref` (ties to lower id); non-strict lets near-equal (1e-9) scores swap."""
    want = np.argsort(-ref, kind="stable")[:k]
    assert len(ids) == len(want)
    np.testing.assert_allclose(scores, ref[ids], rtol=0, atol=TOL)
    np.testing.assert_allclose(scores, ref[want], rtol=0, atol=TOL)
    if strict:
        np.testing.assert_array_equal(ids, want)
    else:
        differ = ids != want
        assert np.all(np.abs(ref[ids[differ]] - ref[want[differ]]) <= 1e-9)


# ----------------------------------------------------------------------- parity


@pytest.fixture(scope="module")
def corpus() -> Docs:
    """3,000 Zipf documents over 4,000 words (many equal-df terms, so many exact ties)."""
    return zipf_corpus(3000, 4000, seed=7)


@pytest.fixture(scope="module")
def index(corpus: Docs) -> BM25Index:
    """The corpus indexed with BM25Plus defaults."""
    return BM25Index.build(corpus)


@pytest.fixture(scope="module")
def reference(corpus: Docs) -> Reference:
    """rank_bm25 over the same corpus."""
    return Reference(corpus)


@pytest.mark.slow
def test_scores_and_top10_match_rank_bm25(
    corpus: Docs, index: BM25Index, reference: Reference
) -> None:
    """On 2,000 mixed queries, every score is within 1e-6 of rank_bm25 and top-10 ids are equal."""
    queries = mixed_queries(corpus, 2000, seed=3)
    assert sum(len(set(q)) < len(q) for q in queries) > 200
    assert sum(not q for q in queries) > 10
    for q in queries:
        ours = index.scores(q)
        np.testing.assert_allclose(ours, reference.bm25.get_scores(q), rtol=0, atol=TOL)
        ids, scores = index.top_k(q, 10)
        assert_ranking(ids, scores, reference.exact(q), 10, strict=True)


@pytest.mark.parametrize(
    ("sample", "sparse_ratio"),
    [(8, 10**9), (64, 10**9), (2048, 0), (2048, 40)],
    ids=["dense-sample8", "dense-sample64", "sparse-always", "defaults"],
)
def test_every_top_k_strategy_matches_rank_bm25(
    corpus: Docs,
    index: BM25Index,
    reference: Reference,
    monkeypatch: pytest.MonkeyPatch,
    sample: int,
    sparse_ratio: int,
) -> None:
    """Sparse union, dense scan and the sampled lower bound (incl. k > sample) agree exactly."""
    monkeypatch.setattr(topk, "_SAMPLE", sample)
    monkeypatch.setattr(bm25_module, "_SPARSE_RATIO", sparse_ratio)
    for i, q in enumerate(mixed_queries(corpus, 150, seed=21)):
        k = [1, 10, 200][i % 3]
        ids, scores = index.top_k(q, k)
        assert_ranking(ids, scores, reference.exact(q), k, strict=True)


def test_ties_go_to_the_lower_doc_id(index: BM25Index, reference: Reference) -> None:
    """Mathematically tied documents score bit-identically and rank by ascending id."""
    n_ties = 0
    for q in mixed_queries(reference_docs(reference), 300, seed=11):
        ids, scores = index.top_k(q, 10)
        same = scores[1:] == scores[:-1]
        n_ties += int(same.sum())
        assert np.all(ids[1:][same] > ids[:-1][same])
    assert n_ties > 50  # the corpus really exercises ties


@pytest.mark.parametrize("query", [["p", "x", "y", "q"], ["q", "x", "y", "p"]])
def test_mathematical_ties_are_exact_ties(query: list[str]) -> None:
    """Docs 0 and 1 tie exactly (p, q: same df; same lengths); summed naively in query order
    they differ in the last bit, one way or the other by query order -- here they tie."""
    docs = [["p", "x", "y"], ["x", "y", "q"], ["x", "x", "x", "x"], ["z"]]
    index = BM25Index.build(docs)
    scores = index.scores(query)
    assert scores[0] == scores[1]
    ids, top = index.top_k(query, 2)
    np.testing.assert_array_equal(ids, [0, 1])
    assert top[0] == top[1]


@pytest.mark.parametrize("allowed", [None, np.arange(0, 6000, 2)])
def test_huge_tie_blocks_keep_the_lowest_ids(allowed: np.ndarray | None) -> None:
    """Thousands of equal scores (equal-length docs, one term) still rank by ascending id."""
    docs = [["common", "common" if i % 1000 == 999 else f"u{i}", f"v{i}"] for i in range(6000)]
    docs[1998][1] = "common"  # an even id with tf=2, so `allowed` has one too
    docs += [["other", f"w{i}", f"x{i}"] for i in range(500)]
    index = BM25Index.build(docs)
    ids, scores = index.top_k(["common"], 10, allowed=allowed)
    eligible = range(6000) if allowed is None else allowed.tolist()
    doubled = [i for i in eligible if i % 1000 == 999 or i == 1998]
    singles = [i for i in eligible if i not in doubled]
    np.testing.assert_array_equal(ids, (doubled + singles)[:10])
    assert len(set(scores[len(doubled) :].tolist())) == 1


def reference_docs(reference: Reference) -> Docs:
    """The documents a Reference was built from (rank_bm25 keeps only term counts)."""
    return [[t for t, c in freqs.items() for _ in range(c)] for freqs in reference.bm25.doc_freqs]


small_docs = st.lists(
    st.lists(st.sampled_from("abcdefg"), min_size=0, max_size=8), min_size=1, max_size=25
).filter(lambda docs: any(docs))
small_query = st.lists(st.sampled_from("abcdefgxy"), max_size=6)


@settings(max_examples=300, deadline=None)
@given(docs=small_docs, query=small_query, k=st.integers(0, 30))
def test_property_parity_on_small_corpora(docs: Docs, query: list[str], k: int) -> None:
    """Any small corpus (with empty docs) and query: scores and top-k agree with rank_bm25."""
    index = BM25Index.build(docs)
    reference = Reference(docs)
    np.testing.assert_allclose(
        index.scores(query), reference.bm25.get_scores(query), rtol=0, atol=TOL
    )
    ids, scores = index.top_k(query, k)
    assert_ranking(ids, scores, reference.exact(query), k, strict=False)


# ------------------------------------------------------------------ tiny corpora


@pytest.mark.parametrize(
    ("docs", "query", "match"),
    [
        ([["solar", "panels"]], ["solar"], 0),
        ([["solar", "panels"], ["wind", "farm"]], ["wind"], 1),
        ([["solar", "panels"], ["wind", "farm"], ["tidal", "power"]], ["tidal"], 2),
    ],
)
def test_tiny_corpus_ranks_the_matching_doc_first(docs: Docs, query: list[str], match: int) -> None:
    """In 1-3 doc corpora the matching doc scores > 0 and first (idf=log((N+1)/df) > 0)."""
    index = BM25Index.build(docs)
    ids, scores = index.top_k(query, 3)
    assert ids[0] == match
    assert scores[0] > 0
    assert np.all(scores[0] > scores[1:])


def test_bm25okapi_cannot_rank_tiny_corpora() -> None:
    """Why BM25Plus: Okapi's idf log((N-df+.5)/(df+.5)) is 0 for df=1 of N=2, so all score 0."""
    docs = [["solar", "panels"], ["wind", "farm"]]
    assert np.all(BM25Okapi(docs).get_scores(["wind"]) == 0)
    # ...and negative (floored to a negative epsilon) in a one-doc corpus.
    assert BM25Okapi([["solar", "panels"]]).get_scores(["solar"])[0] < 0
    assert BM25Index.build(docs).scores(["wind"])[1] > BM25Index.build(docs).scores(["wind"])[0]


# ------------------------------------------------------------- query semantics


def test_allowed_restricts_and_ranks_like_rank_bm25(
    corpus: Docs, index: BM25Index, reference: Reference
) -> None:
    """`allowed` returns only those ids, ranked as rank_bm25 ranks that subset."""
    rng = np.random.default_rng(5)
    for i, q in enumerate(mixed_queries(corpus, 200, seed=9)):
        size = [1, 5, 40, 700, 2900][i % 5]
        allowed = np.sort(rng.choice(len(corpus), size, replace=False))
        ids, scores = index.top_k(q, 10, allowed=allowed)
        np.testing.assert_array_equal(ids, reference.top_k(q, 10, allowed))
        np.testing.assert_allclose(scores, reference.exact(q)[ids], rtol=0, atol=TOL)


def test_allowed_unsorted_empty_and_out_of_range(index: BM25Index) -> None:
    """`allowed` may be unsorted or repeat ids; empty gives nothing; out-of-range ids raise."""
    q = ["w1", "w30"]
    sorted_ids, _ = index.top_k(q, 5, allowed=np.array([3, 10, 20, 400]))
    messy_ids, _ = index.top_k(q, 5, allowed=np.array([400, 10, 3, 20, 10]))
    np.testing.assert_array_equal(sorted_ids, messy_ids)
    ids, scores = index.top_k(q, 5, allowed=np.array([], dtype=np.int64))
    assert len(ids) == len(scores) == 0
    with pytest.raises(ValueError, match="allowed"):
        index.top_k(q, 5, allowed=np.array([index.n_docs]))
    with pytest.raises(TypeError):
        index.top_k(q, 5, allowed=np.array([0.5]))


def test_k_larger_than_n_returns_every_doc_ranked() -> None:
    """k > n returns all n docs: matches first, then the rest at the constant score by id."""
    docs = [["a", "b"], ["c"], ["b", "b"], ["d"], []]
    index = BM25Index.build(docs)
    ids, scores = index.top_k(["b"], 50)
    np.testing.assert_array_equal(ids, [2, 0, 1, 3, 4])
    assert np.all(scores[2:] == index.query_constant(["b"]))
    assert len(index.top_k(["b"], 0)[0]) == 0
    with pytest.raises(ValueError, match="k"):
        index.top_k(["b"], -1)


def test_empty_query_scores_zero_and_lists_lowest_ids(index: BM25Index) -> None:
    """An empty query scores every doc 0 (as rank_bm25) and top-k is ids 0..k-1."""
    assert not index.scores([]).any()
    ids, scores = index.top_k([], 4)
    np.testing.assert_array_equal(ids, [0, 1, 2, 3])
    assert not scores.any()


def test_unknown_tokens_add_nothing_not_even_delta(index: BM25Index) -> None:
    """Unknown tokens contribute 0 (rank_bm25's `idf.get(q) or 0`): no delta constant either."""
    np.testing.assert_array_equal(index.scores(["w5", "zzz"]), index.scores(["w5"]))
    assert not index.scores(["zzz", "qqq"]).any()
    assert index.query_constant(["zzz"]) == 0.0
    ids, _ = index.top_k(["zzz"], 3)
    np.testing.assert_array_equal(ids, [0, 1, 2])


def test_repeated_query_tokens_count_each_time(index: BM25Index) -> None:
    """A token given twice contributes twice, delta constant included, as in rank_bm25."""
    once, twice = index.scores(["w9"]), index.scores(["w9", "w9"])
    np.testing.assert_allclose(twice, 2 * once, rtol=0, atol=TOL)


def test_term_weights_explain_the_score(corpus: Docs, index: BM25Index) -> None:
    """term_weights sums with query_constant to the score; delta is excluded; misses give 0."""
    q = ["w3", "w40", "w3", "unknown"]
    for doc_id in (0, 17, 2999):
        weights = index.term_weights(q, doc_id)
        assert list(weights) == ["w3", "w40", "unknown"]
        assert weights["unknown"] == 0.0
        total = sum(weights.values()) + index.query_constant(q)
        assert total == pytest.approx(index.scores(q)[doc_id], abs=TOL)
        for term, w in weights.items():
            assert (w > 0) == (term in corpus[doc_id])
    with pytest.raises(IndexError):
        index.term_weights(q, index.n_docs)


def test_str_inputs_are_refused() -> None:
    """A bare str as a document or query is a bug (it would be split into characters)."""
    with pytest.raises(TypeError):
        BM25Index.build(["not tokenised"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        BM25Index.build([["ok"]]).scores("ok")


def test_bad_tokens_and_parameters_are_refused() -> None:
    """Non-str tokens, newline tokens (unsaveable) and out-of-range k1/b/delta raise."""
    with pytest.raises(TypeError):
        BM25Index.build([["a", 3]])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="newline"):
        BM25Index.build([["a\nb"]])
    for name, value in (("k1", -1.0), ("b", 1.5), ("delta", float("nan"))):
        with pytest.raises(ValueError, match=name):
            BM25Index.build([["a"]], **{name: value})


def test_degenerate_corpora() -> None:
    """No docs, or only empty docs, give an empty/zero index (rank_bm25 divides by zero)."""
    empty = BM25Index.build([])
    assert empty.n_docs == 0
    assert len(empty.scores(["a"])) == 0
    assert len(empty.top_k(["a"], 5)[0]) == 0
    blank = BM25Index.build([[], []])
    assert not blank.scores(["a"]).any()
    np.testing.assert_array_equal(blank.top_k(["a"], 5)[0], [0, 1])


def test_non_default_parameters_match_rank_bm25(corpus: Docs) -> None:
    """k1, b and delta are honoured exactly as rank_bm25.BM25Plus uses them."""
    docs = corpus[:400]
    ours = BM25Index.build(docs, k1=0.9, b=0.4, delta=0.5)
    ref = BM25Plus(docs, k1=0.9, b=0.4, delta=0.5)
    for q in mixed_queries(docs, 50, seed=2):
        np.testing.assert_allclose(ours.scores(q), ref.get_scores(q), rtol=0, atol=TOL)


# ------------------------------------------------------------------ persistence


def same_results(a: BM25Index, b: BM25Index, queries: list[list[str]]) -> None:
    """Bit-identical scores, top-k and term weights."""
    assert a.n_docs == b.n_docs
    for q in queries:
        np.testing.assert_array_equal(a.scores(q), b.scores(q))
        for x, y in zip(a.top_k(q, 10), b.top_k(q, 10), strict=True):
            np.testing.assert_array_equal(x, y)
        if a.n_docs:
            doc = min(5, a.n_docs - 1)
            assert a.term_weights(q, doc) == b.term_weights(q, doc)


@pytest.mark.parametrize("mmap", [True, False])
def test_save_load_round_trip(tmp_path: Path, corpus: Docs, index: BM25Index, mmap: bool) -> None:
    """A saved and reloaded index gives bit-identical results, mmapped or read into memory."""
    path = tmp_path / "index.bm25"
    index.save(path)
    loaded = BM25Index.load(path, mmap=mmap)
    same_results(index, loaded, mixed_queries(corpus, 100, seed=4))
    assert (loaded.k1, loaded.b, loaded.delta) == (index.k1, index.b, index.delta)


def test_round_trip_of_odd_vocabularies(tmp_path: Path) -> None:
    """Empty-string, non-ASCII and lone-surrogate tokens, and empty corpora, survive a save."""
    for docs in ([["", "é", "日本", "\ud800"], ["", "x"]], [], [[]]):
        index = BM25Index.build(docs)
        index.save(tmp_path / "odd.bm25")
        same_results(index, BM25Index.load(tmp_path / "odd.bm25"), [["", "é", "\ud800"]])


def test_save_replaces_an_existing_file(tmp_path: Path) -> None:
    """Saving over an existing index (even one currently mmapped) replaces it cleanly."""
    path = tmp_path / "index.bm25"
    BM25Index.build([["old"]]).save(path)
    old = BM25Index.load(path)
    BM25Index.build([["new"], ["new", "x"]]).save(path)
    assert BM25Index.load(path).n_docs == 2
    assert old.scores(["old"])[0] > 0  # the old mapping stays valid
    assert [p.name for p in tmp_path.iterdir()] == ["index.bm25"]


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    """A small saved index."""
    path = tmp_path / "small.bm25"
    BM25Index.build([["a", "b", "a"], ["b", "c"], ["d"]]).save(path)
    return path


@pytest.mark.parametrize("keep", [0, 10, 40, 100, -60, -1])
def test_truncated_file_raises(small_file: Path, keep: int) -> None:
    """A file cut short anywhere (prelude, header, payload) raises IndexFormatError."""
    data = small_file.read_bytes()
    small_file.write_bytes(data[:keep])
    with pytest.raises(IndexFormatError, match="truncated"):
        BM25Index.load(small_file)


def test_every_flipped_byte_raises(small_file: Path) -> None:
    """Flipping any single byte of the file raises IndexFormatError, never loads garbage."""
    data = small_file.read_bytes()
    for i in range(len(data)):
        broken = bytearray(data)
        broken[i] ^= 0x5A
        small_file.write_bytes(bytes(broken))
        for mmap in (True, False):
            with pytest.raises(IndexFormatError):
                BM25Index.load(small_file, mmap=mmap)


def test_trailing_bytes_raise(small_file: Path) -> None:
    """Extra bytes after the payload mean the file is not what was written."""
    small_file.write_bytes(small_file.read_bytes() + b"\0")
    with pytest.raises(IndexFormatError, match="trailing"):
        BM25Index.load(small_file)


def test_wrong_format_version_raises(
    small_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file written by another format version is refused with a message naming both."""
    monkeypatch.setattr(bm25_file, "FORMAT_VERSION", FORMAT_VERSION + 1)
    future = tmp_path / "future.bm25"
    BM25Index.build([["a"]]).save(future)
    monkeypatch.undo()
    with pytest.raises(IndexFormatError, match=rf"version {FORMAT_VERSION + 1}.*{FORMAT_VERSION}"):
        BM25Index.load(future)
    small_file.write_bytes(b"not an index at all, just some bytes......")
    with pytest.raises(IndexFormatError, match="magic"):
        BM25Index.load(small_file)


def test_interrupted_save_leaves_the_old_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the process dies after writing the temp file but before os.replace, the old index
    is intact and loadable; a leftover temp file does not disturb later loads or saves."""
    path = tmp_path / "index.bm25"
    old = BM25Index.build([["old", "doc"], ["other"]])
    old.save(path)
    seen: list[Path] = []

    def die(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append(Path(src))
        raise KeyboardInterrupt  # stands in for a kill between write and rename

    monkeypatch.setattr(binfile.os, "replace", die)
    with pytest.raises(KeyboardInterrupt):
        BM25Index.build([["new"]] * 5).save(path)
    monkeypatch.undo()

    assert seen and seen[0].parent == tmp_path  # the temp file sat next to the target
    same_results(old, BM25Index.load(path), [["old"], ["other", "new"]])
    # A real kill leaves the temp file behind: simulate one and check nothing is confused.
    (tmp_path / f".{path.name}.crashed.tmp").write_bytes(path.read_bytes()[:50])
    same_results(old, BM25Index.load(path), [["old"]])
    BM25Index.build([["new"]]).save(path)
    assert BM25Index.load(path).n_docs == 1


def rewrite_header(path: Path, edit: object) -> None:
    """Re-save `path` with its JSON header changed by `edit` and valid checksums."""
    import json
    import struct
    import zlib

    data = path.read_bytes()
    magic, version, hlen, _, reserved = struct.unpack_from("<8sIII12s", data)
    old_start = -(-(32 + hlen) // 64) * 64
    header = json.loads(data[32 : 32 + hlen])
    raw = edit(header) if callable(edit) else edit
    if isinstance(raw, dict):
        raw = json.dumps(raw).encode()
    start = -(-(32 + len(raw)) // 64) * 64
    prelude = struct.pack("<8sIII12s", magic, version, len(raw), zlib.crc32(raw), reserved)
    head = prelude + raw
    path.write_bytes(head + bytes(start - len(head)) + data[old_start:])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (b"{not json", "malformed header"),
        (lambda h: {**h, "n_docs": "many"}, "malformed header"),
        (lambda h: {**h, "n_docs": -1}, "negative"),
        (lambda h: {**h, "arrays": {}}, "array table"),
        (
            lambda h: {
                **h,
                "arrays": {**h["arrays"], "idf": {**h["arrays"]["idf"], "dtype": "<f4"}},
            },
            "layout",
        ),
        (lambda h: {**h, "n_terms": h["n_terms"] + 1}, "inconsistent"),
        (lambda h: {**h, "n_docs": 1}, "inconsistent"),
    ],
)
def test_checksummed_but_inconsistent_files_raise(
    small_file: Path, edit: object, message: str
) -> None:
    """A file whose checksums are valid but whose header lies (a bug, not bit rot) still raises."""
    rewrite_header(small_file, edit)
    with pytest.raises(IndexFormatError, match=message):
        BM25Index.load(small_file)


def test_progress_bar_build_is_identical() -> None:
    """progress=True only adds a bar; the index is the same."""
    docs = zipf_corpus(50, 100, seed=1)
    same_results(BM25Index.build(docs), BM25Index.build(docs, progress=True), [["w1", "w2"]])


# ------------------------------------------------------------ incremental updates


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_updated_equals_a_fresh_build(data: st.DataObject) -> None:
    """Dropping, renumbering and adding documents gives the index a fresh build of the new
    document list gives: bit-identical scores, rankings and weights, vocabulary included."""
    old = data.draw(st.lists(st.lists(st.sampled_from("abcdefg"), max_size=6), max_size=8))
    keep = [data.draw(st.booleans()) for _ in old]
    added = data.draw(st.lists(st.lists(st.sampled_from("efghij"), max_size=6), max_size=4))
    kept = [d for d, k in zip(old, keep, strict=True) if k]
    # Interleave: each added doc goes before some kept position.
    slots = sorted(data.draw(st.integers(0, len(kept))) for _ in added)
    new_docs: Docs = []
    new_id = [-1] * len(old)
    added_at = []
    kept_ids = [i for i, k in enumerate(keep) if k]
    a = 0
    for pos in range(len(kept) + 1):
        while a < len(added) and slots[a] == pos:
            added_at.append(len(new_docs))
            new_docs.append(added[a])
            a += 1
        if pos < len(kept):
            new_id[kept_ids[pos]] = len(new_docs)
            new_docs.append(kept[pos])
    updated = BM25Index.build(old).updated(new_id, added, added_at)
    fresh = BM25Index.build(new_docs)
    assert sorted(updated._terms) == sorted(fresh._terms)
    queries = [list("abc"), list("efij"), ["a", "a", "j"], [], ["zz"]]
    same_results(updated, fresh, queries)
    np.testing.assert_array_equal(updated._lengths, fresh._lengths)


def test_updated_refuses_inconsistent_numbering() -> None:
    """new_id and added_at must number the new documents 0..n-1 once each, in order."""
    index = BM25Index.build([["a"], ["b"], ["c"]])
    for new_id, added_at in (
        ([0, 1, 1], []),  # two docs on one id
        ([1, 0, 2], []),  # kept docs out of order
        ([0, 1, 2], [2]),  # an added doc on a kept doc's id
        ([0, -1, 1], [5]),  # out of range
        ([0, 1], []),  # one entry per old doc
    ):
        with pytest.raises(ValueError, match=r"number|entry"):
            index.updated(new_id, [["x"]] * len(added_at), added_at)
    with pytest.raises(TypeError):
        index.updated([0, 1, 2], ["abc"], [3])


def test_updated_index_survives_a_save(tmp_path: Path) -> None:
    """An updated index saves and loads like a built one (the tf column included)."""
    updated = BM25Index.build([["a", "b"], ["b"]]).updated([-1, 0], [["c", "c"]], [1])
    updated.save(tmp_path / "u.bm25")
    loaded = BM25Index.load(tmp_path / "u.bm25")
    same_results(loaded, BM25Index.build([["b"], ["c", "c"]]), [["b", "c"], ["a"]])
    again = loaded.updated([0, 1], [["a"]], [2])
    same_results(again, BM25Index.build([["b"], ["c", "c"], ["a"]]), [["a", "c"]])


def test_large_term_frequencies_round_trip(tmp_path: Path) -> None:
    """A term repeated more than 65,535 times in one document is stored exactly."""
    docs = [["w"] * 70_000 + ["x"], ["x"]]
    BM25Index.build(docs).save(tmp_path / "big.bm25")
    loaded = BM25Index.load(tmp_path / "big.bm25")
    assert int(loaded._tf.max()) == 70_000
    same_results(loaded.updated([0, 1], [["w"]], [2]), BM25Index.build([*docs, ["w"]]), [["w"]])


def test_from_ids_checks_its_input() -> None:
    """Term ids out of range, lengths that do not add up, or an unused term raise."""
    ok = BM25Index.from_ids(np.array([0, 1, 1]), np.array([2, 1]), ["a", "b"])
    same_results(ok, BM25Index.build([["a", "b"], ["b"]]), [["a", "b"]])
    with pytest.raises(ValueError, match="term ids"):
        BM25Index.from_ids(np.array([0, 2]), np.array([2]), ["a", "b"])
    with pytest.raises(ValueError, match="add up"):
        BM25Index.from_ids(np.array([0, 1]), np.array([1]), ["a", "b"])
    with pytest.raises(ValueError, match="every term"):
        BM25Index.from_ids(np.array([0, 0]), np.array([2]), ["a", "b"])


def test_chunked_building_equals_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build and update work chunk by chunk to bound memory; tiny chunks change nothing."""
    docs = zipf_corpus(60, 40, seed=3)
    added = zipf_corpus(5, 50, seed=4)
    new_id = np.array([i if i % 7 else -1 for i in range(60)])
    new_id[new_id >= 0] = np.arange(int((new_id >= 0).sum()))
    at = np.arange(int((new_id >= 0).sum()), int((new_id >= 0).sum()) + 5)
    whole = BM25Index.build(docs)
    whole_updated = whole.updated(new_id, added, at)
    monkeypatch.setattr(bm25_module.postings, "CHUNK", 7)
    queries = mixed_queries(docs + added, 30, seed=5)
    same_results(BM25Index.build(docs), whole, queries)
    same_results(BM25Index.build(docs).updated(new_id, added, at), whole_updated, queries)
    kept = [d for d, i in zip(docs, new_id, strict=True) if i >= 0]
    same_results(whole_updated, BM25Index.build(kept + added), queries)


def test_from_ids_consuming_its_tokens_builds_the_same_index() -> None:
    """`consume=True` overwrites int64 tokens (the build's memory saving) and scores the same."""
    rng = np.random.default_rng(7)
    lengths = rng.integers(1, 30, 200)
    tokens = rng.integers(0, 50, int(lengths.sum())).astype(np.int64)
    tokens[:50] = np.arange(50)  # every term id occurs
    terms = [f"t{i}" for i in range(50)]
    kept = BM25Index.from_ids(tokens.copy(), lengths, terms)
    consumed = tokens.copy()
    used = BM25Index.from_ids(consumed, lengths, terms, consume=True)
    assert not np.array_equal(consumed, tokens)  # the buffer was reused, as asked
    for query in (["t1", "t2"], ["t7"], ["t3", "t3", "t40"]):
        assert np.array_equal(kept.scores(query), used.scores(query))
