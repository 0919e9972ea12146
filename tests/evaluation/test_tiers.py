"""Tiers (thresholds chosen from readings, stored beside the reader, applied by the Asker)
and what an abstention suggests."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from citebot.pipeline import Asker, reader_thresholds
from citebot.reader.neural.calibration import load_calibration
from citebot.retrieval.index import Index
from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "when did the Hetao park open?"


@pytest.fixture(scope="module")
def choose_tiers() -> ModuleType:
    """scripts/choose_tiers.py, imported as a module."""
    return load_script("choose_tiers")


def readings_file(path: Path, articles: int = 0) -> Path:
    """1,000 readings: right when confidence >= 0.6 (and one in five below), a tenth of
    them unanswerable; written as `citebot eval squad --out` writes them. With
    `articles`, reading k is of article k mod `articles` (else of none)."""
    lines = []
    for k in range(1000):
        confidence = k / 1000
        unanswerable = k % 10 == 0
        right = not unanswerable and (confidence >= 0.6 or k % 5 == 1)
        item = {"id": str(k), "confidence": confidence, "raw_f1": 1.0 if right else 0.0}
        item |= {"prediction": "x", "unanswerable": unanswerable, "gold": []}
        if articles:
            item["article"] = f"article-{k % articles}"
        lines.append(json.dumps(item))
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_the_answer_tier_is_right_at_least_80_percent_of_the_time(
    choose_tiers: ModuleType, tmp_path: Path
) -> None:
    """The answer threshold is the lowest from which every higher one keeps 80 % of the
    answerable questions' answers right, on the readings and in 95 % of the draws of
    their articles; the possible threshold keeps 90 % of them answered."""
    readings = choose_tiers.load_readings(readings_file(tmp_path / "r.jsonl"))
    answerable = [r for r in readings if r.answerable]
    draws = choose_tiers.ArticleDraws(answerable)
    possible, answer = choose_tiers.choose(readings)
    assert possible == 0.1  # answerable ones are spread evenly: 90 % lie above 0.1
    assert choose_tiers.precision(choose_tiers.answered(answerable, answer)) >= 0.8
    assert draws.low_precision(answer) >= 0.8
    lower = round(answer - 0.01, 2)  # the lowest that holds, not a safe guess:
    assert (
        draws.low_precision(lower)
        < 0.8
        <= choose_tiers.precision(choose_tiers.answered(answerable, lower))
    )  # here the draws, not the average, rule the lower one out
    table = {row["tier"]: row for row in choose_tiers.tier_table(readings, possible, answer)}
    assert table["answer"]["precision_answerable"] >= 80.0
    assert table["answer"]["precision"] < table["answer"]["precision_answerable"]
    assert sum(row["share"] for row in table.values()) == pytest.approx(100.0, abs=0.2)


def test_readings_from_few_and_unlike_articles_hold_the_answer_tier_higher(
    choose_tiers: ModuleType, tmp_path: Path
) -> None:
    """The same readings dealt into ten articles, two of them right at every confidence:
    a new set of articles may hold fewer of those, so the tier starts higher than when
    every reading stands alone, and still holds in 95 % of the draws."""
    alone = choose_tiers.load_readings(readings_file(tmp_path / "alone.jsonl"))
    dealt = choose_tiers.load_readings(readings_file(tmp_path / "dealt.jsonl", articles=10))
    assert {r.article for r in dealt} == {f"article-{k}" for k in range(10)}
    answer_alone, answer_dealt = choose_tiers.choose(alone)[1], choose_tiers.choose(dealt)[1]
    assert answer_dealt > answer_alone
    draws = choose_tiers.ArticleDraws([r for r in dealt if r.answerable])
    assert draws.low_precision(answer_dealt) >= 0.8 > draws.low_precision(answer_alone)


def test_readings_of_unanswerable_questions_only_still_get_tiers(
    choose_tiers: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no answerable question the rules fall back on all readings; nothing fails."""
    path = tmp_path / "none.jsonl"
    item = {"confidence": 0.5, "raw_f1": 0.0, "prediction": "x", "unanswerable": True}
    path.write_text(json.dumps(item) + "\n", "utf-8")
    assert choose_tiers.main([str(path)]) == 0
    assert "1 readings; possible answer from 0.50" in capsys.readouterr().out


def test_the_script_writes_the_thresholds_into_the_threshold_file_keeping_the_rest(
    choose_tiers: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--write sets min_confidence and tiers in the JSON object and keeps every other key."""
    model = tmp_path / "model.json"
    model.write_text(json.dumps({"format": 1, "dense": [1.0], "min_confidence": 0.5}), "utf-8")
    code = choose_tiers.main([str(readings_file(tmp_path / "r.jsonl")), "--write", str(model)])
    data = json.loads(model.read_text("utf-8"))
    assert code == 0 and data["format"] == 1 and data["dense"] == [1.0]
    assert data["min_confidence"] == data["tiers"]["possible"] == 0.1
    assert 0.1 < data["tiers"]["answer"] < 0.7
    out = capsys.readouterr().out
    assert "| answer |" in out and "| possible answer |" in out and "| no answer |" in out


def test_a_bad_readings_file_is_refused_with_the_line(
    choose_tiers: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A line without a confidence: exit 2 and a message naming the file and line."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"confidence": 0.5, "raw_f1": 1}\n{"raw_f1": 1}\n', "utf-8")
    assert choose_tiers.main([str(bad)]) == 2
    assert f"{bad}:2 lacks a numeric confidence" in capsys.readouterr().err


def test_the_asker_gives_each_answer_its_tier(shipped_asker: Asker) -> None:
    """Below min_confidence no answer; from answer_confidence "answer"; between, "possible"."""
    index: Index = shipped_asker.index
    confidence = shipped_asker.ask(QUESTION).confidence
    below = Asker(index, min_confidence=0.0, answer_confidence=min(confidence + 0.01, 1.0))
    above = Asker(index, min_confidence=0.0, answer_confidence=confidence)
    none = Asker(index, min_confidence=min(confidence + 0.01, 1.0), answer_confidence=1.0)
    assert below.ask(QUESTION).tier == "possible"
    assert above.ask(QUESTION).tier == "answer"
    refused = none.ask(QUESTION)
    assert refused.tier == "none" and not refused.answered


def test_the_shipped_calibration_carries_the_thresholds_the_pipeline_uses() -> None:
    """The thresholds the pipeline uses are the calibration file's `min_confidence` and
    `tiers` (the answer tier at or above the possible one)."""
    meta = load_calibration().meta
    assert reader_thresholds() == (meta["min_confidence"], meta["tiers"]["answer"])
    assert meta["tiers"]["answer"] >= meta["tiers"]["possible"] == meta["min_confidence"]


def test_an_abstention_suggests_only_articles_whose_title_shares_a_word(
    shipped_asker: Asker,
) -> None:
    """A question about the Seoul mayor in Tokyo suggests the Seoul article; one about a
    world cup suggests nothing (retrieval alone ranks every article above zero)."""
    related = shipped_asker.ask("What did the Seoul mayor eat for breakfast in Tokyo?")
    unrelated = shipped_asker.ask("Who won the world cup in Tokyo?")
    assert not related.answered and related.suggestions == ["seoul-mayor-hk-shenzhen-visit-2019"]
    assert related.unknown_words == ["eat", "breakfast", "Tokyo"]
    assert not unrelated.answered and unrelated.suggestions == []
    assert unrelated.passages  # articles were retrieved, and still none is suggested
