"""Fit the neural reader's confidence on SQuAD v2.0 dev, read as the bot reads.

    .venv/bin/python scripts/calibrate_neural.py ../shared/data/squad-dev-v2.0.json
    .venv/bin/python scripts/choose_tiers.py build/neural-readings.jsonl \\
        --write src/citebot/reader/neural/calibration.json

Every question is read twice by the shipped network (trained on SQuAD train only, so
these readings are out of its sample): asked over all the file's articles (open mode,
as in the bot), and with its own paragraph given (gold mode: what the bot reads when
retrieval finds the right passage). The confidence is a logistic regression over the
reading's evidence (`calibration.EVIDENCE`), fitted on both kinds of reading together;
"right" is F1 >= 0.5, and an unanswerable question answered is wrong. Fitting on both
tells SQuAD 2.0's unanswerable questions apart better than the open readings alone
(cross-fitted, unanswerable abstained where 90 % of the answerable are answered: 20.0
-> 20.6 % of the gold readings, 19.8 % of the open ones either way; log loss of the open
readings 0.5573 -> 0.5567).

The readings are cross-fitted: the articles are dealt into five folds
(`crossfit.article_folds`) and each fold's confidences come from a regression fitted on
the other four. The open readings go to `--readings` (for `choose_tiers.py`, which picks
the tier thresholds from them: the bot reads in open mode), the gold ones beside them
(`-gold` added to the name); the reliability table of the open readings (predicted
against observed, ten bins) is printed and stored, and the regression fitted on every
article is written to `--out`, keeping the tiers already there until `choose_tiers.py`
re-chooses them. With `--keep-weights` nothing is fitted: the readings are scored with
the weights already in `--out` (to re-choose the tiers for new networks while keeping
a confidence fit), and `--out` is left as it was.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from citebot.evaluation.crossfit import article_folds
from citebot.evaluation.evaluate import Mode, build_index
from citebot.evaluation.squad import SquadSet, best_f1, load_squad
from citebot.pipeline import retrieve
from citebot.reader.neural.calibration import (
    CALIBRATION,
    EVIDENCE,
    Calibration,
    fit,
    load_calibration,
)
from citebot.reader.neural.reader import read_neural
from citebot.reader.question import parse_question
from citebot.retrieval.spelling import correct

ROOT = Path(__file__).resolve().parent.parent
L2 = 1.0


def readings(squad: SquadSet, limit: int, mode: Mode) -> list[dict[str, Any]]:
    """One record per question: its evidence, prediction, F1 and article."""
    index = build_index(squad, mode)
    blank = Calibration(np.zeros(len(EVIDENCE)))
    out = []
    questions = squad.questions[:limit] if limit else squad.questions
    started = time.time()
    for n, q in enumerate(questions):
        parsed = parse_question(correct(q.text, index)[0])
        record: dict[str, Any] = {
            "id": q.id,
            "title": squad.articles[q.article].title,
            "unanswerable": not q.answerable,
            "prediction": None,
            "raw_f1": 0.0,
            "evidence": None,
            "missing": 0,
        }
        if parsed.terms:
            paragraph = squad.articles[q.article].paragraph_id(q.paragraph)
            hits = retrieve(index, parsed, paragraph if mode == "gold" else None)
            reading = read_neural(parsed, hits, index, calibration=blank)
            if reading.best is not None and reading.best.span is not None:
                prediction = reading.best.span.text
                record["prediction"] = prediction
                record["raw_f1"] = best_f1(prediction, q.answers) if q.answers else 0.0
                record["evidence"] = [float(v) for v in reading.evidence]  # type: ignore[union-attr]
                record["missing"] = len(reading.missing)
        out.append(record)
        if n % 1000 == 999:
            print(f"{n + 1} questions read ({mode}), {time.time() - started:.0f} s", flush=True)
    return out


def cross_fit(records: list[dict[str, Any]]) -> np.ndarray:
    """Each proposed answer's out-of-fold confidence (0 where nothing was proposed)."""
    titles = sorted({r["title"] for r in records})
    fold_of = dict(zip(titles, article_folds(titles), strict=True))
    folds = np.array([fold_of[r["title"]] for r in records])
    proposed = np.array([r["evidence"] is not None for r in records])
    x = np.array(
        [r["evidence"] if r["evidence"] is not None else [0.0] * len(EVIDENCE) for r in records]
    )
    y = np.array([r["raw_f1"] >= 0.5 for r in records], dtype=np.float64)
    out = np.zeros(len(records))
    for k in sorted(set(folds.tolist())):
        train = proposed & (folds != k)
        model = Calibration(fit(x[train], y[train], L2))
        held_out = np.flatnonzero(folds == k)
        out[held_out] = scored([records[i] for i in held_out], model)
    return out


def scored(records: list[dict[str, Any]], model: Calibration) -> np.ndarray:
    """Each proposed answer's confidence under `model` (0 where nothing was proposed)."""
    return np.array(
        [
            model.probability(np.asarray(r["evidence"], dtype=np.float64), ["?"] * r["missing"])
            if r["evidence"] is not None
            else 0.0
            for r in records
        ]
    )


def reliability(confidence: np.ndarray, right: np.ndarray) -> list[dict[str, Any]]:
    """Predicted against observed in ten equal-width bins."""
    table = []
    for b in range(10):
        low, high = b / 10, (b + 1) / 10
        inside = (confidence >= low) & ((confidence < high) if b < 9 else (confidence <= high))
        if inside.any():
            table.append(
                {
                    "bin": f"{low:.1f}-{high:.1f}",
                    "count": int(inside.sum()),
                    "predicted": round(float(confidence[inside].mean()), 3),
                    "observed": round(float(right[inside].mean()), 3),
                }
            )
    return table


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("squad", type=Path, help="squad-dev-v2.0.json")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--readings", type=Path, default=ROOT / "build" / "neural-readings.jsonl")
    ap.add_argument("--out", type=Path, default=CALIBRATION)
    ap.add_argument(
        "--keep-weights",
        action="store_true",
        help="score the readings with the weights in --out instead of refitting them",
    )
    args = ap.parse_args(argv)
    squad = load_squad(args.squad)
    opened = readings(squad, args.limit, "open")
    records = opened + readings(squad, args.limit, "gold")
    confidence = (
        scored(records, load_calibration(args.out)) if args.keep_weights else cross_fit(records)
    )
    right = np.array([r["raw_f1"] >= 0.5 for r in records], dtype=np.float64)
    proposed = np.array([r["evidence"] is not None for r in records])
    is_open = np.arange(len(records)) < len(opened)
    table = reliability(confidence[proposed & is_open], right[proposed & is_open])
    args.readings.parent.mkdir(parents=True, exist_ok=True)
    gold_path = args.readings.with_name(f"{args.readings.stem}-gold{args.readings.suffix}")
    with (
        args.readings.open("w", encoding="utf-8") as out,
        gold_path.open("w", encoding="utf-8") as gold,
    ):
        for r, c, o in zip(records, confidence.tolist(), is_open, strict=True):
            (out if o else gold).write(json.dumps({**r, "confidence": round(c, 4)}) + "\n")
    print("predicted  observed  count")
    for row in table:
        print(f"{row['bin']}  {row['predicted']:.3f}  {row['observed']:.3f}  {row['count']}")
    if args.keep_weights:
        print(f"wrote {args.readings} and {gold_path}, scored with the weights in {args.out}")
        return 0
    x = np.array([r["evidence"] for r in records if r["evidence"] is not None])
    weights = fit(x, right[proposed], L2)
    data = json.loads(args.out.read_text("utf-8")) if args.out.exists() else {}
    data.update(
        {
            "evidence": list(EVIDENCE),
            "weights": [round(float(w), 6) for w in weights],
            "fitted_on": f"{args.squad.name}, open and gold modes, {len(x)} proposed answers",
            "reliability": table,
        }
    )
    body = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in data.items())
    args.out.write_text("{\n" + body + "\n}\n", "utf-8")
    print(f"wrote {args.out}, {args.readings} and {gold_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
