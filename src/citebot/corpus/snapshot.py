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
import functools
import gc
import hashlib
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from citebot.binfile import IndexFormatError, read_arrays, write_arrays
from citebot.corpus.articles import ARTICLE_SUFFIXES, Article

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


@dataclass(frozen=True)
class Files:
    """Article files in path order with their stat data, as one scan saw them; `articles`
    (the articles read from them, aligned) when they were loaded."""

    paths: list[str]
    sizes: list[int]
    mtimes: list[int]
    ctimes: list[int]
    scanned_ns: int
    articles: list[Article] | None = None

    @functools.cached_property
    def holders(self) -> dict[str, str]:
        """The file each article id was read from (made when asked: 182k ids at 1M)."""
        return {a.id: path for a, path in zip(self.articles or (), self.paths, strict=False)}

    def stats(self) -> Stats:
        return dict(
            zip(self.paths, zip(self.sizes, self.mtimes, self.ctimes, strict=True), strict=True)
        )

    def unchanged(self, now: Files) -> bool:
        """Whether `now` finds exactly these files, every one old enough to trust (RACY_NS).

        Column by column, so that 182k files compare in C in a few ms (no dicts).
        """
        return (
            self.articles is not None
            and self.paths == now.paths
            and self.sizes == now.sizes
            and self.mtimes == now.mtimes
            and self.ctimes == now.ctimes
            and (not self.mtimes or max(self.mtimes) < self.scanned_ns - RACY_NS)
        )


def scan_files(directory: Path) -> Files:
    """Every article file under `directory` with its size, mtime and ctime, in path order.

    The same files as `corpus.iter_article_files` (README and hidden files are not
    articles), found with `os.scandir`, whose entries carry their type, so that only
    the articles are stat-ed: 0.1 s for 18k files where `Path.rglob` took 0.6 s.
    """
    scanned_ns = time.time_ns()  # before any stat: a file changed during the scan is newer
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
                if is_article_name(name) and entry.is_file():
                    stat = entry.stat()
                    rel = prefix + name
                    found.append(
                        (path_order(rel), rel, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
                    )
    found.sort()
    return Files(
        paths=[f[1] for f in found],
        sizes=[f[2] for f in found],
        mtimes=[f[3] for f in found],
        ctimes=[f[4] for f in found],
        scanned_ns=scanned_ns,
    )


def scan(directory: Path) -> Stats:
    """`scan_files` as a mapping: relative path -> (size, mtime, ctime)."""
    return scan_files(directory).stats()


def is_article_name(name: str) -> bool:
    """Whether a file of this name is an article (README and hidden files are not)."""
    stem, dot, suffix = name.rpartition(".")
    return (
        bool(dot)
        and f".{suffix.lower()}" in ARTICLE_SUFFIXES
        and not (name.startswith(".") or stem.lower() == "readme")
    )


def path_order(rel: str) -> str:
    """The sort key of a relative path: the order of `sorted(Path, ...)`, which compares
    part by part. NUL sorts below any character a file name can hold, so "a/b" < "a-b"
    as ("a", "b") < ("a-b",)."""
    return rel.replace("/", "\0")


@dataclass(frozen=True)
class Written:
    """The files a writer of articles (`citebot ingest`, a feed poll, /add) wrote or
    replaced, and removed, relative to the corpus folder: what changed by its hand."""

    files: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __or__(self, other: Written) -> Written:
        return Written(self.files + other.files, self.removed + other.removed)

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(self.files + self.removed)


@dataclass(frozen=True)
class Changes:
    """The files that changed since a load, each with its stat data now (None: gone),
    and when they were stat-ed (see `Files.scanned_ns`)."""

    stats: dict[str, tuple[int, int, int] | None]
    scanned_ns: int


def restat(directory: Path, base: Files, names: Iterable[str]) -> Changes:
    """The changes of a writer's files: `names` (and the files `base` could not trust,
    RACY_NS) stat-ed again, without a scan (stat-ing 182k files takes 1.3-2.2 s at 1M
    passages). A name that is gone or is not an article file is gone from the corpus.
    Changes made by hand elsewhere are not seen: the next scan finds them.
    """
    scanned_ns = time.time_ns()  # before any stat, as in `scan_files`
    racy = base.scanned_ns - RACY_NS
    todo = set(names)
    if base.mtimes and max(base.mtimes) >= racy:  # rarely: a file written just before
        todo.update(p for p, m in zip(base.paths, base.mtimes, strict=True) if m >= racy)
    stats: dict[str, tuple[int, int, int] | None] = {}
    for rel in todo:
        try:
            stat = (directory / rel).stat()
        except OSError:  # gone (or a folder in its way): no longer an article
            stats[rel] = None
            continue
        article = is_article_name(rel.rpartition("/")[2]) and S_ISREG(stat.st_mode)
        stats[rel] = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns) if article else None
    return Changes(stats, scanned_ns)


def compare(base: Files, now: Files) -> Changes:
    """The changes a scan found: files new, changed or untrusted (RACY_NS), and gone."""
    rows, same = _matches(base, now)
    stats: dict[str, tuple[int, int, int] | None] = {
        now.paths[i]: (now.sizes[i], now.mtimes[i], now.ctimes[i])
        for i in np.flatnonzero(~same).tolist()
    }
    if int((rows >= 0).sum()) < len(base.paths):  # some of base's files are gone
        present = set(now.paths)
        stats.update((p, None) for p in base.paths if p not in present)
    return Changes(stats, now.scanned_ns)


def _matches(base: Files, now: Files) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """For each file of `now`, its row in `base` (-1: none), and whether it is unchanged
    there (same size, mtime and ctime) and old enough to trust (RACY_NS).

    Compared as columns (0.05 s for 182k files, where a loop over them took 0.3 s).
    """
    at = dict(zip(base.paths, range(len(base.paths)), strict=True))
    found = list(map(at.get, now.paths))
    rows = np.fromiter((-1 if i is None else i for i in found), np.int64, len(found))
    known = rows >= 0
    src = rows[known]
    same = np.zeros(len(rows), dtype=np.bool_)
    if len(src):
        b_mtimes = np.asarray(base.mtimes, dtype=np.int64)[src]
        same[known] = (
            (b_mtimes == np.asarray(now.mtimes, dtype=np.int64)[known])
            & (b_mtimes < base.scanned_ns - RACY_NS)
            & (np.asarray(base.sizes, dtype=np.int64)[src] == np.asarray(now.sizes)[known])
            & (np.asarray(base.ctimes, dtype=np.int64)[src] == np.asarray(now.ctimes)[known])
        )
    return rows, same


def reusable(base: Files, now: Files) -> list[Article | None]:
    """For each file of `now`, the article `base` read from it if the file is unchanged
    and old enough to trust (`_matches`), else None."""
    rows, same = _matches(base, now)
    articles = base.articles or []
    if not articles:
        return [None] * len(rows)
    return [articles[i] if ok else None for i, ok in zip(rows.tolist(), same.tolist(), strict=True)]


def loaded_files(articles: Sequence[Article], now: Files) -> Files:
    """The files of `now` the articles were read from, aligned with them."""
    at = dict(zip(now.paths, range(len(now.paths)), strict=True))
    found = list(map(at.get, [a.path or "" for a in articles]))
    rows = [j for j in found if j is not None]
    taken = [a for a, j in zip(articles, found, strict=True) if j is not None]
    return Files(
        paths=[now.paths[j] for j in rows],
        sizes=[now.sizes[j] for j in rows],
        mtimes=[now.mtimes[j] for j in rows],
        ctimes=[now.ctimes[j] for j in rows],
        scanned_ns=now.scanned_ns,
        articles=taken,
    )


def snapshot_path(cache_dir: Path, directory: Path) -> Path:
    """Where the snapshot of a corpus folder is kept (one per folder)."""
    key = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"corpus-{key}.snap"


def save_snapshot(path: Path, files: Files) -> None:
    """Write loaded files and their articles; a failure is logged, never raised."""
    articles = files.articles or []
    columns: dict[str, list[Any]] = {
        "paths": files.paths,
        "ids": [a.id for a in articles],
        "titles": [a.title for a in articles],
        "dates": [a.date.isoformat() if a.date else None for a in articles],
        "sources": [a.source for a in articles],
        "urls": [a.url for a in articles],
        "languages": [a.language for a in articles],
        "hashes": [a.content_hash for a in articles],
    }
    # Character offsets: the bodies are decoded as one string and sliced.
    ends = np.cumsum([len(a.body) for a in articles], dtype=np.int64)
    arrays: dict[str, npt.NDArray[Any]] = {
        "text": np.frombuffer("".join(a.body for a in articles).encode("utf-8"), dtype=np.uint8),
        "ends": ends,
        "sizes": np.array(files.sizes, dtype=np.int64),
        "mtimes": np.array(files.mtimes, dtype=np.int64),
        "ctimes": np.array(files.ctimes, dtype=np.int64),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_arrays(
            path,
            magic=_MAGIC,
            version=_VERSION,
            fields={"scanned_ns": files.scanned_ns, **columns},
            arrays=arrays,
            # A cache of the files: a crash that tears it costs one full read, while an
            # fsync of its 250 MB (1M passages) costs ~2 s of every change.
            fsync=False,
        )
    except OSError as exc:
        log.warning("cannot write the corpus snapshot %s (%s); continuing without it", path, exc)


def load_snapshot(path: Path) -> Files | None:
    """The files and articles of a snapshot; None when there is no usable one (missing,
    corrupt, another format)."""
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
        return None
    except (IndexFormatError, OSError, KeyError, TypeError, ValueError) as exc:
        # Only a cost: every file is read as without a snapshot, and a new one written.
        log.info("corpus snapshot %s is unusable (%s); reading every file", path, exc)
        return None
    ends = arrays["ends"].tolist()
    starts = [0, *ends[:-1]]
    return Files(
        paths=columns[0],
        sizes=arrays["sizes"].tolist(),
        mtimes=arrays["mtimes"].tolist(),
        ctimes=arrays["ctimes"].tolist(),
        scanned_ns=scanned_ns,
        articles=_articles(columns, [text[a:b] for a, b in zip(starts, ends, strict=True)]),
    )


def _articles(columns: list[list[Any]], bodies: list[str]) -> list[Article]:
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
        return [
            _trusted_article(
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
        ]
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
