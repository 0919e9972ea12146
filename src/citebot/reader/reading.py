"""What a reader concludes from the retrieved passages: a `Reading`.

The pipeline composes the answer from it: the best sentence and the span it holds
(`best`, `best.span`), the other ranked sentences it may also cite, and the
probability that the answer is right (`confidence`). The reader itself is
`reader.neural.reader.read_neural`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from citebot.reader.contract import Hit
from citebot.reader.question import Question
from citebot.reader.sentences import ScoredSentence


@dataclass
class Reading:
    """What the reader concluded: the best sentence, its span, and a confidence."""

    question: Question
    hits: list[Hit]
    ranked: list[ScoredSentence]  # the sentences that may be cited, best first
    best: ScoredSentence | None  # None: no span was found
    confidence: float
    missing: list[str] = field(default_factory=list)  # question names the corpus lacks
    evidence: npt.NDArray[np.float64] | None = None  # the calibration model's input
