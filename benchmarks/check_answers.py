"""Every answer of the benchmark corpus, for comparing two versions of the reader.

Builds the `bench_answer.py` corpus in memory at one size, asks its questions (and
variants of them, so that more sentences and answer types are read) through
`Asker.ask`, and writes one JSON line per question: the whole `Answer` (span,
offsets, confidence, citations). Two runs of different code must give identical
files when the reader's answers are unchanged:

    .venv/bin/python benchmarks/check_answers.py --out after.jsonl
    .venv/bin/python benchmarks/check_answers.py --src /tmp/before/src --out before.jsonl
    cmp before.jsonl after.jsonl

(`--src`: another tree's `src`, e.g. from `git archive <commit> | tar -x -C /tmp/before`.)

`--profile FILE` also writes a cProfile of the cold answers (the first time each
question is asked), the part `bench_answer.py` reports as "full answer".
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIZES = ("10k", "100k", "1M")


def variants(question: str) -> list[str]:
    """The question, and rewordings that ask other answer types of the same sentence."""
    out = [question]
    words = question.rstrip("?").split()
    if words[0] == "When":  # "When did X Y verb the noun?"
        out.append("Who " + " ".join(words[4:]) + "?")
        out.append("What did " + " ".join(words[2:]) + "?")
    elif words[0] == "Who":  # "Who verbed the noun?"
        out.append("When was the " + " ".join(words[2:]) + " " + words[1] + "?")
        out.append("Which officials " + " ".join(words[1:]) + "?")
    elif words[:2] == ["How", "many"]:
        out.append("What did " + " ".join(words[4:]) + "?")
        out.append("Where did " + " ".join(words[4:]) + "?")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", default="10k", choices=SIZES)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--profile", type=Path, help="write a cProfile of the cold answers here")
    p.add_argument(
        "--src", type=Path, default=ROOT / "src", help="the citebot source tree to answer with"
    )
    args = p.parse_args()

    sys.path.insert(0, str(args.src))
    # The package's exports: the same names in every tree, before and after the package move.
    from citebot import Asker, Corpus, Index

    # Imported after citebot: bench_answer puts this tree's src first on the path.
    sys.path.insert(1, str(ROOT / "benchmarks"))
    from bench_answer import SIZES as N_PASSAGES
    from bench_answer import make_corpus

    articles, questions = make_corpus(N_PASSAGES[args.size])
    asker = Asker(Index.build(Corpus(articles=tuple(articles))), min_confidence=0.0)
    asked = [v for q in questions for v in variants(q["question"])]
    asker.ask(asked[0])  # imports and the model file, not per-question work
    profile = cProfile.Profile() if args.profile else None
    times = []
    lines = []
    for q in asked:
        if profile:
            profile.enable()
        t = time.perf_counter()
        answer = asker.ask(q)
        times.append(time.perf_counter() - t)
        if profile:
            profile.disable()
        lines.append(json.dumps(answer.model_dump(mode="json"), sort_keys=True))
    args.out.write_text("\n".join(lines) + "\n")
    if profile and args.profile:
        profile.dump_stats(args.profile)
    ms = np.asarray(times) * 1e3
    answered = sum(1 for line in lines if json.loads(line)["answered"])
    import citebot

    print(
        f"{Path(citebot.__file__).parent}: "
        f"{len(asked)} questions, {answered} answered; cold answer p50 {np.median(ms):.2f} ms, "
        f"mean {ms.mean():.2f} ms, p99 {np.percentile(ms, 99):.2f} ms",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
