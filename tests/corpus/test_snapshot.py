"""Start-up from the cache: unchanged files are not read again, changed ones alone are."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from citebot.corpus.folder import load_corpus
from citebot.corpus.snapshot import snapshot_path
from tests.corpus.conftest import age, same


def test_unchanged_folder_is_read_from_the_snapshot(
    folder: Path, tmp_path: Path, parsed: list[str]
) -> None:
    """The second load parses no file and gives the same corpus, hashes and version."""
    first = load_corpus(folder, cache_dir=tmp_path / "cache")
    assert len(parsed) == len(first.articles) + len(first.problems)
    parsed.clear()
    second = load_corpus(folder, cache_dir=tmp_path / "cache")
    assert parsed == []
    same(second, first)
    same(second, load_corpus(folder))


def test_changed_new_and_deleted_files(folder: Path, tmp_path: Path, parsed: list[str]) -> None:
    """An edited file (even the same size) and a new file are parsed alone; a deleted one goes."""
    cache = tmp_path / "cache"
    first = load_corpus(folder, cache_dir=cache)
    victim = Path(first.articles[0].path or "")
    edited = Path(first.articles[1].path or "")
    text = (folder / edited).read_text()
    (folder / edited).write_text(text.replace("a", "b", 1))  # same size, new mtime
    (folder / victim).unlink()
    (folder / "late.md").write_text("# Late news\n\nThe ferry terminal opened on Friday.\n")
    parsed.clear()
    second = load_corpus(folder, cache_dir=cache)
    assert sorted(parsed) == sorted([str(edited), "late.md"])
    same(second, load_corpus(folder))
    assert second.get("late") is not None
    assert all(a.path != str(victim) for a in second.articles)


def test_file_written_during_the_scan_second_is_checked_again(
    folder: Path, tmp_path: Path, parsed: list[str]
) -> None:
    """A file whose mtime is within two seconds of the snapshot's scan is parsed again (racy)."""
    cache = tmp_path / "cache"
    (folder / "fresh.md").write_text("# Fresh\n\nWritten just now.\n")
    load_corpus(folder, cache_dir=cache)
    parsed.clear()
    load_corpus(folder, cache_dir=cache)
    assert parsed == ["fresh.md"]


def test_reload_with_previous_parses_only_changes(folder: Path, parsed: list[str]) -> None:
    """A reload (previous corpus, no cache folder) parses only the files that changed."""
    first = load_corpus(folder)
    (folder / "late.md").write_text("# Late news\n\nThe ferry terminal opened on Friday.\n")
    parsed.clear()
    second = load_corpus(folder, previous=first)
    assert parsed == ["late.md"]
    same(second, load_corpus(folder))


def test_broken_files_are_reported_every_time(
    folder: Path, tmp_path: Path, parsed: list[str]
) -> None:
    """A file that failed is not kept in the snapshot: it is parsed and reported again."""
    (folder / "bad.md").write_bytes(b"\xff\xfe\x00bad")
    age(folder)
    first = load_corpus(folder, cache_dir=tmp_path / "cache")
    parsed.clear()
    second = load_corpus(folder, cache_dir=tmp_path / "cache")
    assert parsed == ["bad.md"]
    assert [p.path for p in second.problems] == [p.path for p in first.problems]
    assert "bad.md" in [p.path for p in second.problems]


def test_duplicate_ids_keep_the_first_file_in_path_order(folder: Path, tmp_path: Path) -> None:
    """A new file that sorts before an old one with the same id wins, as on a fresh load."""
    (folder / "z.md").write_text("---\nid: twin\ntitle: Later\n---\n\nThe z text.\n")
    age(folder)
    cache = tmp_path / "cache"
    load_corpus(folder, cache_dir=cache)
    (folder / "a.md").write_text("---\nid: twin\ntitle: Earlier\n---\n\nThe a text.\n")
    again = load_corpus(folder, cache_dir=cache)
    same(again, load_corpus(folder))
    twin = again.get("twin")
    assert twin is not None
    assert twin.title == "Earlier"


def test_corrupt_snapshot_is_ignored(
    folder: Path, tmp_path: Path, parsed: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A damaged snapshot is logged and every file is read again; the result is unchanged."""
    cache = tmp_path / "cache"
    first = load_corpus(folder, cache_dir=cache)
    path = snapshot_path(cache, folder)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    parsed.clear()
    caplog.set_level(logging.INFO, logger="citebot")
    again = load_corpus(folder, cache_dir=cache)
    assert len(parsed) == len(first.articles) + len(first.problems)
    assert "unusable" in caplog.text
    same(again, first)


def test_reload_of_an_unchanged_corpus_reads_no_article(
    folder: Path, tmp_path: Path, parsed: list[str]
) -> None:
    """/reload with nothing changed parses no file and loads the same index from the cache."""
    from citebot.retrieval.cache import load_index

    cache = tmp_path / "cache"
    first = load_corpus(folder, cache_dir=cache)
    index = load_index(first, cache)
    written = {p: p.stat().st_mtime_ns for p in cache.iterdir()}
    parsed.clear()
    again = load_corpus(folder, previous=first, cache_dir=cache)
    reloaded = load_index(again, cache, previous=index)
    assert parsed == []
    assert reloaded.version == index.version
    assert {p: p.stat().st_mtime_ns for p in cache.iterdir()} == written  # nothing rewritten


def test_a_damaged_snapshot_is_rewritten_at_reload(folder: Path, tmp_path: Path) -> None:
    """A snapshot cut short after the last load is written whole again by the next reload."""
    cache = tmp_path / "cache"
    first = load_corpus(folder, cache_dir=cache)
    path = snapshot_path(cache, folder)
    whole = path.stat().st_size
    path.write_bytes(path.read_bytes()[: whole // 2])
    load_corpus(folder, previous=first, cache_dir=cache)
    assert path.stat().st_size == whole


def test_a_chmod_is_noticed(folder: Path, tmp_path: Path, parsed: list[str]) -> None:
    """A file whose mode changed (its ctime) is read again, though size and mtime are equal."""
    first = load_corpus(folder, cache_dir=tmp_path / "cache")
    name = first.articles[0].path or ""
    (folder / name).chmod(0o600)
    parsed.clear()
    load_corpus(folder, previous=first, cache_dir=tmp_path / "cache")
    assert parsed == [name]


def test_scan_orders_files_as_sorted_paths(tmp_path: Path) -> None:
    """The scan lists articles in `sorted(Path)` order (part by part), skipping READMEs and hidden files."""
    from citebot.corpus.snapshot import scan

    names = ["a-b.md", "a/b.md", "a/a b.md", "a.b/c.txt", "B.md", "z/y/x.html", "a0.md"]
    for name in [*names, "README.md", ".hidden.md", "notes.pdf", "sub/readme.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert list(scan(tmp_path)) == [str(p) for p in sorted(Path(n) for n in names)]


def test_front_matter_is_parsed_with_libyaml_when_available() -> None:
    """A file that must be parsed uses libyaml's C loader (PyYAML's pure-Python one is ~10x slower)."""
    import frontmatter.default_handlers
    import yaml

    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML was built without libyaml here")
    assert frontmatter.default_handlers.SafeLoader is yaml.CSafeLoader


def test_a_reload_leaves_the_snapshot_to_the_next_start(
    folder: Path, tmp_path: Path, parsed: list[str]
) -> None:
    """A reload with a new file does not rewrite the snapshot; the next start parses that file alone."""
    cache = tmp_path / "cache"
    first = load_corpus(folder, cache_dir=cache)
    path = snapshot_path(cache, folder)
    written = path.stat().st_mtime_ns
    (folder / "late.md").write_text("# Late news\n\nThe ferry terminal opened on Friday.\n")
    parsed.clear()
    reloaded = load_corpus(folder, previous=first, cache_dir=cache)
    assert parsed == ["late.md"]
    assert path.stat().st_mtime_ns == written
    parsed.clear()
    started = load_corpus(folder, cache_dir=cache)
    assert parsed == ["late.md"]
    same(started, reloaded)


def test_index_cache_writing_can_be_deferred(folder: Path, tmp_path: Path) -> None:
    """With `defer_save` a changed corpus's index is returned first and written when the job runs."""
    from collections.abc import Callable

    from citebot.retrieval.cache import load_index

    cache = tmp_path / "cache"
    first = load_corpus(folder, cache_dir=cache)
    index = load_index(first, cache)
    (folder / "late.md").write_text("# Late news\n\nThe ferry terminal opened on Friday.\n")
    again = load_corpus(folder, previous=first, cache_dir=cache)
    jobs: list[Callable[[], None]] = []
    updated = load_index(again, cache, previous=index, defer_save=jobs.append)

    def versions() -> int:  # main indexes and deltas (a small change is kept as one)
        return len([*cache.glob("index-*.json"), *cache.glob("delta-*.tables")])

    assert len(jobs) == 1
    assert versions() == 1  # only the first version so far
    jobs[0]()
    assert load_index(again, cache).version == updated.version
    assert versions() == 2
