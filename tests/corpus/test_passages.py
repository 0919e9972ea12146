"""Sentences and passages: verbatim offsets, splitter edge cases, passage rules."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from citebot.corpus import passages
from citebot.corpus.articles import Corpus
from tests.conftest import make_article
from tests.corpus.objects import make_passages, split_sentences


def test_offsets_hold_for_every_sentence_and_passage(shipped_corpus: Corpus) -> None:
    """body[start:end] == text for every sentence and passage of every shipped article."""
    for article in shipped_corpus.articles:
        sentences = split_sentences(article)
        assert sentences
        for s in sentences:
            assert article.body[s.start : s.end] == s.text
        for p in make_passages(article, sentences):
            assert article.body[p.start : p.end] == p.text


def test_abbreviations_decimals_and_quotes() -> None:
    """ "Mr.", "U.S." and "3.5" do not end sentences; a closing quote stays with its sentence."""
    body = "Mr. Smith moved to the U.S. in 2019. Prices rose 3.5 percent. “We are happy,” he said. Then he left."
    texts = [s.text for s in split_sentences(make_article("a", body))]
    assert texts == [
        "Mr. Smith moved to the U.S. in 2019.",
        "Prices rose 3.5 percent.",
        "“We are happy,” he said.",
        "Then he left.",
    ]


def test_lines_and_hard_wraps() -> None:
    """A bullet line ends a sentence; a hard-wrapped line continuing in lower case does not."""
    body = (
        "Highlights of the day\nThe mayor said the bridge\nwould open soon.\n\nNew paragraph here."
    )
    sentences = split_sentences(make_article("a", body))
    assert [s.text for s in sentences] == [
        "Highlights of the day",
        "The mayor said the bridge\nwould open soon.",
        "New paragraph here.",
    ]
    assert [s.paragraph for s in sentences] == [0, 0, 1]


def test_passages_cover_every_sentence_and_overlap_inside_paragraphs() -> None:
    """Every sentence is in a passage; a long paragraph is cut with a one-sentence overlap."""
    body = " ".join(f"Sentence number {i} has exactly seven words." for i in range(30))
    article = make_article("a", body)
    sentences = split_sentences(article)
    passages = make_passages(article, sentences, max_words=30, min_words=10)
    covered = {i for p in passages for i in range(p.first_sentence, p.last_sentence)}
    assert covered == set(range(len(sentences)))
    for a, b in itertools.pairwise(passages):
        assert b.first_sentence == a.last_sentence - 1  # shared sentence
        assert len(a.text.split()) <= 30


def test_short_paragraphs_are_grouped() -> None:
    """Short news paragraphs are grouped into one passage until it is long enough."""
    body = "\n\n".join(f"Paragraph {i} is short." for i in range(6))
    article = make_article("a", body)
    passages = make_passages(article, split_sentences(article), max_words=100, min_words=10)
    assert len(passages) == 2
    assert passages[0].text.startswith("Paragraph 0") and "Paragraph 2" in passages[0].text


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=600).filter(lambda t: t.strip()))
def test_offsets_hold_for_any_text(body: str) -> None:
    """Whatever the text, sentences and passages are verbatim slices of the body."""
    article = make_article("a", body)
    sentences = split_sentences(article)
    for s in sentences:
        assert body[s.start : s.end] == s.text and s.text.strip()
    for p in make_passages(article, sentences):
        assert body[p.start : p.end] == p.text


# ------------------------------------------------------- the plain-text fast path

_PIECES = [
    *"the mayor opened bridge city council said prices rose Smith Paris Hong Kong".split(),
    *"Mr Dr St Gen Jan etc no vs Inc U.S e.g a I A B".split(),  # abbreviations and initials
    *"12 1998 3.5 5,000 2.0 7 100".split(),
    "city's",
    "don't",
    "'quoted'",
    "(aside)",
    '"said"',
    "well-known",
    "–",
    "—",
]
_GLUE = [" ", " ", " ", " ", ". ", "? ", "! ", ", ", "; ", ": ", ".", "  ", " - ", "... ", "\n"]


def _pysbd_spans(text: str) -> list[tuple[int, int]]:
    """What the pysbd path gives for one line group (the fast path switched off)."""
    real = passages._plain_split
    passages._plain_split = lambda _text: None
    try:
        return list(passages._segment(text, 0, len(text)))
    finally:
        passages._plain_split = real


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(_PIECES), st.sampled_from(_GLUE)), min_size=1, max_size=14)
)
def test_fast_split_agrees_with_pysbd(parts: list[tuple[str, str]]) -> None:
    """Wherever the fast path takes a text, it splits it exactly as pysbd does."""
    text = "".join(word + glue for word, glue in parts).strip().replace("\n", " ")
    if not text:
        return
    fast = passages._plain_split(text)
    if fast is not None:
        assert fast == _pysbd_spans(text), text


def test_fast_split_takes_plain_news_text() -> None:
    """Ordinary sentences take the fast path; quotes, brackets and abbreviations do not."""
    assert passages._plain_split("The mayor spoke on Tuesday. Prices rose 3.5 percent.") == [
        (0, 27),
        (28, 52),
    ]
    assert passages._plain_split("The city's budget grew in 1998. Did it?") == [(0, 31), (32, 39)]
    for hard in (
        "Mr. Smith spoke.",
        'He said "no." Then',
        "It rose (a lot). Then",
        "Item 12. Next",
    ):
        assert passages._plain_split(hard) is None


def test_fast_split_agrees_with_pysbd_on_the_shipped_corpus(shipped_corpus: Corpus) -> None:
    """Every line group of the shipped articles that the fast path takes, pysbd splits alike."""
    taken = 0
    for article in shipped_corpus.articles:
        body = article.body
        for b_start, b_end in passages._blocks(body):
            for start, end in passages._line_groups(body, b_start, b_end):
                text = body[start:end].replace("\n", " ")
                fast = passages._plain_split(text)
                if fast is not None:
                    taken += 1
                    assert fast == _pysbd_spans(text)
    assert taken


def test_spans_and_bounds_match_the_objects(shipped_corpus: Corpus) -> None:
    """sentence_spans/passage_bounds are split_sentences/make_passages without objects."""
    for article in shipped_corpus.articles:
        spans = passages.sentence_spans(article.body)
        sentences = split_sentences(article)
        assert spans == [(s.start, s.end, s.paragraph) for s in sentences]
        assert passages.passage_bounds(article.body, spans) == [
            (p.first_sentence, p.last_sentence) for p in make_passages(article, sentences)
        ]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_word_counts_are_runs_of_non_space(text: str) -> None:
    """Passage word counts (str.split) count exactly the \\S+ runs, for any characters."""
    import re

    assert len(text.split()) == len(re.findall(r"\S+", text))


def test_default_passages_follow_paragraphs() -> None:
    """By default a passage is one paragraph: a long one is cut with a one-sentence overlap
    and its tail does not run into the next paragraph; only a very short one is joined
    to the next."""
    long = " ".join(f"Sentence {i} of the long paragraph has nine words." for i in range(26))
    body = f"{long}\n\nA second paragraph, which is of a quite ordinary length for a news story, says that the prices of rice rose again this week.\n\nDateline here.\n\nThe last paragraph follows a short line and has enough words to stand alone in a passage."
    article = make_article("a", body)
    sentences = split_sentences(article)
    found = make_passages(article, sentences)
    paragraphs = [
        {s.paragraph for s in sentences[p.first_sentence : p.last_sentence]} for p in found
    ]
    assert paragraphs == [{0}, {0}, {1}, {2, 3}]
    assert all(len(p.text.split()) <= 200 for p in found)
    assert found[1].first_sentence == found[0].last_sentence - 1  # one sentence of overlap
