"""Fixtures shared by the retrieval tests."""

from __future__ import annotations

import pytest

from citebot.corpus.articles import Corpus
from citebot.retrieval.index import Index


@pytest.fixture(scope="package")
def shipped_index(shipped_corpus: Corpus) -> Index:
    """The shipped corpus, indexed once for the retrieval tests' properties."""
    return Index.build(shipped_corpus)
