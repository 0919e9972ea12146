"""scripts/squad_examples.py: the unanswerable questions the no-answer head learns from."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SLICE = ROOT / "tests" / "data" / "squad-slice.json"  # the first 304 questions of SQuAD 2.0 dev


def squad_examples() -> ModuleType:
    """The script module, imported from its file (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "squad_examples", ROOT / "scripts" / "squad_examples.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def paragraphs() -> list[dict[str, Any]]:
    return [p for a in json.loads(SLICE.read_text("utf-8"))["data"] for p in a["paragraphs"]]


def test_made_unanswerable_questions_never_hold_their_answer() -> None:
    """Every negative's passage lacks each of its question's answers; both kinds are made:
    the own paragraph without the answer's sentence, and a neighbouring paragraph."""
    module, source = squad_examples(), paragraphs()
    vocab = module.build_vocabulary(source, 1)
    made = module.negatives(source, vocab, 1.0, seed=0)
    contexts = [p["context"] for p in source]
    assert made and all(item["target"] is None for item in made)
    for item in made:  # "golds": the texts of the question's answers
        assert all(g.casefold() not in item["context"].casefold() for g in item["golds"])
    shortened = [m for m in made if m["context"] not in contexts]
    assert shortened and len(shortened) < len(made)
    assert module.negatives(source, vocab, 0.0, seed=0) == []


def test_taking_out_a_sentence_keeps_the_others_verbatim() -> None:
    """The sentence holding the offset goes; fewer than two left gives nothing."""
    module = squad_examples()
    text = "The bridge opened in 1998. It is 300 meters long. Ferries still run."
    assert module._without_sentence(text, text.index("300")) == (
        "The bridge opened in 1998. Ferries still run."
    )
    assert module._without_sentence("One sentence. Two sentences.", 0) == ""
