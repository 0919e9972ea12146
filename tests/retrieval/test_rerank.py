"""Re-ranking: search returns the re-rank's best k, and the re-rank is its definition."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citebot.corpus.articles import Corpus
from citebot.retrieval import index as index_module
from citebot.retrieval import rerank as rerank_module
from citebot.retrieval.index import Hit, Index
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
    """The re-rank as the module docstring defines it, over `Passage` and `Sentence` objects."""
    top = max(h.bm25 for h in hits)
    idf = {t: index.idf(t) for t in terms}
    total = sum(idf.values()) or 1.0
    wanted = set(pairwise(terms))
    out = []
    for hit in hits:
        p = hit.passage
        sentences = index.sentences[p.article_id][p.first_sentence : p.last_sentence]
        best = max(sum(w for t, w in idf.items() if t in set(tokenize(s.text))) for s in sentences)
        pairs = set().union(*(set(pairwise(tokenize(s.text))) for s in sentences)) & wanted
        share = len(pairs) / len(wanted) if wanted else 0.0
        bonus = top * (
            rerank_module.SENTENCE_WEIGHT * best / total + rerank_module.BIGRAM_WEIGHT * share
        )
        out.append(Hit(p, hit.bm25 + bonus, hit.bm25))
    return sorted(out, key=lambda h: -h.score)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_rerank_is_its_definition(shipped_index: Index, data: st.DataObject) -> None:
    """`rerank` (table rows, cached term sets) scores and orders hits as the plain
    definition does over the passages' Sentence objects, bit for bit."""
    vocabulary = _vocabulary(shipped_index)
    terms = data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=6))
    unique = list(dict.fromkeys(terms))
    hits = shipped_index.bm25_search(unique, rerank_module.RERANK_DEPTH)
    assert index_module.rerank(shipped_index, unique, hits) == _plain_rerank(
        shipped_index, unique, hits
    )


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
