"""The reader network in torch, for training (`scripts/train_neural.py`): the model, the
padding of a batch, and the shared-normalisation loss. `network.py` computes the same
forward pass in numpy for answering, with no torch.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from citebot.reader.neural.encode import FEATURES, SPELLING_BUCKETS


class Reader(nn.Module):
    """The network; `network.py` computes the same forward pass in numpy."""

    def __init__(self, vocab: int, dim: int, spell: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.words = nn.Embedding(vocab, dim, padding_idx=0)
        self.spelling = nn.Embedding(SPELLING_BUCKETS, spell)
        self.align = nn.Linear(dim, dim)
        token = dim + 3 * spell
        self.passage_rnn = _stack(token + dim + len(FEATURES), hidden, layers)
        self.question_rnn = _stack(token, hidden, layers)
        width = 2 * hidden * layers
        self.pool = nn.Linear(width, 1)
        self.start = nn.Linear(width, width)
        self.end = nn.Linear(width, width)
        self.dropout = nn.Dropout(0.3)
        # The no-answer head: a start and an end score for "no span here", from the
        # passage's max-pooled states, its states pooled where the answer likely starts,
        # and the question summary. Zero until trained (`--no-answer-from`).
        self.no_answer = nn.Linear(3 * width, 2)
        nn.init.zeros_(self.no_answer.weight)
        nn.init.zeros_(self.no_answer.bias)

    def _token(self, words: torch.Tensor, spelling: torch.Tensor) -> torch.Tensor:
        spelled = self.spelling(spelling).flatten(2)
        return torch.cat([self.words(words), spelled], dim=-1)

    def _rnn(self, stack: nn.ModuleList, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Every layer's outputs, concatenated (DrQA's "concat_rnn_layers")."""
        outputs = []
        for rnn in stack:
            packed = pack_padded_sequence(
                self.dropout(x), lengths, batch_first=True, enforce_sorted=False
            )
            out, _ = rnn(packed)
            x, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            outputs.append(x)
        return torch.cat(outputs, dim=-1)

    def forward(
        self, b: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Start and end scores of every passage token (b, t), and the no-answer pair (b, 2)."""
        q_mask, p_mask = b["q_words"] > 0, b["p_words"] > 0
        q_tok = self._token(b["q_words"], b["q_spell"])
        p_tok = self._token(b["p_words"], b["p_spell"])
        # Aligned question embedding: each passage token's attention over the question words.
        pa = torch.relu(self.align(self.words(b["p_words"])))
        qa = torch.relu(self.align(self.words(b["q_words"])))
        att = pa @ qa.transpose(1, 2)
        att = att.masked_fill(~q_mask[:, None, :], -1e9).softmax(-1)
        aligned = att @ self.words(b["q_words"])
        p_in = torch.cat([p_tok, aligned, b["p_feats"]], dim=-1)
        p = self._rnn(self.passage_rnn, p_in, b["p_len"])
        q = self._rnn(self.question_rnn, q_tok, b["q_len"])
        weights = self.pool(q).squeeze(-1).masked_fill(~q_mask, -1e9).softmax(-1)
        q_vec = (weights[:, :, None] * q).sum(1)
        start = (p * self.start(q_vec)[:, None, :]).sum(-1).masked_fill(~p_mask, -1e9)
        end = (p * self.end(q_vec)[:, None, :]).sum(-1).masked_fill(~p_mask, -1e9)
        p_max = p.masked_fill(~p_mask[:, :, None], -1e9).max(1).values
        p_start = (start.softmax(-1)[:, :, None] * p).sum(1)
        null = self.no_answer(torch.cat([p_max, p_start, q_vec], dim=-1))
        return start, end, null


def _stack(size: int, hidden: int, layers: int) -> nn.ModuleList:
    """One bidirectional GRU per layer, each reading the one below (dropout in between)."""
    return nn.ModuleList(
        nn.GRU(size if k == 0 else 2 * hidden, hidden, 1, batch_first=True, bidirectional=True)
        for k in range(layers)
    )


# ------------------------------------------------------------------------------ batches


def collate(items: list[dict[str, Any]], distractors: bool = False) -> dict[str, Any]:
    """The items as padded tensors. With `distractors`, each item's distractor passages
    (read with its question) follow the items as further rows, and "groups" lists, per
    item, the rows of its distractors."""
    if distractors:
        rows, groups = list(items), []
        for it in items:
            extra = [
                {**d, "q_words": it["q_words"], "q_spell": it["q_spell"]}
                for d in it.get("distractors", [])
            ]
            groups.append(list(range(len(rows), len(rows) + len(extra))))
            rows += extra
        b = collate(rows)
        b["groups"] = groups
        if "target" in items[0]:
            b["start"], b["end"] = b["start"][: len(items)], b["end"][: len(items)]
        return b
    n = len(items)
    pl = max(len(it["p_words"]) for it in items)
    ql = max(len(it["q_words"]) for it in items)
    b = {
        "p_words": torch.zeros(n, pl, dtype=torch.long),
        "p_spell": torch.zeros(n, pl, 3, dtype=torch.long),
        "p_feats": torch.zeros(n, pl, len(FEATURES)),
        "q_words": torch.zeros(n, ql, dtype=torch.long),
        "q_spell": torch.zeros(n, ql, 3, dtype=torch.long),
    }
    for i, it in enumerate(items):
        k, m = len(it["p_words"]), len(it["q_words"])
        b["p_words"][i, :k] = torch.from_numpy(it["p_words"])
        b["p_spell"][i, :k] = torch.from_numpy(it["p_spell"])
        b["p_feats"][i, :k] = torch.from_numpy(it["p_feats"])
        b["q_words"][i, :m] = torch.from_numpy(it["q_words"])
        b["q_spell"][i, :m] = torch.from_numpy(it["q_spell"])
    b["p_len"] = torch.tensor([len(it["p_words"]) for it in items])
    b["q_len"] = torch.tensor([len(it["q_words"]) for it in items])
    if "target" in items[0]:  # an unanswerable question's target is the no-answer column
        targets = [it.get("target") for it in items]  # distractor rows have none
        b["start"] = torch.tensor([t[0] if t else pl for t in targets])
        b["end"] = torch.tensor([t[1] if t else pl for t in targets])
    return b


def shared_loss(start: torch.Tensor, end: torch.Tensor, b: dict[str, Any]) -> torch.Tensor:
    """Cross-entropy of the answer's first and last token among every token of its
    passage and of its distractors together (shared normalisation, Clark and Gardner
    2018): the scores of different passages are trained to compare, as the reader
    compares them across the retrieved passages. Items without distractors add nothing."""
    losses = [
        nn.functional.cross_entropy(scores[[i, *rows]].reshape(1, -1), target[i].reshape(1))
        for i, rows in enumerate(b["groups"])
        if rows
        for scores, target in ((start, b["start"]), (end, b["end"]))
    ]
    if not losses:
        return start.new_zeros(())
    return torch.stack(losses).sum() / (len(losses) // 2)  # per item, first and last token
