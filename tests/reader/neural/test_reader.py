"""The neural reader with the shipped network: hand-made hits, the shipped corpus, word edges."""

from __future__ import annotations

from pathlib import Path

import pytest

from citebot.corpus.passages import Passage
from citebot.pipeline import Asker
from citebot.reader.neural.encode import tokens
from citebot.reader.neural.network import Ensemble
from citebot.reader.neural.reader import (
    LEXICAL_WEIGHT,
    RANK_PENALTY,
    RETRIEVAL_WEIGHT,
    passage_answers,
    read_neural,
    shipped_network,
)
from citebot.reader.question import parse_question
from tests.reader.test_contract import BODY, HandHit, hand_corpus, whole_article

DATA = Path(__file__).resolve().parents[2] / "data"


def test_reads_hand_made_hits_without_an_index() -> None:
    """Given hits and a corpus view made by hand, the neural reader quotes the body's own
    sentence and resolves a date against the article's publication date."""
    corpus = hand_corpus()
    hits = [whole_article(corpus, "bridge", 9.0), whole_article(corpus, "ferry", 1.0)]
    reading = read_neural(
        parse_question("When did the council open the Tagus footbridge?"), hits, corpus
    )
    assert reading.best is not None and reading.best.span is not None
    span, sentence = reading.best.span, reading.best.sentence
    assert "Thursday" in span.text and span.value == "2023-09-07"
    assert BODY[sentence.start : sentence.end] == sentence.text
    assert sentence.text[span.start : span.end] == span.text
    assert 0.0 < reading.confidence < 1.0


def test_a_name_the_corpus_lacks_sinks_the_confidence() -> None:
    """ "Douro" is nowhere in the corpus: reported missing, and far less sure."""
    corpus = hand_corpus()
    hits = [whole_article(corpus, "bridge", 9.0)]
    known = read_neural(
        parse_question("When did the council open the Tagus footbridge?"), hits, corpus
    )
    unknown = read_neural(
        parse_question("When did the council open the Douro footbridge?"), hits, corpus
    )
    assert unknown.missing == ["Douro"]
    assert unknown.confidence < known.confidence / 5


def test_no_hits_no_answer() -> None:
    """Nothing retrieved: no answer and no confidence, not an error."""
    reading = read_neural(parse_question("When did the bridge open?"), [], hand_corpus())
    assert reading.best is None and reading.confidence == 0.0


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When did the Hong Kong Science Park open a branch in Shenzhen?", "2023-09-07"),
        ("When did the Seoul mayor head to Hong Kong?", None),
    ],
)
def test_shipped_corpus_questions_get_a_span_of_their_article(
    shipped_asker: Asker, question: str, expected: str | None
) -> None:
    """The product's own example answers with the resolved date; every answer's offsets
    slice the cited body."""
    answer = shipped_asker.ask(question)
    if expected is not None:
        assert answer.normalized == expected
    assert answer.citations
    body = shipped_asker.index.article(answer.citations[0].article_id).body
    if answer.answered:
        assert body[answer.answer_start : answer.answer_end] == answer.answer


def test_every_span_starts_and_ends_on_a_word_edge(shipped_asker: Asker) -> None:
    """Over the fixed questions, no answer starts or ends inside a word: hyphenated names
    and numbers stay whole ("Cheng Yeuk-wah", not "Cheng Yeuk")."""
    questions = (DATA / "reply-questions.txt").read_text("utf-8").splitlines()
    checked = 0
    for question in filter(None, questions):
        reading_answer = Asker(shipped_asker.index, min_confidence=0.0).ask(question)
        if not reading_answer.answered or reading_answer.answer_start is None:
            continue
        body = shipped_asker.index.article(reading_answer.citations[0].article_id).body
        edges = tokens(body)
        assert reading_answer.answer_start in set(edges.starts), question
        assert reading_answer.answer_end in set(edges.ends), question
        checked += 1
    assert checked >= 30


def test_overlapping_passages_keep_the_best_rated_span_of_a_sentence() -> None:
    """Two retrieved passages holding the same sentence (passages overlap): the sentence
    keeps the span of the better-rated reading, not of the one read last."""
    corpus = hand_corpus()
    question = parse_question("When did the council open the Tagus footbridge?")
    whole = whole_article(corpus, "bridge", 9.0)
    first = corpus.sentences["bridge"][0]
    opening = HandHit(
        Passage(
            article_id="bridge",
            index=1,
            start=first.start,
            end=first.end,
            text=first.text,
            first_sentence=0,
            last_sentence=1,
        ),
        8.0,
    )
    hits = [opening, whole]
    answers = passage_answers(shipped_network(), question.text, hits, corpus)
    assert len({a.score for a in answers}) == 2  # two readings, scored apart,
    assert len({a.sentence.index for a in answers}) == 1  # of one sentence
    top = max(answers, key=lambda a: a.rating)
    reading = read_neural(question, hits, corpus)
    assert reading.best is not None and reading.best.score == top.score


def test_the_question_words_a_sentence_holds_give_it_a_head_start() -> None:
    """Asked how long the bridge is, the network answers from the sentence naming it
    ("two years"); given a large share of the question's weight, the sentence on its
    length answers instead, and the share is carried into the answer's rating."""
    corpus = hand_corpus()
    hits = [whole_article(corpus, "bridge", 9.0)]
    question = "How long is the Tagus footbridge?"
    (plain,) = passage_answers(shipped_network(), question, hits, corpus)
    assert plain.sentence.index == 0 and plain.coverage == 0.0
    steered = {("bridge", 1): 10.0}
    (answer,) = passage_answers(shipped_network(), question, hits, corpus, steered)
    assert answer.sentence.index == 1 and answer.coverage == 10.0
    assert answer.rating == answer.score + LEXICAL_WEIGHT * 10.0 - RANK_PENALTY * answer.rank


def test_a_passage_is_rated_down_by_how_far_retrieval_put_it_below_the_first() -> None:
    """The same passage read as the second hit is rated lower when its retrieval score
    is a ninth of the first hit's than when it is nine tenths of it: by RETRIEVAL_WEIGHT
    times the share it falls short by."""
    corpus = hand_corpus()
    question = "When did the council open the Tagus footbridge?"
    ratings = []
    for second in (8.1, 1.0):
        hits = [whole_article(corpus, "ferry", 9.0), whole_article(corpus, "bridge", second)]
        answers = passage_answers(shipped_network(), question, hits, corpus)
        first, other = sorted(answers, key=lambda a: a.rank)
        assert first.gap == 0.0 and other.gap == pytest.approx(1.0 - second / 9.0)
        ratings.append(other.rating)
    assert ratings[0] - ratings[1] == pytest.approx(RETRIEVAL_WEIGHT * (8.1 - 1.0) / 9.0)


def test_members_that_agree_are_counted() -> None:
    """An ensemble of one network twice agrees with itself on every passage's span."""
    corpus = hand_corpus()
    hits = [whole_article(corpus, "bridge", 9.0), whole_article(corpus, "ferry", 1.0)]
    twice = Ensemble(shipped_network().members[:1] * 2)
    question = "When did the council open the Tagus footbridge?"
    answers = passage_answers(twice, question, hits, corpus)
    assert answers and all(a.agreement == 1.0 for a in answers)
    single = passage_answers(Ensemble(twice.members[:1]), question, hits, corpus)
    assert [(a.start, a.end, a.score) for a in single] == [
        (a.start, a.end, a.score) for a in answers
    ]


@pytest.mark.parametrize(
    "question", ["Who designed the Tagus footbridge?", "How long is the Tagus footbridge?"]
)
def test_a_passage_without_the_answer_leans_to_no_answer(question: str) -> None:
    """The no-answer head: the best span's lead over "no answer here" is larger in the
    passage that answers than in one about the same river that does not."""
    corpus = hand_corpus()
    hits = [whole_article(corpus, "bridge", 9.0), whole_article(corpus, "ferry", 1.0)]
    answers = passage_answers(shipped_network(), question, hits, corpus)
    lead = {a.hit.passage.article_id: a.score - a.none for a in answers}
    assert lead["bridge"] > lead["ferry"] + 2.0
