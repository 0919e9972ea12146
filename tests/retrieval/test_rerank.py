"""Re-ranking: the best k of the full re-rank, ceilings that bound the bonus, its definition."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citebot.corpus.articles import Corpus
from citebot.retrieval import index as index_module
from citebot.retrieval import rerank as rerank_module
from citebot.retrieval.index import Hit, Index
from citebot.retrieval.offsets import PassageList
from citebot.text.tokenizer import tokenize
from tests.conftest import make_article


def _ceilings(index: Index, unique: list[str], hits: list[Hit]) -> list[float]:
    """`_bonus_ceilings` of the hits for the query's distinct terms, as the re-rank gets them."""
    idf = {t: index.idf(t) for t in unique}
    return rerank_module._bonus_ceilings(
        index,
        _ids_of(hits),
        idf,
        sum(idf.values()),
        set(pairwise(unique)),
        max(h.bm25 for h in hits),
        index.passages.apart(_ids_of(hits)),
    )


def _ids_of(hits: list[Hit]) -> np.ndarray:
    """The hits' passage ids, as the re-rank's bonus ceilings take them."""
    return np.asarray([h.passage.index for h in hits], dtype=np.int64)


def _vocabulary(index: Index) -> list[str]:
    return sorted({t for p in index.passages for t in tokenize(p.text)})


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_search_keeps_the_best_k_of_the_full_rerank(
    shipped_index: Index, data: st.DataObject
) -> None:
    """`search` skips the sentences of hits that cannot reach its best k; its k hits are
    still the full re-rank's first k, scores and order included."""
    vocabulary = _vocabulary(shipped_index)
    terms = data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=6))
    k = data.draw(st.integers(1, 12))
    unique = list(dict.fromkeys(terms))
    bm25 = shipped_index.bm25_search(unique, max(k, rerank_module.RERANK_DEPTH))
    depth = rerank_module.RERANK_DEPTH
    full = index_module.rerank(shipped_index, unique, bm25[:depth]) + bm25[depth:]
    assert shipped_index.search(terms, k) == full[:k]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_bonus_ceilings_bound_the_bonus(shipped_index: Index, data: st.DataObject) -> None:
    """No hit scores above its BM25 score plus the bonus ceiling the re-rank skips hits by."""
    vocabulary = _vocabulary(shipped_index)
    unique = list(
        dict.fromkeys(data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=6)))
    )
    hits = shipped_index.bm25_search(unique, 40)
    ceilings = _ceilings(shipped_index, unique, hits)
    scores = {h.passage.index: h.score for h in index_module.rerank(shipped_index, unique, hits)}
    for hit, ceiling in zip(hits, ceilings, strict=True):
        assert scores[hit.passage.index] <= hit.bm25 + ceiling


def test_apart_sentences_hold_only_their_passage_terms(shipped_index: Index) -> None:
    """Where `apart` says whitespace separates a passage's sentences, every term of each
    sentence is one the passage is indexed with (what the bonus ceilings rely on)."""
    ids = np.arange(len(shipped_index.passages), dtype=np.int64)
    found = shipped_index.passages.apart(ids)
    assert shipped_index.passages.apart(ids[::-7]) == found[::-7]  # any ids, any order
    for passage, apart in zip(shipped_index.passages, found, strict=True):
        sentences = shipped_index.sentences[passage.article_id]
        span = range(passage.first_sentence, passage.last_sentence)
        body = shipped_index.article(passage.article_id).body
        separated = all(
            body[a.end].isspace() and body[b.start - 1].isspace()
            for a, b in pairwise(sentences[i] for i in span)
        )
        assert apart == separated
        if not separated:
            continue
        terms = sorted({t for i in span for t in tokenize(sentences.text(i))})
        one = np.asarray([passage.index], dtype=np.int64)
        assert all(shipped_index.bm25.holds(t, one)[0] for t in terms)
    assert sum(found) > 0.9 * len(shipped_index.passages)
    # Sentences the splitter cut where no whitespace is: not apart.
    body = "Prices rose (sharply).Then they fell. Nobody knew why."
    index = Index.build(Corpus(articles=(make_article("touching", body),)))
    sentences = index.sentences["touching"]
    assert [sentences.text(i) for i in range(2)] == ["Prices rose (sharply).", "Then they fell."]
    assert index.passages.apart(np.asarray([0], dtype=np.int64)) == [False]


def test_holds_is_the_postings(shipped_index: Index) -> None:
    """`BM25Index.holds`: which documents a term's postings list (an unknown term: none)."""
    ids = np.arange(len(shipped_index.passages), dtype=np.int64)
    for term in ["park", "shenzhen", "the-word-nobody-uses", *_vocabulary(shipped_index)[::37]]:
        expected = [shipped_index.bm25.term_weights([term], int(i))[term] > 0 for i in ids]
        assert shipped_index.bm25.holds(term, ids).tolist() == expected


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


def test_hits_whose_sentences_may_join_are_never_skipped(
    shipped_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A passage whose sentences are not known to be apart gets no finite ceiling, so the
    re-rank reads it; search still returns the full re-rank's best k."""
    monkeypatch.setattr(PassageList, "apart", lambda self, ids: [False] * len(ids))
    monkeypatch.setattr(rerank_module, "sentences_apart", lambda body, starts, ends: False)
    unique = tokenize("when did the Hetao park open")
    hits = shipped_index.bm25_search(unique, rerank_module.RERANK_DEPTH)
    ceilings = _ceilings(shipped_index, unique, hits)
    assert ceilings == [math.inf] * len(hits)
    full = index_module.rerank(shipped_index, unique, hits)
    assert shipped_index.search(unique, 3) == full[:3]
