"""What a reader is given: the retrieved passages, and what it may ask of the corpus.

The pipeline searches, then hands a reader the question, the hits (best first) and a
`CorpusView`. A reader asks the corpus for nothing else, so it never sees how the
passages were found or how the corpus is stored: `retrieval.index.Index` satisfies
these protocols, and so does a hand-made corpus in a test (`tests/reader/test_contract.py`).

Offsets are into `article.body`, so `body[passage.start:passage.end] == passage.text`
and likewise for every sentence: whatever a reader quotes can be cited verbatim.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Protocol

from citebot.corpus.passages import Passage, Sentence


class Hit(Protocol):
    """One retrieved passage. Hits come best first: a hit's rank is its place in the list."""

    @property
    def passage(self) -> Passage:
        """Its article (`article_id`), offsets and text, and its sentences
        `[first_sentence, last_sentence)` of that article."""
        ...

    @property
    def score(self) -> float:
        """The retrieval score hits are ordered by (higher is better; not a probability).
        Scores of one search compare as ratios: the reader weighs a hit by how far its
        score falls short of the first hit's, as a share of it."""
        ...


class ArticleSentences(Protocol):
    """One article's sentences, in order; sentence i is `self[i]`, whose `index` is i."""

    @property
    def article_id(self) -> str: ...

    def __len__(self) -> int: ...

    def __getitem__(self, i: int, /) -> Sentence: ...


class CorpusView(Protocol):
    """What a reader may ask of the corpus the hits come from."""

    @property
    def sentences(self) -> Mapping[str, ArticleSentences]:
        """Every article's sentences, by article id."""
        ...

    def idf(self, term: str) -> float:
        """How rare an index term (`text.tokenizer.tokenize`) is among the passages;
        a term the corpus never uses gets the largest value."""
        ...

    def mentions(self, term: str, article_id: str | None = None) -> bool:
        """Whether the corpus (or only the article `article_id`: its title or its
        sentences) uses an index term."""
        ...

    def article_date(self, article_id: str) -> dt.date | None:
        """The article's publication date, which "on Thursday" is resolved against."""
        ...


def passage_sentences(corpus: CorpusView, hit: Hit) -> list[Sentence]:
    """The sentences of a hit's passage, with their offsets into the article body."""
    passage = hit.passage
    sentences = corpus.sentences[passage.article_id]
    return [sentences[i] for i in range(passage.first_sentence, passage.last_sentence)]
