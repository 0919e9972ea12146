"""The reader's learned weights: fitting (numpy L-BFGS) and the shipped model file.

Two L2-regularised logistic regressions, both fitted by `scripts/train_reader.py`
on SQuAD articles and shipped as `reader_model.json`:

- the span model, a conditional (multinomial) logistic regression over all
  candidate spans of a question: a candidate's score is a linear function of its
  features, and a softmax over the question's candidates gives its probability
  of being the answer (as in the SQuAD logistic-regression baseline);
- the confidence model, a binary logistic regression over question-level
  evidence (the best candidate's probability, the margin to the runner-up, the
  sentence's coverage, question names and words missing from it...). Its ranking is fitted
  on answerable and unanswerable questions alike, its scale on the answerable
  ones (Platt scaling), so its output is the probability that the answer is
  right (token F1 >= 0.5) when the text holds an answer.

The file also records the default threshold (`min_confidence`), the training
command and the numbers measured by cross-fitting (`citebot.evaluation.crossfit`): each
article read by a model fitted without it.

Fitting is deterministic: full-batch L-BFGS from zero, a fixed iteration budget.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from citebot.errors import CitebotError
from citebot.reader.features import (
    ANSWER_TYPES,
    CONFIDENCE_NAMES,
    DENSE_NAMES,
    HASH_DIM,
    HASH_TEMPLATES,
)

Vector = npt.NDArray[np.float64]
Objective = Callable[[Vector], tuple[float, Vector]]
MODEL_FILE = "reader_model.json"
MODEL_FORMAT = 1


class ModelError(CitebotError):
    """The shipped model file is missing or does not match the features the code computes."""


def lbfgs(objective: Objective, x0: Vector, *, iterations: int = 300, memory: int = 10) -> Vector:
    """Minimise a smooth function with L-BFGS and a backtracking (Armijo) line search."""
    x = np.array(x0, dtype=np.float64)
    f, g = objective(x)
    steps: list[tuple[Vector, Vector, float]] = []  # (s, y, 1 / y.s)
    for _ in range(iterations):
        q = g.copy()
        alphas = []
        for s, y, rho in reversed(steps):
            a = rho * float(s @ q)
            q -= a * y
            alphas.append(a)
        if steps:
            s, y, _rho = steps[-1]
            q *= float(s @ y) / float(y @ y)
        else:
            q /= max(float(np.linalg.norm(g)), 1.0)
        for (s, y, rho), a in zip(steps, reversed(alphas), strict=True):
            q += s * (a - rho * float(y @ q))
        direction = -q
        slope = float(g @ direction)
        if slope >= 0:  # not a descent direction: restart from the gradient
            steps.clear()
            direction = -g / max(float(np.linalg.norm(g)), 1.0)
            slope = float(g @ direction)
        step = 1.0
        while True:
            x_new = x + step * direction
            f_new, g_new = objective(x_new)
            if f_new <= f + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, y = x_new - x, g_new - g
        sy = float(s @ y)
        if sy > 1e-12:
            steps.append((s, y, 1.0 / sy))
            del steps[:-memory]
        converged = abs(f - f_new) <= 1e-9 * max(1.0, abs(f))
        x, f, g = x_new, f_new, g_new
        if converged or float(np.abs(g).max()) < 1e-7:
            break
    return x


def kind_weights(dense: npt.NDArray[np.float32], n_kinds: int) -> npt.NDArray[np.float32]:
    """The weights of the shared columns for each kind (n_kinds x width): the shared
    weights with the kind's block of conjunction weights added to all but the bias.

    `dense` is the full vector (`features.DENSE_NAMES`): width shared weights, then
    n_kinds blocks of width - 1.
    """
    width = (len(dense) + n_kinds) // (n_kinds + 1)
    out = np.tile(dense[:width], (n_kinds, 1))
    out[:, 1:] += dense[width:].reshape(n_kinds, width - 1)
    return out


def softmax_objective(
    base: npt.NDArray[np.float32],
    kinds: npt.NDArray[np.int64],
    hashed: npt.NDArray[np.int64],
    group_starts: npt.NDArray[np.int64],
    target: npt.NDArray[np.float32],
    *,
    n_kinds: int,
    l2: float,
    l2_hash: float,
) -> Objective:
    """Negative log-likelihood of the target candidates under a softmax per question, plus L2.

    Rows are candidates, grouped by question (group k is rows group_starts[k] up to
    the next start); `target` sums to each question's weight within its group.

    The dense features are given in their factored form (`features.SHARED_NAMES`, the
    rows the reader scores): a row's full vector (`features.DENSE_NAMES`) is its `base`
    row (the bias first), then `n_kinds` blocks of answer-type conjunctions, where the
    block of its question's kind (`kinds`, one per question) repeats `base[1:]` and
    every other block is zero. Storing `base` alone takes a tenth of the memory, and
    each kind's rows are one matrix product (`kind_weights`). The weights and the
    gradient are over the full vector.
    """
    n, width = base.shape
    d = width + n_kinds * (width - 1)
    sizes = np.diff(np.append(group_starts, n))
    # The questions in kind order (stable), so that each kind's rows are one slice.
    order = np.argsort(kinds, kind="stable")
    rows = np.concatenate([np.arange(group_starts[q], group_starts[q] + sizes[q]) for q in order])
    base, hashed, target = base[rows], hashed[rows], target[rows]
    sizes = sizes[order]
    group_starts = np.cumsum(np.append(0, sizes[:-1])).astype(np.int64)
    row_kind = np.repeat(kinds[order], sizes)
    edges = np.searchsorted(row_kind, np.arange(n_kinds + 1))
    group = np.repeat(np.arange(len(group_starts)), sizes)
    group_weight = np.add.reduceat(target.astype(np.float64), group_starts)
    flat_hash = hashed.ravel()
    # Where each kind's block of conjunction weights sits in the full vector.
    blocks = [slice(width + k * (width - 1), width + (k + 1) * (width - 1)) for k in range(n_kinds)]

    def objective(params: Vector) -> tuple[float, Vector]:
        w, h = params[:d], params[d:]
        by_kind = kind_weights(w.astype(np.float32), n_kinds)
        linear = np.empty(n, dtype=np.float32)
        for k in range(n_kinds):
            lo, hi = edges[k], edges[k + 1]
            linear[lo:hi] = base[lo:hi] @ by_kind[k]
        scores = linear + h[hashed].sum(axis=1)
        top = np.maximum.reduceat(scores, group_starts)
        exp = np.exp(scores - top[group])
        z = np.add.reduceat(exp, group_starts)
        log_z = np.log(z) + top
        loss = float(group_weight @ log_z - target @ scores)
        residual = (exp / z[group]) * group_weight[group] - target
        residual32 = residual.astype(np.float32)
        grad_w = np.zeros(d)
        for k in range(n_kinds):
            lo, hi = edges[k], edges[k + 1]
            g = (base[lo:hi].T @ residual32[lo:hi]).astype(np.float64)
            grad_w[:width] += g
            grad_w[blocks[k]] += g[1:]
        grad_h = np.bincount(
            flat_hash, weights=np.repeat(residual, hashed.shape[1]), minlength=h.size
        )
        loss += 0.5 * l2 * float(w[1:] @ w[1:]) + 0.5 * l2_hash * float(h @ h)
        grad = np.concatenate([grad_w, grad_h])
        grad[1:d] += l2 * w[1:]
        grad[d:] += l2_hash * h
        return loss, grad

    return objective


def logistic_objective(x: Vector, y: Vector, *, l2: float) -> Objective:
    """Mean negative log-likelihood of binary labels y under sigmoid(x @ w), plus L2 (no bias)."""
    n = max(len(y), 1)

    def objective(w: Vector) -> tuple[float, Vector]:
        z = x @ w
        loss = float(np.sum(np.logaddexp(0.0, z) - y * z)) / n
        grad = x.T @ (sigmoid(z) - y) / n
        loss += 0.5 * l2 * float(w[1:] @ w[1:])
        grad[1:] += l2 * w[1:]
        return loss, grad

    return objective


def sigmoid(z: Vector) -> Vector:
    """The logistic function, without overflow warnings."""
    out: Vector = np.exp(-np.logaddexp(0.0, -z))
    return out


@dataclass(frozen=True)
class ReaderModel:
    """Weights of the span model and the confidence model."""

    dense: npt.NDArray[np.float32]  # DENSE_NAMES
    hashed: npt.NDArray[np.float32]
    confidence_names: tuple[str, ...]
    confidence: Vector
    meta: dict[str, Any]
    # The dense weights each answer type's rows are scored with (`kind_weights`).
    by_kind: npt.NDArray[np.float32] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_kind", kind_weights(self.dense, len(ANSWER_TYPES)))

    def scores(
        self, dense: npt.NDArray[np.float32], hashed: npt.NDArray[np.int64], kind: int
    ) -> npt.NDArray[np.float32]:
        """The span model's score of each candidate row (`features.SHARED_NAMES`) of a
        question whose answer type is `kind` (`features.answer_kind`)."""
        out: npt.NDArray[np.float32] = dense @ self.by_kind[kind] + self.hashed[hashed].sum(axis=1)
        return out

    def to_json(self) -> dict[str, Any]:
        """The model as the JSON object `from_json` reads (hash weights stored sparsely)."""
        nonzero = np.flatnonzero(self.hashed)
        return {
            "format": MODEL_FORMAT,
            **self.meta,
            "dense_names": list(DENSE_NAMES),
            "dense": [round(float(v), 6) for v in self.dense],
            "hash_dim": HASH_DIM,
            "hash_templates": list(HASH_TEMPLATES),
            "hash": [[int(i), round(float(self.hashed[i]), 6)] for i in nonzero],
            "confidence_names": list(self.confidence_names),
            "confidence": [round(float(v), 6) for v in self.confidence],
        }

    @classmethod
    def from_json(
        cls, data: dict[str, Any], expected_confidence: Sequence[str], name: str = MODEL_FILE
    ) -> ReaderModel:
        """Check the file against the features this code computes, then build the model."""
        if data.get("format") != MODEL_FORMAT:
            raise ModelError(f"{name} has format {data.get('format')}, not {MODEL_FORMAT}")
        checks = [
            ("dense_names", list(DENSE_NAMES)),
            ("hash_dim", HASH_DIM),
            ("hash_templates", list(HASH_TEMPLATES)),
            ("confidence_names", list(expected_confidence)),
        ]
        for key, expected in checks:
            if data.get(key) != expected:
                raise ModelError(
                    f"{name}: {key} does not match the features the code computes; "
                    "retrain with scripts/train_reader.py"
                )
        hashed = np.zeros(HASH_DIM, dtype=np.float32)
        for i, value in data["hash"]:
            hashed[i] = value
        meta_keys = set(data) - {k for k, _ in checks} - {"dense", "hash", "confidence", "format"}
        return cls(
            dense=np.asarray(data["dense"], dtype=np.float32),
            hashed=hashed,
            confidence_names=tuple(data["confidence_names"]),
            confidence=np.asarray(data["confidence"], dtype=np.float64),
            meta={k: data[k] for k in sorted(meta_keys)},
        )


@functools.cache
def load_model() -> ReaderModel:
    """The shipped model (read once per process)."""
    try:
        text = resources.files("citebot.reader").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(
            f"{MODEL_FILE} is missing from the citebot package; run scripts/train_reader.py"
        ) from None
    return ReaderModel.from_json(json.loads(text), CONFIDENCE_NAMES)


def read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in a file; ModelError says when it is missing, unreadable or not one."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} cannot be read ({exc})") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path} does not hold a JSON object")
    return data


def read_model(path: Path) -> ReaderModel:
    """A model file written by scripts/train_reader.py: a fold model or the shipped one."""
    data = read_json_object(path)
    try:
        return ReaderModel.from_json(data, CONFIDENCE_NAMES, str(path))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelError(f"{path} is not a complete model file ({exc})") from exc
