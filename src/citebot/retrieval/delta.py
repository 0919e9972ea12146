"""Updating an index in time proportional to the change: a main index and a small delta.

A change to the corpus (an ingested page, a feed poll, an edited file) leaves the main
index as it is -- its 550 MB at 1M passages are neither recomputed nor rewritten -- and
indexes the new and changed articles alone, in a delta; the main index's rows of
replaced and removed articles are marked dead (tombstones). Both are searched as one
(`segments.DeltaBM25`, the same scores as a rebuilt index). Each later change rebuilds
the delta from the previous one (only articles it lacks are split), against the same
main index. When the delta and the dead rows together pass `FOLD_SHARE` of the main
index's passages, or the main index's articles no longer come in its order, the delta is
folded: the main index is updated as before (`index.update`, equal to a full build), the
delta's articles indexed from its tables without splitting them again.

Rows and ids: the main index's rows (dead ones too) then the delta's, so passage ids of
unchanged articles stay the same while a delta grows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from citebot.binfile import IndexFormatError
from citebot.corpus.articles import Article, Corpus
from citebot.retrieval.bm25 import BM25Index
from citebot.retrieval.index import Index, Split, update
from citebot.retrieval.offsets import Offsets
from citebot.retrieval.segments import DeltaBM25

# A delta (its passages plus the main index's dead ones) larger than this share of the
# main index's passages is folded into it: searching costs a little more with a delta
# (its weights are computed per query), and a fold at 1M passages costs ~4 s.
FOLD_SHARE: Final = 0.05

Key = tuple[str, str]  # an article's (id, content hash)


@dataclass(frozen=True)
class Main:
    """A main index: its tables, BM25 index and each row's article's content hash (None:
    not known). The hash covers the id too, so it names an article's version alone."""

    hashes: Sequence[str | None]
    offsets: Offsets
    bm25: BM25Index
    version: str  # the version of the corpus it was built from

    @functools.cached_property
    def rows(self) -> dict[str | None, int]:
        """Row of each article, made once per main index (20 ms at 1M passages)."""
        return dict(zip(self.hashes, range(len(self.hashes)), strict=True))


@dataclass(frozen=True)
class Delta:
    """The articles a main index lacks, indexed alone, and the main rows now dead."""

    keys: list[Key]
    positions: list[int]  # where each of its articles stands in the corpus
    offsets: Offsets
    bm25: BM25Index
    dead: npt.NDArray[np.bool_]  # one flag per main row (article)


@dataclass(frozen=True)
class Segments:
    """What an index of a main index and a delta was made of, to update or save it."""

    main: Main
    delta: Delta


def main_of(index: Index) -> Main:
    """The main index of `index`: itself when it has no delta."""
    if index.segments is not None:
        return index.segments.main
    if not isinstance(index.bm25, BM25Index):
        raise TypeError("an index with a delta keeps its segments")
    hashes = [a.content_hash for a in index.corpus.articles]
    return Main(hashes, index.offsets, index.bm25, index.version)


def next_index(
    previous: Index, corpus: Corpus, *, fold_share: float = FOLD_SHARE, progress: bool = False
) -> Index:
    """The index of `corpus`, from `previous`: with a delta, or folded (module docstring)."""
    main = main_of(previous)
    delta = previous.segments.delta if previous.segments is not None else None
    index = derive(main, delta, corpus, fold_share=fold_share, progress=progress)
    return index if index is not None else fold(main, delta, corpus, progress=progress)


def derive(
    main: Main,
    previous: Delta | None,
    corpus: Corpus,
    *,
    fold_share: float = FOLD_SHARE,
    progress: bool = False,
) -> Index | None:
    """`corpus` as `main` and a delta made from `previous` (its articles are not split
    again); None when the delta would be too large or the main index's order is lost."""
    # In C where it can be: this is most of an update's cost at 1M passages (182k articles).
    found = list(map(main.rows.get, [a.content_hash for a in corpus.articles]))
    positions = [i for i, row in enumerate(found) if row is None]
    kept = np.fromiter((row for row in found if row is not None), np.int64)
    if bool(np.any(np.diff(kept) <= 0)):
        return None  # moved before another kept article: rows and corpus disagree
    live = np.zeros(len(main.hashes), dtype=np.bool_)
    live[kept] = True
    fresh = [corpus.articles[i] for i in positions]
    dead = ~live
    if not fresh and not dead.any():  # the main index's own corpus: no delta to keep
        return Index(corpus, main.offsets, main.bm25)
    budget = fold_share * main.offsets.n_passages
    dead_passages = int(np.diff(main.offsets.article_passages)[dead].sum())
    if dead_passages > budget:
        return None
    part = Corpus.model_construct(articles=tuple(fresh), problems=())
    if previous is None:
        indexed = Index.build(part, progress=progress)
    else:
        indexed = update(previous.keys, previous.offsets, previous.bm25, part, progress=progress)
    if dead_passages + indexed.offsets.n_passages > budget:
        return None
    assert isinstance(indexed.bm25, BM25Index)  # built or updated alone: no delta
    keys = [(a.id, a.content_hash) for a in fresh]
    return combine(corpus, main, Delta(keys, positions, indexed.offsets, indexed.bm25, dead))


def fold(main: Main, delta: Delta | None, corpus: Corpus, *, progress: bool = False) -> Index:
    """The index of `corpus` without a delta: `main` updated, equal to a full build."""
    presplit: dict[Key, Split] = {}
    if delta is not None:
        presplit = {key: spans(delta.offsets, j) for j, key in enumerate(delta.keys)}
    ids = {a.content_hash: a.id for a in corpus.articles}  # a hash names its id too
    # A row whose article is gone or not known is dropped: no article has an empty id.
    keys = [(ids.get(h, "") if h else "", h or "") for h in main.hashes]
    return update(keys, main.offsets, main.bm25, corpus, progress=progress, presplit=presplit)


def combine(corpus: Corpus, main: Main, delta: Delta, *, check: bool = False) -> Index:
    """The index of `corpus` searched as `main` less its dead rows plus `delta`.

    `check`: verify that every row's offsets lie inside its article (a delta read from
    disk); IndexFormatError if the parts do not fit the corpus.
    """
    articles = corpus.articles
    in_delta = set(delta.positions)
    kept = [a for position, a in enumerate(articles) if position not in in_delta]
    live_rows = np.flatnonzero(~delta.dead).tolist()
    if len(kept) != len(live_rows) or len(in_delta) != len(delta.keys):
        raise IndexFormatError("the index delta does not match the corpus")
    rows: list[Article | None] = [None] * len(main.hashes)
    for row, article in zip(live_rows, kept, strict=True):
        rows[row] = article
    rows.extend(articles[position] for position in delta.positions)
    offsets = joined(main.offsets, delta.offsets)
    if check:
        offsets.check(rows)
    dead = np.repeat(delta.dead, np.diff(main.offsets.article_passages))  # rows -> passages
    index = Index(corpus, offsets, DeltaBM25(main.bm25, delta.bm25, dead), rows=rows)
    index.segments = Segments(main, delta)
    return index


def joined(first: Offsets, second: Offsets) -> Offsets:
    """The rows of `first`, then those of `second`."""
    s, p = first.article_sentences, first.article_passages
    return Offsets(
        article_sentences=np.concatenate([s, second.article_sentences[1:] + s[-1]]),
        article_passages=np.concatenate([p, second.article_passages[1:] + p[-1]]),
        sentence_start=np.concatenate([first.sentence_start, second.sentence_start]),
        sentence_end=np.concatenate([first.sentence_end, second.sentence_end]),
        sentence_paragraph=np.concatenate([first.sentence_paragraph, second.sentence_paragraph]),
        passage_first=np.concatenate([first.passage_first, second.passage_first]),
        passage_last=np.concatenate([first.passage_last, second.passage_last]),
    )


def spans(offsets: Offsets, position: int) -> Split:
    """The sentence spans and passage bounds of row `position`, as a split gave them."""
    s0, s1 = int(offsets.article_sentences[position]), int(offsets.article_sentences[position + 1])
    p0, p1 = int(offsets.article_passages[position]), int(offsets.article_passages[position + 1])
    sentences = zip(
        offsets.sentence_start[s0:s1].tolist(),
        offsets.sentence_end[s0:s1].tolist(),
        offsets.sentence_paragraph[s0:s1].tolist(),
        strict=True,
    )
    bounds = zip(
        offsets.passage_first[p0:p1].tolist(), offsets.passage_last[p0:p1].tolist(), strict=True
    )
    return list(sentences), list(bounds)
