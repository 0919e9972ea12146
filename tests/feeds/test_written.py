"""What a poll or an ingest wrote is indexed alone: no scan of the folder, real index."""

from __future__ import annotations

from pathlib import Path

import pytest

from citebot.cli import main
from citebot.corpus.folder import load_corpus
from citebot.corpus.snapshot import load_snapshot, snapshot_path
from citebot.feeds.feeds import poll_all, written_by
from citebot.feeds.fetch import Fetcher
from citebot.pipeline import Asker
from citebot.retrieval.cache import load_index
from tests.corpus.conftest import age, parsed
from tests.feeds.server import Site
from tests.feeds.test_feeds import news

__all__ = ["news", "parsed"]  # the fixtures

HAND = (
    "---\nid: hand-typed\ntitle: Night market opens\n---\n\n"
    "The Temple Street night market reopened on 9 June 2026 with 120 new stalls.\n"
)


def test_polled_pages_are_answerable_without_a_scan(
    news: Site, fetcher: Fetcher, tmp_path: Path, parsed: list[str]
) -> None:
    """After a poll, the update reads only the files it wrote (a file added by hand
    meanwhile is not seen) and its pages are answered with their URL; the next scan
    (/reload) reads the hand-made file alone and finds the written ones unchanged."""
    corpus_dir, cache = tmp_path / "corpus", tmp_path / "cache"
    results = poll_all(fetcher, corpus_dir, [news.url("/rss.xml")])
    age(corpus_dir)
    corpus = load_corpus(corpus_dir, cache_dir=cache)
    index = load_index(corpus, cache)
    results = poll_all(fetcher, corpus_dir, [news.url("/atom.xml")])
    (corpus_dir / "hand.md").write_text(HAND)
    written = written_by(results)
    age(corpus_dir / "hand.md", *(corpus_dir / name for name in written.files))
    parsed.clear()
    updated = load_corpus(corpus_dir, previous=corpus, cache_dir=cache, written=written)
    assert parsed == list(written.files)
    assert updated.get("hand-typed") is None
    asker = Asker(load_index(updated, cache, previous=index))
    answer = asker.ask("Who reopened the central library?")
    assert "Ana Ruiz" in (answer.answer or "")
    assert answer.citations[0].url == news.url("/city/library")
    assert not asker.ask("When did the Temple Street night market reopen?").answered
    parsed.clear()
    reloaded = load_corpus(corpus_dir, previous=updated, cache_dir=cache)
    assert parsed == ["hand.md"]
    night = Asker(load_index(reloaded, cache, previous=asker.index))
    assert "9 June 2026" in (
        night.ask("When did the Temple Street night market reopen?").answer or ""
    )


def test_cli_ingest_reads_only_what_it_wrote(
    news: Site,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`citebot ingest URL` stores the written file's stat data in the snapshot and no
    other change (no scan); the next `citebot ask` scans and finds the rest."""
    corpus_dir, cache = tmp_path / "corpus", tmp_path / "cache"
    monkeypatch.setenv("CITEBOT_CORPUS_DIR", str(corpus_dir))
    monkeypatch.setenv("CITEBOT_CACHE_DIR", str(cache))
    monkeypatch.setenv("CITEBOT_FETCH_ALLOW_PRIVATE", "true")
    corpus_dir.mkdir()
    (corpus_dir / "first.md").write_text(HAND.replace("hand-typed", "first"))
    age(corpus_dir)
    assert main(["ask", "When did the night market reopen?"]) == 0
    (corpus_dir / "hand.md").write_text(HAND)
    assert main(["ingest", news.url("/city/library")]) == 0
    capsys.readouterr()
    stored = load_snapshot(snapshot_path(cache, corpus_dir))
    assert stored is not None
    assert "hand.md" not in stored.paths
    assert "first.md" in stored.paths
    assert any(p.startswith("web/") for p in stored.paths)
    assert main(["ask", "Who reopened the central library?"]) == 0
    assert "Ana Ruiz" in capsys.readouterr().out
    assert main(["sources"]) == 0
    assert "hand-typed" in capsys.readouterr().out
