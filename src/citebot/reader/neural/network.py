"""The neural reader's forward pass in numpy: passages and a question -> start, end and
no-answer scores.

The same computation as `Reader.forward` in `scripts/train_neural.py` (a test checks the
two agree), with the weights that script exports. Passages are read as one batch:
every GRU step is one matrix product for all of them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

from citebot.reader.neural.encode import Encoded, FloatArray, Vocabulary

MAX_ANSWER_TOKENS = 15  # an answer is at most this many tokens (99.4 % of SQuAD train's are)
# A passage's scores: each token's as the answer's start, as its end, and the pair
# (start, end) of "no answer in this passage", comparable with a span's start + end.
Scores = tuple[FloatArray, FloatArray, FloatArray]
# The shipped networks: one file per training seed (`scripts/train_neural.py --seed N`).
WEIGHTS = tuple(sorted(Path(__file__).parent.glob("weights-seed*.npz")))
# Tables stored as int8 with a float16 scale per row (`quantize_rows`), the rest as
# float16: the word table is most of a network (4.1 of its 5.4 MB in float16), and at
# 8 bits more networks fit in the repository's 25 MB.
QUANTIZED = ("words.weight",)


@dataclass(frozen=True)
class Gru:
    """One bidirectional GRU layer: (input, hidden, bias) weights per direction, torch's layout."""

    forward: tuple[FloatArray, FloatArray, FloatArray, FloatArray]
    backward: tuple[FloatArray, FloatArray, FloatArray, FloatArray]


@dataclass(frozen=True)
class Network:
    """The exported weights, ready to compute with."""

    vocabulary: Vocabulary
    meta: dict[str, Any]
    words: FloatArray
    spelling: FloatArray
    align: tuple[FloatArray, FloatArray]
    passage_rnn: list[Gru]
    question_rnn: list[Gru]
    pool: tuple[FloatArray, FloatArray]
    start: tuple[FloatArray, FloatArray]
    end: tuple[FloatArray, FloatArray]
    no_answer: tuple[FloatArray, FloatArray]

    def scores(
        self, question: Encoded, passages: list[Encoded], features: list[FloatArray]
    ) -> list[Scores]:
        """Start, end and no-answer logits of every passage."""
        return forward((self,), question, passages, features)[0]

    def _passage_input(
        self,
        question: Encoded,
        passages: list[Encoded],
        features: list[FloatArray],
        lengths: npt.NDArray[np.int64],
    ) -> FloatArray:
        """The passage GRU's input (b, t, d): each token's embeddings, the question
        embedding aligned to it by attention, and its lexical features."""
        x = np.zeros((len(passages), int(lengths.max()), self._passage_width()), dtype=np.float32)
        q_words = self.words[question.words]
        q_keys = _relu(q_words @ self.align[0].T + self.align[1])
        for k, (p, feats) in enumerate(zip(passages, features, strict=True)):
            n = len(p.words)
            if n == 0:
                continue
            p_words = self.words[p.words]
            att = _softmax(_relu(p_words @ self.align[0].T + self.align[1]) @ q_keys.T)
            x[k, :n] = np.concatenate([self._tokens(p), att @ q_words, feats], axis=1)
        return x

    def _pointers(
        self, q: FloatArray, p_out: FloatArray, lengths: npt.NDArray[np.int64]
    ) -> list[Scores]:
        """The start and end scores: each passage token's state against the question's
        self-attended summary, through the bilinear start and end weights; the no-answer
        pair from the passage's states (max-pooled, and pooled by the start
        probabilities) and the question summary."""
        weights = _softmax(q @ self.pool[0].T[:, 0] + self.pool[1][0])
        q_vec = weights @ q
        start_vec = self.start[0] @ q_vec + self.start[1]
        end_vec = self.end[0] @ q_vec + self.end[1]
        out = []
        for k, n in enumerate(lengths.tolist()):
            states = p_out[k, :n]
            start = states @ start_vec
            pooled = np.concatenate([states.max(axis=0), _softmax(start) @ states, q_vec])
            out.append((start, states @ end_vec, self.no_answer[0] @ pooled + self.no_answer[1]))
        return out

    def _tokens(self, text: Encoded) -> FloatArray:
        spelled = self.spelling[text.spelling].reshape(len(text.words), -1)
        return np.concatenate([self.words[text.words], spelled], axis=1)

    def _passage_width(self) -> int:
        return int(self.passage_rnn[0].forward[0].shape[1])


@dataclass(frozen=True)
class Ensemble:
    """Networks trained alike from different seeds, answering as one: their start and end
    scores are averaged, so each member's idiosyncratic mistakes are outvoted."""

    members: tuple[Network, ...]

    @property
    def vocabulary(self) -> Vocabulary:
        return self.members[0].vocabulary

    def each(
        self, question: Encoded, passages: list[Encoded], features: list[FloatArray]
    ) -> list[list[Scores]]:
        """Every member's `Network.scores` (whether they agree is evidence too)."""
        return forward(self.members, question, passages, features)


def average(runs: list[list[Scores]]) -> list[Scores]:
    """The members' scores of each passage, averaged token by token."""
    return [
        (
            np.mean([r[k][0] for r in runs], axis=0),
            np.mean([r[k][1] for r in runs], axis=0),
            np.mean([r[k][2] for r in runs], axis=0),
        )
        for k in range(len(runs[0]))
    ]


def load_ensemble(paths: Sequence[Path] = WEIGHTS) -> Ensemble:
    """The networks of `paths`, which must share their vocabulary and features (they encode
    a text once for all of them)."""
    if not paths:
        raise NetworkError("no network weights found; run scripts/train_neural.py")
    members = tuple(load_network(p) for p in paths)
    first = members[0]
    for path, member in zip(paths[1:], members[1:], strict=True):
        if (
            member.vocabulary != first.vocabulary
            or member.meta["features"] != first.meta["features"]
        ):
            raise NetworkError(
                f"{path} was trained with another vocabulary or features than {paths[0]}; "
                "train every member from the same data with the same --min-count"
            )
    return Ensemble(members)


class NetworkError(ValueError):
    """Weights that cannot be used together."""


@functools.cache
def _blas() -> ThreadpoolController:
    """The process's thread pools (found once: looking them up scans the loaded libraries)."""
    return ThreadpoolController()


def best_span(
    start: FloatArray, end: FloatArray, longest: int = MAX_ANSWER_TOKENS
) -> tuple[int, int, float]:
    """(first, last, score) maximising start[first] + end[last] with
    first <= last < first + longest."""
    best = (0, 0, -np.inf)
    n = len(start)
    for gap in range(min(longest, n)):
        total = start[: n - gap] + end[gap:]
        i = int(np.argmax(total))
        if total[i] > best[2]:
            best = (i, i + gap, float(total[i]))
    return best


def load_network(path: Path) -> Network:
    """Read the weights `scripts/train_neural.py` exported."""
    w, words, meta = read_export(path)
    if "no_answer.weight" not in w:
        raise NetworkError(
            f"{path} was exported before the no-answer head; retrain it with "
            "scripts/train_neural.py"
        )
    vocabulary = Vocabulary(words)

    def pair(name: str) -> tuple[FloatArray, FloatArray]:
        return w[f"{name}.weight"], w[f"{name}.bias"]

    def stack(name: str) -> list[Gru]:
        layers = []
        for k in range(int(meta["layers"])):
            p = f"{name}.{k}."
            forward, backward = (
                (
                    w[f"{p}weight_ih_l0{s}"],
                    w[f"{p}weight_hh_l0{s}"],
                    w[f"{p}bias_ih_l0{s}"],
                    w[f"{p}bias_hh_l0{s}"],
                )
                for s in ("", "_reverse")
            )
            layers.append(Gru(forward, backward))
        return layers

    return Network(
        vocabulary=vocabulary,
        meta=meta,
        words=w["words.weight"],
        spelling=w["spelling.weight"],
        align=pair("align"),
        passage_rnn=stack("passage_rnn"),
        question_rnn=stack("question_rnn"),
        pool=pair("pool"),
        start=pair("start"),
        end=pair("end"),
        no_answer=pair("no_answer"),
    )


def read_export(path: Path) -> tuple[dict[str, FloatArray], tuple[str, ...], dict[str, Any]]:
    """(weights as float32 by torch's names, the vocabulary's words, the settings) of a
    network file that `save_network` wrote."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays.pop("meta")))
    words = tuple(str(w) for w in arrays.pop("vocabulary"))
    return float_weights(arrays), words, meta


def save_network(
    path: Path, weights: dict[str, FloatArray], words: Sequence[str], meta: dict[str, Any]
) -> None:
    """Write a network for `load_network`: its weights (torch's names) as float16, the
    `QUANTIZED` tables as int8 with a scale per row, the vocabulary and the settings."""
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name, table in weights.items():
        if name in QUANTIZED:
            arrays[f"{name}.int8"], arrays[f"{name}.scale"] = quantize_rows(table)
        else:
            arrays[name] = table.astype(np.float16)
    arrays["vocabulary"] = np.array(list(words))
    arrays["meta"] = np.array(json.dumps(meta))
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, allow_pickle=False, **arrays)
    tmp.replace(path)


def quantize_rows(table: FloatArray) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float16]]:
    """(values, scale): int8 values and a float16 scale per row, each row's largest
    magnitude becoming 127, so that a row is about `values * scale`."""
    scale = (np.abs(table).max(axis=1) / 127.0).astype(np.float16)
    scale[scale == 0] = 1.0  # an all-zero row stays zero at any scale
    values = np.rint(table / scale.astype(np.float32)[:, None])
    return np.clip(values, -127, 127).astype(np.int8), scale


def float_weights(arrays: dict[str, npt.NDArray[Any]]) -> dict[str, FloatArray]:
    """An export's weight arrays as float32, each int8 table (`NAME.int8` with
    `NAME.scale`) restored under NAME."""
    out = {}
    for name, values in arrays.items():
        if name.endswith(".int8"):
            table = name.removesuffix(".int8")
            restored = values.astype(np.float32)
            restored *= arrays[f"{table}.scale"].astype(np.float32)[:, None]  # in place
            out[table] = restored
        elif not name.endswith(".scale"):
            out[name] = values.astype(np.float32)
    return out


def forward(
    members: Sequence[Network],
    question: Encoded,
    passages: list[Encoded],
    features: list[FloatArray],
) -> list[list[Scores]]:
    """Each member's `Scores` of every passage.

    The members' GRUs advance together, one batched product per step for all of them:
    a step's cost is mostly numpy's per-call overhead, so three networks read in about
    the time of two run one after the other. BLAS runs on one thread: the products are
    small, and a second BLAS thread costs more in handing over than it computes (six
    times the whole reading on a loaded 2-core machine, measured).
    """
    with _blas().limit(limits=1, user_api="blas"):
        q_len = np.array([len(question.words)])
        q_outs = _stacks(
            [m.question_rnn for m in members], [m._tokens(question)[None] for m in members], q_len
        )
        lengths = np.array([len(p.words) for p in passages])
        p_ins = [m._passage_input(question, passages, features, lengths) for m in members]
        p_outs = _stacks([m.passage_rnn for m in members], p_ins, lengths)
        return [
            m._pointers(q[0], p, lengths) for m, q, p in zip(members, q_outs, p_outs, strict=True)
        ]


def _stacks(
    stacks: list[list[Gru]], xs: list[FloatArray], lengths: npt.NDArray[np.int64]
) -> list[FloatArray]:
    """For each network's stack of layers and its batch (b, t, d) of sequences of
    `lengths`: every layer's outputs concatenated."""
    rows = np.arange(len(xs[0]))[:, None]
    # Each sequence is read backwards from its own last token, not from the padding.
    flip = _reverse_index(lengths, xs[0].shape[1])
    padding = np.arange(xs[0].shape[1])[None, :] >= lengths[:, None]
    outputs: list[list[FloatArray]] = [[] for _ in xs]
    for depth in range(len(stacks[0])):
        layers = [stack[depth] for stack in stacks]
        states = _grus(layers, xs, [x[rows, flip] for x in xs])
        xs = []
        for k, (ahead, behind) in enumerate(states):
            x = np.concatenate([ahead, behind[rows, flip]], axis=2)
            x[padding] = 0.0
            outputs[k].append(x)
            xs.append(x)
    return [np.concatenate(layer_outputs, axis=2) for layer_outputs in outputs]


def _reverse_index(lengths: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.int64]:
    """Per row, the positions that read its first `length` items backwards (padding stays)."""
    steps = np.arange(width)[None, :]
    flipped = lengths[:, None] - 1 - steps
    return np.where(steps < lengths[:, None], flipped, steps)


def _grus(
    layers: list[Gru], aheads: list[FloatArray], behinds: list[FloatArray]
) -> list[tuple[FloatArray, FloatArray]]:
    """torch.nn.GRU's recurrence (gates r, z, n in that order) over batches (b, t, d): for
    each layer, its forward direction over its `aheads` batch and its backward one over
    its `behinds` batch (already reversed). Every direction of every layer is a lane of
    one batched product per step."""
    directions = [d for layer in layers for d in (layer.forward, layer.backward)]
    inputs = [x for pair in zip(aheads, behinds, strict=True) for x in pair]
    hidden = directions[0][1].shape[1]
    # Every step's input part at once, one lane per direction: (lanes, b, t, 3h).
    gi_all = np.stack(
        [x @ w_ih.T + b_ih for x, (w_ih, _, b_ih, _) in zip(inputs, directions, strict=True)]
    )
    w_hh = np.stack([d[1].T for d in directions])  # (lanes, h, 3h)
    b_hh = np.stack([d[3] for d in directions])[:, None, :]  # (lanes, 1, 3h)
    lanes, batch, steps = len(directions), aheads[0].shape[0], aheads[0].shape[1]
    h = np.zeros((lanes, batch, hidden), dtype=np.float32)
    out = np.empty((lanes, batch, steps, hidden), dtype=np.float32)
    for t in range(steps):
        gi = gi_all[:, :, t]
        gh = np.matmul(h, w_hh) + b_hh
        rz = _sigmoid(gi[..., : 2 * hidden] + gh[..., : 2 * hidden])
        r, z = rz[..., :hidden], rz[..., hidden:]
        n = np.tanh(gi[..., 2 * hidden :] + r * gh[..., 2 * hidden :])
        h = n + z * (h - n)  # (1 - z) * n + z * h
        out[:, :, t] = h
    return [(out[2 * k], out[2 * k + 1]) for k in range(len(layers))]


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (np.tanh(0.5 * x) + 1.0)  # the logistic function, no overflow
    return out


def _relu(x: FloatArray) -> FloatArray:
    return np.maximum(x, 0.0)


def _softmax(x: FloatArray) -> FloatArray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    out: FloatArray = e / e.sum(axis=-1, keepdims=True)
    return out
