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
(scripts/retrieval_grid.py measures every variant).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

from citebot.retrieval.offsets import body_of
from citebot.text.tokenizer import term_pairs, term_set

if TYPE_CHECKING:  # the index calls this module; at run time it is handed one
    from citebot.retrieval.index import Index

# Re-ranking (see the module docstring): how many of BM25's best passages are re-ordered,
# and the weight of each second score relative to the query's best BM25 score.
RERANK_DEPTH = 20


SENTENCE_WEIGHT = 0.25


BIGRAM_WEIGHT = 0.25


def reranked(
    index: Index, terms: Sequence[str], ids: list[int], bm25: list[float]
) -> list[tuple[int, float]] | None:
    """`rerank` of the passages `ids` with BM25 scores `bm25`: (position in `ids`, new
    score) of each, best first; None when there is nothing to re-rank by."""
    top = max(bm25, default=0.0)
    if top <= 0 or not terms:
        return None
    idf = {t: index.idf(t) for t in terms}
    total = sum(idf.values()) or 1.0
    wanted_pairs = set(pairwise(terms))
    articles = index.rows  # the article of each row of the passage table
    scored: list[tuple[int, float]] = []
    for n, (position, _, starts, ends) in enumerate(index.passages.sentence_offsets(ids)):
        body = body_of(articles[position])
        best = 0.0
        pairs: set[tuple[str, str]] = set()
        for start, end in zip(starts, ends, strict=True):
            text = body[start:end]
            present = term_set(text)
            # The idf of the query terms present, summed in query order.
            best = max(best, sum(w for t, w in idf.items() if t in present) / total)
            pairs |= term_pairs(text) & wanted_pairs
        share = len(pairs) / len(wanted_pairs) if wanted_pairs else 0.0
        scored.append((n, bm25[n] + top * (SENTENCE_WEIGHT * best + BIGRAM_WEIGHT * share)))
    return sorted(scored, key=lambda item: -item[1])
