"""Index terms of many passages at once, as term ids: what a million-passage build needs.

Each passage's terms are its article's title and its own text, tokenised by the bulk
path of the one tokenizer (`text.tokenizer.Runs`: each distinct word run once), with
the same terms as `tokenize` (tests compare them on arbitrary text).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from itertools import count
from typing import Final

import numpy as np
import numpy.typing as npt

from citebot.corpus.articles import Article
from citebot.text.tokenizer import (
    _ASCII_WORD_RE,
    _MAX_RUNS,
    _WORD_RE,
    Runs,
    run_terms,
    tokenize_fast,
)

__all__ = ["TermIds", "passage_terms"]


def passage_terms(
    article: Article,
    spans: Sequence[tuple[int, int, int]],
    bounds: Sequence[tuple[int, int]],
    runs: Runs | None = None,
) -> Iterator[list[str]]:
    """Each passage's index terms: its article's title, then its own text."""
    runs = Runs() if runs is None else runs
    title = list(tokenize_fast(article.title, runs))
    body = article.body
    for first, last in bounds:
        yield title + list(tokenize_fast(body[spans[first][0] : spans[last - 1][1]], runs))


# `_RunIds` codes for runs that are not exactly one term.
_STOP: Final = -1  # no term: a stop word
_MANY: Final = -2  # several terms: a CJK run, cut into bigrams


class _RunIds(dict[str, int]):
    """`word run -> its term id`, or a code when the run has no term or several."""

    def __init__(self, vocab: defaultdict[str, int]) -> None:
        super().__init__()
        self._vocab = vocab

    def __missing__(self, run: str) -> int:
        if len(self) >= _MAX_RUNS:
            self.clear()
        terms = run_terms(run)
        code = self._vocab[terms[0]] if len(terms) == 1 else _MANY if terms else _STOP
        self[run] = code
        return code

    def ids(self, run: str) -> tuple[int, ...]:
        """The term ids of any run (for the rare ones coded _MANY)."""
        return tuple(map(self._vocab.__getitem__, run_terms(run)))


class TermIds:
    """Term ids of every passage, gathered compactly (no per-passage Python lists kept).

    Each passage's runs are mapped to ids by one C-level `map` over a dict; stop words
    come out as -1 and are dropped in bulk at the end, so no Python code runs per word.
    """

    def __init__(self) -> None:
        self._vocab: defaultdict[str, int] = defaultdict(count().__next__)
        self._run_ids = _RunIds(self._vocab)
        self._buffer: list[int] = []
        self._chunks: list[npt.NDArray[np.int32]] = []
        self._lengths: list[int] = []  # raw ids per passage (stop words included)
        self._counted = 0  # passages whose lengths a flush has counted
        self._kept_lengths: list[npt.NDArray[np.int64]] = []

    def add(
        self,
        article: Article,
        spans: Sequence[tuple[int, int, int]],
        bounds: Sequence[tuple[int, int]],
    ) -> None:
        """Append the term ids of an article's passages (title words first in each)."""
        title = self._ids(article.title, 0, len(article.title))
        body = article.body
        buffer = self._buffer
        for first, last in bounds:
            before = len(buffer)
            buffer += title
            buffer += self._ids(body, spans[first][0], spans[last - 1][1])
            self._lengths.append(len(buffer) - before)
        if len(buffer) > 1 << 20:
            self._flush()

    def _ids(self, text: str, start: int, end: int) -> list[int]:
        """Term ids of text[start:end], with -1 for each stop word."""
        pattern = _ASCII_WORD_RE if text.isascii() else _WORD_RE
        ids = list(map(self._run_ids.__getitem__, pattern.findall(text, start, end)))
        if _MANY in ids:
            runs = pattern.findall(text, start, end)
            ids = [
                j
                for run, code in zip(runs, ids, strict=True)
                for j in (self._run_ids.ids(run) if code == _MANY else (code,))
            ]
        return ids

    def _flush(self) -> None:
        """Move the buffer into a numpy chunk, its stop words (-1) dropped already.

        Each chunk holds whole passages (a flush comes between articles), so their
        lengths without stop words are counted here too. Dropping them per chunk, not
        at the end, keeps the build from holding every raw id twice (at 1M passages,
        ~200 MB of raw ids were alive through the whole BM25 build).
        """
        raw_ids = np.asarray(self._buffer, dtype=np.int32)
        self._buffer = []
        raw = np.asarray(self._lengths[self._counted :], dtype=np.int64)
        self._counted = len(self._lengths)
        kept = raw_ids >= 0
        # Terms per passage: kept ids counted over each passage's slice of the raw ids.
        ends = np.cumsum(raw)
        counts = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])
        self._kept_lengths.append(counts[ends] - counts[ends - raw])
        self._chunks.append(raw_ids[kept])

    def finish(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[str]]:
        """(every passage's term ids concatenated, each passage's number of terms, terms).

        The ids are int64, as the BM25 build's posting keys are: it can turn them into
        keys in place. The chunks and the word-run cache are let go.
        """
        self._flush()
        ids = (
            np.concatenate(self._chunks, dtype=np.int64) if self._chunks else np.zeros(0, np.int64)
        )
        lengths = np.concatenate(self._kept_lengths).astype(np.int64, copy=False)
        self._chunks, self._kept_lengths = [], []
        self._run_ids.clear()
        return ids, lengths, list(self._vocab)
