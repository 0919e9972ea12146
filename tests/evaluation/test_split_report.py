"""scripts/split_report.py: a readings file it cannot use is refused with what to do."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "data" / "squad-mini.json"


@pytest.fixture(scope="module")
def split_report() -> ModuleType:
    return load_script("split_report")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data folder: the mini file as v1.1 dev; v2.0 dev holds its first article only,
    so the second one is the test split."""
    folder = tmp_path / "data"
    folder.mkdir()
    mini = json.loads(MINI.read_text("utf-8"))
    (folder / "squad-dev-v1.1.json").write_text(json.dumps(mini), "utf-8")
    (folder / "squad-dev-v2.0.json").write_text(json.dumps(mini | {"data": mini["data"][:1]}))
    return folder


@pytest.mark.parametrize("text", ["", "\n", "not json\n", "[1, 2]\n"])
def test_an_empty_or_unreadable_readings_file_is_refused(
    split_report: ModuleType,
    data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
) -> None:
    readings = tmp_path / "r.jsonl"
    readings.write_text(text, "utf-8")
    assert split_report.main([str(readings), "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("split_report: ") and str(readings) in err


def test_readings_of_the_other_split_only_are_refused_by_name(
    split_report: ModuleType, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reading of the first article is reported with --split dev, refused without."""
    reading = {"article": "lantern-festival-harbour-town", "gold": ["x"], "prediction": "x"}
    reading |= {"quote": "x", "raw_em": 1, "raw_f1": 1.0, "confidence": 0.9}
    readings = tmp_path / "r.jsonl"
    readings.write_text(json.dumps(reading | {"paragraph_rank": 1}) + "\n")
    assert split_report.main([str(readings), "--data", str(data), "--split", "dev"]) == 0
    assert json.loads(capsys.readouterr().out)["em"] == 100.0
    assert split_report.main([str(readings), "--data", str(data)]) == 2
    assert "no reading of the test split's articles" in capsys.readouterr().err
