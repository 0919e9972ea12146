"""The reader reads hand-made hits through a hand-made corpus view: no index at all."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from citebot.corpus.articles import Article
from citebot.corpus.passages import Passage, Sentence, sentence_spans
from citebot.reader.contract import ArticleSentences, CorpusView, Hit, passage_sentences
from citebot.reader.question import parse_question
from citebot.reader.reading import read
from citebot.text.tokenizer import term_set
from tests.conftest import make_article

BODY = (
    "The city council opened the Tagus footbridge on Thursday, after two years of work.\n\n"
    "The bridge, designed by the engineer Ana Costa, is 300 meters long and carries "
    "cyclists and walkers over the river."
)
OTHER = "A ferry still crosses the river every hour, the harbour office said."


@dataclass(frozen=True)
class HandSentences:
    """One article's sentences, held as a plain list."""

    article_id: str
    items: list[Sentence]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int, /) -> Sentence:
        return self.items[i]

    def text(self, i: int) -> str:
        return self.items[i].text

    def texts(self, first: int, last: int) -> list[str]:
        return [s.text for s in self.items[first:last]]

    def paragraph(self, i: int) -> int:
        return self.items[i].paragraph


class HandCorpus:
    """A corpus view over a few articles: idf counted over whole articles, not passages."""

    def __init__(self, articles: list[Article]) -> None:
        self.articles = {a.id: a for a in articles}
        self.sentences: dict[str, ArticleSentences] = {}
        self.terms: dict[str, frozenset[str]] = {}
        for a in articles:
            items = [
                Sentence(article_id=a.id, index=i, paragraph=p, start=s, end=e, text=a.body[s:e])
                for i, (s, e, p) in enumerate(sentence_spans(a.body))
            ]
            self.sentences[a.id] = HandSentences(a.id, items)
            self.terms[a.id] = term_set(a.title) | term_set(a.body)

    def idf(self, term: str) -> float:
        df = sum(1 for terms in self.terms.values() if term in terms)
        return math.log((len(self.terms) + 1) / max(df, 0.5))

    def mentions(self, term: str, article_id: str | None = None) -> bool:
        ids = [article_id] if article_id is not None else list(self.terms)
        return any(term in self.terms[i] for i in ids)

    def article_date(self, article_id: str) -> dt.date | None:
        return self.articles[article_id].date


@dataclass(frozen=True)
class HandHit:
    """A whole article as one retrieved passage."""

    passage: Passage
    score: float


def whole_article(corpus: HandCorpus, article_id: str, score: float) -> HandHit:
    body = corpus.articles[article_id].body
    passage = Passage(
        article_id=article_id,
        index=0,
        start=0,
        end=len(body),
        text=body,
        first_sentence=0,
        last_sentence=len(corpus.sentences[article_id]),
    )
    return HandHit(passage, score)


def hand_corpus() -> HandCorpus:
    """Two small articles: a footbridge dated 2023-09-07, and a ferry."""
    return HandCorpus(
        [
            make_article("bridge", BODY, title="Tagus footbridge opens", date=dt.date(2023, 9, 7)),
            make_article("ferry", OTHER, title="Ferry timetable"),
        ]
    )


def test_reader_answers_from_hand_made_hits_without_an_index() -> None:
    """Given hits and a corpus view made by hand, the reader finds the span, resolves
    "on Thursday" against the article's date, and its quote is the body's own text."""
    corpus = hand_corpus()
    view: CorpusView = corpus  # the hand-made view satisfies the protocol (mypy checks)
    hits: list[Hit] = [whole_article(corpus, "bridge", 9.0), whole_article(corpus, "ferry", 1.0)]
    reading = read(parse_question("When did the council open the Tagus footbridge?"), hits, view)
    assert reading.best is not None and reading.best.span is not None
    assert reading.best.span.text == "on Thursday"
    assert reading.best.span.value == "2023-09-07"
    sentence = reading.best.sentence
    assert sentence.article_id == "bridge"
    assert BODY[sentence.start : sentence.end] == sentence.text
    assert reading.missing == []


def test_reader_learns_names_missing_from_the_corpus_view() -> None:
    """A name the corpus view says no article mentions is reported missing, and the
    confidence drops far below the same question about a name it has."""
    corpus = hand_corpus()
    hits = [whole_article(corpus, "bridge", 9.0)]
    known = read(parse_question("When did the council open the Tagus footbridge?"), hits, corpus)
    unknown = read(parse_question("When did the council open the Douro footbridge?"), hits, corpus)
    assert unknown.missing == ["Douro"]
    assert unknown.confidence < known.confidence / 5


def test_reader_with_no_hits_reads_nothing() -> None:
    """No hits: no answer and no confidence, not an error."""
    reading = read(parse_question("When did the bridge open?"), [], hand_corpus())
    assert reading.best is None and reading.confidence == 0.0


def test_passage_sentences_carry_offsets_into_the_body() -> None:
    """A hit's sentences are the passage's, in order, each slicing the article body."""
    corpus = hand_corpus()
    hit = whole_article(corpus, "bridge", 1.0)
    sentences = passage_sentences(corpus, hit)
    assert [s.index for s in sentences] == list(range(len(corpus.sentences["bridge"])))
    assert len(sentences) >= 2
    assert all(BODY[s.start : s.end] == s.text for s in sentences)
    assert " ".join(s.text for s in sentences).replace("\n\n", " ") == BODY.replace("\n\n", " ")
