"""A writer's update: the files citebot wrote are read alone, without a scan of the folder."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from citebot.corpus import folder as folder_module
from citebot.corpus.articles import Corpus
from citebot.corpus.folder import load_corpus
from citebot.corpus.snapshot import Written, snapshot_path
from tests.corpus.conftest import OLD, age, same

LATE = "---\nid: late\ntitle: Late news\n---\n\nThe ferry terminal opened on Friday.\n"


def write(path: Path, text: str) -> None:
    """Write a file as a writer does, then date it an hour back: a file written within
    two seconds of a load is read again by the next one (RACY_NS), which is not what
    these tests are about."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (OLD, OLD))


def hand_edit(folder: Path, corpus: Corpus) -> str:
    """Change one article's title by hand; its path."""
    name = corpus.articles[1].path or ""
    text = (folder / name).read_text()
    (folder / name).write_text(text.replace("title: ", "title: Edited ", 1))
    return name


def test_written_file_is_read_alone_and_hand_edits_wait_for_a_scan(
    folder: Path, tmp_path: Path, parsed: list[str]
) -> None:
    """Only the written file is parsed; a file edited by hand meanwhile keeps its loaded
    version until the next scan (/reload), which reads it and not the written one again."""
    cache = tmp_path / "cache"
    first = load_corpus(folder, cache_dir=cache)
    edited = hand_edit(folder, first)
    write(folder / "late.md", LATE)
    parsed.clear()
    second = load_corpus(folder, previous=first, cache_dir=cache, written=Written(("late.md",)))
    assert parsed == ["late.md"]
    assert second.get("late") is not None
    assert [a for a in second.articles if a.path == edited] == [
        a for a in first.articles if a.path == edited
    ]
    parsed.clear()
    third = load_corpus(folder, previous=second, cache_dir=cache)
    assert parsed == [edited]
    same(third, load_corpus(folder))


@pytest.mark.parametrize("splice_max", [500, 0], ids=["spliced", "rebuilt"])
def test_writer_update_equals_a_fresh_load(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, splice_max: int
) -> None:
    """Added, replaced and removed files handed over by their writer give the corpus a
    fresh load of the folder gives (articles, order, hashes, version), whether they are
    put in place one by one or the lists are made again (a large change)."""
    monkeypatch.setattr(folder_module, "_SPLICE_MAX", splice_max)
    write(folder / "b" / "older.md", LATE.replace("late", "older"))
    cache = tmp_path / "cache"
    first = load_corpus(folder, cache_dir=cache)
    replaced = first.articles[0].path or ""
    removed = first.articles[2].path or ""
    text = (folder / replaced).read_text().replace("\n\n", "\n\nA new first line.\n\n", 1)
    write(folder / replaced, text)
    (folder / removed).unlink()
    write(folder / "a" / "late.md", LATE)
    written = Written(files=("a/late.md", replaced), removed=(removed,))
    second = load_corpus(folder, previous=first, cache_dir=cache, written=written)
    same(second, load_corpus(folder))
    assert second.version != first.version


def test_writer_update_refreshes_the_snapshot_for_the_next_start(
    folder: Path, tmp_path: Path, parsed: list[str]
) -> None:
    """Without a previous load (the CLI) the snapshot is the base and is rewritten with the
    written file's stat data: the next start parses nothing."""
    cache = tmp_path / "cache"
    load_corpus(folder, cache_dir=cache)
    write(folder / "late.md", LATE)
    parsed.clear()
    second = load_corpus(folder, cache_dir=cache, written=Written(("late.md",)))
    assert parsed == ["late.md"]
    parsed.clear()
    started = load_corpus(folder, cache_dir=cache)
    assert parsed == []
    same(started, second)


def test_snapshot_writing_can_be_deferred(folder: Path, tmp_path: Path) -> None:
    """With `defer_save` the snapshot is written when the job runs, and a reload after it
    does not take the new snapshot for a damaged one (no second write)."""
    cache = tmp_path / "cache"
    first = load_corpus(folder, cache_dir=cache)
    path = snapshot_path(cache, folder)
    before = path.stat().st_mtime_ns
    write(folder / "late.md", LATE)
    jobs: list[Callable[[], None]] = []
    second = load_corpus(
        folder,
        previous=first,
        cache_dir=cache,
        written=Written(("late.md",)),
        defer_save=jobs.append,
    )
    assert path.stat().st_mtime_ns == before
    assert len(jobs) == 1
    jobs[0]()
    after = path.stat().st_mtime_ns
    assert after != before
    jobs.clear()
    load_corpus(folder, previous=second, cache_dir=cache, defer_save=jobs.append)
    assert jobs == []
    assert path.stat().st_mtime_ns == after


def test_a_written_file_that_vanished_is_reported_and_loses_nothing(
    folder: Path, tmp_path: Path
) -> None:
    """A written path that is gone is a problem naming it; a file replaced and then gone
    keeps serving its previous article; every other article stays."""
    cache = tmp_path / "cache"
    first = load_corpus(folder, cache_dir=cache)
    replaced = first.articles[0].path or ""
    (folder / replaced).unlink()
    written = Written(("never-there.md", replaced))
    second = load_corpus(folder, previous=first, cache_dir=cache, written=written)
    reasons = {p.path: p.reason for p in second.problems}
    assert "gone" in reasons["never-there.md"]
    assert "add it again" in reasons["never-there.md"]
    assert "still serving its previous version" in reasons[replaced]
    assert second.articles == first.articles


def test_a_written_file_that_fails_to_parse_keeps_the_previous_version(
    folder: Path, tmp_path: Path
) -> None:
    """A written file that cannot be parsed is reported by name and its previous article
    stays; the problems of files the writer did not touch stay reported too."""
    (folder / "bad.md").write_bytes(b"\xff\xfe\x00bad")
    age(folder)
    cache = tmp_path / "cache"
    first = load_corpus(folder, cache_dir=cache)
    broken = first.articles[0].path or ""
    write(folder / broken, "---\ntitle: [unclosed\n---\n\nText.\n")
    second = load_corpus(folder, previous=first, cache_dir=cache, written=Written((broken,)))
    reasons = {p.path: p.reason for p in second.problems}
    assert "still serving its previous version" in reasons[broken]
    assert "bad.md" in reasons
    assert second.articles == first.articles


def test_paths_outside_the_folder_are_ignored(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A writer's path outside the corpus folder is logged and not read."""
    first = load_corpus(folder, cache_dir=tmp_path / "cache")
    (tmp_path / "outside.md").write_text(LATE)
    caplog.set_level(logging.WARNING, logger="citebot")
    second = load_corpus(
        folder, previous=first, written=Written(("../outside.md", str(tmp_path / "outside.md")))
    )
    assert second.get("late") is None
    assert caplog.text.count("not a path inside the corpus folder") == 2
    same(second, first)


@pytest.mark.parametrize("written", [True, False], ids=["writer", "scan"])
def test_a_new_file_taking_an_old_id_wins_by_path_order(
    folder: Path, tmp_path: Path, written: bool
) -> None:
    """A new file with the id of an article read from a file later in path order takes
    it, and the other file is reported as a duplicate: as a fresh load decides."""
    cache = tmp_path / "cache"
    first = load_corpus(folder, cache_dir=cache)
    taken = first.articles[-1]
    write(folder / "a.md", LATE.replace("id: late", f"id: {taken.id}"))
    second = load_corpus(
        folder, previous=first, cache_dir=cache, written=Written(("a.md",)) if written else None
    )
    same(second, load_corpus(folder))
    assert [p.path for p in second.problems] == [taken.path]
    assert "duplicate id" in second.problems[0].reason
