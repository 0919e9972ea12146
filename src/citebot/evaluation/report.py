"""The numbers of an evaluation run, and the report and JSON lines they are shown as.

At one threshold: EM and F1 overall, on the answerable questions and on those
answered, the abstention rate on the unanswerable ones, the sentence hit rate,
retrieval recall (open mode), timing, the same by answer type, and the curve of
answered against right over thresholds 0.0 ... 0.9 (`evaluate` runs the questions).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # `evaluate` runs the questions and calls this module with its records
    from citebot.evaluation.evaluate import Record, Run

CURVE_THRESHOLDS = tuple(k / 10 for k in range(10))


RECALL_AT = (1, 5)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --------------------------------------------------------------------------------------
# Summaries


def _pct(numerator: float, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 2) if denominator else None


def _em_f1(records: Sequence[Record], threshold: float) -> tuple[float | None, float | None]:
    scores = [r.scores(threshold) for r in records]
    return (
        _pct(sum(em for em, _ in scores), len(scores)),
        _pct(sum(f1 for _, f1 in scores), len(scores)),
    )


def _group(records: Sequence[Record], threshold: float) -> dict[str, Any]:
    """The v2 numbers of a group of records at one threshold."""
    has_ans = [r for r in records if r.answerable]
    no_ans = [r for r in records if not r.answerable]
    answered = [r for r in has_ans if r.answered(threshold)]
    overall_em, overall_f1 = _em_f1(records, threshold)
    has_em, has_f1 = _em_f1(has_ans, threshold)
    answered_em, answered_f1 = _em_f1(answered, threshold)
    return {
        "questions": len(records),
        "answerable": len(has_ans),
        "unanswerable": len(no_ans),
        "em": overall_em,
        "f1": overall_f1,
        "has_ans_em": has_em,
        "has_ans_f1": has_f1,
        "answered_em": answered_em,
        "answered_f1": answered_f1,
        "answer_rate": _pct(len(answered), len(has_ans)),
        "no_ans_abstain_rate": _pct(sum(not r.answered(threshold) for r in no_ans), len(no_ans)),
    }


def _retrieval(run: Run) -> dict[str, Any] | None:
    """Recall@k of the gold paragraph over the answerable questions (open mode only)."""
    if run.mode != "open":
        return None
    ranks = [r.paragraph_rank for r in run.records if r.answerable]
    return {
        f"recall_at_{k}": _pct(sum(1 for x in ranks if x is not None and x <= k), len(ranks))
        for k in RECALL_AT
    } | {"questions": len(ranks)}


def _by_type(records: Sequence[Record], threshold: float) -> dict[str, Any]:
    """`_group`'s numbers, the raw F1 and the sentence hit rate of each answer type."""
    by_type: dict[str, Any] = {}
    for kind in sorted({r.answer_type or "none" for r in records}):
        group = [r for r in records if (r.answer_type or "none") == kind]
        by_type[kind] = _group(group, threshold) | {
            "raw_f1": _pct(
                sum(r.raw_f1 for r in group if r.answerable), sum(r.answerable for r in group)
            ),
            "sentence_hit": _pct(
                sum(bool(r.sentence_hit(threshold)) for r in group),
                sum(r.answerable for r in group),
            ),
        }
    return by_type


def _curve(records: Sequence[Record]) -> list[dict[str, Any]]:
    """Answered against right at each of CURVE_THRESHOLDS."""
    curve = []
    for t in CURVE_THRESHOLDS:
        g = _group(records, t)
        curve.append(
            {
                "threshold": t,
                "answer_rate": g["answer_rate"],
                "answered_em": g["answered_em"],
                "answered_f1": g["answered_f1"],
                "no_ans_abstain_rate": g["no_ans_abstain_rate"],
                "em": g["em"],
                "f1": g["f1"],
            }
        )
    return curve


def _timing(run: Run) -> dict[str, Any]:
    latencies = [r.latency_ms for r in run.records]
    return {
        "index_build_s": round(run.build_seconds, 3),
        "ask_s": round(run.ask_seconds, 3),
        "questions_per_s": round(len(run.records) / run.ask_seconds, 2)
        if run.ask_seconds > 0
        else None,
        "latency_ms_p50": _round(percentile(latencies, 50)),
        "latency_ms_p99": _round(percentile(latencies, 99)),
        "latency_ms_max": _round(max(latencies, default=None)),
    }


def summarize(run: Run, threshold: float) -> dict[str, Any]:
    """Every number of a run, at the given threshold (plus the threshold curve)."""
    records = run.records
    has_ans = [r for r in records if r.answerable]
    answered = [r for r in has_ans if r.answered(threshold)]
    errors = [r for r in records if r.error is not None]
    return {
        "file_version": run.squad.version,
        "mode": run.mode,
        "min_confidence": threshold,
        "articles": len(run.squad.articles),
        "paragraphs": run.squad.paragraph_count,
        "questions_in_file": len(run.squad.questions),
        "errors": len(errors),
        "error_ids": [r.id for r in errors][:20],
        "overall": _group(records, threshold),
        "raw": {  # threshold-free: the best prediction of every answerable question
            "has_ans_em": _pct(sum(r.raw_em for r in has_ans), len(has_ans)),
            "has_ans_f1": _pct(sum(r.raw_f1 for r in has_ans), len(has_ans)),
        },
        "sentence": {
            "hit": _pct(sum(bool(r.sentence_hit(threshold)) for r in has_ans), len(has_ans)),
            "hit_answered": _pct(sum(r.raw_sentence_hit for r in answered), len(answered)),
            "hit_raw": _pct(sum(r.raw_sentence_hit for r in has_ans), len(has_ans)),
        },
        "retrieval": _retrieval(run),
        "timing": _timing(run),
        "curve": _curve(records),
        "by_type": _by_type(records, threshold),
    }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# --------------------------------------------------------------------------------------
# Output


def _fmt(value: object, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}{suffix}"
    return f"{value}{suffix}"


def format_table(summary: dict[str, Any], wall_seconds: float | None = None) -> str:
    """The summary as a plain-text report."""
    lines = _headline(summary, wall_seconds) + _curve_table(summary) + _type_table(summary)
    return "\n".join(lines)


def _headline(summary: dict[str, Any], wall_seconds: float | None) -> list[str]:
    """The run's overall numbers, retrieval, timing and errors."""
    o = summary["overall"]
    s = summary["sentence"]
    t = summary["timing"]
    lines = [
        f"SQuAD {summary['file_version']}, mode {summary['mode']}: {o['questions']} questions "
        f"({o['answerable']} answerable, {o['unanswerable']} unanswerable) from "
        f"{summary['articles']} articles / {summary['paragraphs']} paragraphs; "
        f"threshold {summary['min_confidence']:g}",
        "",
        f"  overall          EM {_fmt(o['em'])}   F1 {_fmt(o['f1'])}",
        f"  HasAns           EM {_fmt(o['has_ans_em'])}   F1 {_fmt(o['has_ans_f1'])}   "
        f"answered {_fmt(o['answer_rate'], ' %')}",
        f"  HasAns answered  EM {_fmt(o['answered_em'])}   F1 {_fmt(o['answered_f1'])}",
        f"  HasAns raw       EM {_fmt(summary['raw']['has_ans_em'])}   "
        f"F1 {_fmt(summary['raw']['has_ans_f1'])}   (best prediction, no threshold)",
        f"  NoAns            abstains {_fmt(o['no_ans_abstain_rate'], ' %')}",
        f"  sentence hit     {_fmt(s['hit'], ' %')} of answerable, "
        f"{_fmt(s['hit_answered'], ' %')} of answered, {_fmt(s['hit_raw'], ' %')} no threshold",
    ]
    r = summary["retrieval"]
    if r is not None:
        lines.append(
            f"  retrieval        recall@1 {_fmt(r['recall_at_1'], ' %')}   "
            f"recall@5 {_fmt(r['recall_at_5'], ' %')}   (gold paragraph, answerable)"
        )
    else:
        lines.append("  retrieval        - (gold mode: restricted to the paragraph)")
    timing = (
        f"  time             index {t['index_build_s']:.1f} s, questions {t['ask_s']:.1f} s "
        f"({_fmt(t['questions_per_s'])} q/s), latency p50 {_fmt(t['latency_ms_p50'])} ms, "
        f"p99 {_fmt(t['latency_ms_p99'])} ms"
    )
    if wall_seconds is not None:
        timing += f", wall {wall_seconds:.1f} s"
    lines.append(timing)
    if summary["errors"]:
        lines.append(
            f"  ERRORS           {summary['errors']} questions raised in the pipeline "
            f"(counted as abstentions): {', '.join(summary['error_ids'][:5])}"
        )
    return lines


def _curve_table(summary: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "  threshold  answered  ans.EM  ans.F1  NoAns abstain  overall EM  overall F1",
    ]
    for c in summary["curve"]:
        lines.append(
            f"  {c['threshold']:9.1f}  {_fmt(c['answer_rate']):>8}  {_fmt(c['answered_em']):>6}"
            f"  {_fmt(c['answered_f1']):>6}  {_fmt(c['no_ans_abstain_rate']):>13}"
            f"  {_fmt(c['em']):>10}  {_fmt(c['f1']):>10}"
        )
    return lines


def _type_table(summary: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "  answer type   count  HasAns  answered  HasAns F1  ans.F1  raw F1  sent.hit  "
        "NoAns abstain",
    ]
    for kind, g in summary["by_type"].items():
        lines.append(
            f"  {kind:<12}  {g['questions']:>5}  {g['answerable']:>6}  "
            f"{_fmt(g['answer_rate']):>8}  {_fmt(g['has_ans_f1']):>9}  "
            f"{_fmt(g['answered_f1']):>6}  {_fmt(g['raw_f1']):>6}  {_fmt(g['sentence_hit']):>8}  "
            f"{_fmt(g['no_ans_abstain_rate']):>13}"
        )
    return lines


def write_jsonl(records: Iterable[Record], threshold: float, out: TextIO) -> None:
    """One JSON line per question."""
    for record in records:
        out.write(json.dumps(record.to_json(threshold), ensure_ascii=False) + "\n")
