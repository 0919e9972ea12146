"""Atomic writes: the old content or the new, never half, and no temporary file left."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from citebot.atomic import write_atomic


def test_a_write_replaces_the_file_readable_by_others(tmp_path: Path) -> None:
    """Chunks are written in order over the old content, with the usual permissions, and a
    missing folder is made."""
    target = tmp_path / "new" / "article.md"
    write_atomic(target, b"old")
    write_atomic(target, [b"ne", memoryview(b"w!")], fsync=False)
    assert target.read_bytes() == b"new!"
    assert os.stat(target).st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["article.md"]


def test_a_failed_write_keeps_the_old_content(tmp_path: Path) -> None:
    """A write that fails half way leaves the old file as it was and removes its temporary."""
    target = tmp_path / "article.md"
    target.write_bytes(b"the stored article")

    def chunks() -> Iterator[bytes]:
        yield b"half of the new"
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, chunks())
    assert target.read_bytes() == b"the stored article"
    assert [p.name for p in tmp_path.iterdir()] == ["article.md"]
