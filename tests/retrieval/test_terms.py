"""The bulk tokenizer used while indexing gives exactly `tokenize`'s terms."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from citebot.corpus.articles import Corpus
from citebot.corpus.passages import passage_bounds, sentence_spans
from citebot.retrieval.index import Index
from citebot.retrieval.terms import TermIds, passage_terms
from citebot.text.tokenizer import _ASCII_WORD_RE, _WORD_RE, Runs, tokenize, tokenize_fast
from tests.conftest import make_article

_ALPHABET = st.sampled_from(
    [*"abcXYZ019 .,;-'\n\t", "大公坊", "ﬁ", "Ⅻ", "3.5", "16,000", "the", "The", "é", "İ", "ß"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_fast_tokenize_equals_tokenize(text: str) -> None:
    """Mapping word runs through the run table gives tokenize(text), CJK and numbers included."""
    assert list(tokenize_fast(text, Runs())) == tokenize(text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(max_codepoint=127), max_size=60))
def test_ascii_word_pattern_equals_the_general_one(text: str) -> None:
    """On ASCII text the fast word pattern finds exactly text._WORD_RE's runs."""
    assert _ASCII_WORD_RE.findall(text) == _WORD_RE.findall(text)


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
