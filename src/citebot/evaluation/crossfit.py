"""Cross-fitting: which fold each SQuAD article belongs to.

Anything fitted on the SQuAD dev files (the neural reader's confidence,
`scripts/calibrate_neural.py`) is measured there by cross-fitting: the articles
sorted by title are dealt into FOLDS folds (article k of the sorted list goes to
fold k mod FOLDS), and each fold is read with what was fitted on the other folds,
so every article counts and none is scored by a fit that saw it.
"""

from __future__ import annotations

from collections.abc import Sequence

FOLDS = 5


def article_folds(titles: Sequence[str], folds: int = FOLDS) -> list[int]:
    """The fold of each article: sorted by title, dealt round-robin.

    The rule depends on the titles alone, so it is the same on every machine and
    for every order of the file.
    """
    order = sorted(range(len(titles)), key=lambda i: (titles[i], i))
    out = [0] * len(titles)
    for rank, i in enumerate(order):
        out[i] = rank % folds
    return out
