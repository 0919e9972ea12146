"""Re-ranking BM25's best passages by where the question's words sit inside them.

`Index.search` re-ranks the best `RERANK_DEPTH` passages by where the question's
words sit inside them. BM25 sees a passage as a bag of words; a question is
usually answered by one sentence that holds most of its words, often in the
question's own order ("the Bank of England raised" / "when did the Bank of
England raise"). Two cheap scores, both in [0, 1], are added to the BM25 score
(scaled by the best BM25 score of the query so that they weigh the same for
every question): the idf-weighted share of the question's terms found in the
passage's best single sentence, and the share of the question's adjacent term
pairs (stop words skipped) found adjacent in some sentence of the passage.
Weights (0.25 each) and depth were chosen on the "train" half of the SQuAD dev
articles and hold on the held-out half; nothing in them is specific to SQuAD
(scripts/retrieval_grid.py measures every variant). `search` wants only the best
k: a hit whose BM25 score plus the largest bonus its passage's index terms allow
cannot reach them has its sentences left unread (most of the 20 on a cold question).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from heapq import heappush, heappushpop
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from citebot.retrieval.offsets import body_of, sentences_apart
from citebot.text.tokenizer import term_pairs, term_set

if TYPE_CHECKING:  # the index calls this module; at run time it is handed one
    from citebot.retrieval.index import Index

# Re-ranking (see the module docstring): how many of BM25's best passages are re-ordered,
# and the weight of each second score relative to the query's best BM25 score.
RERANK_DEPTH = 20


SENTENCE_WEIGHT = 0.25


BIGRAM_WEIGHT = 0.25


def reranked(
    index: Index, terms: Sequence[str], ids: list[int], bm25: list[float], *, keep: int | None
) -> list[tuple[int, float]] | None:
    """`rerank` of the passages `ids` with BM25 scores `bm25`: (position in `ids`, new
    score) of each hit read, best first; None when there is nothing to re-rank by."""
    top = max(bm25, default=0.0)
    if top <= 0 or not terms:
        return None
    idf = {t: index.idf(t) for t in terms}
    total = sum(idf.values()) or 1.0
    wanted_pairs = set(pairwise(terms))
    keep = len(ids) if keep is None else keep
    # Where every hit's sentences are, read at once: the ceilings' `apart` and the texts.
    offsets = index.passages.sentence_offsets(ids)
    articles = index.rows  # the article of each row of the passage table
    apart = [sentences_apart(body_of(articles[p]), a, b) for p, _, a, b in offsets[keep:]]
    ceilings = _bonus_ceilings(
        index, np.asarray(ids[keep:], dtype=np.int64), idf, total, wanted_pairs, top, apart
    )
    best_scores: list[float] = []  # the best `keep` scores so far (a heap: lowest first)
    scored: list[tuple[int, float]] = []
    for n, (position, _, starts, ends) in enumerate(offsets):
        # At best equal to the keep-th best score so far is not enough: the `keep` hits
        # scoring at least that come before this one, and the sort is stable.
        if n >= keep and bm25[n] + ceilings[n - keep] <= best_scores[0]:
            continue
        body = body_of(articles[position])
        best = 0.0
        pairs: set[tuple[str, str]] = set()
        for start, end in zip(starts, ends, strict=True):
            text = body[start:end]
            present = term_set(text)
            held = list(filter(present.__contains__, idf))
            # The idf of the query terms present, summed in query order (as the ceilings).
            best = max(best, sum(map(idf.__getitem__, held)) / total)
            if len(held) > 1 and wanted_pairs:  # a pair needs two of them
                pairs |= term_pairs(text) & wanted_pairs
        share = len(pairs) / len(wanted_pairs) if wanted_pairs else 0.0
        score = bm25[n] + top * (SENTENCE_WEIGHT * best + BIGRAM_WEIGHT * share)
        scored.append((n, score))
        if len(best_scores) < keep:
            heappush(best_scores, score)
        else:
            heappushpop(best_scores, score)
    return sorted(scored, key=lambda item: -item[1])


def _bonus_ceilings(
    index: Index,
    ids: npt.NDArray[np.int64],
    idf: dict[str, float],
    total: float,
    wanted_pairs: set[tuple[str, str]],
    top: float,
    apart: Sequence[bool],
) -> list[float]:
    """For each passage of `ids`, a bonus `rerank` cannot exceed: the one it would get if a
    single sentence held every query term the passage is indexed with, and some sentence
    every wanted pair of them (infinite when that is not known to bound it).

    A sentence's terms are among its passage's index terms when whitespace separates
    the passage's sentences (`apart`, `offsets.sentences_apart`): the index tokenised the
    text spanning them (and the title), and a word run never holds whitespace, so each
    sentence's runs are runs of that text. Every step then takes at least the values the
    exact bonus takes, and float sums of positive idfs (in the same order: adding 0.0 for
    a term a passage lacks leaves a sum as it is), products and quotients do not
    decrease when their operands do not: the ceiling is never below the bonus.
    """
    if not len(ids):
        return []
    holds = {t: index.bm25.holds(t, ids) for t in idf}
    best = np.zeros(len(ids))
    for t, w in idf.items():
        best += w * holds[t]
    pairs = np.zeros(len(ids))
    for a, b in wanted_pairs:
        pairs += holds[a] & holds[b]
    share = pairs / len(wanted_pairs) if wanted_pairs else pairs
    ceilings = top * (SENTENCE_WEIGHT * (best / total) + BIGRAM_WEIGHT * share)
    ceilings[~np.asarray(apart, dtype=np.bool_)] = math.inf
    out: list[float] = ceilings.tolist()
    return out
