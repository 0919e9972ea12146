"""Where every sentence and passage of an index is: offsets in numpy columns, objects on demand.

A `Sentence` or `Passage` is fully described by a few integers, because its text is
`article.body[start:end]`. Holding a million pydantic objects instead cost seconds to
build, pickle and unpickle and most of the index's memory, so `Offsets` keeps only
int32 columns (12 bytes a sentence, 8 a passage) and `SentenceMap` / `PassageList`
make the objects when they are read, which the reader does for a few dozen per question.

Columns, rows in corpus order (article a owns sentence rows
`article_sentences[a]:article_sentences[a+1]`, passages likewise):

* sentence_start, sentence_end, sentence_paragraph -- offsets into the article body
  and the blank-line block the sentence is in;
* passage_first, passage_last -- the passage's sentences `[first, last)`, numbered
  within the article as `Sentence.index` is.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, overload

import numpy as np
import numpy.typing as npt

from citebot.binfile import IndexFormatError, read_arrays, write_arrays
from citebot.corpus.articles import Article
from citebot.corpus.passages import Passage, Sentence

__all__ = [
    "Offsets",
    "OffsetsBuilder",
    "PassageList",
    "SentenceList",
    "SentenceMap",
    "body_of",
]

FORMAT_VERSION: Final = 1
_MAGIC: Final = b"CBTABLES"
_COLUMNS: Final = (
    "article_sentences",
    "article_passages",
    "sentence_start",
    "sentence_end",
    "sentence_paragraph",
    "passage_first",
    "passage_last",
)
_DTYPES: Final = {name: ("<i8",) if name.startswith("article") else ("<i4",) for name in _COLUMNS}

# Articles whose Sentence objects are kept once made (the reader's working set).
_RECENT_ARTICLES: Final = 1024

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Offsets:
    """Every sentence's and passage's offsets, as columns (see the module docstring)."""

    article_sentences: I64
    article_passages: I64
    sentence_start: I32
    sentence_end: I32
    sentence_paragraph: I32
    passage_first: I32
    passage_last: I32

    @property
    def n_passages(self) -> int:
        return len(self.passage_first)

    def save(self, path: Path, fields: Mapping[str, Any]) -> None:
        """Write the columns and `fields` (JSON) atomically, checksummed."""
        arrays = {name: getattr(self, name) for name in _COLUMNS}
        write_arrays(path, magic=_MAGIC, version=FORMAT_VERSION, fields=fields, arrays=arrays)

    @classmethod
    def load(cls, path: Path) -> tuple[Offsets, dict[str, Any]]:
        """The memory-mapped columns of a saved file and its fields; IndexFormatError if bad."""
        fields, arrays = read_arrays(
            path, magic=_MAGIC, version=FORMAT_VERSION, what="passage table", dtypes=_DTYPES
        )
        return cls(**arrays), fields

    def check(self, articles: Sequence[Article | None]) -> None:
        """Raise IndexFormatError unless the columns describe valid offsets into `articles`
        (a None row, an article no longer in the corpus, is not checked against a body)."""
        s_ptr, p_ptr = self.article_sentences, self.article_passages
        n = len(articles)
        if (
            len(s_ptr) != n + 1
            or len(p_ptr) != n + 1
            or s_ptr[0] != 0
            or p_ptr[0] != 0
            or s_ptr[-1] != len(self.sentence_start)
            or p_ptr[-1] != len(self.passage_first)
            or bool(np.any(np.diff(s_ptr) < 0))
            or bool(np.any(np.diff(p_ptr) < 0))
            or not len(self.sentence_end) == len(self.sentence_paragraph) == s_ptr[-1]
            or len(self.passage_last) != p_ptr[-1]
        ):
            raise IndexFormatError("the passage table does not match the corpus")
        unknown = 2**62  # no limit for a row whose article is gone
        lengths = (unknown if a is None else len(a.body) for a in articles)
        body_len = np.fromiter(lengths, np.int64, n)
        of_sentence = np.repeat(np.arange(n), np.diff(s_ptr))
        of_passage = np.repeat(np.arange(n), np.diff(p_ptr))
        count = np.diff(s_ptr)
        start, end = self.sentence_start, self.sentence_end
        first, last = self.passage_first, self.passage_last
        if (
            bool(np.any(start < 0))
            or bool(np.any(end <= start))
            or bool(np.any(end > body_len[of_sentence]))
            or bool(np.any(first < 0))
            or bool(np.any(last <= first))
            or bool(np.any(last > count[of_passage]))
        ):
            raise IndexFormatError("the passage table has offsets outside the articles")

    def article_of_passages(self) -> I64:
        """The article position of every passage."""
        ptr = self.article_passages
        return np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))


class OffsetsBuilder:
    """Collects articles' rows: new ones, or ranges copied from an old `Offsets`."""

    def __init__(self) -> None:
        self._cols = {name: array("i") for name in _COLUMNS[2:]}
        # Runs of articles: [None, count] for new rows, [old, lo, hi] for copied ones.
        self._runs: list[list[Any]] = []
        self._sentences = [0]
        self._passages = [0]

    def add(self, spans: Sequence[tuple[int, int, int]], bounds: Sequence[tuple[int, int]]) -> None:
        """Append one article's sentence spans (start, end, paragraph) and passage bounds."""
        if spans and spans[-1][1] >= 2**31:
            raise ValueError("an article body longer than 2**31-1 characters cannot be indexed")
        cols = self._cols
        cols["sentence_start"].extend([s[0] for s in spans])
        cols["sentence_end"].extend([s[1] for s in spans])
        cols["sentence_paragraph"].extend([s[2] for s in spans])
        cols["passage_first"].extend([b[0] for b in bounds])
        cols["passage_last"].extend([b[1] for b in bounds])
        if self._runs and self._runs[-1][0] is None:
            self._runs[-1][1] += 1
        else:
            self._runs.append([None, 1])
        self._sentences.append(len(spans))
        self._passages.append(len(bounds))

    def copy(self, old: Offsets, position: int) -> None:
        """Append the rows of article `position` of an old table unchanged."""
        last = self._runs[-1] if self._runs else None
        if last is not None and last[0] is old and last[2] == position:
            last[2] += 1
        else:
            self._runs.append([old, position, position + 1])
        s, p = old.article_sentences, old.article_passages
        self._sentences.append(int(s[position + 1] - s[position]))
        self._passages.append(int(p[position + 1] - p[position]))

    def finish(self) -> Offsets:
        """The table of every article added, in order."""
        s_ptr = np.cumsum(np.asarray(self._sentences, dtype=np.int64))
        p_ptr = np.cumsum(np.asarray(self._passages, dtype=np.int64))
        ptrs = {"sentence": s_ptr, "passage": p_ptr}
        fresh = {name: np.frombuffer(col, dtype=np.int32) for name, col in self._cols.items()}
        out = {name: np.empty(int(ptrs[name.split("_")[0]][-1]), np.int32) for name in fresh}
        taken = {"sentence": 0, "passage": 0}
        article = 0
        for run in self._runs:
            count = run[1] if run[0] is None else run[2] - run[1]
            for kind, ptr in ptrs.items():
                lo, hi = int(ptr[article]), int(ptr[article + count])
                if run[0] is None:
                    src_lo = taken[kind]
                    taken[kind] += hi - lo
                else:
                    old_ptr = getattr(run[0], f"article_{kind}s")
                    src_lo = int(old_ptr[run[1]])
                for name in out:
                    if name.startswith(kind):
                        source = fresh[name] if run[0] is None else getattr(run[0], name)
                        out[name][lo:hi] = source[src_lo : src_lo + hi - lo]
            article += count
        return Offsets(article_sentences=s_ptr, article_passages=p_ptr, **out)


def body_of(article: Article | None) -> str:
    """An article's body; "" for a row whose article is gone (its passages are never
    returned by a search)."""
    return "" if article is None else article.body


class SentenceList(Sequence[Sentence]):
    """One article's sentences, made from the table when read."""

    def __init__(self, article: Article, offsets: Offsets, position: int) -> None:
        self._article = article
        self._offsets = offsets
        self._base = int(offsets.article_sentences[position])
        self._len = int(offsets.article_sentences[position + 1]) - self._base
        # The reader reads a sentence and its neighbours many times over: each is made once.
        self._made: list[Sentence | None] = [None] * self._len

    def __len__(self) -> int:
        return self._len

    @property
    def article_id(self) -> str:
        """The id of the article the sentences are from."""
        return self._article.id

    @overload
    def __getitem__(self, i: int) -> Sentence: ...
    @overload
    def __getitem__(self, i: slice) -> list[Sentence]: ...
    def __getitem__(self, i: int | slice) -> Sentence | list[Sentence]:
        # The list of made sentences does the index checks (negative, out of range, slices).
        made = self._made[i]
        if isinstance(made, Sentence):
            return made
        if isinstance(i, slice):
            return [self._make(j) for j in range(*i.indices(self._len))]
        return self._make(i if i >= 0 else i + self._len)

    def _make(self, i: int) -> Sentence:
        """Sentence i, made from the table the first time it is read."""
        made = self._made[i]
        if made is None:
            t, row = self._offsets, self._base + i
            start, end = int(t.sentence_start[row]), int(t.sentence_end[row])
            made = self._made[i] = Sentence(
                article_id=self._article.id,
                index=i,
                paragraph=int(t.sentence_paragraph[row]),
                start=start,
                end=end,
                text=self._article.body[start:end],
            )
        return made

    def __iter__(self) -> Iterator[Sentence]:
        return (self._make(i) for i in range(self._len))


class SentenceMap(Mapping[str, SentenceList]):
    """`article id -> its sentences`, holding those of recently read articles only."""

    def __init__(
        self, articles: Sequence[Article | None], positions: Mapping[str, int], offsets: Offsets
    ) -> None:
        self._articles = articles
        self._positions = positions
        self._offsets = offsets
        self._recent: dict[str, SentenceList] = {}

    def __getitem__(self, article_id: str) -> SentenceList:
        found = self._recent.get(article_id)
        if found is None:
            position = self._positions[article_id]
            article = self._articles[position]
            assert article is not None  # positions hold the articles of the corpus only
            found = SentenceList(article, self._offsets, position)
            if len(self._recent) >= _RECENT_ARTICLES:
                # Oldest first out; under threads a lost race only makes a list twice.
                self._recent.pop(next(iter(self._recent)), None)
            self._recent[article_id] = found
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)


class PassageList(Sequence[Passage]):
    """Every passage of the index, in id order, made from the table when read."""

    def __init__(self, articles: Sequence[Article | None], offsets: Offsets) -> None:
        self._articles = articles
        self._offsets = offsets
        self._article_of = offsets.article_of_passages()

    def __len__(self) -> int:
        return self._offsets.n_passages

    @overload
    def __getitem__(self, i: int) -> Passage: ...
    @overload
    def __getitem__(self, i: slice) -> list[Passage]: ...
    def __getitem__(self, i: int | slice) -> Passage | list[Passage]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"passage {i} out of range for {n} passages")
        t = self._offsets
        position = int(self._article_of[i])
        base = int(t.article_sentences[position])
        first, last = int(t.passage_first[i]), int(t.passage_last[i])
        start, end = int(t.sentence_start[base + first]), int(t.sentence_end[base + last - 1])
        return self._passage(i, position, first, last, start, end)

    def _passage(
        self, i: int, position: int, first: int, last: int, start: int, end: int
    ) -> Passage:
        """Passage i of the article at `position`: sentences [first, last), body[start:end]."""
        article = self._articles[position]
        if article is None:
            raise IndexError(f"passage {i} belongs to an article no longer in the corpus")
        return Passage(
            article_id=article.id,
            index=i,
            start=start,
            end=end,
            text=article.body[start:end],
            first_sentence=first,
            last_sentence=last,
        )

    def take(self, ids: Sequence[int]) -> list[Passage]:
        """The passages of `ids` (each in range), their offsets read from the table at once."""
        t = self._offsets
        rows = np.asarray(ids, dtype=np.int64)
        positions, first, last = self.sentence_ranges(rows)
        base = t.article_sentences[positions]
        start = t.sentence_start[base + first].tolist()
        end = t.sentence_end[base + last - 1].tolist()
        return [
            self._passage(*row)
            for row in zip(
                rows.tolist(),
                positions.tolist(),
                first.tolist(),
                last.tolist(),
                start,
                end,
                strict=True,
            )
        ]

    def sentence_offsets(
        self, ids: Sequence[int] | I64, around: int = 0
    ) -> list[tuple[int, int, list[int], list[int]]]:
        """For each passage of `ids`, where its sentences are, without making any object:
        `(article position, first, starts, ends)`, the starts and ends (offsets into the
        article's body) of its sentences `first, first + 1, ...`, with up to `around` more
        sentences of its article on either side. Read from the table at once for all."""
        t = self._offsets
        rows = np.asarray(ids, dtype=np.int64)
        positions, first, last = self.sentence_ranges(rows)
        base = t.article_sentences[positions]
        if around:
            first = np.maximum(first - around, 0)
            last = np.minimum(last + around, t.article_sentences[positions + 1] - base)
        count = last - first
        # The table row of every sentence read: each passage's rows follow one another.
        row = np.arange(int(count.sum())) + np.repeat(
            base + first - (np.cumsum(count) - count), count
        )
        starts, ends = t.sentence_start[row].tolist(), t.sentence_end[row].tolist()
        out = []
        at = 0
        for position, lo, n in zip(positions.tolist(), first.tolist(), count.tolist(), strict=True):
            out.append((position, lo, starts[at : at + n], ends[at : at + n]))
            at += n
        return out

    def sentence_ranges(self, ids: I64) -> tuple[I64, I32, I32]:
        """The article position and the sentences `[first, last)` of each passage of `ids`,
        without making the passages."""
        t = self._offsets
        return self._article_of[ids], t.passage_first[ids], t.passage_last[ids]

    def __iter__(self) -> Iterator[Passage]:
        return (self[i] for i in range(len(self)))

    def range_of(self, position: int) -> tuple[int, int]:
        """The passage ids `[lo, hi)` of the article at `position`."""
        ptr = self._offsets.article_passages
        return int(ptr[position]), int(ptr[position + 1])
