"""The reader: from retrieved passages to one sentence and the span that answers.

1. The pipeline retrieves the best passages and hands them over with a view of the
   corpus (`contract`): the reader asks it for sentences, idf and dates, nothing more.
2. Rank their sentences by how much of the question's weight (idf, with the
   question's verb counted double) each holds, alone and with its neighbours: a
   sentence that opens with "They"/"It" speaks about the sentence before it
   (`sentences`).
3. Propose spans in the best sentences (`spans`, `candidates`), describe each against
   the question (`features`) and score them all with the learned span model
   (`model`): one softmax over every candidate of every sentence, so the choice
   of sentence and of span is one decision (`collect` gathers them, `decoding`
   picks the answer with the highest expected EM + F1).
4. The confidence model turns the evidence (the winner's probability, its margin,
   the sentence's coverage, names of the question the sentence lacks) into the
   probability that the answer is right; a question naming something the corpus
   never mentions is pushed far below any threshold (`confidence`).

No rule here names a question, article or wording: the weights are learned on
SQuAD articles and measured on others (see `evaluate`, `scripts/train_reader.py`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from citebot.reader.choice import display, gate, lacks_wanted
from citebot.reader.collect import TOP_SENTENCES, collect, with_blocks
from citebot.reader.confidence import MISSING_NAME_PENALTY, confidence_features
from citebot.reader.contract import CorpusView, Hit
from citebot.reader.decoding import fullest_list, most_supported
from citebot.reader.features import (
    answer_kind,
)
from citebot.reader.model import ReaderModel, load_model
from citebot.reader.question import AnswerType, Question
from citebot.reader.sentences import ScoredSentence

# Answers that name one thing, place or time are atomic: "Shenzhen Bay" is not part of
# the answer "Shenzhen Bay Startup Plaza". For them the most probable answer is kept.
_NAMED = frozenset([AnswerType.ENTITY, AnswerType.PLACE, AnswerType.DATE, AnswerType.TIME])


WIDE = 30  # sentences read when the best ones lack the kind of answer the question fixes


@dataclass
class Reading:
    """What the reader concluded: the best sentence, its span, and a confidence."""

    question: Question
    hits: list[Hit]
    ranked: list[ScoredSentence]
    best: ScoredSentence | None
    confidence: float
    missing: list[str] = field(default_factory=list)  # question names the corpus lacks
    evidence: npt.NDArray[np.float64] | None = None  # the confidence model's input


def read(
    question: Question,
    hits: Sequence[Hit],
    corpus: CorpusView,
    article_id: str | None = None,
    *,
    top_sentences: int = TOP_SENTENCES,
    model: ReaderModel | None = None,
) -> Reading:
    """Read the hits (best first) for one parsed question; see `collect` for `article_id`."""
    model = model if model is not None else load_model()
    found = collect(question, hits, corpus, article_id, top_sentences=top_sentences)
    if not found.blocks:
        return Reading(question, found.hits, found.ranked, None, 0.0, found.missing)
    if lacks_wanted(question, found.features) and len(found.ranked) > top_sentences:
        # The kind the question fixes is not in the best sentences: look further down,
        # as far as a person would scan ("the full name" is often said only once).
        # The same retrieval and ranking as `collect` with top_sentences=WIDE (nothing
        # above has changed them): only the blocks are made again.
        found = with_blocks(corpus, question, found, WIDE)
    made = found.features
    scores = gate(question, made, model.scores(made.dense, made.hashed, answer_kind(question)))
    # Each sentence's best candidate (the first of its highest scores, as `np.argmax`).
    starts = np.asarray(made.starts[:-1])
    top = np.maximum.reduceat(scores, starts)
    at_top = np.flatnonzero(scores == np.repeat(top, np.diff(made.starts)))
    firsts = at_top[np.searchsorted(at_top, starts)] - starts
    for block, i, score in zip(found.blocks, firsts.tolist(), top.tolist(), strict=True):
        block.scored.span = block.table.candidates[i]
        block.scored.span_score = block.scored.score = score
    k, i = most_supported(
        found.blocks, scores, made.starts, overlap=question.answer_type not in _NAMED
    )
    chosen = found.blocks[k]
    chosen.scored.span = chosen.table.candidates[i]
    chosen.scored.span_score = chosen.scored.score = float(scores[made.starts[k] + i])
    if question.plural:
        k = fullest_list(question, found.blocks, k)
        i = int(np.argmax(scores[made.starts[k] : made.starts[k + 1]]))
    # Scored sentences first, best first; the others keep the ranker's order (a stable sort).
    found.ranked.sort(key=lambda s: (s.span is None, -s.score if s.span is not None else 0.0))
    best = found.blocks[k].scored
    if best.span is not None:
        best.span = display(question, best.span, found.blocks[k].table.candidates, best.text)
    x = confidence_features(corpus, question, found, scores, k, i)
    z = float(x @ model.confidence) - MISSING_NAME_PENALTY * min(len(found.missing), 2)
    confidence = 1.0 / (1.0 + math.exp(-z))
    return Reading(question, found.hits, found.ranked, best, confidence, found.missing, x)
