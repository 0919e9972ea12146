"""Report a `citebot eval squad --out` run on the SQuAD v1.1 test split (or dev split) only.

    .venv/bin/citebot eval squad ../shared/data/squad-dev-v1.1.json --mode gold \\
        --min-confidence 0 --out build/v11-gold.jsonl
    .venv/bin/python scripts/split_report.py build/v11-gold.jsonl

The test split is the 13 articles of squad-dev-v1.1.json that squad-dev-v2.0.json lacks
(4,557 questions; see ../shared/data/README.md). It is read here only to report: no
choice is made on these numbers. Printed: EM and F1 of the best answer with no
threshold, how often the quoted sentence holds a gold answer, how often the gold
paragraph came first (open mode), and the share and precision (F1 >= 0.5) of each tier
under the shipped thresholds. `--split dev` reports the other 35 articles instead (the
ones v2.0 dev shares), where choices between models are made.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from citebot.evaluation.squad import contains_answer, load_squad
from citebot.pipeline import reader_thresholds

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def test_titles(data: Path) -> set[str]:
    """Titles of the v1.1 dev articles absent from v2.0 dev."""
    v2 = {a["title"] for a in json.loads((data / "squad-dev-v2.0.json").read_text())["data"]}
    v11 = json.loads((data / "squad-dev-v1.1.json").read_text())["data"]
    return {a["title"].replace(" ", "_") for a in v11 if a["title"] not in v2}


def report(records: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(records)
    possible, answer = reader_thresholds()
    right = [r for r in records if r["prediction"] is not None and r["raw_f1"] >= 0.5]
    tiers: dict[str, Any] = {}
    for name, low, high in (("answer", answer, 2.0), ("possible", possible, answer)):
        inside = [
            r for r in records if r["prediction"] is not None and low <= r["confidence"] < high
        ]
        good = [r for r in inside if r["raw_f1"] >= 0.5]
        tiers[name] = {
            "share": round(100 * len(inside) / n, 1),
            "precision": round(100 * len(good) / len(inside), 1) if inside else None,
        }
    ranks = [r["paragraph_rank"] for r in records]
    return {
        "questions": n,
        "em": round(100 * sum(r["raw_em"] for r in records) / n, 1),
        "f1": round(100 * sum(r["raw_f1"] for r in records) / n, 1),
        "sentence_hit": round(
            100 * sum(contains_answer(r["quote"], r["gold"]) for r in records) / n, 1
        ),
        "paragraph_first": round(100 * sum(rank == 1 for rank in ranks) / n, 1)
        if any(rank is not None for rank in ranks)
        else None,
        "right_f1_0.5": round(100 * len(right) / n, 1),
        "tiers": tiers,
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("readings", type=Path)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--split", choices=("test", "dev"), default="test")
    args = ap.parse_args(argv)
    test = test_titles(args.data)
    squad = load_squad(args.data / "squad-dev-v1.1.json")
    # load_squad shows titles with spaces where the file has underscores
    wanted = args.split == "test"
    ids = {a.id for a in squad.articles if (a.title.replace(" ", "_") in test) == wanted}
    try:
        lines = args.readings.read_text("utf-8").splitlines()
        kept = [r for r in map(json.loads, filter(str.strip, lines)) if r.get("article") in ids]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        print(f"split_report: cannot read {args.readings} ({exc})", file=sys.stderr)
        return 2
    if not kept:
        print(
            f"split_report: {args.readings} holds no reading of the {args.split} split's "
            "articles; write one with citebot eval squad squad-dev-v1.1.json --out FILE",
            file=sys.stderr,
        )
        return 2
    print(json.dumps(report(kept), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
