"""Term ids of a build: every passage's title and text terms, as `tokenize` gives them."""

from __future__ import annotations

from citebot.corpus.articles import Corpus
from citebot.corpus.passages import passage_bounds, sentence_spans
from citebot.retrieval.index import Index
from citebot.retrieval.terms import TermIds, passage_terms
from citebot.text.tokenizer import tokenize
from tests.conftest import make_article


def test_term_ids_are_the_passages_terms(shipped_corpus: Corpus) -> None:
    """TermIds gathers, per passage, the ids of its title's and its own terms in order."""
    ids = TermIds()
    expected: list[list[str]] = []
    for article in (
        *shipped_corpus.articles,
        make_article("cjk", "大公坊 opened. 深圳灣创业廣場."),
    ):
        spans = sentence_spans(article.body)
        bounds = passage_bounds(article.body, spans)
        ids.add(article, spans, bounds)
        expected += passage_terms(article, spans, bounds)
        for (first, last), terms in zip(bounds, expected[-len(bounds) :], strict=True):
            text = article.body[spans[first][0] : spans[last - 1][1]]
            assert terms == tokenize(article.title) + tokenize(text)
    flat, lengths, terms = ids.finish()
    got, at = [], 0
    for n in lengths.tolist():
        got.append([terms[i] for i in flat[at : at + n].tolist()])
        at += n
    assert got == expected


def test_index_terms_do_not_change_the_word_cache(shipped_corpus: Corpus) -> None:
    """Indexing does not fill the reader's per-text word cache with passages."""
    from citebot.text.tokenizer import words

    words.cache_clear()
    Index.build(shipped_corpus)
    assert words.cache_info().currsize < 50
