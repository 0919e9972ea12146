"""Decoding: from the span model's scores to the answer and the sentence it is quoted from.

Evidence aggregation (an answer proposed in several places adds up its probability)
and minimum Bayes risk (the answer with the highest expected EM + F1 against the
likeliest answers), then, for a list question, the sentence where the list is whole.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from citebot.reader.candidates import (
    SentenceTable,
)
from citebot.reader.choice import display
from citebot.reader.collect import Block
from citebot.reader.question import Question
from citebot.reader.spans import KIND_BIT
from citebot.text.tokenizer import words

ANSWERS_WEIGHED = 20  # the most probable answers the expected score is taken over


_ARTICLES = frozenset(["a", "an", "the"])  # left out of the F1, as SQuAD's scoring does


def most_supported(
    blocks: list[Block],
    scores: npt.NDArray[np.float32],
    starts: Sequence[int],
    *,
    overlap: bool = True,
) -> tuple[int, int]:
    """The answer with the highest expected EM + F1 under the span model (with `overlap`;
    else the most probable answer), and the place to quote it from (block, candidate).
    `scores` are the blocks' candidates' scores one block after the other, block k's
    from starts[k] to starts[k + 1].

    The model scores each occurrence alone. An answer's probability is summed over
    every place it is proposed: one two sentences support ("iMakerBase: the
    government-approved incubator" and "... iMakerBase (大公坊), Shenzhen's
    government approved startup incubator, ...") is better supported than one a
    single ambiguous sentence offers (evidence aggregation). Then, rather than the
    most probable answer, the one expected to score best against whichever answer
    is right (minimum Bayes risk): when "luxurious parks and royal gardens",
    "luxurious parks" and "royal gardens" share the probability, the whole phrase
    overlaps them all. The expectation runs over the ANSWERS_WEIGHED most probable.
    """
    top = float(scores.max())
    if not math.isfinite(top):
        return 0, 0
    probability = np.exp(scores.astype(np.float64) - top)
    support: dict[tuple[str, ...], float] = {}
    # Where each answer is proposed: block -> (its best probability there, candidate).
    spots: dict[tuple[str, ...], dict[int, tuple[float, int]]] = {}
    rows = np.flatnonzero(probability > 1e-4)
    k = 0
    for row, chance in zip(rows.tolist(), probability[rows].tolist(), strict=True):
        while row >= starts[k + 1]:  # (rows ascending: block after block)
            k += 1
        i = row - starts[k]
        key = _answer_key(blocks[k].scored.text, blocks[k].table, i)
        support[key] = support.get(key, 0.0) + chance
        spot = spots.setdefault(key, {})
        if k not in spot or chance > spot[k][0]:
            spot[k] = (chance, i)
    likely = sorted(support, key=lambda key: -support[key])[:ANSWERS_WEIGHED]
    bags = [[w for w in key if w not in _ARTICLES] for key in likely]
    p = np.asarray([support[key] for key in likely])
    expected = p
    if overlap:
        expected = pairwise_f1(bags) @ p + p  # F1, plus EM (1 only against itself)
    best = spots[likely[int(np.argmax(expected))]]  # ties: the more probable (sorted first)
    if len(best) == 1:
        [(k, (_, i))] = best.items()
        return k, i

    # Quoted from the sentence the model puts the most probability in, among those
    # that propose the answer (not merely where one candidate scored highest).
    def mass(k: int) -> tuple[float, int]:
        return float(probability[starts[k] : starts[k + 1]].sum()), -k

    k = max(best, key=mass)
    return k, best[k][1]


def _answer_key(sentence: str, table: SentenceTable, i: int) -> tuple[str, ...]:
    """The folded words of candidate i, as `words(candidate.text)` folds them.

    Read off the sentence's own words when none of them is cut by the candidate's
    edges: the tokenizer's pattern looks neither behind nor ahead, so a slice made of
    whole word runs (and whole CJK runs) has exactly those words. Otherwise (a cut
    word or CJK run, a text that is not the slice) the candidate's text is tokenised.
    """
    candidates = table.candidates
    start, end, text = candidates.starts[i], candidates.ends[i], candidates.text(i)
    folded, starts, ends = _word_bounds(sentence)
    a, b = int(table.first[i]), int(table.last[i])
    if (
        a <= b
        and starts[a] >= start
        and ends[b] <= end
        and (a == 0 or ends[a - 1] <= start)
        and (b + 1 == len(starts) or starts[b + 1] >= end)
        and text == sentence[start:end]
    ):
        return folded[a : b + 1]
    return tuple(w.folded for w in words(text))


@functools.lru_cache(maxsize=4096)
def _word_bounds(sentence: str) -> tuple[tuple[str, ...], list[int], list[int]]:
    """Folded form, start and end of each word of a sentence."""
    ws = words(sentence)
    return tuple(w.folded for w in ws), [w.start for w in ws], [w.end for w in ws]


def pairwise_f1(bags: list[list[str]]) -> npt.NDArray[np.float64]:
    """`text.bag_f1` of every pair of bags, as one matrix (the same values, computed with
    the same operations on whole arrays: 400 pairs in microseconds, not milliseconds)."""
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    columns: list[int] = []
    for row, bag in enumerate(bags):
        for token in bag:
            rows.append(row)
            columns.append(vocabulary.setdefault(token, len(vocabulary)))
    # counts[bag, token]: how often the bag holds the token
    width = max(len(vocabulary), 1)
    cells = np.asarray(rows, dtype=np.int64) * width + np.asarray(columns, dtype=np.int64)
    counts = np.bincount(cells, minlength=len(bags) * width).reshape(len(bags), width)
    sizes = counts.sum(axis=1).astype(np.float64)
    shared = np.minimum(counts[:, None, :], counts[None, :, :]).sum(axis=2).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = shared / sizes[:, None]
        recall = shared / sizes[None, :]
        f1 = 2 * precision * recall / (precision + recall)
    f1[shared == 0] = 0.0
    empty = sizes == 0  # an empty bag matches only another empty one
    if empty.any():
        f1[empty, :] = 0.0
        f1[:, empty] = 0.0
        f1[np.ix_(empty, empty)] = 1.0
    out: npt.NDArray[np.float64] = f1
    return out


def fullest_list(question: Question, blocks: list[Block], k: int) -> int:
    """For "which officials", the sentence that lists the most of them, among those whose
    best span is the winner's: the same answer said twice ("meetings with leaders
    including Carrie Lam" and "They include Carrie Lam, Matthew Cheung ... and Teresa
    Cheng") is quoted where the list is whole.
    """
    best = blocks[k].scored.span
    if best is None:
        return k
    kind = KIND_BIT[best.kind]

    def listed(block: Block) -> int:
        span = block.scored.span
        if span is None or span.text.casefold() != best.text.casefold():
            return -1
        text = block.scored.text
        shown = display(question, span, block.table.candidates, text)
        inside = sorted(
            (c.start, c.end)
            for c in block.table.candidates
            if c.flags & kind and shown.start <= c.start and c.end <= shown.end
        )
        count, end = 0, -1
        for start, stop in inside:  # distinct, non-overlapping items
            if start >= end:
                count, end = count + 1, stop
        return count

    counts = [listed(b) for b in blocks]
    top = max(counts)
    return k if counts[k] >= top else counts.index(top)
