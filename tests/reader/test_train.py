"""Cross-fitting folds and the training script, on a small generated SQuAD file."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from citebot.evaluation.crossfit import article_folds, load_folds
from citebot.evaluation.evaluate import main
from citebot.evaluation.squad import load_squad
from citebot.reader.features import CONFIDENCE_NAMES
from citebot.reader.model import ReaderModel

ROOT = Path(__file__).resolve().parents[2]
MINI = Path(__file__).parents[1] / "data" / "squad-mini.json"


@pytest.fixture(scope="module")
def train_script() -> ModuleType:
    """scripts/train_reader.py, imported as a module."""
    spec = importlib.util.spec_from_file_location(
        "train_reader", ROOT / "scripts" / "train_reader.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_reader"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def four_articles(tmp_path: Path) -> Path:
    """The mini SQuAD fixture's articles, each twice under new titles: four articles."""
    data: dict[str, Any] = json.loads(MINI.read_text("utf-8"))
    articles = []
    for copy in ("a", "b"):
        for article in data["data"]:
            clone = json.loads(json.dumps(article))
            clone["title"] = f"{article['title']} {copy}"
            for paragraph in clone["paragraphs"]:
                for qa in paragraph["qas"]:
                    qa["id"] = f"{qa['id']}-{copy}"
            articles.append(clone)
    data["data"] = articles
    path = tmp_path / "four.json"
    path.write_text(json.dumps(data), "utf-8")
    return path


def test_folds_deal_sorted_titles_round_robin() -> None:
    """Sorted by title, articles go to folds 0, 1, 2, ... whatever the file order."""
    titles = ["Delta", "Alpha", "Charlie", "Bravo", "Echo"]
    assert article_folds(titles, 2) == [1, 0, 0, 1, 0]
    shuffled = ["Bravo", "Echo", "Delta", "Alpha", "Charlie"]
    by_title = dict(zip(shuffled, article_folds(shuffled, 2), strict=True))
    assert [by_title[t] for t in titles] == article_folds(titles, 2)
    assert sorted(article_folds(titles, 5)) == [0, 1, 2, 3, 4]


def test_span_data_without_drops_the_articles(train_script: ModuleType) -> None:
    """The rows fitted for a fold are those of every other article, in order."""
    rows = [np.full((2, 3), k, dtype=np.float32) for k in range(4)]
    data = train_script.SpanData(rows, rows, rows, [0, 1, 2, 1], [5, 6, 7, 8])
    kept = data.without({1})
    assert kept.article == [0, 2]
    assert kept.kind == [5, 7]
    assert [int(d[0, 0]) for d in kept.dense] == [0, 2]


@pytest.fixture
def trained(train_script: ModuleType, four_articles: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The training script run on the four-article file: (model file, folds directory)."""
    out, folds = tmp_path / "model.json", tmp_path / "folds"
    assert (
        train_script.main([str(four_articles), "--out", str(out), "--folds-out", str(folds)]) == 0
    )
    return out, folds


def test_training_writes_a_loadable_model_and_folds(
    trained: tuple[Path, Path], four_articles: Path
) -> None:
    """The model is fitted on every article; each article is in exactly one fold's held-out list."""
    out, folds_dir = trained
    data = json.loads(out.read_text("utf-8"))
    model = ReaderModel.from_json(data, CONFIDENCE_NAMES)
    assert model.dense.any()
    squad = load_squad(four_articles)
    assert data["trained_on"]["articles"] == len(squad.articles)
    assert data["crossfit"]["questions"] == len(squad.questions)
    assert "train_reader.py" in data["command"]
    folds = load_folds(folds_dir)
    held = [t for titles in folds.titles for t in titles]
    assert sorted(held) == sorted(a.title for a in squad.articles)
    # Each fold model was fitted on fewer articles than the shipped one: other weights.
    assert all(not np.array_equal(m.dense, model.dense) for m in folds.models)


def test_eval_with_folds_reproduces_the_training_numbers(
    trained: tuple[Path, Path], four_articles: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`citebot eval squad --folds DIR` prints the cross-fitted numbers the model file records."""
    out, folds_dir = trained
    recorded = json.loads(out.read_text("utf-8"))["crossfit"]
    assert main([str(four_articles), "--mode", "gold", "--folds", str(folds_dir), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["raw"] == recorded["raw"]
    assert summary["folds"] == str(folds_dir)


def test_eval_refuses_bad_folds(
    trained: tuple[Path, Path], four_articles: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing or damaged folds directory, or a file with other articles: a message, exit 2."""
    _, folds_dir = trained
    assert main([str(four_articles), "--folds", str(folds_dir / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main([str(MINI), "--mode", "gold", "--folds", str(folds_dir)]) == 2
    assert "none of the folds" in capsys.readouterr().err
    (folds_dir / "fold-0.json").write_text("{not json", "utf-8")
    assert main([str(four_articles), "--folds", str(folds_dir)]) == 2
    assert "fold 0" in capsys.readouterr().err
    (folds_dir / "folds.json").write_text("[]", "utf-8")
    assert main([str(four_articles), "--folds", str(folds_dir)]) == 2
    assert "does not hold a JSON object" in capsys.readouterr().err
    (folds_dir / "folds.json").write_text('{"format": 1}', "utf-8")
    assert main([str(four_articles), "--folds", str(folds_dir)]) == 2
    assert "not a folds manifest" in capsys.readouterr().err
