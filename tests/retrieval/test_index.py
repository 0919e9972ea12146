"""Retrieval and the lazy sentence/passage views."""

from __future__ import annotations

import datetime as dt

import pytest

from citebot.corpus.articles import Corpus
from citebot.retrieval import index as index_module
from citebot.retrieval import rerank as rerank_module
from citebot.retrieval.index import Index
from citebot.text.tokenizer import tokenize
from tests.conftest import make_article
from tests.corpus.objects import make_passages, split_sentences


def tiny(n: int) -> Corpus:
    bodies = [
        "The mayor opened a new bridge over the river on Tuesday.",
        "The football club won the league after a long season.",
        "Farmers expect a large rice harvest this autumn.",
    ]
    return Corpus(articles=tuple(make_article(f"a{i}", bodies[i]) for i in range(n)))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_corpora_rank_the_matching_article_first(n: int) -> None:
    """With 1, 2 or 3 articles, the article holding the query words ranks first, score > 0."""
    index = Index.build(tiny(n))
    for i, query in enumerate(["bridge river", "football league", "rice harvest"][:n]):
        hits = index.search(tokenize(query), 3)
        assert hits[0].passage.article_id == f"a{i}"
        assert index.term_contributions(tokenize(query), hits[0].passage.index)
        if n > 1:
            assert hits[0].score > hits[1].score


def test_okapi_would_silence_a_two_article_corpus() -> None:
    """Why BM25Plus: BM25Okapi gives a term in one of two documents zero weight."""
    from rank_bm25 import BM25Okapi

    docs = [tokenize("bridge river"), tokenize("football league")]
    assert list(BM25Okapi(docs).get_scores(tokenize("bridge"))) == [0.0, 0.0]


def test_cjk_question_finds_its_article(shipped_corpus: Corpus) -> None:
    """A question written in Chinese characters finds the article that contains them."""
    index = Index.build(shipped_corpus)
    for query in ("大公坊", "深圳灣创业廣場"):
        assert index.search(tokenize(query), 1)[0].passage.article_id == (
            "seoul-mayor-hk-shenzhen-visit-2019"
        )


def test_title_words_reach_passages() -> None:
    """A word only in the title still finds the article's passages."""
    corpus = Corpus(
        articles=(
            make_article("a", "The mayor spoke on Tuesday.", title="Budget debate"),
            make_article("b", "The weather was fine on Tuesday.", title="Weather report"),
        )
    )
    assert Index.build(corpus).search(tokenize("budget"), 1)[0].passage.article_id == "a"


def test_search_within_one_article(shipped_corpus: Corpus) -> None:
    """Restricting to one article returns only its passages."""
    index = Index.build(shipped_corpus)
    hits = index.search(tokenize("Hong Kong"), 50, "hksp-shenzhen-branch-2023")
    assert hits and {h.passage.article_id for h in hits} == {"hksp-shenzhen-branch-2023"}
    assert sorted(h.passage.index for h in hits) == list(
        index.passages_of("hksp-shenzhen-branch-2023")
    )
    assert index.passages_of("unknown-id") == range(0)
    assert index.search(tokenize("Hong Kong"), 5, "unknown-id") == []


def test_index_answers_what_the_reader_may_ask() -> None:
    """The index as the reader's corpus view: a term is mentioned by the corpus when a
    passage has it, by one article when its title or a sentence has it; dates are the
    articles'."""
    index = Index.build(
        Corpus(
            articles=(
                make_article("bridge", "The council opened the footbridge.", title="Lisbon"),
                make_article("ferry", "The ferry crosses hourly.", date=dt.date(2020, 5, 1)),
            )
        )
    )
    (lisbon,) = tokenize("Lisbon")
    (ferry,) = tokenize("ferry")
    assert index.mentions(lisbon) and index.mentions(ferry)
    assert index.mentions(lisbon, "bridge")  # the title counts
    assert not index.mentions(lisbon, "ferry")
    assert index.mentions(ferry, "ferry") and not index.mentions(ferry, "bridge")
    assert not index.mentions("zanzibar") and not index.mentions("zanzibar", "ferry")
    assert index.article_date("ferry") == dt.date(2020, 5, 1)
    assert index.article_date("bridge") is None
    assert index.idf("zanzibar") > index.idf(ferry) > 0


def test_search_matches_rank_bm25_on_the_shipped_corpus(shipped_corpus: Corpus) -> None:
    """The BM25 step ranks the shipped corpus's passages exactly as rank-bm25 BM25Plus
    with the index's parameters."""
    from rank_bm25 import BM25Plus

    index = Index.build(shipped_corpus)
    assert (index.bm25.k1, index.bm25.b, index.bm25.delta) == (
        index_module.BM25_K1,
        index_module.BM25_B,
        index_module.BM25_DELTA,
    )
    docs = [tokenize(index.article(p.article_id).title) + tokenize(p.text) for p in index.passages]
    reference = BM25Plus(
        docs, k1=index_module.BM25_K1, b=index_module.BM25_B, delta=index_module.BM25_DELTA
    )
    questions = ("when did the Hetao park open", "Mayor Park Hong Kong officials", "大公坊")
    for question in (*questions, "park park open"):
        terms = tokenize(question)
        expected = reference.get_scores(terms)
        hits = index.bm25_search(terms, len(docs))
        assert [h.passage.index for h in hits] == sorted(
            range(len(docs)), key=lambda i: (-expected[i], i)
        )
        for h in hits:
            assert abs(h.score - expected[h.passage.index]) < 1e-6
            assert h.bm25 == h.score


def test_search_is_bm25_over_distinct_terms_then_the_rerank(shipped_corpus: Corpus) -> None:
    """`search`: BM25 over each distinct term once, its best RERANK_DEPTH passages re-ordered
    by `rerank` (BM25 score plus a bonus), the rest in BM25's order; scores never rise."""
    index = Index.build(shipped_corpus)
    depth = rerank_module.RERANK_DEPTH
    for question in ("when did the Hetao park open open", "Mayor Park Hong Kong officials"):
        terms = tokenize(question)
        unique = list(dict.fromkeys(terms))
        bm25 = index.bm25_search(unique, len(index.passages))
        hits = index.search(terms, len(index.passages))
        assert hits == index_module.rerank(index, unique, bm25[:depth]) + bm25[depth:]
        assert index.search(terms, 3) == hits[:3]
        assert {h.passage.index for h in hits[:depth]} == {h.passage.index for h in bm25[:depth]}
        assert all(h.score >= h.bm25 for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        by_id = {h.passage.index: h.score for h in bm25}
        assert all(h.bm25 == by_id[h.passage.index] for h in hits)


def test_sentence_offsets_are_the_passages_sentences(shipped_index: Index) -> None:
    """`sentence_offsets` places each passage's sentences (and up to `around` neighbours
    within its article) where its Sentence objects are, for any ids in any order."""
    ids = list(range(len(shipped_index.passages)))[::-1]
    for around in (0, 1, 2):
        found = shipped_index.passages.sentence_offsets(ids, around)
        for i, (position, first, starts, ends) in zip(ids, found, strict=True):
            passage = shipped_index.passages[i]
            assert shipped_index.corpus.articles[position].id == passage.article_id
            sentences = shipped_index.sentences[passage.article_id]
            lo = max(passage.first_sentence - around, 0)
            hi = min(passage.last_sentence + around, len(sentences))
            assert first == lo
            assert starts == [s.start for s in sentences[lo:hi]]
            assert ends == [s.end for s in sentences[lo:hi]]
    assert shipped_index.passages.sentence_offsets([]) == []


def test_lazy_views_equal_the_objects_the_splitter_makes(shipped_corpus: Corpus) -> None:
    """index.sentences and index.passages hold the same Sentence/Passage values as
    split_sentences/make_passages, by index, slice, negative index and iteration."""
    index = Index.build(shipped_corpus)
    expected_passages = []
    for article in shipped_corpus.articles:
        sentences = split_sentences(article)
        assert list(index.sentences[article.id]) == sentences
        assert index.sentences[article.id][1:3] == sentences[1:3]
        assert index.sentences[article.id][-1] == sentences[-1]
        assert len(index.sentences.get(article.id, [])) == len(sentences)
        for p in make_passages(article, sentences):
            expected_passages.append(p.model_copy(update={"index": len(expected_passages)}))
    assert list(index.passages) == expected_passages
    assert len(index.passages) == len(expected_passages)
    assert index.passages[-1] == expected_passages[-1]
    assert index.passages[2:5] == expected_passages[2:5]
    some = [5, 0, len(expected_passages) - 1, 3, 3]
    assert index.passages.take(some) == [expected_passages[i] for i in some]
    assert index.passages.take([]) == []
    assert set(index.sentences) == set(shipped_corpus.ids)
    assert index.sentences.get("no-such-article") is None
    with pytest.raises(IndexError):
        index.passages[len(expected_passages)]
    with pytest.raises(KeyError):
        index.sentences["no-such-article"]


# ------------------------------------------------------------------ cache and updates
