"""Retrieval: tiny corpora, CJK lookup, title words, and the on-disk cache."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from citebot.corpus import Corpus, load_corpus
from citebot.index import Index, load_index
from citebot.text import tokenize
from tests.conftest import make_article


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
    assert index.search(tokenize("Hong Kong"), 5, "unknown-id") == []


def test_cache_is_reused_and_invalidated(tmp_path: Path) -> None:
    """An unchanged corpus loads from the cache; any edit rebuilds; a corrupt cache is rebuilt."""
    corpus_dir, cache = tmp_path / "corpus", tmp_path / "cache"
    corpus_dir.mkdir()
    article = corpus_dir / "a.md"
    article.write_text("# A\n\nThe bridge opened on Tuesday.\n")
    first = load_index(load_corpus(corpus_dir), cache)
    cached = sorted(cache.glob("index-*"))
    assert [p.suffix for p in cached] == [".bm25", ".tables"]
    stamps = [p.stat().st_mtime_ns for p in cached]
    again = load_index(load_corpus(corpus_dir), cache)
    assert [p.stat().st_mtime_ns for p in cached] == stamps
    assert again.version == first.version
    article.write_text("# A\n\nThe tunnel opened on Friday.\n")
    edited = load_index(load_corpus(corpus_dir), cache)
    assert edited.search(tokenize("tunnel"), 1)
    assert len(list(cache.glob("index-*"))) == 4


@pytest.mark.parametrize("suffix", [".bm25", ".tables"])
def test_corrupt_cache_is_rebuilt_not_trusted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, suffix: str
) -> None:
    """A truncated cache file (weights or tables) is detected, logged and rebuilt."""
    corpus_dir, cache = tmp_path / "corpus", tmp_path / "cache"
    corpus_dir.mkdir()
    (corpus_dir / "a.md").write_text("# A\n\nThe bridge opened on Tuesday.\n")
    load_index(load_corpus(corpus_dir), cache)
    (cached,) = cache.glob(f"index-*{suffix}")
    size = cached.stat().st_size
    cached.write_bytes(cached.read_bytes()[: size // 2])
    with caplog.at_level(logging.WARNING):
        index = load_index(load_corpus(corpus_dir), cache)
    assert "unreadable" in caplog.text
    assert index.search(tokenize("bridge"), 1)
    assert cached.stat().st_size == size


def test_search_matches_rank_bm25_on_the_shipped_corpus(shipped_corpus: Corpus) -> None:
    """The sparse engine ranks the shipped corpus's passages exactly as rank-bm25 BM25Plus."""
    from rank_bm25 import BM25Plus

    index = Index.build(shipped_corpus)
    docs = [tokenize(index.article(p.article_id).title) + tokenize(p.text) for p in index.passages]
    reference = BM25Plus(docs)
    for question in ("when did the Hetao park open", "Mayor Park Hong Kong officials", "大公坊"):
        terms = tokenize(question)
        expected = reference.get_scores(terms)
        hits = index.search(terms, len(docs))
        assert [h.passage.index for h in hits] == sorted(
            range(len(docs)), key=lambda i: (-expected[i], i)
        )
        for h in hits:
            assert abs(h.score - expected[h.passage.index]) < 1e-6
