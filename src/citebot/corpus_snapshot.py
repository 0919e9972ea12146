"""The corpus as last loaded, kept in the cache folder so that a start does not re-read it.

Parsing every file's YAML front matter and hashing it was most of a start: 2.4 s of a
2-3 s `citebot ask` at 100k passages, ~45 s at 1M. A snapshot holds every article
that loaded (metadata, body, content hash) with its file's size and mtime; the next
load stats the folder (`scan`) and parses only the files whose size or mtime differ,
or that are new. As in git's index, a file modified within `RACY_NS` of the scan the
snapshot was made from is not trusted (a same-size edit in the same clock tick would
look unchanged): it is parsed again. Files that failed are not kept: they are parsed
again on every load and reported again.

On disk: one `citebot.binfile` file per corpus folder (`corpus-<hash of the folder's
path>.snap`), checksummed: the bodies as one UTF-8 array with their end offsets, the
sizes and mtimes, and the metadata as columns in the JSON header. A snapshot that is
missing, corrupt or of another format is ignored (every file is parsed, as before).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from citebot.binfile import IndexFormatError, read_arrays, write_arrays
from citebot.corpus import ARTICLE_SUFFIXES, Article

log = logging.getLogger(__name__)

_MAGIC: Final = b"CBCORPUS"
_VERSION: Final = 2
_DTYPES: Final = {
    "text": ("|u1",),
    "ends": ("<i8",),
    "sizes": ("<i8",),
    "mtimes": ("<i8",),
    "ctimes": ("<i8",),
}
_COLUMNS: Final = ("paths", "ids", "titles", "dates", "sources", "urls", "languages", "hashes")
RACY_NS: Final = 2_000_000_000
_FIELDS_SET: Final = set(Article.model_fields)

# relative path -> (size, mtime, ctime), times in ns. The ctime changes with the mode too
# (a file made unreadable by chmod is read again and reported) and when a file is
# replaced by another with the same size and mtime (`cp -p`, rsync).
Stats = dict[str, tuple[int, int, int]]


def scan(directory: Path) -> Stats:
    """Every article file under `directory` with its size and mtime, in path order.

    The same files as `corpus.iter_article_files` (README and hidden files are not
    articles), found with `os.scandir`, whose entries carry their type, so that only
    the articles are stat-ed: 0.2 s for 18k files where `Path.rglob` took 0.6 s.
    """
    found: list[tuple[str, str, int, int, int]] = []
    pending = [(str(directory), "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if entry.is_dir():
                    pending.append((entry.path, f"{prefix}{name}/"))
                    continue
                stem, dot, suffix = name.rpartition(".")
                if (
                    dot
                    and f".{suffix.lower()}" in ARTICLE_SUFFIXES
                    and not name.startswith(".")
                    and stem.lower() != "readme"
                    and entry.is_file()
                ):
                    stat = entry.stat()
                    rel = prefix + name
                    key = rel.replace("/", "\0")
                    found.append((key, rel, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))
    # The order of `sorted(Path, ...)`, which compares part by part: NUL sorts below any
    # character a file name can hold, so "a/b" < "a-b" as ("a", "b") < ("a-b",).
    found.sort()
    return {rel: (size, mtime, ctime) for _, rel, size, mtime, ctime in found}


def snapshot_path(cache_dir: Path, directory: Path) -> Path:
    """Where the snapshot of a corpus folder is kept (one per folder)."""
    key = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"corpus-{key}.snap"


def trusted(stats: Stats, scanned_ns: int) -> Stats:
    """The entries of `stats` old enough, at a scan started at `scanned_ns`, to trust."""
    limit = scanned_ns - RACY_NS
    return {path: stat for path, stat in stats.items() if stat[1] < limit}


def save_snapshot(
    path: Path, articles: Mapping[str, Article], stats: Stats, scanned_ns: int
) -> None:
    """Write the articles (by relative path) and their files' stat data; a failure is logged."""
    rows = [(p, a) for p, a in articles.items() if p in stats]
    encoded = [a.body.encode("utf-8") for _, a in rows]
    columns: dict[str, list[Any]] = {
        "paths": [p for p, _ in rows],
        "ids": [a.id for _, a in rows],
        "titles": [a.title for _, a in rows],
        "dates": [a.date.isoformat() if a.date else None for _, a in rows],
        "sources": [a.source for _, a in rows],
        "urls": [a.url for _, a in rows],
        "languages": [a.language for _, a in rows],
        "hashes": [a.content_hash for _, a in rows],
    }
    # Character offsets: the bodies are decoded as one string and sliced.
    ends = np.cumsum([len(a.body) for _, a in rows], dtype=np.int64)
    arrays: dict[str, npt.NDArray[Any]] = {
        "text": np.frombuffer(b"".join(encoded), dtype=np.uint8),
        "ends": ends,
        "sizes": np.array([stats[p][0] for p, _ in rows], dtype=np.int64),
        "mtimes": np.array([stats[p][1] for p, _ in rows], dtype=np.int64),
        "ctimes": np.array([stats[p][2] for p, _ in rows], dtype=np.int64),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_arrays(
            path,
            magic=_MAGIC,
            version=_VERSION,
            fields={"scanned_ns": scanned_ns, **columns},
            arrays=arrays,
        )
    except OSError as exc:
        log.warning("cannot write the corpus snapshot %s (%s); continuing without it", path, exc)


def load_snapshot(path: Path) -> tuple[dict[str, Article], Stats, int]:
    """The articles of a snapshot by relative path, their stat data and the scan time.

    Empty when there is no usable snapshot (missing, corrupt, another format).
    """
    try:
        fields, arrays = read_arrays(
            path, magic=_MAGIC, version=_VERSION, what="corpus snapshot", dtypes=_DTYPES
        )
        columns = [list(fields[name]) for name in _COLUMNS]
        scanned_ns = int(fields["scanned_ns"])
        n = len(columns[0])
        if any(len(c) != n for c in columns) or not (
            len(arrays["ends"]) == len(arrays["sizes"]) == len(arrays["mtimes"]) == n
            and len(arrays["ctimes"]) == n
        ):
            raise IndexFormatError(f"{path}: the columns disagree")
        text = str(arrays["text"].data, "utf-8")  # from the mapped file, not a copy of it
    except FileNotFoundError:
        return {}, {}, 0
    except (IndexFormatError, OSError, KeyError, TypeError, ValueError) as exc:
        # Only a cost: every file is read as without a snapshot, and a new one written.
        log.info("corpus snapshot %s is unusable (%s); reading every file", path, exc)
        return {}, {}, 0
    ends = arrays["ends"].tolist()
    starts = [0, *ends[:-1]]
    columns_of_stats = (arrays[k].tolist() for k in ("sizes", "mtimes", "ctimes"))
    stats = dict(zip(columns[0], zip(*columns_of_stats, strict=True), strict=True))
    articles = _articles(columns, [text[a:b] for a, b in zip(starts, ends, strict=True)])
    return articles, stats, scanned_ns


def _articles(columns: list[list[Any]], bodies: list[str]) -> dict[str, Article]:
    """Articles from the snapshot's columns, without validating them again.

    They were validated when their files were parsed, and the snapshot is checksummed.
    `Article.model_construct` does the same as `_trusted_article` at ~20 µs an article
    (3.7 s for 182k at 1M passages); setting the four attributes it sets takes a tenth
    of that. The collector is paused meanwhile: 182k new containers would start
    dozens of full collections that find nothing to free.
    """
    paths, ids, titles, dates, sources, urls, languages, hashes = columns
    enabled = gc.isenabled()
    gc.disable()
    try:
        return {
            path: _trusted_article(
                {
                    "id": ids[i],
                    "title": titles[i],
                    "body": bodies[i],
                    "date": dt.date.fromisoformat(dates[i]) if dates[i] else None,
                    "source": sources[i],
                    "url": urls[i],
                    "language": languages[i],
                    "path": path,
                    "content_hash": hashes[i],  # Article's cached_property, kept
                }
            )
            for i, path in enumerate(paths)
        }
    finally:
        if enabled:
            gc.enable()


def _trusted_article(values: dict[str, Any]) -> Article:
    """An Article holding `values` as they are (what `model_construct` does, minus its checks)."""
    article = Article.__new__(Article)
    object.__setattr__(article, "__dict__", values)
    # One set for all: a frozen model's fields-set is only ever read.
    object.__setattr__(article, "__pydantic_fields_set__", _FIELDS_SET)
    object.__setattr__(article, "__pydantic_extra__", None)
    object.__setattr__(article, "__pydantic_private__", None)
    return article


def file_stat(path: Path | None) -> tuple[int, int] | None:
    """(size, mtime) of a file, None when there is none: was the snapshot changed behind us?"""
    try:
        stat = path.stat() if path is not None else None
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns) if stat is not None else None


def now_ns() -> int:
    """The wall clock in ns, as file mtimes are (taken before a scan)."""
    return time.time_ns()
