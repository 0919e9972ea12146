"""Choose the confidence tiers (answer / possible answer / no answer) from a readings file.

The readings are one JSON object per question, as `citebot eval squad ... --out FILE`
writes them, whatever reader produced them; each needs `confidence` (the reader's
confidence in its best answer), `raw_f1` (that answer's token F1 against the gold
answers, 0 for an unanswerable question) and `prediction` (null when nothing was
proposed). Readings must be cross-fitted (each article read by a model fitted
without it), or the tiers will promise more than the reader does.

For the shipped reader (`scripts/calibrate_neural.py` writes cross-fitted readings;
re-run both after every retraining):

    .venv/bin/python scripts/calibrate_neural.py ../shared/data/squad-dev-v2.0.json \\
        --readings build/neural-readings.jsonl
    .venv/bin/python scripts/choose_tiers.py build/neural-readings.jsonl \\
        --write src/citebot/reader/neural/calibration.json

The rules (thresholds in 0.01 steps, a reading "right" when its F1 is at least 0.5):

* possible answer (`min_confidence`, below it the bot abstains): the highest threshold
  at which the answerable questions are still answered 90 % of the time;
* answer: the lowest threshold, not below the first, from which every higher one
  keeps the answers it gives to answerable questions right at least 80 % of the time,
  and keeps it so with 95 % confidence over the articles: the readings' articles are
  drawn again with replacement 1,000 times (a fixed seed, so the choice repeats), and
  the precision of 95 % of those draws must reach 80 %. Questions of one article rise
  and fall together (one article's passages are easy to find, another's are not), so
  the readings of a new set of articles scatter around the average more than their
  number suggests; the tier should keep its promise there, not only on average. A
  reading without an article (`title`, or `article` as `citebot eval squad` writes
  it) is drawn on its own. Thresholds answering fewer than 50 questions are not held
  to the rule: their precision is noise.

Why answerable questions: the confidence model is calibrated on them (it estimates the
chance that the answer is right when the text holds one), and half of SQuAD 2.0's
questions are unanswerable ones written to look answerable from the very paragraph
they are asked of, far more than people asking about the bot's own articles ask. The
table shows precision both ways: on the shipped reader, counting every unanswerable
question answered as wrong would need a threshold of 0.88 and leave the answer tier
1.4 % of the questions.

`--write FILE` stores both in the JSON object in FILE (`min_confidence` and `tiers`;
every other key is kept), which is where `citebot.pipeline` reads them. Without it the
script only prints the tier table (precision and share of each tier).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

RIGHT_F1 = 0.5
ANSWER_RATE = 0.90
ANSWER_PRECISION = 0.80
MIN_COUNT = 50
BOUND = 0.05  # the share of the article draws allowed below ANSWER_PRECISION
DRAWS = 1000
STEPS = [round(k / 100, 2) for k in range(101)]


@dataclass(frozen=True)
class Reading:
    """One question's best answer: its confidence, whether it is right, whether any exists."""

    confidence: float
    right: bool
    proposed: bool
    answerable: bool
    article: str | None = None


class ReadingsError(Exception):
    """The readings file cannot be used; the message names the line and what is wrong."""


def load_readings(path: Path) -> list[Reading]:
    """Every reading of a JSON-lines file (blank lines skipped)."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadingsError(f"cannot read {path} ({exc})") from exc
    readings = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            readings.append(_reading(json.loads(line), f"{path}:{number}"))
    if not readings:
        raise ReadingsError(f"{path} holds no readings; write it with citebot eval squad --out")
    return readings


def _reading(item: Any, where: str) -> Reading:
    try:
        confidence, f1 = float(item["confidence"]), float(item["raw_f1"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ReadingsError(f"{where} lacks a numeric confidence or raw_f1 ({exc})") from exc
    proposed = item.get("prediction") is not None
    answerable = not item.get("unanswerable", False)
    right = proposed and answerable and f1 >= RIGHT_F1
    article = item.get("title", item.get("article"))
    return Reading(
        confidence, right, proposed, answerable, None if article is None else str(article)
    )


def answered(readings: Sequence[Reading], low: float, high: float = 2.0) -> list[Reading]:
    """The readings a tier from `low` (included) to `high` (excluded) answers."""
    return [r for r in readings if r.proposed and low <= r.confidence < high]


def precision(readings: Sequence[Reading]) -> float:
    return sum(r.right for r in readings) / len(readings) if readings else 0.0


def choose(readings: Sequence[Reading]) -> tuple[float, float]:
    """(possible, answer): the two thresholds, by the rules of the module docstring."""
    answerable = [r for r in readings if r.answerable] or list(readings)
    possible = 0.0
    for t in STEPS:
        if len(answered(answerable, t)) >= ANSWER_RATE * len(answerable):
            possible = t
    answer = STEPS[-1]
    draws = ArticleDraws(answerable)
    for t in reversed([t for t in STEPS if t >= possible]):
        given = answered(answerable, t)
        if len(given) >= MIN_COUNT and (
            precision(given) < ANSWER_PRECISION or draws.low_precision(t) < ANSWER_PRECISION
        ):
            break
        answer = t
    return possible, answer


class ArticleDraws:
    """The readings' articles drawn again with replacement, DRAWS times (seed 0)."""

    def __init__(self, readings: Sequence[Reading]) -> None:
        # Confidence of what was proposed (-1 where nothing was), and whether it is right.
        self.confidence = np.array([r.confidence if r.proposed else -1.0 for r in readings])
        self.right = np.array([r.right for r in readings])
        names = [r.article if r.article is not None else f"#{i}" for i, r in enumerate(readings)]
        units = {name: k for k, name in enumerate(dict.fromkeys(names))}
        self.unit = np.array([units[name] for name in names], dtype=np.int64)
        draws = np.random.default_rng(0).integers(0, len(units), size=(DRAWS, len(units)))
        # How often each draw took each article.
        self.taken = np.stack([np.bincount(d, minlength=len(units)) for d in draws])

    def low_precision(self, threshold: float) -> float:
        """The precision above `threshold` that all but BOUND of the draws reach."""
        given = self.confidence >= threshold
        size = self.taken.shape[1]
        given_per = np.bincount(self.unit, weights=given, minlength=size)
        right_per = np.bincount(self.unit, weights=given & self.right, minlength=size)
        answers, rights = self.taken @ given_per, self.taken @ right_per
        shares = np.divide(rights, answers, out=np.zeros(DRAWS), where=answers > 0)
        return float(np.quantile(shares, BOUND))


def tier_table(readings: Sequence[Reading], possible: float, answer: float) -> list[dict[str, Any]]:
    """Each tier's share of the questions and precision (share right among those it answers)."""
    total = len(readings)
    answerable = max(sum(r.answerable for r in readings), 1)
    tiers = [
        ("answer", answered(readings, answer)),
        ("possible answer", answered(readings, possible, answer)),
    ]
    rows = []
    for name, given in tiers:
        rows.append(
            {
                "tier": name,
                "from": answer if name == "answer" else possible,
                "share": round(100 * len(given) / total, 1),
                "share_answerable": round(100 * sum(r.answerable for r in given) / answerable, 1),
                "precision": round(100 * precision(given), 1),
                # The rule's measure (see the module docstring); the bot's own traffic
                # has some unanswerable questions, so its precision lies between the two.
                "precision_answerable": round(
                    100 * precision([r for r in given if r.answerable]), 1
                ),
            }
        )
    abstained = total - sum(len(given) for _, given in tiers)
    answerable_left = answerable - sum(r.answerable for _, given in tiers for r in given)
    rows.append(
        {
            "tier": "no answer",
            "from": 0.0,
            "share": round(100 * abstained / total, 1),
            "share_answerable": round(100 * answerable_left / answerable, 1),
        }
    )
    return rows


def write_tiers(path: Path, possible: float, answer: float, source: str) -> None:
    """Set `min_confidence` and `tiers` in the JSON object of `path`, keeping every other key."""
    data = json.loads(path.read_text("utf-8"))
    if not isinstance(data, dict):
        raise ReadingsError(f"{path} does not hold a JSON object")
    data["min_confidence"] = possible
    data["tiers"] = {
        "possible": possible,
        "answer": answer,
        "readings": source,
        "command": f".venv/bin/python scripts/choose_tiers.py {source} --write {path}",
        "rule": f"possible: answerable questions answered {ANSWER_RATE:.0%}; answer: answers "
        f"to answerable questions right (F1 >= {RIGHT_F1}) {ANSWER_PRECISION:.0%} of the time "
        f"at it and every higher threshold, on the readings and in {1 - BOUND:.0%} of "
        f"{DRAWS} draws of their articles",
    }
    # One top-level key per line, as scripts/calibrate_neural.py writes the file.
    body = ",\n".join(
        f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in data.items()
    )
    path.write_text("{\n" + body + "\n}\n", "utf-8")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readings", type=Path, help="JSON lines from citebot eval squad --out")
    parser.add_argument("--write", type=Path, metavar="MODEL.json", help="store the thresholds")
    args = parser.parse_args(argv)
    try:
        readings = load_readings(args.readings)
        possible, answer = choose(readings)
        if args.write is not None:
            write_tiers(args.write, possible, answer, str(args.readings))
    except (ReadingsError, json.JSONDecodeError, OSError) as exc:
        print(f"choose_tiers: {exc}", file=sys.stderr)
        return 2
    print(
        f"{len(readings)} readings; possible answer from {possible:.2f}, answer from {answer:.2f}"
    )
    low = ArticleDraws([r for r in readings if r.answerable] or readings).low_precision(answer)
    print(
        f"the answer tier's answers to answerable questions, in {1 - BOUND:.0%} of the draws "
        f"of articles: right at least {100 * low:.1f} % of the time"
    )
    print(
        "| tier | confidence from | share of all questions | of answerable ones "
        "| right (F1 >= 0.5), answerable | right, all answered |"
    )
    print("|---|---|---|---|---|---|")
    for row in tier_table(readings, possible, answer):
        right = f"{row['precision']:.1f} %" if "precision" in row else "–"
        only = f"{row['precision_answerable']:.1f} %" if "precision" in row else "–"
        print(
            f"| {row['tier']} | {row['from']:.2f} | {row['share']:.1f} % "
            f"| {row['share_answerable']:.1f} % | {only} | {right} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
