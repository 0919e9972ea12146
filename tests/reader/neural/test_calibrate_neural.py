"""scripts/calibrate_neural.py: reads a SQuAD 2.0 slice both ways and writes a calibration."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from citebot.reader.neural.calibration import EVIDENCE, load_calibration

ROOT = Path(__file__).resolve().parents[3]
SLICE = ROOT / "tests" / "data" / "squad-slice.json"  # the first 304 questions of SQuAD 2.0 dev


def test_calibrating_on_a_slice_fits_open_and_gold_readings(tmp_path: Path) -> None:
    """Each question is read over the slice's articles and with its paragraph given; both
    readings are cross-fitted, written apart, and fitted together into a calibration
    that `load_calibration` accepts (the tiers already in the file are kept)."""
    out = tmp_path / "calibration.json"
    out.write_text(json.dumps({"min_confidence": 0.1, "tiers": {"answer": 0.3}}), "utf-8")
    readings = tmp_path / "readings.jsonl"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "calibrate_neural.py"), str(SLICE),
         "--limit", "120", "--out", str(out), "--readings", str(readings)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    opened = [json.loads(line) for line in readings.read_text("utf-8").splitlines()]
    gold_path = tmp_path / "readings-gold.jsonl"
    gold = [json.loads(line) for line in gold_path.read_text("utf-8").splitlines()]
    assert len(opened) == len(gold) == 120
    assert [r["id"] for r in opened] == [r["id"] for r in gold]
    assert all(0.0 <= r["confidence"] <= 1.0 for r in opened + gold)
    # With its paragraph given, the reader is right more often (38 against 31 here).
    assert sum(r["raw_f1"] >= 0.5 for r in gold) > sum(r["raw_f1"] >= 0.5 for r in opened)
    stored = json.loads(out.read_text("utf-8"))
    proposed = sum(r["prediction"] is not None for r in opened + gold)
    assert stored["fitted_on"] == f"{SLICE.name}, open and gold modes, {proposed} proposed answers"
    assert stored["min_confidence"] == 0.1 and stored["tiers"] == {"answer": 0.3}
    calibration = load_calibration(out)
    assert len(calibration.weights) == len(EVIDENCE)


def test_keeping_the_weights_scores_the_readings_with_them(tmp_path: Path) -> None:
    """--keep-weights leaves the calibration file as it was and scores every reading with
    its weights: each written confidence is the file's probability for that evidence."""
    out = tmp_path / "calibration.json"
    shipped = load_calibration().meta
    out.write_text(json.dumps(shipped), "utf-8")
    before = out.read_bytes()
    readings = tmp_path / "readings.jsonl"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "calibrate_neural.py"), str(SLICE),
         "--limit", "40", "--out", str(out), "--readings", str(readings), "--keep-weights"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == before
    model = load_calibration(out)
    opened = [json.loads(line) for line in readings.read_text("utf-8").splitlines()]
    gold = [
        json.loads(line) for line in (tmp_path / "readings-gold.jsonl").read_text().splitlines()
    ]
    proposed = [r for r in opened + gold if r["evidence"] is not None]
    assert len(opened) == len(gold) == 40 and proposed
    for r in proposed:
        expected = model.probability(np.asarray(r["evidence"]), ["?"] * r["missing"])
        assert abs(r["confidence"] - expected) < 1e-4
