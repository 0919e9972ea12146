"""A hand-made corpus view and hits, no index at all: the reader's tests read through them
(tests/reader/neural/, tests/reader/test_names.py)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from citebot.corpus.articles import Article
from citebot.corpus.passages import Passage, Sentence, sentence_spans
from citebot.reader.contract import ArticleSentences, CorpusView, passage_sentences
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


def test_the_hand_made_corpus_answers_what_a_reader_may_ask() -> None:
    """The hand-made view has every method of `CorpusView`: sentences, idf (rarer terms
    weigh more), mentions (per article too) and the article's date."""
    view: CorpusView = hand_corpus()  # mypy checks the protocol where this is type-checked
    assert set(view.sentences) == {"bridge", "ferry"}
    assert view.idf("footbridg") > view.idf("river")  # one article against both
    assert view.mentions("ferri") and not view.mentions("ferri", "bridge")
    assert view.article_date("bridge") == dt.date(2023, 9, 7)
    assert view.article_date("ferry") is None


def test_passage_sentences_carry_offsets_into_the_body() -> None:
    """A hit's sentences are the passage's, in order, each slicing the article body."""
    corpus = hand_corpus()
    hit = whole_article(corpus, "bridge", 1.0)
    sentences = passage_sentences(corpus, hit)
    assert [s.index for s in sentences] == list(range(len(corpus.sentences["bridge"])))
    assert len(sentences) >= 2
    assert all(BODY[s.start : s.end] == s.text for s in sentences)
    assert " ".join(s.text for s in sentences).replace("\n\n", " ") == BODY.replace("\n\n", " ")
