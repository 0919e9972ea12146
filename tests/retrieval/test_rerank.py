"""Re-ranking: search returns the re-rank's best k, the re-rank is its definition, and its
learned weights load or fail with a message that says how to fix them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citebot.corpus.articles import Corpus
from citebot.retrieval import index as index_module
from citebot.retrieval import rerank as rerank_module
from citebot.retrieval.features import FEATURES, passage_features
from citebot.retrieval.index import Hit, Index
from citebot.retrieval.rerank import RerankError
from citebot.text.tokenizer import tokenize
from tests.conftest import make_article


def _vocabulary(index: Index) -> list[str]:
    return sorted({t for p in index.passages for t in tokenize(p.text)})


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_search_returns_the_best_k_of_the_rerank(shipped_index: Index, data: st.DataObject) -> None:
    """`search`'s k hits are the re-rank's first k of BM25's best (followed by BM25's
    order below the re-rank's depth), scores and order included."""
    vocabulary = _vocabulary(shipped_index)
    terms = data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=6))
    k = data.draw(st.integers(1, 12))
    unique = list(dict.fromkeys(terms))
    bm25 = shipped_index.bm25_search(unique, max(k, rerank_module.RERANK_DEPTH))
    depth = rerank_module.RERANK_DEPTH
    full = index_module.rerank(shipped_index, unique, bm25[:depth]) + bm25[depth:]
    assert shipped_index.search(terms, k) == full[:k]


def _plain_rerank(index: Index, terms: list[str], hits: list[Hit]) -> list[Hit]:
    """The re-rank as the module docstring defines it: BM25 plus the best score times the
    learned sum of the features, shifted by its lowest possible value; stable sort."""
    model = rerank_module.load_reranker()
    top = max(h.bm25 for h in hits)
    x = passage_features(index, terms, [h.passage.index for h in hits], [h.bm25 for h in hits])
    rest = model.weights[1:]
    floor = sum(min(w, 0.0) for w in rest)
    out = [
        Hit(hit.passage, hit.bm25 + top * (float(row[1:] @ rest) - floor), hit.bm25)
        for hit, row in zip(hits, x, strict=True)
    ]
    return sorted(out, key=lambda h: -h.score)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_rerank_is_its_definition(shipped_index: Index, data: st.DataObject) -> None:
    """`rerank` scores and orders hits as the module docstring defines it, and a hit's
    score never falls below its BM25 score."""
    vocabulary = _vocabulary(shipped_index)
    terms = data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=6))
    unique = list(dict.fromkeys(terms))
    hits = shipped_index.bm25_search(unique, rerank_module.RERANK_DEPTH)
    reranked = index_module.rerank(shipped_index, unique, hits)
    expected = _plain_rerank(shipped_index, unique, hits)
    assert [h.passage for h in reranked] == [h.passage for h in expected]
    for got, want in zip(reranked, expected, strict=True):
        assert abs(got.score - want.score) <= 1e-9 * max(1.0, abs(want.score))
        assert got.score >= got.bm25


def test_rerank_prefers_the_sentence_that_holds_the_question() -> None:
    """Of two passages with the same words (same BM25 score), the one whose single
    sentence holds the question's words, in the question's order, ranks first."""
    corpus = Corpus(
        articles=(
            make_article(
                "scattered",
                "The central bank met on Monday. Interest rates were discussed. "
                "England saw a raise in prices.",
            ),
            make_article(
                "together",
                "The central bank of England raised interest rates on Monday. "
                "Prices were discussed. It saw a meeting.",
            ),
        )
    )
    index = Index.build(corpus)
    terms = tokenize("When did the central bank of England raise interest rates?")
    bm25 = index.bm25_search(terms, 2)
    assert abs(bm25[0].bm25 - bm25[1].bm25) < 1e-9  # a bag of words cannot tell them apart
    hits = index.search(terms, 2)
    assert [h.passage.article_id for h in hits] == ["together", "scattered"]
    assert hits[0].score > hits[1].score
    assert index_module.rerank(index, [], bm25) == bm25  # nothing to look for: unchanged


def test_the_shipped_weights_load_and_favour_the_question_s_words_together() -> None:
    """The shipped weights load: one per feature, BM25's 1, and the re-ranker rewards a
    sentence that holds the question (a positive weight for `sentence` or `window`)."""
    model = rerank_module.load_reranker()
    assert model.weights.shape == (len(FEATURES),)
    assert model.weights[0] == 1.0
    assert max(model.weights[FEATURES.index(f)] for f in ("sentence", "window")) > 0
    assert model.meta["written_by"] == "scripts/train_reranker.py"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "missing"),
        ("{not json", "cannot be read"),
        ('{"weights": [1.0]}', "cannot be read"),
        (json.dumps({"features": ["bm25", "other"], "weights": [1.0, 0.5]}), "other"),
        (json.dumps({"features": list(FEATURES), "weights": [1.0] * 3}), "finite weights"),
        (
            json.dumps({"features": list(FEATURES), "weights": [1.0] + [float("nan")] * 10}),
            "finite weights",
        ),
    ],
)
def test_unusable_weights_name_the_file_and_the_fix(
    tmp_path: Path, content: str | None, says: str
) -> None:
    """A missing, corrupt or mismatched weights file raises RerankError naming the file,
    what is wrong and the script that writes it again."""
    path = tmp_path / "rerank_weights.json"
    if content is not None:
        path.write_text(content, "utf-8")
    with pytest.raises(RerankError, match=r"train_reranker\.py") as raised:
        rerank_module.load_reranker(path)
    assert str(path) in str(raised.value)
    assert says in str(raised.value)
