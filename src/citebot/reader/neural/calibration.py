"""How sure the neural reader is: its evidence -> the probability that the answer is right.

A logistic regression over `EVIDENCE` (fitted by `scripts/calibrate_neural.py` on
out-of-fold SQuAD readings, "right" meaning F1 >= 0.5) and stored with the
thresholds chosen for it in `calibration.json`. A question naming something the
corpus never mentions is pushed far below any threshold (`names.MISSING_NAME_PENALTY`).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from citebot.reader.contract import CorpusView
from citebot.reader.names import MISSING_NAME_PENALTY, names_missing
from citebot.reader.neural.network import MAX_ANSWER_TOKENS
from citebot.reader.question import AnswerType, Question
from citebot.reader.sentences import ScoredSentence, near_terms
from citebot.text.tokenizer import term_set, words

if TYPE_CHECKING:
    from citebot.reader.neural.reader import PassageAnswer

CALIBRATION = Path(__file__).with_name("calibration.json")
EVIDENCE = (
    "bias",
    "probability",  # P(start) P(end) of the answer within its passage
    "score",  # its start + end score
    "answerable",  # its score over its passage's no-answer score
    "margin",  # over the best different answer of another passage
    "agreement",  # share of the passages read whose best answer is the same text
    "coverage",  # share of the question's weight its sentence holds
    "context",  # ... with the sentence's neighbours
    "unmatched",  # share of the question's weight its passage lacks
    "unmatched_near",  # question terms its sentence and neighbours lack (5 or more: 1)
    "rank",  # the answering passage's place among the hits read
    "names_missing",  # share of the question's names its sentence and neighbours lack
    "length",  # the answer's tokens, over the longest allowed
    "members_agree",  # share of the ensemble's members whose own best span it is
    *(f"type_{t.value}" for t in AnswerType),
)
Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Calibration:
    """Weights over EVIDENCE, and the file they came from (its thresholds: `min_confidence`,
    `tiers`, written by scripts/choose_tiers.py)."""

    weights: Vector
    meta: dict[str, Any] = field(default_factory=dict)

    def probability(self, x: Vector, missing: Sequence[str] = ()) -> float:
        z = float(x @ self.weights) - MISSING_NAME_PENALTY * min(len(missing), 2)
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


@functools.cache
def load_calibration(path: Path = CALIBRATION) -> Calibration:
    """The calibration shipped with the network (or written by the calibration script)."""
    data = json.loads(path.read_text("utf-8"))
    names, weights = data["evidence"], data["weights"]
    if tuple(names) != EVIDENCE:
        raise ValueError(f"{path} was fitted for other evidence; run scripts/calibrate_neural.py")
    return Calibration(np.asarray(weights, dtype=np.float64), data)


def evidence(
    question: Question,
    answers: Sequence[PassageAnswer],
    best: ScoredSentence,
    corpus: CorpusView,
    weights: dict[str, float],
) -> Vector:
    """EVIDENCE for the first (best-scoring) of `answers`; `weights` are the question's
    terms' (`sentences.term_weights`)."""
    top = answers[0]
    near = near_terms(corpus, top.sentence)
    in_passage = term_set(top.hit.passage.text)
    total = sum(weights.values()) or 1.0
    text = _key(top)
    others = [a.rating for a in answers[1:] if _key(a) != text]
    margin = min(top.rating - max(others), 10.0) / 10.0 if others else 1.0
    same = sum(_key(a) == text for a in answers)
    x = [
        1.0,
        top.probability,
        max(min(top.score, 30.0), -10.0) / 10.0,
        max(min(top.score - top.none, 30.0), -10.0) / 10.0,
        margin,
        same / len(answers),
        best.coverage,
        best.context,
        sum(w for t, w in weights.items() if t not in in_passage) / total,
        min(sum(t not in near for t in weights), 5) / 5,
        top.rank / max(len(answers), 1),
        names_missing(question, near),
        top.tokens / MAX_ANSWER_TOKENS,
        top.agreement,
        *(float(question.answer_type == t) for t in AnswerType),
    ]
    return np.asarray(x, dtype=np.float64)


def _key(answer: PassageAnswer) -> tuple[str, ...]:
    """The answer's folded words without articles: two passages agree when these match."""
    s = answer.sentence
    text = s.text[answer.start - s.start : answer.end - s.start]
    return tuple(w.folded for w in words(text) if w.folded not in ("a", "an", "the"))


def fit(x: Vector, y: Vector, l2: float = 1.0) -> Vector:
    """Logistic regression by Newton's method with an L2 penalty (not on the bias)."""
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -40, 40)))
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return w
