"""scripts/squad_examples.py: the unanswerable questions the no-answer head learns from."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

from citebot.reader.neural.encode import FEATURES
from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[3]
SLICE = ROOT / "tests" / "data" / "squad-slice.json"  # the first 304 questions of SQuAD 2.0 dev


def squad_examples() -> ModuleType:
    """The script module, imported from its file (scripts/ is not a package)."""
    return load_script("squad_examples")


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


def test_distractors_are_the_article_s_likest_paragraphs_without_the_answer() -> None:
    """Each question is given other paragraphs of its own article, the one sharing the
    question's rarer words first, never one holding an answer's text."""
    module = squad_examples()
    source = [
        {
            "article": 0,
            "context": "The Tsing Ma bridge opened in 1997. It carries trains.",
            "qas": [
                {
                    "question": "When did the Tsing Ma bridge open?",
                    "answers": [{"text": "1997", "answer_start": 30}],
                }
            ],
        },
        {"article": 0, "context": "Ferries crossed before the bridge, often late.", "qas": []},
        {"article": 0, "context": "The Tsing Ma bridge is painted grey.", "qas": []},
        {"article": 0, "context": "A second bridge opened in 1997 too.", "qas": []},
        {"article": 1, "context": "The Tsing Ma bridge in another article.", "qas": []},
    ]
    vocab = module.build_vocabulary(source, 1)
    items = module.examples(source, vocab, with_targets=True)
    assert module.add_distractors(items, source, vocab, k=2) == 2
    [item] = items
    grey, ferries = (module.encode(source[j]["context"], vocab).words for j in (2, 1))
    got = [d["p_words"] for d in item["distractors"]]
    assert [list(w) for w in got] == [list(grey), list(ferries)]
    assert all(
        d["p_feats"].shape == (len(d["p_words"]), len(FEATURES)) for d in item["distractors"]
    )


def test_batches_keep_an_item_with_its_longest_distractor_in_mind() -> None:
    """Items are batched by the length of their longest passage, distractors included,
    so a short passage with a long distractor waits for the long ones."""
    import random

    module = squad_examples()

    def item(own: int, *others: int) -> dict[str, Any]:
        return {"p_words": [1] * own, "distractors": [{"p_words": [1] * n} for n in others]}

    items = [item(10), item(11), item(12, 95), item(91), item(92)]
    plan = module.batches(items, 3, random.Random(0))
    assert sorted(map(sorted, plan)) == [[0, 1, 3], [2, 4]]  # by own length: [0, 1, 2]
