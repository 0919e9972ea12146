"""Measure the answer message's size over a fixed question set: lines and characters.

    .venv/bin/python scripts/reply_layout.py [QUESTIONS.txt] [--corpus DIR]

Asks every question of the file (default tests/data/reply-questions.txt, one a line)
over the corpus (default corpus/), renders each answer as the bot sends it
(`bot.reply.render_answer`) and prints the median and largest size, in lines and in
characters as Discord counts them, for all replies and for the answered ones. The
issue's budget: median at most 5 lines and 600 characters; none over Discord's 2,000.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from bot.render import length
from bot.reply import render_answer
from citebot.corpus.folder import load_corpus
from citebot.pipeline import Asker
from citebot.retrieval.index import Index

ROOT = Path(__file__).resolve().parents[1]


def measure(questions: list[str], asker: Asker) -> dict[str, dict[str, float]]:
    """Median and largest lines and characters, over all replies and the answered ones."""
    sizes: dict[str, list[tuple[int, int]]] = {"all": [], "answered": []}
    for question in questions:
        answer = asker.ask(question)
        text = render_answer(answer, asker.corpus)
        size = (len(text.splitlines()), length(text))
        sizes["all"].append(size)
        if answer.answered:
            sizes["answered"].append(size)
    out = {}
    for group, found in sizes.items():
        if not found:
            continue
        lines, chars = [s[0] for s in found], [s[1] for s in found]
        out[group] = {
            "replies": len(found),
            "median_lines": statistics.median(lines),
            "median_chars": statistics.median(chars),
            "max_lines": max(lines),
            "max_chars": max(chars),
        }
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "questions", nargs="?", type=Path, default=ROOT / "tests/data/reply-questions.txt"
    )
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    args = parser.parse_args(argv)
    text = args.questions.read_text("utf-8")
    questions = [line.strip() for line in text.splitlines() if line.strip()]
    asker = Asker(Index.build(load_corpus(args.corpus)))
    for group, row in measure(questions, asker).items():
        print(
            f"{group}: {row['replies']:.0f} replies, median {row['median_lines']:g} lines / "
            f"{row['median_chars']:g} characters, largest {row['max_lines']:.0f} lines / "
            f"{row['max_chars']:.0f} characters"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
