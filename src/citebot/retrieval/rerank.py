"""Re-ranking BM25's best passages with weights learned on SQuAD v1.1 train.

`Index.search` re-orders the best `RERANK_DEPTH` passages by a linear score over
`retrieval.features.FEATURES` (where the question's words sit in the passage, how
close together and in which order, the title, the passage's length, BM25's own
score). The weights are in `rerank_weights.json` beside this module, written
by `scripts/train_reranker.py`: a listwise (softmax) linear model fitted on the 442
articles of SQuAD v1.1 train as their own corpus, 87,599 questions, so that the
passage starting in the question's paragraph comes first; its settings were chosen on
SQuAD 2.0 dev (scripts/retrieval_grid.py). Nothing in it is specific to SQuAD's
phrasing: the features are general measures of where a question's words sit.

The weights are scaled so that BM25's score (over the query's best) weighs 1, and a
hit's score is its BM25 score plus `best_bm25 * bonus` with the bonus never negative
(the learned sum shifted by its lowest possible value, which changes no order): the
reader compares hits' scores as ratios to the first, as it did before.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from citebot.errors import CitebotError
from citebot.retrieval.features import FEATURES, passage_features

if TYPE_CHECKING:  # the index calls this module; at run time it is handed one
    from citebot.retrieval.index import Index

# How many of BM25's best passages are re-ordered (the depth the weights were fitted at).
RERANK_DEPTH = 20
WEIGHTS = Path(__file__).with_name("rerank_weights.json")
RETRAIN = (
    "restore it from the repository (git checkout src/citebot/retrieval/rerank_weights.json)"
    " or write it again with scripts/train_reranker.py"
)

Vector = npt.NDArray[np.float64]


class RerankError(CitebotError):
    """The re-ranker's weights file is missing or unreadable; the message says how to fix it."""


@dataclass(frozen=True)
class Reranker:
    """Weights over FEATURES (BM25's is 1) and what the file said of their fitting."""

    weights: Vector
    meta: dict[str, Any] = field(default_factory=dict)

    def bonuses(self, x: npt.NDArray[np.float64]) -> Vector:
        """Each row's learned score beyond BM25, shifted to be >= 0 for features in [0, 1]."""
        rest = self.weights[1:]
        return np.asarray(x[:, 1:] @ rest - np.minimum(rest, 0.0).sum(), dtype=np.float64)


@functools.cache
def load_reranker(path: Path = WEIGHTS) -> Reranker:
    """The weights in `path` (the shipped ones by default); RerankError if they cannot be used."""
    try:
        data = json.loads(path.read_text("utf-8"))
        names, weights = data["features"], data["weights"]
    except FileNotFoundError as exc:
        raise RerankError(f"the re-ranker's weights file {path} is missing; {RETRAIN}") from exc
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise RerankError(
            f"the re-ranker's weights file {path} cannot be read ({exc}); {RETRAIN}"
        ) from exc
    if tuple(names) != FEATURES:
        raise RerankError(
            f"{path} holds weights for the features {names}, but the re-ranker computes "
            f"{list(FEATURES)}; write it again with scripts/train_reranker.py"
        )
    vector = np.asarray(weights, dtype=np.float64)
    if vector.shape != (len(FEATURES),) or not np.isfinite(vector).all() or vector[0] != 1.0:
        raise RerankError(
            f"{path} must hold {len(FEATURES)} finite weights, the first (bm25) 1.0; {RETRAIN}"
        )
    return Reranker(vector, data)


def reranked(
    index: Index, terms: Sequence[str], ids: list[int], bm25: list[float]
) -> list[tuple[int, float]] | None:
    """The passages `ids` (BM25's order, scores `bm25`) re-ranked: (position in `ids`, new
    score) of each, best first, ties in BM25's order; None when there is nothing to
    re-rank by (no terms, no positive score)."""
    top = max(bm25, default=0.0)
    if top <= 0 or not terms:
        return None
    model = load_reranker()
    bonus = model.bonuses(passage_features(index, terms, ids, bm25))
    scored = [(n, bm25[n] + top * float(b)) for n, b in enumerate(bonus)]
    return sorted(scored, key=lambda item: -item[1])
