"""Text -> the network's inputs: tokens with offsets, vocabulary ids, hashed spellings, features.

Shared by training (`scripts/train_neural.py`) and answering, so that the network
reads exactly what it was trained on.

The reader's tokens are not the index's terms (`citebot.text`): an answer is a run
of whole tokens, so a token is what a span may start or end at. Numbers keep their
separators ("16,000"); letters joined by hyphens are one token ("Yeuk-wah",
"Anglo-Saxon"), so no answer stops inside a hyphenated name; every punctuation
mark is a token of its own, since commas and brackets mark where names and
appositions end. Letters and digits are separate ("than16,000" is "than" and
"16,000"). On the SQuAD training set 99.0 % of the answers start and end on these
tokens' edges.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from citebot.text.tokenizer import STOP_WORDS, fold, stem

TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:-[^\W\d_]+)*|[^\w\s]", re.UNICODE)

PAD = 0
MAX_QUESTION = 50  # question tokens the network reads (features see them all)
OOV_BUCKETS = 512  # ids 1..512: unknown words, hashed, so two rare words rarely share one
SPELLING_BUCKETS = 1 << 14  # hashed prefixes, suffixes and shapes
# The features of a passage token, in this order (the network's input columns).
FEATURES = (
    "exact",  # the token, as written, is a token of the question
    "folded",  # ... after case folding
    "stem",  # ... after stemming
    "frequency",  # log(1 + how often the folded token occurs in the passage)
    "near",  # share of the question's content stems within 5 tokens
    "around",  # ... within 15 tokens
    "capital",  # starts with a capital letter
    "digit",  # holds a digit
    "punctuation",  # is a punctuation mark
    "stop",  # is a stop word
)
NEAR, AROUND = 5, 15

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Tokens:
    """The tokens of a text: their strings and [start, end) offsets into the text."""

    text: list[str]
    starts: list[int]
    ends: list[int]

    def __len__(self) -> int:
        return len(self.text)


def tokens(text: str) -> Tokens:
    """Split `text` into the reader's tokens (see the module docstring)."""
    found = [(m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]
    return Tokens([t for t, _, _ in found], [s for _, s, _ in found], [e for _, _, e in found])


def _hash(text: str) -> int:
    """A hash that is the same in every process (Python's `hash` of a str is salted)."""
    return zlib.crc32(text.encode("utf-8"))


def shape(token: str) -> str:
    """The token's spelling pattern: "Shenzhen" -> "Xx", "16,000" -> "d,d", "iPhone" -> "xXx"."""
    out: list[str] = []
    for ch in token:
        kind = "X" if ch.isupper() else "x" if ch.isalpha() else "d" if ch.isdigit() else ch
        if not out or out[-1] != kind:
            out.append(kind)
    return "".join(out)[:8]


@dataclass(frozen=True)
class Vocabulary:
    """Folded word -> embedding row; rows 1..OOV_BUCKETS take unknown words by hash."""

    words: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ids", {w: i for i, w in enumerate(self.words)})

    @property
    def size(self) -> int:
        return 1 + OOV_BUCKETS + len(self.words)

    def ids(self, folded: Sequence[str]) -> IntArray:
        known: dict[str, int] = self._ids  # type: ignore[attr-defined]
        base = 1 + OOV_BUCKETS
        return np.fromiter(
            (
                base + i if (i := known.get(w)) is not None else 1 + _hash(w) % OOV_BUCKETS
                for w in folded
            ),
            dtype=np.int32,
            count=len(folded),
        )


@dataclass(frozen=True)
class Encoded:
    """One text as the network reads it."""

    tokens: Tokens
    folded: list[str]
    stems: list[str]
    words: IntArray  # (n,) vocabulary ids
    spelling: IntArray  # (n, 3) hashed prefix, suffix and shape

    def head(self, n: int) -> Encoded:
        """The first n tokens (the network reads at most MAX_QUESTION of a question's)."""
        if len(self.tokens) <= n:
            return self
        t = self.tokens
        return Encoded(
            Tokens(t.text[:n], t.starts[:n], t.ends[:n]),
            self.folded[:n],
            self.stems[:n],
            self.words[:n],
            self.spelling[:n],
        )


def encode(text: str, vocabulary: Vocabulary) -> Encoded:
    """Tokens, vocabulary ids and hashed spellings of one text."""
    toks = tokens(text)
    folded = [fold(t) for t in toks.text]
    stems = [stem(f) for f in folded]
    spelling = np.fromiter(
        (
            _hash(key) % SPELLING_BUCKETS
            for f, t in zip(folded, toks.text, strict=True)
            for key in ("<" + f[:3], f[-3:] + ">", "~" + shape(t))
        ),
        dtype=np.int32,
        count=3 * len(toks),
    ).reshape(len(toks), 3)
    return Encoded(toks, folded, stems, vocabulary.ids(folded), spelling)


def features(passage: Encoded, question: Encoded) -> FloatArray:
    """The FEATURES of each passage token against the question, shape (n, len(FEATURES))."""
    n = len(passage.tokens)
    out = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if n == 0:
        return out
    exact, folded, stems = (
        set(question.tokens.text),
        set(question.folded),
        set(question.stems),
    )
    out[:, 0] = [t in exact for t in passage.tokens.text]
    out[:, 1] = [f in folded for f in passage.folded]
    out[:, 2] = [s in stems for s in passage.stems]
    counts: dict[str, int] = {}
    for f in passage.folded:
        counts[f] = counts.get(f, 0) + 1
    out[:, 3] = np.log1p([counts[f] for f in passage.folded])
    content = sorted(
        {s for s, f in zip(question.stems, question.folded, strict=True) if is_content(f)}
    )
    if content:
        column = {s: j for j, s in enumerate(content)}
        hits = np.zeros((n + 1, len(content)), dtype=np.int32)
        for i, s in enumerate(passage.stems):
            j = column.get(s)
            if j is not None:
                hits[i + 1, j] = 1
        running = np.cumsum(hits, axis=0)
        for col, reach in ((4, NEAR), (5, AROUND)):
            lo = np.clip(np.arange(n) - reach, 0, n)
            hi = np.clip(np.arange(n) + reach + 1, 0, n)
            out[:, col] = ((running[hi] - running[lo]) > 0).sum(axis=1) / len(content)
    out[:, 6] = [t[:1].isupper() for t in passage.tokens.text]
    out[:, 7] = [any(c.isdigit() for c in t) for t in passage.tokens.text]
    out[:, 8] = [not t[:1].isalnum() for t in passage.tokens.text]
    out[:, 9] = [f in STOP_WORDS for f in passage.folded]
    return out


def is_content(folded: str) -> bool:
    """A word that says what the question is about (not a stop word or a mark)."""
    return folded[:1].isalnum() and folded not in STOP_WORDS
