"""Term vectors: which index terms are used alike, for the re-ranker's soft match.

BM25 and the re-ranker's other features count a question's term only where it appears
itself, stemmed ("open" meets "opened", never "began" or "start"). Each term of
`TERMS_FILE` has a unit vector, and two terms used in the same contexts ("begin" and
"start", "die" and "death", "kill" and "dead") have a high cosine.

The vectors are learned here, from the paragraphs of SQuAD v1.1 train, by
`scripts/build_term_vectors.py` calling `learn`: every index term used at least
`min_count` times, counts of terms within `window` terms of each other, positive
pointwise mutual information with the context counts raised to 0.75 (Levy, Goldberg
and Dagan 2015), and its best `dims`-dimensional approximation by a truncated SVD
(randomised, with power iterations: Halko, Martinsson and Tropp 2011); a term's vector
is its row of U·sqrt(S), scaled to length 1. They are stored in float16 beside this
module; nothing is downloaded.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from citebot.errors import CitebotError

TERMS_FILE = Path(__file__).with_name("term_vectors.npz")
REBUILD = (
    "restore it from the repository (git checkout src/citebot/retrieval/term_vectors.npz)"
    " or write it again with scripts/build_term_vectors.py"
)
# The shipped settings (scripts/build_term_vectors.py's defaults).
DIMS = 64
MIN_COUNT = 5
WINDOW = 5
CONTEXT_SMOOTHING = 0.75

Matrix = npt.NDArray[np.float32]


class VectorsError(CitebotError):
    """The term vectors file is missing or unreadable; the message says how to fix it."""


@dataclass(frozen=True)
class TermVectors:
    """A unit vector (a row of `matrix`) for each term of `terms`."""

    terms: tuple[str, ...]
    matrix: Matrix
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # One zero row after the terms' rows: where a term without a vector is looked up.
        padded = np.vstack([self.matrix, np.zeros((1, self.matrix.shape[1]), np.float32)])
        object.__setattr__(self, "_padded", padded)
        object.__setattr__(self, "_rows", {t: i for i, t in enumerate(self.terms)})

    def of(self, terms: Sequence[str]) -> Matrix:
        """The vectors of `terms`, one row each; zeros for a term without one."""
        rows: Mapping[str, int] = self._rows  # type: ignore[attr-defined]
        missing = len(self.terms)
        ids = np.fromiter((rows.get(t, missing) for t in terms), dtype=np.int64, count=len(terms))
        padded: Matrix = self._padded  # type: ignore[attr-defined]
        return padded[ids]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            terms=np.array(self.terms),
            vectors=self.matrix.astype(np.float16),
            meta=np.array(json.dumps(self.meta)),
        )


@functools.cache
def load_term_vectors(path: Path = TERMS_FILE) -> TermVectors:
    """The vectors in `path` (the shipped ones by default); VectorsError if unusable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            terms = tuple(str(t) for t in data["terms"])
            matrix = data["vectors"].astype(np.float32)
            meta = json.loads(str(data["meta"]))
    except FileNotFoundError as exc:
        raise VectorsError(f"the term vectors file {path} is missing; {REBUILD}") from exc
    except (OSError, ValueError, KeyError) as exc:
        raise VectorsError(
            f"the term vectors file {path} cannot be read ({exc}); {REBUILD}"
        ) from exc
    if matrix.ndim != 2 or matrix.shape[0] != len(terms) or not np.isfinite(matrix).all():
        raise VectorsError(f"{path} must hold one finite vector per term; {REBUILD}")
    return TermVectors(terms, matrix, meta)


def learn(
    documents: Iterable[Sequence[str]],
    dims: int = DIMS,
    min_count: int = MIN_COUNT,
    window: int = WINDOW,
    seed: int = 0,
) -> TermVectors:
    """Vectors for the terms used at least `min_count` times in `documents` (each a
    sequence of index terms), as the module docstring describes; deterministic."""
    documents = list(documents)
    counts = Counter(t for d in documents for t in d)
    terms = tuple(sorted(t for t, c in counts.items() if c >= min_count))
    rows = {t: i for i, t in enumerate(terms)}
    n = len(terms)
    if n <= dims:
        raise ValueError(f"{n} terms are used {min_count} times or more: too few for {dims} dims")
    pairs = []
    for document in documents:
        ids = np.array([rows.get(t, -1) for t in document], dtype=np.int64)
        for gap in range(1, window + 1):
            a, b = ids[:-gap], ids[gap:]
            known = (a >= 0) & (b >= 0)
            pairs += [a[known] * n + b[known], b[known] * n + a[known]]
    codes, together = np.unique(np.concatenate(pairs), return_counts=True)
    row, column = codes // n, codes % n
    total = float(together.sum())
    word = np.bincount(row, weights=together, minlength=n) / total
    context = np.bincount(column, weights=together, minlength=n) ** CONTEXT_SMOOTHING
    context /= context.sum()
    pmi = np.log(together / total / word[row] / context[column])
    ppmi = np.zeros((n, n), dtype=np.float32)
    keep = pmi > 0
    ppmi[row[keep], column[keep]] = pmi[keep]
    u, s = _top_singular(ppmi, dims, seed)
    vectors = u * np.sqrt(s)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    meta = {"dims": dims, "min_count": min_count, "window": window, "seed": seed}
    return TermVectors(terms, vectors.astype(np.float32), meta)


def _top_singular(m: Matrix, k: int, seed: int, iterations: int = 4) -> tuple[Matrix, Matrix]:
    """The first k left singular vectors and values of m, by a randomised range finder
    (k + 10 random directions, `iterations` power steps re-orthogonalised each time)."""
    rng = np.random.default_rng(seed)
    y = m @ rng.standard_normal((m.shape[1], k + 10)).astype(np.float32)
    for _ in range(iterations):
        q, _ = np.linalg.qr(y)
        y = m @ (m.T @ q)
    q, _ = np.linalg.qr(y)
    u, s, _ = np.linalg.svd(q.T @ m, full_matrices=False)
    return (q @ u)[:, :k].astype(np.float32), s[:k].astype(np.float32)
