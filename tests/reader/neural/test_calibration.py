"""The neural reader's confidence: a logistic regression that is fitted, stored and checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from citebot.reader.neural.calibration import (
    EVIDENCE,
    Calibration,
    fit,
    load_calibration,
)


def test_fit_recovers_the_weights_that_made_the_labels() -> None:
    """Labels drawn from a known logistic model: the fit finds its weights again."""
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(20_000), rng.normal(size=(20_000, 2))])
    true = np.array([-0.5, 2.0, -1.0])
    y = (rng.random(20_000) < 1 / (1 + np.exp(-x @ true))).astype(np.float64)
    assert np.allclose(fit(x, y, l2=0.0), true, atol=0.1)


def test_probability_is_pushed_down_by_missing_names_and_stays_finite() -> None:
    """Two names the corpus lacks take 6 off the logit; huge evidence still gives a probability."""
    calibration = Calibration(np.array([0.0, 1.0]))
    base = calibration.probability(np.array([1.0, 0.0]))
    assert base == pytest.approx(0.5)
    assert calibration.probability(np.array([1.0, 0.0]), ["Tokyo", "Osaka"]) < 0.01
    assert 0.0 < calibration.probability(np.array([1.0, 1e6])) <= 1.0


def test_the_shipped_calibration_matches_the_evidence_and_has_thresholds() -> None:
    """The shipped file was fitted on today's evidence and carries its chosen tiers."""
    shipped = load_calibration()
    assert shipped.weights.shape == (len(EVIDENCE),)
    possible, answer = shipped.meta["min_confidence"], shipped.meta["tiers"]["answer"]
    assert 0.0 < possible <= answer < 1.0


def test_a_calibration_for_other_evidence_is_refused(tmp_path: Path) -> None:
    """A stale file says which script re-fits it instead of scoring with wrong weights."""
    stale = tmp_path / "calibration.json"
    stale.write_text(json.dumps({"evidence": ["bias"], "weights": [0.0]}), "utf-8")
    with pytest.raises(ValueError, match="calibrate_neural"):
        load_calibration.__wrapped__(stale)
