"""The train/held-out split and the training script, on a small generated SQuAD file."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from citebot.evaluate import article_part, load_squad, main, split_articles
from citebot.features import CONFIDENCE_NAMES
from citebot.model import ReaderModel

ROOT = Path(__file__).resolve().parents[1]
MINI = Path(__file__).parent / "data" / "squad-mini.json"


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


def test_split_alternates_over_sorted_titles() -> None:
    """Sorted by title, articles go train, held-out, train, ... whatever the file order."""
    titles = ["Delta", "Alpha", "Charlie", "Bravo"]
    assert article_part(titles) == ["heldout", "train", "train", "heldout"]
    shuffled = ["Bravo", "Delta", "Alpha", "Charlie"]
    by_title = dict(zip(shuffled, article_part(shuffled), strict=True))
    assert [by_title[t] for t in titles] == article_part(titles)


def test_split_is_disjoint_and_complete(four_articles: Path) -> None:
    """Train and held-out share no article and no question, and together are the file."""
    squad = load_squad(four_articles)
    train, heldout = split_articles(squad, "train"), split_articles(squad, "heldout")
    assert {a.id for a in train.articles}.isdisjoint(a.id for a in heldout.articles)
    assert len(train.articles) + len(heldout.articles) == len(squad.articles)
    train_ids, held_ids = {q.id for q in train.questions}, {q.id for q in heldout.questions}
    assert train_ids.isdisjoint(held_ids)
    assert train_ids | held_ids == {q.id for q in squad.questions}
    assert split_articles(squad, "all") is squad


def test_split_questions_point_at_their_own_article(four_articles: Path) -> None:
    """After renumbering, every question still belongs to the paragraph it was asked about."""
    squad = load_squad(four_articles)
    original = {q.id: squad.articles[q.article].title for q in squad.questions}
    for part in ("train", "heldout"):
        sub = split_articles(squad, part)
        assert all(sub.articles[q.article].title == original[q.id] for q in sub.questions)


def test_eval_command_takes_the_split(
    four_articles: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`citebot eval squad --articles heldout` asks only the held-out questions."""
    assert main([str(four_articles), "--mode", "gold", "--articles", "heldout", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    heldout = split_articles(load_squad(four_articles), "heldout")
    assert summary["overall"]["questions"] == len(heldout.questions)
    assert summary["article_part"] == "heldout"


def test_training_writes_a_loadable_model(
    train_script: ModuleType, four_articles: Path, tmp_path: Path
) -> None:
    """The script fits on the train articles and records held-out numbers in the file it writes."""
    out = tmp_path / "model.json"
    assert train_script.main([str(four_articles), "--out", str(out)]) == 0
    data = json.loads(out.read_text("utf-8"))
    model = ReaderModel.from_json(data, CONFIDENCE_NAMES)
    assert model.dense.any()
    heldout = split_articles(load_squad(four_articles), "heldout")
    assert data["heldout"]["questions"] == len(heldout.questions)
    assert sorted(data["trained_on"]["titles"]) == sorted(
        a.title for a in split_articles(load_squad(four_articles), "train").articles
    )
    assert "train_reader.py" in data["command"]
