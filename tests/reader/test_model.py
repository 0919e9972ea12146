"""The learned reader's fitting code and the shipped weights file."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from citebot.reader.candidates import sentence_table
from citebot.reader.features import (
    ANSWER_TYPES,
    CONFIDENCE_NAMES,
    DENSE_NAMES,
    HASH_DIM,
    HASH_TEMPLATES,
    SHARED_NAMES,
    SentenceEvidence,
    answer_kind,
    candidate_features,
)
from citebot.reader.model import (
    MODEL_FILE,
    ModelError,
    ReaderModel,
    kind_weights,
    lbfgs,
    load_model,
    logistic_objective,
    sigmoid,
    softmax_objective,
)
from citebot.reader.question import parse_question


def test_logistic_fit_recovers_a_separable_rule() -> None:
    """Labels y = [x1 > x2] on random points are learned: every training point classified."""
    rng = np.random.default_rng(0)
    points = rng.normal(size=(400, 2))
    x = np.hstack([np.ones((400, 1)), points])
    y = (points[:, 0] > points[:, 1]).astype(np.float64)
    w = lbfgs(logistic_objective(x, y, l2=1e-4), np.zeros(3), iterations=500)
    assert ((x @ w > 0) == (y == 1)).mean() > 0.99
    assert w[1] > 0 > w[2]


def test_fit_is_deterministic() -> None:
    """The same data give bit-identical weights."""
    rng = np.random.default_rng(1)
    x = np.hstack([np.ones((50, 1)), rng.normal(size=(50, 3))])
    y = (x[:, 1] > 0).astype(np.float64)
    first = lbfgs(logistic_objective(x, y, l2=1e-2), np.zeros(4))
    second = lbfgs(logistic_objective(x, y, l2=1e-2), np.zeros(4))
    assert (first == second).all()


N_KINDS = len(ANSWER_TYPES)
SHARED_WIDTH = len(SHARED_NAMES)


def expanded(base: np.ndarray, kinds: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The full dense rows (DENSE_NAMES) of factored rows: each kind's block repeats base[1:]."""
    full = np.zeros((len(base), len(DENSE_NAMES)), dtype=np.float32)
    full[:, :SHARED_WIDTH] = base
    row_kind = np.repeat(kinds, sizes)
    for r, k in enumerate(row_kind):
        start = SHARED_WIDTH + k * (SHARED_WIDTH - 1)
        full[r, start : start + SHARED_WIDTH - 1] = base[r, 1:]
    return full


def full_loss(
    full: np.ndarray,
    hashed: np.ndarray,
    starts: np.ndarray,
    target: np.ndarray,
    params: np.ndarray,
    l2: float,
    l2_hash: float,
) -> float:
    """The grouped softmax loss written out on the full rows, one question at a time."""
    d = full.shape[1]
    w, h = params[:d], params[d:]
    scores = full.astype(np.float64) @ w + h[hashed].sum(axis=1)
    loss = 0.0
    for lo, hi in zip(starts, [*starts[1:], len(full)], strict=True):
        s, t = scores[lo:hi], target[lo:hi].astype(np.float64)
        top = s.max()
        loss += t.sum() * (np.log(np.exp(s - top).sum()) + top) - t @ s
    return float(loss + 0.5 * l2 * w[1:] @ w[1:] + 0.5 * l2_hash * h @ h)


def test_factored_objective_equals_the_loss_on_full_rows() -> None:
    """Questions of mixed kinds, in no kind order: the same loss as the written-out rows."""
    rng = np.random.default_rng(4)
    sizes = np.asarray([3, 5, 2, 4, 6])
    kinds = np.asarray([2, 0, 2, N_KINDS - 1, 0], dtype=np.int64)
    n = int(sizes.sum())
    base = rng.normal(size=(n, SHARED_WIDTH)).astype(np.float32)
    base[:, 0] = 1.0
    hashed = rng.integers(0, 50, size=(n, len(HASH_TEMPLATES))).astype(np.int64)
    starts = np.cumsum(np.append(0, sizes[:-1])).astype(np.int64)
    target = np.zeros(n, dtype=np.float32)
    target[starts + 1] = 1.0
    target[starts[3]] = 0.25  # a partly right candidate
    objective = softmax_objective(
        base, kinds, hashed, starts, target, n_kinds=N_KINDS, l2=0.1, l2_hash=0.2
    )
    params = rng.normal(size=len(DENSE_NAMES) + HASH_DIM) * 0.05
    loss, _ = objective(params)
    full = expanded(base, kinds, sizes)
    assert loss == pytest.approx(
        full_loss(full, hashed, starts, target, params, 0.1, 0.2), rel=1e-5
    )


def test_softmax_fit_picks_the_marked_candidate_in_each_group() -> None:
    """Per-question softmax: the candidate with feature 1 set is the answer in every group."""
    rng = np.random.default_rng(2)
    groups, size = 60, 5
    base = rng.normal(size=(groups * size, SHARED_WIDTH)).astype(np.float32) * 0.1
    base[:, 0] = 1.0
    base[:, 1] = 0.0
    answers = rng.integers(0, size, groups) + np.arange(groups) * size
    base[answers, 1] = 1.0
    kinds = rng.integers(0, N_KINDS, groups).astype(np.int64)
    hashed = np.zeros((groups * size, len(HASH_TEMPLATES)), dtype=np.int64)
    target = np.zeros(groups * size, dtype=np.float32)
    target[answers] = 1.0
    starts = np.arange(groups, dtype=np.int64) * size
    objective = softmax_objective(
        base, kinds, hashed, starts, target, n_kinds=N_KINDS, l2=1e-3, l2_hash=1.0
    )
    params = lbfgs(objective, np.zeros(len(DENSE_NAMES) + HASH_DIM), iterations=100)
    full = expanded(base, kinds, np.full(groups, size))
    scores = full @ params[: len(DENSE_NAMES)].astype(np.float32)
    picked = scores.reshape(groups, size).argmax(axis=1) + np.arange(groups) * size
    assert (picked == answers).all()


def test_softmax_gradient_matches_finite_differences() -> None:
    """The analytic gradient of the grouped softmax loss agrees with a numeric one, for the
    shared weights, a kind's block, a kind no question has, and a hash weight."""
    rng = np.random.default_rng(3)
    n = 12
    base = rng.normal(size=(n, SHARED_WIDTH)).astype(np.float32)
    hashed = rng.integers(0, 5, size=(n, len(HASH_TEMPLATES))).astype(np.int64)
    target = np.zeros(n, dtype=np.float32)
    target[[1, 7]] = 1.0
    kinds = np.asarray([3, 1], dtype=np.int64)
    objective = softmax_objective(
        base,
        kinds,
        hashed,
        np.asarray([0, 6], dtype=np.int64),
        target,
        n_kinds=N_KINDS,
        l2=0.1,
        l2_hash=0.1,
    )
    params = rng.normal(size=len(DENSE_NAMES) + HASH_DIM) * 0.01
    _, grad = objective(params)
    block = SHARED_WIDTH - 1
    for k in (
        0,
        3,
        SHARED_WIDTH + 1 * block + 2,
        SHARED_WIDTH + 3 * block + 5,
        SHARED_WIDTH + 0 * block + 4,  # no question has kind 0: only the L2 term
        len(DENSE_NAMES) + int(hashed[0, 0]),
    ):
        step = np.zeros_like(params)
        step[k] = 1e-3
        numeric = (objective(params + step)[0] - objective(params - step)[0]) / 2e-3
        assert numeric == pytest.approx(grad[k], rel=1e-2, abs=1e-3)


def test_kind_weights_are_the_shared_weights_plus_the_kinds_block() -> None:
    """Each kind's weights: the bias's own, and each base feature's plus its conjunction's."""
    dense = np.arange(len(DENSE_NAMES), dtype=np.float32)
    by_kind = kind_weights(dense, N_KINDS)
    assert by_kind.shape == (N_KINDS, SHARED_WIDTH)
    for k, kind in enumerate(ANSWER_TYPES):
        assert by_kind[k, 0] == dense[0]
        for j, name in enumerate(SHARED_NAMES[1:], start=1):
            assert by_kind[k, j] == dense[j] + dense[DENSE_NAMES.index(f"{kind}&{name}")]


def test_rows_are_scored_as_their_full_vectors() -> None:
    """A question's candidates score as their written-out DENSE_NAMES rows would: the
    question's type's conjunctions repeating the base features, the other types' zero."""
    model = load_model()
    sentence = "In 1066, the duke was charged with undermining the Norman church, said Odo."
    evidence = SentenceEvidence(
        coverage=0.8, context=0.9, density=0.2, passage_score=1.0, coverage_gap=0.0, rank=0
    )
    table = sentence_table(sentence, None)
    kinds = set()
    for text in ("When was the duke charged?", "Who was charged?", "What did the duke do?"):
        question = parse_question(text)
        weights = dict.fromkeys(question.terms, 1.0)
        dense, hashed = candidate_features(question, weights, table, evidence, sentence)
        kind = answer_kind(question)
        kinds.add(kind)
        full = expanded(dense, np.asarray([kind]), np.asarray([len(dense)]))
        want = full.astype(np.float64) @ model.dense + model.hashed[hashed].sum(axis=1)
        assert model.scores(dense, hashed, kind) == pytest.approx(want, rel=1e-5, abs=1e-5)
    assert len(kinds) == 3


def test_sigmoid_is_stable_at_extremes() -> None:
    """No overflow: very negative and very positive inputs give 0 and 1."""
    assert sigmoid(np.asarray([-1000.0, 0.0, 1000.0])).tolist() == [0.0, 0.5, 1.0]


def test_shipped_model_has_the_features_the_code_computes() -> None:
    """The weights file names exactly DENSE_NAMES, HASH_TEMPLATES and CONFIDENCE_NAMES."""
    model = load_model()
    assert model.dense.shape == (len(DENSE_NAMES),)
    assert model.hashed.shape == (HASH_DIM,)
    assert model.confidence_names == CONFIDENCE_NAMES
    assert np.isfinite(model.dense).all() and np.isfinite(model.confidence).all()


def test_shipped_model_records_how_it_was_trained() -> None:
    """The file says its training command and its cross-fitted numbers, and how to redo them."""
    raw = json.loads(resources.files("citebot.reader").joinpath(MODEL_FILE).read_text("utf-8"))
    assert "scripts/train_reader.py" in raw["command"]
    assert raw["trained_on"]["articles"] > 0
    assert raw["crossfit"]["raw"]["has_ans_f1"] > 0
    assert "--folds" in raw["crossfit"]["command"]


def test_model_round_trips_through_json() -> None:
    """to_json then from_json gives the same weights."""
    model = load_model()
    again = ReaderModel.from_json(model.to_json(), CONFIDENCE_NAMES)
    assert np.allclose(again.dense, model.dense, atol=1e-6)
    assert np.allclose(again.hashed, model.hashed, atol=1e-6)


def test_a_file_for_other_features_is_refused() -> None:
    """A weights file whose feature names differ from the code's is a ModelError, not a silent mismatch."""
    data = load_model().to_json()
    data["dense_names"] = data["dense_names"][:-1]
    with pytest.raises(ModelError, match="retrain"):
        ReaderModel.from_json(data, CONFIDENCE_NAMES)
