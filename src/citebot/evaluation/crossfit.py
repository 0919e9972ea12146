"""Cross-fitting: every SQuAD article is read by a model that was never fitted on it.

The shipped reader is fitted on all the SQuAD dev articles, so measuring it on
them would flatter it. `scripts/train_reader.py` therefore also fits one model per
fold: articles sorted by title are dealt into FOLDS folds (article k of the sorted
list goes to fold k mod FOLDS), and fold f's model is fitted on the other folds.
`citebot eval squad FILE --folds DIR` reads each article with its own fold's
model, so every number it prints is measured on text the reader never saw, and
the whole file counts (not a held-out part).

DIR holds the fold models (the shipped model's file format) and `folds.json`,
which names each fold's articles:

    {"format": 1, "file": "squad-dev-v2.0.json",
     "folds": [{"model": "fold-0.json", "titles": ["1973 oil crisis", ...]}, ...]}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from citebot.errors import CitebotError
from citebot.reader.model import ModelError, ReaderModel, read_json_object, read_model

FOLDS = 5
MANIFEST = "folds.json"
MANIFEST_FORMAT = 1


class FoldsError(CitebotError):
    """A folds directory is missing, damaged, or was made for other articles."""


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


@dataclass(frozen=True)
class FoldModels:
    """The fold models of a folds directory, and which articles each was not fitted on."""

    models: tuple[ReaderModel, ...]
    titles: tuple[frozenset[str], ...]  # the articles each model was NOT fitted on

    def model_for(self, title: str) -> ReaderModel:
        """The model that never saw the article `title`."""
        for model, titles in zip(self.models, self.titles, strict=True):
            if title in titles:
                return model
        raise FoldsError(
            f"the article {title!r} is in none of the folds; --folds needs the SQuAD "
            "file the folds were trained on (see folds.json)"
        )


def write_folds(
    directory: Path, file_name: str, models: Sequence[tuple[str, Sequence[str]]]
) -> None:
    """Write `folds.json` for models already saved in `directory` as (file name, titles)."""
    manifest = {
        "format": MANIFEST_FORMAT,
        "file": file_name,
        "folds": [{"model": name, "titles": sorted(titles)} for name, titles in models],
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")


def load_folds(directory: Path) -> FoldModels:
    """Read a folds directory; FoldsError names what is wrong and what to do."""
    path = directory / MANIFEST
    redo = "; write it with scripts/train_reader.py --folds-out DIR"
    try:
        manifest = read_json_object(path)
    except ModelError as exc:
        raise FoldsError(f"{exc}{redo}") from exc
    folds = manifest.get("folds")
    if manifest.get("format") != MANIFEST_FORMAT or not isinstance(folds, list) or not folds:
        raise FoldsError(f"{path} is not a folds manifest (format {MANIFEST_FORMAT}){redo}")
    models: list[ReaderModel] = []
    titles: list[frozenset[str]] = []
    for k, fold in enumerate(folds):
        if not (
            isinstance(fold, dict)
            and isinstance(fold.get("model"), str)
            and isinstance(fold.get("titles"), list)
        ):
            raise FoldsError(f"{path}: fold {k} needs a 'model' file name and 'titles'{redo}")
        try:
            models.append(read_model(directory / fold["model"]))
        except ModelError as exc:
            raise FoldsError(f"fold {k}: {exc}") from exc
        titles.append(frozenset(str(t) for t in fold["titles"]))
    return FoldModels(tuple(models), tuple(titles))
