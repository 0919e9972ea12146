"""SQuAD questions as the neural reader's training examples (no torch needed here).

`scripts/train_neural.py` trains on them: the vocabulary, one dict of arrays per
question (answerable ones with their target tokens, `negatives` made unanswerable
ones, `add_distractors` other passages of the article to read beside them), batches
of similar lengths, and the dev paragraphs choices are measured on.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

from citebot.corpus.passages import sentence_spans
from citebot.reader.neural.encode import (
    MAX_QUESTION,
    Encoded,
    Vocabulary,
    encode,
    features,
    is_content,
    tokens,
)
from citebot.reader.neural.network import MAX_ANSWER_TOKENS

MAX_PASSAGE = 400  # training passages longer than this many tokens are skipped


def build_vocabulary(paragraphs: list[dict[str, Any]], min_count: int) -> Vocabulary:
    """Folded words seen at least `min_count` times in the training text, most frequent first."""
    counts: Counter[str] = Counter()
    for p in paragraphs:
        counts.update(t.casefold() for t in tokens(p["context"]).text)
        for qa in p["qas"]:
            counts.update(t.casefold() for t in tokens(qa["question"]).text)
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: -counts[w])
    return Vocabulary(tuple(kept))


def examples(
    paragraphs: list[dict[str, Any]], vocab: Vocabulary, with_targets: bool
) -> list[dict[str, Any]]:
    """One dict of arrays per question; training ones need the answer on token edges.
    Each remembers its paragraph's index in `paragraphs` and its question's in the
    paragraph ("paragraph", "qa")."""
    out = []
    for index, p in enumerate(paragraphs):
        passage = encode(p["context"], vocab)
        if len(passage.tokens) > MAX_PASSAGE and with_targets:
            continue
        for n, qa in enumerate(p["qas"]):
            question = encode(qa["question"], vocab)
            if not len(question.tokens):
                continue
            item = {**_item(passage, question, p["context"], qa), "paragraph": index, "qa": n}
            if with_targets:
                target = _target(passage, qa["answers"][0])
                if target is None:
                    continue
                item["target"] = target
            out.append(item)
    return out


def negatives(
    paragraphs: list[dict[str, Any]], vocab: Vocabulary, share: float, seed: int
) -> list[dict[str, Any]]:
    """Unanswerable questions made from answerable ones, the no-answer head's examples: a
    `share` of the questions, each either with its answer's sentence taken out of its
    paragraph or with one of the three paragraphs before or after it (most often of the
    same article). Kept only when no answer's text is left in the passage."""
    rng = random.Random(seed)
    out = []
    for k, p in enumerate(paragraphs):
        neighbours = paragraphs[max(0, k - 3) : k] + paragraphs[k + 1 : k + 4]
        for qa in p["qas"]:
            if not qa["answers"] or rng.random() >= share:
                continue
            if rng.random() < 0.5 or not neighbours:
                context = _without_sentence(p["context"], qa["answers"][0]["answer_start"])
            else:
                context = rng.choice(neighbours)["context"]
            folded = context.casefold()
            if not context or any(a["text"].casefold() in folded for a in qa["answers"]):
                continue
            passage, question = encode(context, vocab), encode(qa["question"], vocab)
            if not len(question.tokens) or len(passage.tokens) > MAX_PASSAGE:
                continue
            out.append({**_item(passage, question, context, qa), "target": None})
    return out


def add_distractors(
    items: list[dict[str, Any]], paragraphs: list[dict[str, Any]], vocab: Vocabulary, k: int
) -> int:
    """Give each item (from `examples`) the `k` other paragraphs of its article most like
    its question ("distractors": the passages retrieval would also hand the reader), as
    arrays the network reads. Paragraphs holding an answer's text are passed over: in
    them a span would be right. `paragraphs` carry their article's index ("article").
    Returns how many distractors were added."""
    by_article: dict[int, list[int]] = {}
    for index, p in enumerate(paragraphs):
        by_article.setdefault(p["article"], []).append(index)
    encoded = {j: encode(p["context"], vocab) for j, p in enumerate(paragraphs)}
    bags = {j: Counter(e.stems) for j, e in encoded.items()}
    idf: dict[int, dict[str, float]] = {}
    for article, members in by_article.items():
        df = Counter(s for j in members for s in bags[j])
        idf[article] = {s: math.log(1 + len(members) / c) for s, c in df.items()}
    added = 0
    for item in items:
        own = item["paragraph"]
        article = paragraphs[own]["article"]
        question = encode(paragraphs[own]["qas"][item["qa"]]["question"], vocab)
        terms = {s for s, f in zip(question.stems, question.folded, strict=True) if is_content(f)}

        def likeness(j: int, terms: set[str] = terms, article: int = article) -> float:
            bag = bags[j]  # each term's count, saturating as in BM25, times its idf
            return sum(idf[article][t] * bag[t] / (bag[t] + 1.2) for t in terms if bag[t])

        siblings = sorted((j for j in by_article[article] if j != own), key=lambda j: -likeness(j))
        item["distractors"] = []
        for j in siblings:
            folded = paragraphs[j]["context"].casefold()
            if len(encoded[j].tokens) > MAX_PASSAGE or any(
                g.casefold() in folded for g in item["golds"]
            ):
                continue
            item["distractors"].append(
                {
                    "p_words": encoded[j].words,
                    "p_spell": encoded[j].spelling,
                    "p_feats": features(encoded[j], question),
                }
            )
            if len(item["distractors"]) == k:
                break
        added += len(item["distractors"])
    return added


def _without_sentence(context: str, offset: int) -> str:
    """The paragraph without the sentence holding `offset` ("" when fewer than two
    sentences would be left: too little to read as a paragraph)."""
    kept = [context[s:e] for s, e, _ in sentence_spans(context) if not s <= offset < e]
    return " ".join(kept) if len(kept) > 1 else ""


def _item(passage: Encoded, question: Encoded, context: str, qa: dict[str, Any]) -> dict[str, Any]:
    q = slice(0, MAX_QUESTION)  # features see the whole question, the network its head
    return {
        "p_words": passage.words,
        "p_spell": passage.spelling,
        "p_feats": features(passage, question),
        "q_words": question.words[q],
        "q_spell": question.spelling[q],
        "starts": passage.tokens.starts,
        "ends": passage.tokens.ends,
        "context": context,
        "golds": [a["text"] for a in qa["answers"]],
    }


def _target(passage: Encoded, answer: dict[str, Any]) -> tuple[int, int] | None:
    start = answer["answer_start"]
    end = start + len(answer["text"].rstrip())
    starts, ends = passage.tokens.starts, passage.tokens.ends
    first = next((i for i, e in enumerate(ends) if e > start), None)
    last = next((i for i in range(len(starts) - 1, -1, -1) if starts[i] < end), None)
    if first is None or last is None or last < first or last - first >= MAX_ANSWER_TOKENS:
        return None
    return first, last


def batches(items: list[dict[str, Any]], size: int, rng: random.Random) -> list[list[int]]:
    """Batches of similar passage lengths (little padding), in random order. An item's
    length is that of its longest passage, distractors included."""

    def length(item: dict[str, Any]) -> int:
        return max(len(p["p_words"]) for p in [item, *item.get("distractors", [])])

    order = sorted(range(len(items)), key=lambda i: (length(items[i]), rng.random()))
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    return chunks


def split_dev(path: Path, v2: Path) -> list[dict[str, Any]]:
    """Paragraphs of the v1.1 dev articles also in v2.0 dev (the test split is never read)."""
    tuning = {a["title"] for a in json.loads(v2.read_text())["data"]}
    data = json.loads(path.read_text())["data"]
    return [p for a in data if a["title"] in tuning for p in a["paragraphs"]]
