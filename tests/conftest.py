"""Shared fixtures: the shipped corpus, loaded and indexed once per session; the mini SQuAD file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from citebot.corpus.articles import Article, Corpus
from citebot.corpus.folder import load_corpus
from citebot.evaluation.squad import SquadSet, load_squad
from citebot.pipeline import Asker
from citebot.retrieval.index import Index
from tests.services import pg_server, postgres_url, redis_srv, redis_url

__all__ = ["pg_server", "postgres_url", "redis_srv", "redis_url"]

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "corpus"
SQUAD_MINI = Path(__file__).parent / "data" / "squad-mini.json"  # a small SQuAD v2 file
SCRIPTS = ROOT / "scripts"


def load_script(name: str) -> ModuleType:
    """A module of scripts/ imported from its file (scripts/ is not a package): registered
    under its name, as its dataclasses need, with scripts/ on the path while it runs (some
    scripts import their siblings)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPTS))
    return module


@pytest.fixture(scope="session")
def shipped_corpus() -> Corpus:
    """The corpus/ folder as shipped."""
    return load_corpus(SHIPPED)


@pytest.fixture(scope="session")
def shipped_asker(shipped_corpus: Corpus) -> Asker:
    """An Asker over the shipped corpus, with the default threshold, no disk cache."""
    return Asker(Index.build(shipped_corpus))


def make_article(article_id: str, body: str, title: str | None = None, **meta: object) -> Article:
    """A small in-memory article for tests."""
    return Article(id=article_id, title=title or article_id.replace("-", " "), body=body, **meta)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def mini() -> SquadSet:
    """The mini SQuAD v2 file, loaded."""
    return load_squad(SQUAD_MINI)
