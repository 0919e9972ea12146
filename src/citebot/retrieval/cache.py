"""The index cache: one folder holding the index of each recent corpus version.

On disk (`load_index`), a corpus version's index is three files named by a key of the
corpus content: `index-<key>.bm25` (the BM25 arrays), `index-<key>.tables` (the offset
columns) and `index-<key>.json`, a manifest of the corpus it came from (each article's
id, path, content hash and passage range). The binary files are checksummed
(`citebot.binfile`) and memory-mapped; every file is written atomically.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from citebot.binfile import IndexFormatError
from citebot.corpus.articles import Corpus
from citebot.retrieval.bm25 import BM25Index
from citebot.retrieval.index import BM25_B, BM25_DELTA, BM25_K1, Index, update
from citebot.retrieval.offsets import Offsets

log = logging.getLogger(__name__)

# Bump when tokenisation, passage rules or the stored layout change: old caches are ignored.
INDEX_FORMAT = 4


# Part of the cache key: an index built with other BM25 parameters is never loaded.
_PARAMETERS = f"k1={BM25_K1},b={BM25_B},delta={BM25_DELTA}"


# Index versions kept in a cache folder: the current one and the one it may be updated from.
_KEEP = 2


def load_index(
    corpus: Corpus,
    cache_dir: Path | None,
    *,
    progress: bool = False,
    previous: Index | None = None,
    defer_save: Callable[[Callable[[], None]], None] | None = None,
) -> Index:
    """The index of `corpus`, from the cache when it holds this exact content, else built.

    A miss reuses an older index where it can -- `previous` (the index being replaced,
    as on a bot reload), else the newest one in the cache -- so that only new and
    edited articles are split and tokenised. A missing, stale, truncated or corrupt
    cache file is never trusted: the index is rebuilt and the cache rewritten.

    `defer_save` receives the writing of the cache instead of it being done here: a bot
    serves the new index first and writes its 550 MB (1M passages, ~1.5 s) afterwards.
    """
    if cache_dir is None:
        return (
            previous.updated(corpus, progress=progress)
            if previous
            else Index.build(corpus, progress=progress)
        )
    key = _cache_key(corpus)
    try:
        return _load(corpus, cache_dir, key)
    except FileNotFoundError:
        pass
    except (IndexFormatError, ValueError, OSError) as exc:
        log.warning("index cache %s is unreadable (%s); rebuilding", cache_dir, exc)
    if previous is not None:
        index = previous.updated(corpus, progress=progress)
    else:
        base = _newest_base(cache_dir, key)
        if base is None:
            index = Index.build(corpus, progress=progress)
        else:
            index = update(*base, corpus, progress=progress)
            index.offsets.check(corpus.articles)
    if defer_save is None:
        _save(index, cache_dir, key)
    else:
        defer_save(functools.partial(_save, index, cache_dir, key))
    return index


def save_index(index: Index, cache_dir: Path) -> None:
    """Write an index to the cache folder, where `load_index` finds it (atomic; see module)."""
    _save(index, cache_dir, _cache_key(index.corpus))


def _cache_key(corpus: Corpus) -> str:
    digest = hashlib.sha256(f"{INDEX_FORMAT}:{_PARAMETERS}:{corpus.version}".encode()).hexdigest()
    return digest[:24]


def _path(cache_dir: Path, key: str, kind: str) -> Path:
    return cache_dir / f"index-{key}.{kind}"


def _load(corpus: Corpus, cache_dir: Path, key: str) -> Index:
    """The cached index of exactly this corpus; raises if missing or not intact."""
    offsets, fields = Offsets.load(_path(cache_dir, key, "tables"))
    if fields.get("key") != key:
        raise IndexFormatError("the passage table was written for another corpus")
    offsets.check(corpus.articles)
    return Index(corpus, offsets, BM25Index.load(_path(cache_dir, key, "bm25")))


def _newest_base(
    cache_dir: Path, key: str
) -> tuple[list[tuple[str, str]], Offsets, BM25Index] | None:
    """The newest intact cached index of another corpus version, to update from."""
    manifests = [p for p in cache_dir.glob("index-*.json") if p != _path(cache_dir, key, "json")]
    for path in sorted(manifests, key=_mtime, reverse=True)[:1]:
        try:
            raw = path.read_bytes()
            manifest = json.loads(raw)
            if manifest["format"] != INDEX_FORMAT:
                return None
            old_key = str(manifest["key"])
            offsets, fields = Offsets.load(_path(cache_dir, old_key, "tables"))
            if fields.get("manifest_sha256") != hashlib.sha256(raw).hexdigest():
                raise IndexFormatError("the manifest does not match its passage table")
            bm25 = BM25Index.load(_path(cache_dir, old_key, "bm25"))
            if (bm25.k1, bm25.b, bm25.delta) != (BM25_K1, BM25_B, BM25_DELTA):
                return None  # other parameters: every weight differs, build from scratch
            articles = [(str(a["id"]), str(a["hash"])) for a in manifest["articles"]]
            if len(articles) != len(offsets.article_passages) - 1 or bm25.n_docs != (
                offsets.n_passages
            ):
                raise IndexFormatError("the manifest, table and BM25 index disagree")
            return articles, offsets, bm25
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.info("not updating from %s (%s); building from scratch", path.name, exc)
    return None


def _manifest(index: Index, key: str) -> bytes:
    """The JSON manifest: which corpus the index came from, article by article."""
    ptr = index.offsets.article_passages.tolist()
    articles = [
        {"id": a.id, "path": a.path, "hash": a.content_hash, "passages": [ptr[i], ptr[i + 1]]}
        for i, a in enumerate(index.corpus.articles)
    ]
    manifest = {
        "format": INDEX_FORMAT,
        "key": key,
        "corpus_version": index.version,
        "passages": len(index.passages),
        "sentences": int(index.offsets.article_sentences[-1]),
        "files": {kind: _path(Path(), key, kind).name for kind in ("bm25", "tables")},
        "articles": articles,
    }
    return json.dumps(manifest, ensure_ascii=False).encode()


def _save(index: Index, cache_dir: Path, key: str) -> None:
    """Write the index's three files atomically; a cache that cannot be written is a warning."""
    manifest = _manifest(index, key)
    fields = {"key": key, "manifest_sha256": hashlib.sha256(manifest).hexdigest()}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        index.bm25.save(_path(cache_dir, key, "bm25"))
        index.offsets.save(_path(cache_dir, key, "tables"), fields)
        _write_atomic(_path(cache_dir, key, "json"), manifest)
        _prune(cache_dir, key)
    except OSError as exc:
        log.warning(
            "cannot write the index cache to %s (%s); continuing without it", cache_dir, exc
        )


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _prune(cache_dir: Path, key: str) -> None:
    """Delete all but the newest `_KEEP` index versions (older formats included)."""
    newest: dict[str, float] = {}
    for path in cache_dir.glob("index-*"):
        version = path.name.split(".")[0]
        newest[version] = max(newest.get(version, 0.0), _mtime(path))
    current = f"index-{key}"
    others = sorted((v for v in newest if v != current), key=newest.__getitem__, reverse=True)
    doomed = set(others[_KEEP - 1 :])
    for path in cache_dir.glob("index-*"):
        if path.name.split(".")[0] in doomed:
            path.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
