"""scripts/train_reranker.py: fits usable weights on a small SQuAD slice, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from citebot.retrieval.features import FEATURES
from citebot.retrieval.rerank import load_reranker

ROOT = Path(__file__).resolve().parents[2]
SLICE = ROOT / "tests" / "data" / "squad-slice.json"  # the first 304 questions of SQuAD 2.0 dev


def test_training_on_a_slice_writes_weights_the_reranker_loads(tmp_path: Path) -> None:
    """The script indexes the slice, fits on its first 120 answerable questions, compares
    settings on the slice, and writes weights that `load_reranker` accepts (BM25's 1)."""
    out = tmp_path / "weights.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_reranker.py"), str(SLICE),
         "--limit", "120", "--out", str(out), "--choose", str(SLICE), "--l2", "0.01,0",
         "--drop", "none,title"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "BM25 alone" in done.stdout and "drop title, l2=0" in done.stdout
    model = load_reranker(out)
    assert model.weights[0] == 1.0 and len(model.weights) == len(FEATURES)
    meta = json.loads(out.read_text("utf-8"))
    assert meta["questions"] == 120 and meta["l2"] == 0.01 and meta["dropped"] == "none"
