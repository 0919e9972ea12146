"""The question's names against the corpus: a name it never mentions is a question it
cannot answer ("When did the Seoul mayor visit Tokyo?" over articles without Tokyo).

`missing_names` lists the names the corpus (or the one article asked about) never
uses; the confidence loses `MISSING_NAME_PENALTY` for each. `names_missing` is the
softer evidence: the share of the names the answer's sentence and its neighbours lack.
"""

from __future__ import annotations

from citebot.reader.contract import CorpusView
from citebot.reader.question import Question
from citebot.text.tokenizer import term_set, tokenize

# Logit taken off the confidence for each question name (at most two) that no
# passage of the corpus mentions: the corpus cannot be about it.
MISSING_NAME_PENALTY = 3.0


def missing_names(
    question: Question, corpus: CorpusView, article_id: str | None = None
) -> list[str]:
    """The names of the question that the corpus (or the one article asked about) never uses."""
    return [e for e in question.entities if not _known(corpus, e, article_id)]


def _known(corpus: CorpusView, entity: str, article_id: str | None = None) -> bool:
    """Whether any word of a name the question uses occurs in the corpus, or in the one
    article the question is restricted to: an article that never names "Seoul" cannot
    say when the mayor left Seoul, whatever the other articles say."""
    return any(corpus.mentions(t, article_id) for t in tokenize(entity))


def names_missing(question: Question, near: frozenset[str]) -> float:
    """Share of the question's names with no word in the sentence or its neighbours
    (`near`: their terms, `sentences.near_terms`)."""
    if not question.entities:
        return 0.0
    lacking = sum(1 for e in question.entities if term_set(e).isdisjoint(near))
    return lacking / len(question.entities)
