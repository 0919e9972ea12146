"""`citebot eval squad FILE`: measure the reader on SQuAD v1.1 or v2.0.

The SQuAD file becomes a corpus (`citebot.evaluation.squad`): one article per SQuAD article,
and every question keeps the paragraph it was written about and its gold answers.
The index is built once and
every question is asked through the same `Asker.ask` the bot uses.

Modes:

- `open` (default): the question is asked over the whole corpus, as in the bot.
  Retrieval is measured too: recall@1 and @5 of the gold paragraph.
- `gold`: the reader is given the right paragraph. Every paragraph becomes an
  article of its own (id `{article}-p{k}`) and the question is asked with
  `source=` that id. This is the `--source` restriction the CLI and the bot
  already offer ("answer from this article only"), not an evaluation trick: the
  pipeline runs unchanged, on a corpus cut at paragraph boundaries.

The reader's network is trained on SQuAD v1.1 train only, so every dev file
measures it on articles it never saw; its confidence is fitted on SQuAD 2.0 dev
and measured there by cross-fitting (`scripts/calibrate_neural.py`).

The file is read and answers are scored by `citebot.evaluation.squad` (the official SQuAD
definitions; EM and token F1 take the best gold answer). An unanswerable (v2)
question scores 1 only when the system abstains; an answerable one scores 0 when
it abstains. The Asker is built with `min_confidence=0.0` so that every
question's best prediction and its confidence are recorded, and the threshold
(`--min-confidence`, by default the pipeline's own) is applied here; the
answered-vs-correct curve over thresholds 0.0 ... 0.9 comes from the same run.
Confidences are the Answer's (rounded to 4 decimals), so a question within 5e-5
of the threshold may fall on the other side of it than in the bot.

Exit codes: 0 after a run, 2 for a bad command line or a malformed file (a
message, no traceback), 1 when the pipeline raised on some question (each such
question is reported and counted as an abstention).
"""

from __future__ import annotations

import argparse
import bisect
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from tqdm import tqdm

from citebot.cite import Answer
from citebot.errors import QuestionError
from citebot.evaluation.report import format_table, summarize, write_jsonl
from citebot.evaluation.squad import (
    SquadFormatError,
    SquadQuestion,
    SquadSet,
    best_em,
    best_f1,
    contains_answer,
    load_squad,
    question_scores,
)
from citebot.pipeline import Asker, reader_thresholds
from citebot.reader.question import parse_question
from citebot.retrieval.index import Index

Mode = Literal["open", "gold"]


# --------------------------------------------------------------------------------------
# Mapping retrieved passages and answers back to SQuAD paragraphs


class ParagraphMap:
    """Which SQuAD paragraph an (index article id, body offset) falls in."""

    def __init__(self, squad: SquadSet, mode: Mode) -> None:
        self._starts: dict[str, list[int]] = {}
        self._where: dict[str, list[tuple[int, int, int]]] = {}  # (end, article, paragraph)
        for a, article in enumerate(squad.articles):
            if mode == "gold":
                for k, (start, end) in enumerate(article.paragraphs):
                    pid = article.paragraph_id(k)
                    self._starts[pid] = [0]
                    self._where[pid] = [(end - start, a, k)]
            else:
                self._starts[article.id] = [start for start, _ in article.paragraphs]
                self._where[article.id] = [
                    (end, a, k) for k, (_, end) in enumerate(article.paragraphs)
                ]

    def locate(self, article_id: str, offset: int) -> tuple[int, int] | None:
        """(article index, paragraph index) holding `offset`, or None (unknown id, a gap)."""
        starts = self._starts.get(article_id)
        if starts is None:
            return None
        k = bisect.bisect_right(starts, offset) - 1
        if k < 0:
            return None
        end, a, p = self._where[article_id][k]
        return (a, p) if offset < end else None


def paragraph_rank(
    passages: Sequence[int], index: Index, pmap: ParagraphMap, target: tuple[int, int]
) -> int | None:
    """1-based rank of the first retrieved passage that starts in the target paragraph."""
    for rank, i in enumerate(passages, start=1):
        passage = index.passages[i]
        if pmap.locate(passage.article_id, passage.start) == target:
            return rank
    return None


# --------------------------------------------------------------------------------------
# Running the questions


@dataclass(slots=True)
class Record:
    """One question's outcome, threshold-free: the reader's best prediction and confidence."""

    id: str
    question: str
    answer_type: str | None
    gold: tuple[str, ...]
    prediction: str | None  # the best span whatever its confidence; None: nothing proposed
    confidence: float
    quote: str | None
    paragraph_rank: int | None
    answer_in_paragraph: bool | None  # the predicted span lies in the gold paragraph
    latency_ms: float
    article: str = ""
    paragraph: int = 0
    error: str | None = None
    raw_em: float = field(init=False)
    raw_f1: float = field(init=False)
    raw_sentence_hit: bool = field(init=False)

    def __post_init__(self) -> None:
        golds = self.gold
        self.raw_em = best_em(self.prediction, golds) if self.prediction is not None else 0.0
        self.raw_f1 = best_f1(self.prediction, golds) if self.prediction is not None else 0.0
        self.raw_sentence_hit = contains_answer(self.quote, golds)

    @property
    def answerable(self) -> bool:
        return bool(self.gold)

    def answered(self, threshold: float) -> bool:
        """Whether the bot would answer at this threshold."""
        return self.prediction is not None and self.confidence >= threshold

    def scores(self, threshold: float) -> tuple[float, float]:
        """Official (EM, F1) at this threshold (an answer's scores are computed once)."""
        if self.answered(threshold):
            return self.raw_em, self.raw_f1  # both 0.0 for an unanswerable question
        return question_scores(None, self.gold)

    def sentence_hit(self, threshold: float) -> bool | None:
        """The answered quote holds a gold answer (None for an unanswerable question)."""
        if not self.answerable:
            return None
        return self.answered(threshold) and self.raw_sentence_hit

    def to_json(self, threshold: float) -> dict[str, Any]:
        em, f1 = self.scores(threshold)
        line: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "answer_type": self.answer_type,
            "gold": list(self.gold),
            "prediction": self.prediction,
            "confidence": self.confidence,
            "answered": self.answered(threshold),
            "quote": self.quote,
            "em": em,
            "f1": round(f1, 4),
            "sentence_hit": self.sentence_hit(threshold),
            "paragraph_rank": self.paragraph_rank,
            "latency_ms": round(self.latency_ms, 3),
            "unanswerable": not self.answerable,
            "raw_em": self.raw_em,
            "raw_f1": round(self.raw_f1, 4),
            "answer_in_paragraph": self.answer_in_paragraph,
            "article": self.article,
            "paragraph": self.paragraph,
        }
        if self.error is not None:
            line["error"] = self.error
        return line


@dataclass
class Run:
    """Every question's record and the timings of one evaluation run."""

    squad: SquadSet
    mode: Mode
    records: list[Record]
    build_seconds: float
    ask_seconds: float


def build_index(squad: SquadSet, mode: Mode) -> Index:
    """The index the questions are asked against: articles (open) or paragraphs (gold)."""
    return Index.build(squad.corpus() if mode == "open" else squad.paragraph_corpus())


def run_questions(
    squad: SquadSet,
    mode: Mode,
    *,
    limit: int | None = None,
    index: Index | None = None,
    progress: bool = False,
) -> Run:
    """Build the index once (unless given) and ask every question (or the first `limit`)."""
    started = time.perf_counter()
    if index is None:
        index = build_index(squad, mode)
    build_seconds = time.perf_counter() - started
    asker = Asker(index, min_confidence=0.0)
    pmap = ParagraphMap(squad, mode)
    questions = squad.questions[:limit] if limit is not None else squad.questions
    records: list[Record] = []
    started = time.perf_counter()
    for q in _progress(questions, progress, mode):
        records.append(_ask_one(asker, squad, mode, pmap, q))
    ask_seconds = time.perf_counter() - started
    return Run(squad, mode, records, build_seconds, ask_seconds)


def _progress(
    questions: Sequence[SquadQuestion], enabled: bool, mode: str
) -> Iterable[SquadQuestion]:
    if not enabled:
        return questions
    return tqdm(questions, desc=f"eval {mode}", unit="q", file=sys.stderr, leave=False)


def _ask_one(
    asker: Asker, squad: SquadSet, mode: Mode, pmap: ParagraphMap, q: SquadQuestion
) -> Record:
    article = squad.articles[q.article]
    source = article.paragraph_id(q.paragraph) if mode == "gold" else None
    target = (q.article, q.paragraph)
    answer: Answer | None = None
    error: str | None = None
    started = time.perf_counter()
    try:
        answer = asker.ask(q.text, source=source)
    except QuestionError:
        pass  # empty or over-long question: the bot declines it, an abstention
    except Exception as exc:  # a pipeline bug: reported with the question, counted as abstention
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = (time.perf_counter() - started) * 1000
    common: dict[str, Any] = {
        "id": q.id,
        "question": q.text,
        "gold": q.answers,
        "latency_ms": latency_ms,
        "article": article.id,
        "paragraph": q.paragraph,
        "error": error,
    }
    if answer is None:
        return Record(
            answer_type=_answer_type(q.text),
            prediction=None,
            confidence=0.0,
            quote=None,
            paragraph_rank=None,
            answer_in_paragraph=None,
            **common,
        )
    in_paragraph: bool | None = None
    if answer.answered and answer.citations and answer.answer_start is not None:
        found = pmap.locate(answer.citations[0].article_id, answer.answer_start)
        in_paragraph = found == target
    return Record(
        answer_type=answer.answer_type,
        prediction=answer.answer if answer.answered else None,
        confidence=answer.confidence,
        quote=answer.quote if answer.answered else None,
        paragraph_rank=paragraph_rank(answer.passages, asker.index, pmap, target),
        answer_in_paragraph=in_paragraph,
        **common,
    )


def _answer_type(text: str) -> str | None:
    """The answer type of a question the pipeline refused (for per-type counts)."""
    try:
        return parse_question(text).answer_type.value
    except Exception:  # the question is unusable anyway; its type is only informative
        return None


# --------------------------------------------------------------------------------------
# Command line


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value:g} is not within [0, 1]")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citebot eval squad",
        description="Measure the reader on a SQuAD v1.1 or v2.0 json file.",
    )
    parser.add_argument("file", type=Path, help="SQuAD json, e.g. squad-dev-v2.0.json")
    parser.add_argument(
        "--mode",
        choices=("open", "gold"),
        default="open",
        help="open: ask over the whole corpus (as the bot); gold: restrict each question to "
        "its own paragraph with --source (default: open)",
    )
    parser.add_argument(
        "--limit", type=_positive, metavar="N", help="ask only the first N questions"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object, no table")
    parser.add_argument(
        "--out", type=Path, metavar="FILE.jsonl", help="write one JSON line per question"
    )
    parser.add_argument(
        "--min-confidence",
        type=_threshold,
        default=None,
        metavar="X",
        help="answer only at or above this confidence (default: the pipeline's, the "
        "threshold chosen for the shipped reader)",
    )
    return parser


def main(argv: list[str]) -> int:
    """`citebot eval squad FILE [--mode open|gold] ...`."""
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage or the help
        return exc.code if isinstance(exc.code, int) else 2
    wall_started = time.perf_counter()
    try:
        squad = load_squad(args.file)
    except SquadFormatError as exc:
        print(f"citebot eval squad: {exc}", file=sys.stderr)
        return 2
    out: TextIO | None = None
    if args.out is not None:
        try:  # opened before the run, so a bad path fails in a second, not after minutes
            out = args.out.open("w", encoding="utf-8")
        except OSError as exc:
            print(f"citebot eval squad: cannot write {args.out} ({exc.strerror})", file=sys.stderr)
            return 2
    try:
        run = run_questions(squad, args.mode, limit=args.limit, progress=sys.stderr.isatty())
        threshold = (
            args.min_confidence if args.min_confidence is not None else reader_thresholds()[0]
        )
        summary = summarize(run, threshold)
        wall = time.perf_counter() - wall_started
        summary["timing"]["wall_s"] = round(wall, 3)
        if out is not None:
            write_jsonl(run.records, threshold, out)
    finally:
        if out is not None:
            out.close()
    if args.json:
        print(json.dumps(summary, indent=None, ensure_ascii=False))
    else:
        print(format_table(summary, wall))
    for record in run.records:
        if record.error is not None:
            print(f"citebot eval squad: question {record.id}: {record.error}", file=sys.stderr)
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
