"""The trainer's torch side, scripts/torch_reader.py and scripts/train_neural.py (runs where
the `train` extra, torch, is installed; the rest of the suite never needs torch)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import load_script

torch = pytest.importorskip("torch")


def test_the_trainer_trains_the_torch_reader_s_network() -> None:
    """The training script imports and uses the network, batches and loss of
    torch_reader.py: the two files stay one trainer."""
    trainer = load_script("train_neural")
    assert trainer.Reader.__module__ == "torch_reader"
    assert trainer.collate.__module__ == trainer.shared_loss.__module__ == "torch_reader"


def _cross_entropy(scores: list[float], target: int) -> float:
    return math.log(sum(math.exp(s) for s in scores)) - scores[target]


def test_the_shared_loss_normalises_over_the_passage_and_its_distractors() -> None:
    """Item 0 (answer at token 1) has one distractor (row 2) whose first token outscores
    the answer: the loss is the cross-entropy over both passages' tokens together (its
    padding masked), for the first and the last token alike. Item 1 has none: it adds
    nothing, and the sum is divided by the one item that counts."""
    module = load_script("torch_reader")
    mask = -1e9
    start = torch.tensor([[0.0, 5.0, 0.0], [1.0, 1.0, 1.0], [9.0, 0.0, mask]])
    end = torch.tensor([[0.0, 0.0, 4.0], [1.0, 1.0, 1.0], [2.0, 3.0, mask]])
    b = {"groups": [[2], []], "start": torch.tensor([1, 0]), "end": torch.tensor([2, 0])}
    expected = _cross_entropy([0, 5, 0, 9, 0], 1) + _cross_entropy([0, 0, 4, 2, 3], 2)
    assert float(module.shared_loss(start, end, b)) == pytest.approx(expected, rel=1e-5)
    alone = float(module.shared_loss(start, end, {**b, "groups": [[], []]}))
    assert alone == 0.0


def test_collate_puts_each_item_s_distractors_after_the_items() -> None:
    """The distractors become rows read with their own item's question; the targets stay
    the items' own."""
    import numpy as np

    module = load_script("torch_reader")
    features = len(module.FEATURES)

    def passage(n: int, word: int) -> dict[str, object]:
        return {
            "p_words": np.full(n, word, dtype=np.int64),
            "p_spell": np.zeros((n, 3), dtype=np.int64),
            "p_feats": np.zeros((n, features), dtype=np.float32),
        }

    def item(word: int, question: int, *others: int) -> dict[str, object]:
        return {
            **passage(3, word),
            "q_words": np.array([question], dtype=np.int64),
            "q_spell": np.zeros((1, 3), dtype=np.int64),
            "target": (0, 1),
            "distractors": [passage(4, w) for w in others],
        }

    b = module.collate([item(5, 50, 6, 7), item(8, 80)], distractors=True)
    assert b["groups"] == [[2, 3], []]
    assert b["p_words"][:, 0].tolist() == [5, 8, 6, 7]
    assert b["q_words"][:, 0].tolist() == [50, 80, 50, 50]
    assert b["start"].tolist() == [0, 0] and b["end"].tolist() == [1, 1]


PARAGRAPHS = [
    {
        "context": "The park opened on Thursday in Futian. It has 16 companies.",
        "qas": [{"question": "When did the park open?", "answers": []}],
    }
]


def _small_export(trainer: Any, path: Path, meta: dict[str, Any]) -> tuple[Any, Any]:
    """(vocabulary, network) of a small random network on PARAGRAPHS, exported to path."""
    vocab = trainer.build_vocabulary(PARAGRAPHS, 1)
    torch.manual_seed(0)
    model = trainer.Reader(vocab.size, 8, 2, 4, 2)
    trainer.export(model, vocab, path, meta)
    return vocab, model


def test_an_export_scores_in_numpy_as_the_trained_network_in_torch(tmp_path: Path) -> None:
    """The trainer's export (word table int8) read by numpy and by torch scores alike:
    the check run after every epoch, on a small random network."""
    trainer = load_script("train_neural")
    path = tmp_path / "weights-seed9.npz"
    vocab, model = _small_export(trainer, path, {"dim": 8, "spell": 2, "hidden": 4, "layers": 2})
    items = trainer.examples(PARAGRAPHS, vocab, with_targets=False)
    assert trainer.check_export(model, path, items) < 1e-4
    with np.load(path) as data:
        assert data["words.weight.int8"].dtype == np.int8


def test_training_can_start_from_an_export(tmp_path: Path) -> None:
    """`--init`: a fresh network takes an export's weights (the int8 word table
    restored), as the training weights and as their moving average, and the epoch it was
    exported after; an export with another vocabulary is refused."""
    trainer = load_script("train_neural")
    path = tmp_path / "weights-seed9.npz"
    vocab, trained = _small_export(trainer, path, {"epoch": 7})
    torch.manual_seed(1)
    fresh = trainer.Reader(vocab.size, 8, 2, 4, 2)
    ema: dict[str, object] = {}
    assert trainer.start_from_export(fresh, ema, path, vocab) == 7
    for name, value in trained.state_dict().items():
        loaded = fresh.state_dict()[name]
        step = 0.02 * float(value.abs().max()) + 1e-6  # float16 and int8 rows
        assert float((loaded - value).abs().max()) <= step, name
        assert torch.equal(ema[name], loaded)
    other = trainer.build_vocabulary([{**PARAGRAPHS[0], "context": "Other words here."}], 1)
    with pytest.raises(SystemExit, match="another vocabulary"):
        trainer.start_from_export(fresh, {}, path, other)


def test_the_settings_an_export_records_are_json_without_local_paths() -> None:
    """The export's settings are written as JSON: an `--init` network is kept by its
    file name, the output, checkpoint and data paths are left out."""
    trainer = load_script("train_neural")
    args = argparse.Namespace(
        seed=3,
        epochs=8,
        out=Path("/tmp/x.npz"),
        checkpoint=None,
        data=Path("/data"),
        init=Path("/repo/weights-seed3.npz"),
    )
    settings = json.loads(json.dumps(trainer.run_settings(args)))
    assert settings == {"seed": 3, "epochs": 8, "init": "weights-seed3.npz"}
    assert trainer.run_settings(argparse.Namespace(seed=1, init=None)) == {"seed": 1, "init": None}
