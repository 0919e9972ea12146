"""The offset tables: checked against the corpus, rebuilt from old tables unchanged."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from citebot.binfile import IndexFormatError
from citebot.corpus.articles import Corpus
from citebot.retrieval.index import Index
from citebot.retrieval.offsets import OffsetsBuilder


def test_check_refuses_offsets_outside_the_articles(shipped_corpus: Corpus) -> None:
    """Offsets that do not fit the corpus (other articles, offsets past a body) are refused."""
    offsets = Index.build(shipped_corpus).offsets
    offsets.check(shipped_corpus.articles)
    with pytest.raises(IndexFormatError):
        offsets.check(shipped_corpus.articles[:1])
    end = offsets.sentence_end.copy()
    end[-1] = len(shipped_corpus.articles[-1].body) + 1
    with pytest.raises(IndexFormatError, match="outside"):
        replace(offsets, sentence_end=end).check(shipped_corpus.articles)
    last = offsets.passage_last.copy()
    last[0] = 10_000
    with pytest.raises(IndexFormatError, match="outside"):
        replace(offsets, passage_last=last).check(shipped_corpus.articles)


def test_copied_rows_equal_the_original(shipped_corpus: Corpus) -> None:
    """A table rebuilt by copying every article's rows from another is the same table."""
    offsets = Index.build(shipped_corpus).offsets
    builder = OffsetsBuilder()
    for position in range(len(shipped_corpus.articles)):
        builder.copy(offsets, position)
    copied = builder.finish()
    for name in offsets.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(copied, name), getattr(offsets, name))
