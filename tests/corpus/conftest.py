"""The corpus tests' folder: a copy of the shipped corpus, and a count of the files parsed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from citebot.corpus import articles as corpus_module
from citebot.corpus.articles import Corpus
from tests.conftest import SHIPPED

OLD = time.time() - 3600  # an mtime far from any scan: trusted


def age(*paths: Path) -> None:
    """Give these files, and every file in these folders, an mtime an hour ago (a file
    written within two seconds of a load is read again by the next one: RACY_NS)."""
    for path in paths:
        for file in path.rglob("*") if path.is_dir() else [path]:
            if file.is_file():
                os.utime(file, (OLD, OLD))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped corpus, aged."""
    target = tmp_path / "corpus"
    shutil.copytree(SHIPPED, target)
    age(target)
    return target


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files `parse_article` is called on from now on."""
    calls: list[str] = []
    real = corpus_module.parse_article

    def counting(name: str, raw: bytes) -> tuple[object, list[str]]:
        calls.append(name)
        return real(name, raw)

    monkeypatch.setattr(corpus_module, "parse_article", counting)
    return calls


def same(a: Corpus, b: Corpus) -> None:
    assert a.articles == b.articles
    assert [x.content_hash for x in a.articles] == [x.content_hash for x in b.articles]
    assert a.version == b.version
    assert a.problems == b.problems
