"""Sentence ranking: which sentences of the hits hold the question, and how much of it.

A sentence is scored from its text alone, by the share of the question's weight
(idf times the question's own emphasis) it holds, alone and with its neighbours; a
sentence opening with "They"/"It" borrows the words of the one before it. The
reader quotes its answer with one of these sentences (`ScoredSentence.span`), and
the pipeline cites the others.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from citebot.corpus.passages import Sentence
from citebot.reader.contract import ArticleSentences, CorpusView, Hit
from citebot.reader.question import Question
from citebot.text.tokenizer import term_set

# A question word is evidence even when every passage has it: in a corpus of two
# articles about Shenzhen, "Shenzhen" has an idf near 0, yet a sentence about "the
# Shenzhen park" answers "how many companies does the Shenzhen park have" and one
# about Cyberport does not. (In a large corpus hardly any word's idf is this low.)
MIN_IDF = 1.0


@dataclass(frozen=True)
class Candidate:
    """A span of a sentence (offsets relative to the sentence) proposed as the answer."""

    start: int
    end: int
    text: str  # sentence[start:end]
    kind: str  # date, number or phrase
    value: str | None = None  # the resolved value of a temporal expression (ISO)


ANAPHOR = re.compile(r"^\s*(?:They|He|She|It|This|These|Those|His|Her|Their|Its|The\s+\w+)\b")


@dataclass
class ScoredSentence:
    """A candidate sentence with the evidence behind its score.

    The sentence is `sentences[index]` of its article (`sentence`).
    """

    sentences: ArticleSentences = field(repr=False)  # the sentences of its article
    index: int  # its place among them
    text: str
    passage_score: float
    coverage: float  # share of the question's weight in the sentence itself
    context: float  # the same with its neighbours (and the sentence before an anaphor)
    matched: list[str]
    density: float = 0.0  # matched terms per term of the sentence
    score: float = 0.0
    span: Candidate | None = None
    span_score: float = 0.0

    @property
    def sentence(self) -> Sentence:
        """The sentence itself."""
        return self.sentences[self.index]

    @property
    def article_id(self) -> str:
        return self.sentences.article_id


def rank_sentences(
    corpus: CorpusView, question: Question, weights: dict[str, float], hits: Sequence[Hit]
) -> list[ScoredSentence]:
    """The sentences of the hits' passages, best first, scored from their text alone."""
    total = sum(weights.values()) or 1.0
    top = hits[0].score or 1.0
    seen: dict[tuple[str, int], ScoredSentence] = {}
    for hit in hits:
        article_id = hit.passage.article_id
        sentences = corpus.sentences[article_id]
        first, last = hit.passage.first_sentence, hit.passage.last_sentence
        # The passage's texts and its neighbours'.
        lo, hi = max(first - 1, 0), min(last + 1, len(sentences))
        texts = [sentences[j].text for j in range(lo, hi)]
        for i in range(first, last):
            key = (article_id, i)
            if key in seen:
                continue
            text = texts[i - lo]
            own = _terms(text)
            prev = _terms(texts[i - 1 - lo]) if i > 0 else _NO_TERMS
            nxt = _terms(texts[i + 1 - lo]) if i + 1 < hi else _NO_TERMS
            # The question's weights the sentence holds, alone, with the sentence before,
            # and with both neighbours (each summed in the question's order).
            matched: list[str] = []
            alone: list[float] = []
            before: list[float] = []
            near: list[float] = []
            for t, w in weights.items():
                if t in own:
                    matched.append(t)
                    alone.append(w)
                    before.append(w)
                    near.append(w)
                elif t in prev:
                    before.append(w)
                    near.append(w)
                elif t in nxt:
                    near.append(w)
            coverage = sum(alone) / total
            context = sum(near) / total
            if i > 0 and ANAPHOR.match(text):
                coverage = max(coverage, 0.9 * sum(before) / total)
            # Density prefers "X: the government-approved incubator" to a long list sentence.
            density = len(matched) / max(len(own), 1)
            scored = ScoredSentence(
                sentences, i, text, hit.score / top, coverage, context, matched, density
            )
            scored.score = coverage + 0.4 * context + 0.25 * scored.passage_score + 0.3 * density
            seen[key] = scored
    return sorted(seen.values(), key=lambda s: -s.score)


def term_weights(corpus: CorpusView, question: Question) -> dict[str, float]:
    """Each unique question term's weight: its idf times the question's own emphasis."""
    weights = {
        t: max(corpus.idf(t), MIN_IDF) * question.weights.get(t, 1.0) for t in question.terms
    }
    return {t: w for t, w in weights.items() if w > 0}


def near_terms(corpus: CorpusView, sentence: Sentence) -> frozenset[str]:
    """The terms of the sentence and of its neighbours."""
    sentences = corpus.sentences[sentence.article_id]
    return _terms_between(
        sentences, max(sentence.index - 1, 0), min(sentence.index + 2, len(sentences))
    )


def _terms_between(sentences: ArticleSentences, lo: int, hi: int) -> frozenset[str]:
    """The terms of sentences lo, ..., hi - 1 of an article."""
    return frozenset().union(*(_terms(sentences[j].text) for j in range(lo, hi)))


_terms = term_set


_NO_TERMS: frozenset[str] = frozenset()
