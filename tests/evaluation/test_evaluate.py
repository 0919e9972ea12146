"""`citebot eval squad`: records, the summary, paragraph mapping and the command itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from citebot.evaluation.evaluate import (
    ParagraphMap,
    Record,
    Run,
    build_index,
    main,
    paragraph_rank,
    run_questions,
)
from citebot.evaluation.report import CURVE_THRESHOLDS, percentile, summarize
from citebot.evaluation.squad import (
    SquadSet,
    load_squad,
    parse_squad,
)
from citebot.pipeline import reader_thresholds
from tests.conftest import SQUAD_MINI

JSONL_KEYS = {
    "id",
    "question",
    "answer_type",
    "gold",
    "prediction",
    "confidence",
    "answered",
    "quote",
    "em",
    "f1",
    "sentence_hit",
    "paragraph_rank",
    "latency_ms",
}


def _record(gold: tuple[str, ...], prediction: str | None, confidence: float) -> Record:
    return Record(
        id=f"q{len(gold)}-{prediction}-{confidence}",
        question="q?",
        answer_type="phrase",
        gold=gold,
        prediction=prediction,
        confidence=confidence,
        quote=None if prediction is None else f"It was {prediction}.",
        paragraph_rank=1,
        answer_in_paragraph=True,
        latency_ms=1.0,
    )


# ---------------------------------------------------------------- scoring


def test_percentile_interpolates_between_ranks() -> None:
    """Percentiles interpolate linearly between the closest ranks."""
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 99) == pytest.approx(4.96)
    assert percentile([], 50) is None


def test_summary_applies_the_threshold_to_v2_scores() -> None:
    """Below the threshold is an abstention: right for unanswerable, wrong for answerable."""
    records = [
        _record(("1921",), "1921", 0.9),  # answered, right
        _record(("1921",), "1921", 0.2),  # right, but below 0.5: abstains, scores 0
        _record((), "1987", 0.8),  # unanswerable, answered: 0
        _record((), "1987", 0.1),  # unanswerable, abstains: 1
        _record(("Mara Quill",), None, 0.0),  # nothing proposed: abstains
    ]
    squad = load_squad(SQUAD_MINI)
    summary = summarize(Run(squad, "gold", records, 0.0, 1.0), 0.5)
    overall = summary["overall"]
    assert overall["em"] == pytest.approx(100 * 2 / 5, abs=0.01)
    assert overall["has_ans_em"] == pytest.approx(100 / 3, abs=0.01)
    assert overall["answered_em"] == 100.0
    assert overall["answer_rate"] == pytest.approx(100 / 3, abs=0.01)
    assert overall["no_ans_abstain_rate"] == 50.0
    assert summary["raw"]["has_ans_em"] == pytest.approx(200 / 3, abs=0.01)
    assert summary["sentence"]["hit"] == pytest.approx(100 / 3, abs=0.01)
    assert summary["retrieval"] is None  # gold mode
    at_zero = summary["curve"][0]
    assert at_zero["threshold"] == 0.0
    assert at_zero["answer_rate"] == pytest.approx(200 / 3, abs=0.01)
    assert at_zero["no_ans_abstain_rate"] == 0.0
    assert at_zero["em"] == pytest.approx(100 * 2 / 5, abs=0.01)
    assert [c["threshold"] for c in summary["curve"]] == list(CURVE_THRESHOLDS)


# ---------------------------------------------------------------- loading


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"version": "v2.0"}', "no 'data' key"),
        ('{"data": {}}', "'data' must be a JSON list"),
        (
            '{"data": [{"title": "T", "paragraphs": [{"context": "", "qas": []}]}]}',
            "data[0].paragraphs[0].context is empty",
        ),
        (
            '{"data": [{"title": "T", "paragraphs": [{"context": "C.", "qas": '
            '[{"id": "q", "question": "Q?", "answers": "Paris"}]}]}]}',
            "data[0].paragraphs[0].qas[0].answers must be a JSON list, not a string",
        ),
        (
            '{"data": [{"title": "T", "paragraphs": [{"context": "C.", "qas": '
            '[{"id": "q", "question": "Q?", "answers": [], "is_impossible": "yes"}]}]}]}',
            "is_impossible must be true or false",
        ),
    ],
)
def test_malformed_file_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    """A malformed file is exit code 2 and a message naming what is wrong, no traceback."""
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert str(path) in err
    assert "Traceback" not in err


def test_missing_file_and_bad_options_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing file or an invalid option is exit code 2 with a message."""
    assert main([str(tmp_path / "nope.json")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main([str(SQUAD_MINI), "--min-confidence", "1.5"]) == 2
    assert "not within [0, 1]" in capsys.readouterr().err
    assert main([str(SQUAD_MINI), "--mode", "closed"]) == 2
    assert main([str(SQUAD_MINI), "--limit", "0"]) == 2


# ---------------------------------------------------------------- paragraph mapping


def test_paragraph_map_locates_body_offsets(mini: SquadSet) -> None:
    """A body offset maps to its paragraph; the blank line between paragraphs to none."""
    pmap = ParagraphMap(mini, "open")
    article = mini.articles[0]
    (s0, e0), (s1, e1) = article.paragraphs
    assert pmap.locate(article.id, s0) == (0, 0)
    assert pmap.locate(article.id, e0 - 1) == (0, 0)
    assert pmap.locate(article.id, e0) is None  # the "\n\n" separator
    assert pmap.locate(article.id, s1) == (0, 1)
    assert pmap.locate(article.id, e1) is None
    assert pmap.locate("glass-orchid", 0) == (1, 0)
    assert pmap.locate("unknown", 0) is None
    gold = ParagraphMap(mini, "gold")
    assert gold.locate("lantern-festival-harbour-town-p1", 10) == (0, 1)
    assert gold.locate("lantern-festival-harbour-town", 10) is None


def test_paragraph_rank_of_retrieved_passages(mini: SquadSet) -> None:
    """The rank is that of the first retrieved passage starting in the gold paragraph."""
    index = build_index(mini, "open")
    pmap = ParagraphMap(mini, "open")
    where = {p.index: pmap.locate(p.article_id, p.start) for p in index.passages}
    in_p0 = next(i for i, w in where.items() if w == (0, 0))
    in_p1 = next(i for i, w in where.items() if w == (0, 1))
    orchid = next(i for i, w in where.items() if w == (1, 0))
    assert index.passages[in_p1].text.startswith("After the old docks closed")
    assert paragraph_rank([orchid, in_p0, in_p1], index, pmap, (0, 1)) == 3
    assert paragraph_rank([in_p0, in_p1], index, pmap, (0, 0)) == 1
    assert paragraph_rank([in_p0, in_p1], index, pmap, (1, 0)) is None
    assert paragraph_rank([], index, pmap, (0, 0)) is None


# ---------------------------------------------------------------- running


def test_gold_mode_answers_from_the_question_paragraph(mini: SquadSet) -> None:
    """Gold mode answers from the question's own paragraph even when another matches better."""
    lantern = mini.articles[0]
    question = next(q for q in mini.questions if q.id == "mini-05")
    # The fixture's point: the other paragraph holds the question's words and another organiser.
    assert "Harbour Town Lantern Festival was organised by" in lantern.paragraph_text(0)
    assert "Tobias Fenn" in lantern.paragraph_text(0)
    run = run_questions(mini, "gold")
    for record, q in zip(run.records, mini.questions, strict=True):
        if record.quote is not None:
            assert record.quote in mini.articles[q.article].paragraph_text(q.paragraph)
            assert record.answer_in_paragraph
    record = next(r for r in run.records if r.id == question.id)
    assert record.prediction == "Mara Quill"
    assert record.quote is not None
    assert record.quote in lantern.paragraph_text(1)


def test_question_the_pipeline_refuses_is_an_abstention(tmp_path: Path) -> None:
    """A question with no words (QuestionError) is recorded as an abstention, not an error."""
    page = {
        "context": "The glass orchid grows on Mount Teller.",
        "qas": [
            {"id": "empty", "question": "?!", "answers": [], "is_impossible": True},
            {"id": "blank", "question": "   ", "answers": [{"text": "Mount Teller"}]},
        ],
    }
    squad = parse_squad({"version": "v2.0", "data": [{"title": "Orchid", "paragraphs": [page]}]})
    run = run_questions(squad, "open")
    assert [(r.prediction, r.error) for r in run.records] == [(None, None), (None, None)]
    assert [r.scores(reader_thresholds()[0]) for r in run.records] == [(1.0, 1.0), (0.0, 0.0)]


def test_main_json_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--json` prints one parseable object with every section; `--out` one line per question."""
    out = tmp_path / "run.jsonl"
    assert main([str(SQUAD_MINI), "--json", "--out", str(out)]) == 0
    summary: dict[str, Any] = json.loads(capsys.readouterr().out)
    for key in ("overall", "raw", "sentence", "retrieval", "timing", "curve", "by_type"):
        assert key in summary
    assert summary["mode"] == "open"
    assert summary["min_confidence"] == reader_thresholds()[0]  # the reader's own
    assert summary["overall"]["questions"] == 10
    assert summary["overall"]["unanswerable"] == 3
    assert set(summary["retrieval"]) >= {"recall_at_1", "recall_at_5"}
    assert len(summary["curve"]) == 10
    assert {"latency_ms_p50", "latency_ms_p99", "questions_per_s", "index_build_s"} <= set(
        summary["timing"]
    )
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == [f"mini-{n:02d}" for n in range(1, 11)]
    for line in lines:
        assert set(line) >= JSONL_KEYS
    first = lines[0]
    assert first["gold"] == ["1921"]
    assert first["prediction"] == "1921"
    assert first["em"] == 1.0
    assert first["paragraph_rank"] == 1


def test_limit_and_table_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--limit N` asks the first N questions in file order; the default output is a table."""
    out = tmp_path / "run.jsonl"
    assert main([str(SQUAD_MINI), "--mode", "gold", "--limit", "3", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "mode gold: 3 questions" in table
    assert "threshold" in table
    assert "answer type" in table
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert ids == ["mini-01", "mini-02", "mini-03"]
