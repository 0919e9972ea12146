"""Confidence: the question-level evidence the confidence model turns into a probability.

The winner's probability and margin, the sentence's coverage, the question's names
and words the sentence and its neighbours lack, a detail its paragraph says
elsewhere: how a wrong or unanswerable reading shows (`CONFIDENCE_NAMES`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from citebot.corpus.passages import Sentence
from citebot.reader.choice import WANTED
from citebot.reader.collect import Collected
from citebot.reader.contract import CorpusView
from citebot.reader.features import (
    ANSWER_TYPES,
    CONFIDENCE_NAMES,
    SHARED_NAMES,
)
from citebot.reader.model import load_model
from citebot.reader.question import Question
from citebot.reader.sentences import ScoredSentence, near_terms, paragraph_terms
from citebot.reader.spans import KIND_BIT
from citebot.text.tokenizer import term_set, words

# Logit taken off the confidence for each question name (at most two) that no
# passage of the corpus mentions: the corpus cannot be about it.
MISSING_NAME_PENALTY = 3.0


_OVERLAP = SHARED_NAMES.index("overlap")


def recommended_min_confidence() -> float:
    """The threshold chosen for the shipped model on cross-fitted SQuAD readings (see its file)."""
    return float(load_model().meta.get("min_confidence", 0.5))


def confidence_features(
    corpus: CorpusView,
    question: Question,
    found: Collected,
    scores: npt.NDArray[np.float32],
    k: int,
    i: int,
) -> npt.NDArray[np.float64]:
    """The question-level evidence (CONFIDENCE_NAMES) behind candidate i of block k
    (`scores`: of the rows of `found.features`)."""
    flat = scores.astype(np.float64)
    top = float(flat.max())
    probs = np.exp(flat - top)
    probs /= probs.sum()
    offsets = found.features.starts
    block = found.blocks[k]
    near = near_terms(corpus, block.scored.sentence)  # the sentence's and its neighbours' terms
    best = block.table.candidates[i]
    # The runner-up is the best candidate that does not overlap the winner: a
    # different answer, not the same one a word longer.
    spans = block.table.candidates
    apart = (np.asarray(spans.ends) <= best.start) | (np.asarray(spans.starts) >= best.end)
    rivals = np.concatenate(
        [scores[: offsets[k]], scores[offsets[k] : offsets[k + 1]][apart], scores[offsets[k + 1] :]]
    )
    rival = float(rivals.max()) if len(rivals) else None
    margin = top - rival if rival is not None else 10.0
    wanted = WANTED.get(question.answer_type, set())
    type_found = any(best.flags & KIND_BIT[kind] for kind in wanted)
    types = [float(question.answer_type.value == t) for t in ANSWER_TYPES]
    x = [
        1.0,
        float(probs[offsets[k] + i]),
        float(probs[offsets[k] : offsets[k + 1]].sum()),
        min(margin, 10.0) / 10.0,
        max(min(top, 20.0), -20.0) / 10.0,
        block.scored.coverage,
        block.scored.context,
        names_missing(question, near),
        *_mismatches(question, found.weights, block.scored.sentence, near),
        float(type_found),
        float(block.dense[i, _OVERLAP]),
        *types,
        *_details_lacking(corpus, question, block.scored.sentence),
        _lead(found.ranked),
    ]
    assert len(x) == len(CONFIDENCE_NAMES)
    return np.asarray(x, dtype=np.float64)


# "didn't" is read as "didn" + "t".
_NEGATION = frozenset(
    """
    not no never none nor without cannot didn doesn isn wasn aren weren don hasn haven
    hadn wouldn couldn shouldn mustn
    """.split()
)


def _mismatches(
    question: Question, weights: dict[str, float], sentence: Sentence, near: frozenset[str]
) -> tuple[float, float, float]:
    """What the question says that the sentence and its neighbours (`near`: their
    terms, `near_terms`) do not.

    - the idf of the rarest question word they lack, over the rarest question word's:
      a question about "the 1990 Treaty of Lyon" answered from a sentence about Paris;
    - a negation on one side only: "which did not ..." against "which did ...";
    - a number of the question ("in 1981") that they lack.
    """
    folded = {w.folded for w in words(sentence.text)}
    top = max(weights.values(), default=0.0) or 1.0
    lacking = [w for t, w in weights.items() if t not in near]
    rarest = max(lacking, default=0.0) / top
    q_words = {w.folded for w in words(question.text)}
    negation = float(bool(q_words & _NEGATION) != bool(folded & _NEGATION))
    numbers = [t for t in question.terms if any(ch.isdigit() for ch in t)]
    number_missing = float(any(t not in near for t in numbers))
    return rarest, negation, number_missing


def _details_lacking(
    corpus: CorpusView, question: Question, sentence: Sentence
) -> tuple[float, float, float, float, float]:
    """The question's terms the answer's sentence lacks: how an unanswerable question
    written to look answerable (SQuAD 2.0's) often shows.

    - the share of the question's distinct terms the sentence lacks;
    - the idf-weighted share it lacks but its paragraph has, and the largest such idf
      (over 10): a detail the text says elsewhere, swapped into a question that
      otherwise matches the sentence, the mark of one changed from an answerable one;
    - the share its paragraph lacks too;
    - how many terms the question has (up to 15, over 15): in SQuAD 2.0 short
      questions are more often unanswerable.
    """
    asked = term_set(question.text)
    if not asked:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    own = term_set(sentence.text)
    around = paragraph_terms(corpus, sentence)
    idf = {t: corpus.idf(t) for t in asked}
    total = sum(idf.values()) or 1.0
    nearby = [t for t in asked if t not in own and t in around]
    return (
        sum(1 for t in asked if t not in own) / len(asked),
        sum(idf[t] for t in nearby) / total,
        max((idf[t] for t in nearby), default=0.0) / 10,
        sum(1 for t in asked if t not in around) / len(asked),
        min(len(asked), 15) / 15,
    )


def _lead(ranked: list[ScoredSentence]) -> float:
    """How far the best sentence's coverage stands above the next one's."""
    if not ranked:
        return 0.0
    return ranked[0].coverage - (ranked[1].coverage if len(ranked) > 1 else 0.0)


def names_missing(question: Question, near: frozenset[str]) -> float:
    """Share of the question's names with no word in the sentence or its neighbours
    (`near`: their terms, `near_terms`)."""
    if not question.entities:
        return 0.0
    lacking = sum(1 for e in question.entities if term_set(e).isdisjoint(near))
    return lacking / len(question.entities)
