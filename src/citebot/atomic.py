"""Writing a file so that a reader, or a crash, sees the old content or the new, never half.

The data go to a temporary file in the target's folder (same file system), which is
flushed, optionally fsynced, and renamed over the target; a failure removes it and
leaves the target as it was. Every file citebot stores (articles it ingests, feed state,
the index cache) is written this way.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(
    path: Path, data: bytes | Iterable[bytes | memoryview], *, fsync: bool = True
) -> None:
    """Replace `path` with `data` (bytes, or chunks of them) atomically.

    `fsync=False` skips flushing to the disk: for a file that is only a cache, which a
    crash may then leave empty or torn, and whose reader notices (checksums).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in [data] if isinstance(data, bytes) else data:
                f.write(chunk)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from other users
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if fsync:
        _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself; best effort where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
