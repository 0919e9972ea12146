"""The index cache: one folder holding the index of each recent corpus version.

On disk (`load_index`), a corpus version's index is four files named by a key of the
corpus content: `index-<key>.bm25` (the BM25 arrays), `index-<key>.tables` (the offset
columns), `index-<key>.hashes` (each article's content hash, what updating from this
index needs) and `index-<key>.json`, a manifest of the corpus it came from (each
article's id, path, content hash and passage range; written last). The binary files
are checksummed (`citebot.binfile`) and memory-mapped; every file is written atomically.

A small change is kept as a delta beside the main index it applies to
(`retrieval.delta`): `delta-<key>.bm25` (the delta's BM25 arrays) and `delta-<key>.tables`
(its offset columns, and in its header the main index's key, the delta's articles, the
main index's dead rows and the SHA-256 of the `.bm25` file). The `.tables` file is
written last and names the `.bm25` file's content, so a killed update leaves the old
state, or the new one, or a delta that is found not to match and is made again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from citebot.atomic import write_atomic
from citebot.binfile import IndexFormatError, read_arrays, write_arrays
from citebot.corpus.articles import Corpus
from citebot.retrieval.bm25 import BM25Index
from citebot.retrieval.delta import (
    FOLD_SHARE,
    Delta,
    Main,
    Segments,
    combine,
    derive,
    fold,
    main_of,
    next_index,
)
from citebot.retrieval.index import BM25_B, BM25_DELTA, BM25_K1, Index
from citebot.retrieval.offsets import Offsets

log = logging.getLogger(__name__)

# Bump when tokenisation, passage rules or the stored layout change: old caches are ignored.
INDEX_FORMAT = 4


# Part of the cache key: an index built with other BM25 parameters is never loaded.
_PARAMETERS = f"k1={BM25_K1},b={BM25_B},delta={BM25_DELTA}"


# The article hashes kept beside a main index (`_write_hashes`): content hashes are 32
# hex digits.
_HASHES_MAGIC = b"CBHASHES"
_HASH_BYTES = 16

# Index versions kept in a cache folder: the current one and the one it may be updated from.
_KEEP = 2


def load_index(
    corpus: Corpus,
    cache_dir: Path | None,
    *,
    progress: bool = False,
    previous: Index | None = None,
    defer_save: Callable[[Callable[[], None]], None] | None = None,
    fold_share: float = FOLD_SHARE,
) -> Index:
    """The index of `corpus`, from the cache when it holds this exact content, else made.

    A miss reuses an older index where it can -- `previous` (the index being replaced,
    as on a bot reload), else the newest one in the cache -- so that only new and
    edited articles are split and tokenised, into a delta beside that main index
    while it stays under `fold_share` of it (`retrieval.delta`). A missing, stale,
    truncated or corrupt cache file is never trusted: the index is made again and the
    cache rewritten.

    `defer_save` receives the writing of the cache instead of it being done here: a bot
    serves the new index first and writes it afterwards (a delta: kilobytes; a main
    index: its 550 MB at 1M passages, ~1.5 s).
    """
    if cache_dir is None:
        if previous is None:
            return Index.build(corpus, progress=progress)
        return next_index(previous, corpus, fold_share=fold_share, progress=progress)
    key = _cache_key(corpus)
    for load, what in ((_load, "index cache"), (_load_delta, "index delta")):
        try:
            return load(corpus, cache_dir, key)
        except FileNotFoundError:
            pass
        except (IndexFormatError, ValueError, OSError) as exc:
            log.warning("%s in %s is unreadable (%s); rebuilding it", what, cache_dir, exc)
    index = _changed(corpus, cache_dir, key, previous, fold_share, progress)
    if defer_save is None:
        _save_any(index, cache_dir, key)
    else:
        defer_save(functools.partial(_save_any, index, cache_dir, key))
    return index


def _changed(
    corpus: Corpus,
    cache_dir: Path,
    key: str,
    previous: Index | None,
    fold_share: float,
    progress: bool,
) -> Index:
    """The index of a corpus the cache does not hold, from `previous` or the newest cached."""
    if previous is not None:
        main = main_of(previous)
        delta = previous.segments.delta if previous.segments is not None else None
    else:
        base = _newest_base(cache_dir, key)
        if base is None:
            return Index.build(corpus, progress=progress)
        main, delta = base
    index = None
    # A delta is only saved beside its main index: a main index not in the cache is folded.
    if _path(cache_dir, _key_of(main.version), "bm25").exists():
        index = derive(main, delta, corpus, fold_share=fold_share, progress=progress)
    if index is None:
        index = fold(main, delta, corpus, progress=progress)
        index.offsets.check(corpus.articles)
    return index


def save_index(index: Index, cache_dir: Path) -> None:
    """Write an index to the cache folder, where `load_index` finds it (atomic; see module)."""
    _save_any(index, cache_dir, _cache_key(index.corpus))


def _cache_key(corpus: Corpus) -> str:
    return _key_of(corpus.version)


def _key_of(version: str) -> str:
    """The cache key of a corpus version (its index is kept under it)."""
    digest = hashlib.sha256(f"{INDEX_FORMAT}:{_PARAMETERS}:{version}".encode()).hexdigest()
    return digest[:24]


def _path(cache_dir: Path, key: str, kind: str, what: str = "index") -> Path:
    return cache_dir / f"{what}-{key}.{kind}"


def _load(corpus: Corpus, cache_dir: Path, key: str) -> Index:
    """The cached index of exactly this corpus; raises if missing or not intact."""
    offsets, fields = Offsets.load(_path(cache_dir, key, "tables"))
    if fields.get("key") != key:
        raise IndexFormatError("the passage table was written for another corpus")
    offsets.check(corpus.articles)
    return Index(corpus, offsets, BM25Index.load(_path(cache_dir, key, "bm25")))


def _newest_base(cache_dir: Path, key: str) -> tuple[Main, Delta | None] | None:
    """The newest intact cached index of another corpus version, to update from, and the
    newest delta made on it (its articles are then not split again)."""
    manifests = [p for p in cache_dir.glob("index-*.json") if p != _path(cache_dir, key, "json")]
    for path in sorted(manifests, key=_mtime, reverse=True)[:1]:
        try:
            old_key = path.name[len("index-") : -len(".json")]
            found = _read_hashes(cache_dir, old_key)
            if found is None:  # an older cache: from its manifest, and keep them apart
                found = _manifest_hashes(path)
                if found is None:
                    return None
                try:
                    _write_hashes(cache_dir, *found)
                except OSError as exc:  # only a cost: the next start reads the manifest
                    log.info("cannot keep the article hashes of %s (%s)", path.name, exc)
            old_key, hashes, version = found
            offsets, fields = Offsets.load(_path(cache_dir, old_key, "tables"))
            if fields.get("key") != old_key:
                raise IndexFormatError("the article hashes do not match the passage table")
            bm25 = BM25Index.load(_path(cache_dir, old_key, "bm25"))
            if (bm25.k1, bm25.b, bm25.delta) != (BM25_K1, BM25_B, BM25_DELTA):
                return None  # other parameters: every weight differs, build from scratch
            if len(hashes) != len(offsets.article_passages) - 1 or bm25.n_docs != (
                offsets.n_passages
            ):
                raise IndexFormatError("the article hashes, table and BM25 index disagree")
            main = Main(hashes, offsets, bm25, version)
            return main, _newest_delta(cache_dir, old_key)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.info("not updating from %s (%s); building from scratch", path.name, exc)
    return None


def _manifest_hashes(path: Path) -> tuple[str, list[str], str] | None:
    """A main index's key, article hashes and corpus version from its JSON manifest
    (checked against its table); None for another format."""
    raw = path.read_bytes()
    manifest = json.loads(raw)
    if manifest["format"] != INDEX_FORMAT:
        return None
    key = str(manifest["key"])
    _, fields = Offsets.load(_path(path.parent, key, "tables"))
    if fields.get("manifest_sha256") != hashlib.sha256(raw).hexdigest():
        raise IndexFormatError("the manifest does not match its passage table")
    hashes = [str(a["hash"]) for a in manifest["articles"]]
    return key, hashes, str(manifest["corpus_version"])


def _write_hashes(cache_dir: Path, key: str, hashes: list[str], version: str) -> None:
    """Keep a main index's article hashes apart from its manifest: updating from the
    index needs only them, and parsing the 22 MB manifest at 1M passages took 0.7 s
    of a start on a changed corpus (reading this file: 0.03 s)."""
    packed = np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint8)
    write_arrays(
        _path(cache_dir, key, "hashes"),
        magic=_HASHES_MAGIC,
        version=INDEX_FORMAT,
        fields={"key": key, "corpus_version": version, "width": _HASH_BYTES},
        arrays={"hashes": packed},
        fsync=False,  # a cache of the manifest: a torn one is found out and made again
    )


def _read_hashes(cache_dir: Path, key: str) -> tuple[str, list[str], str] | None:
    """What `_write_hashes` kept; None when there is no such file or it is unusable."""
    try:
        fields, arrays = read_arrays(
            _path(cache_dir, key, "hashes"),
            magic=_HASHES_MAGIC,
            version=INDEX_FORMAT,
            what="article hashes",
            dtypes={"hashes": ("|u1",)},
        )
        if fields.get("key") != key or fields.get("width") != _HASH_BYTES:
            raise IndexFormatError("the article hashes were written for another index")
    except FileNotFoundError:
        return None
    except (IndexFormatError, OSError) as exc:
        log.info("article hashes of %s are unusable (%s); reading its manifest", key, exc)
        return None
    text = arrays["hashes"].tobytes().hex()
    width = 2 * _HASH_BYTES
    hashes = [text[i : i + width] for i in range(0, len(text), width)]
    return key, hashes, str(fields["corpus_version"])


def _newest_delta(cache_dir: Path, base: str) -> Delta | None:
    """The newest intact delta made on the main index `base`, if any."""
    for path in sorted(cache_dir.glob("delta-*.tables"), key=_mtime, reverse=True):
        try:
            delta, fields = _read_delta(cache_dir, path.name[len("delta-") : -len(".tables")])
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            log.info("not reusing the index delta %s (%s)", path.name, exc)
            continue
        if fields["base"] == base:
            return delta
    return None


def _read_delta(cache_dir: Path, key: str) -> tuple[Delta, dict[str, Any]]:
    """A saved delta (its dead rows and positions as saved) and its header fields;
    FileNotFoundError when there is none."""
    bm25_path = _path(cache_dir, key, "bm25", "delta")
    try:
        offsets, fields = Offsets.load(_path(cache_dir, key, "tables", "delta"))
    except FileNotFoundError:
        if bm25_path.exists():  # its table is written last: the update was killed
            raise IndexFormatError(
                f"{bm25_path.name} has no table (an interrupted update)"
            ) from None
        raise
    if fields.get("key") != key or fields.get("format") != INDEX_FORMAT:
        raise IndexFormatError("the delta's table was written for another corpus or format")
    if not bm25_path.exists():
        raise IndexFormatError(f"{bm25_path.name} is missing beside its table")
    if hashlib.sha256(bm25_path.read_bytes()).hexdigest() != fields.get("bm25_sha256"):
        raise IndexFormatError(f"{bm25_path.name} is not the file its table was written with")
    bm25 = BM25Index.load(bm25_path)
    keys = [(str(i), str(h)) for i, h in zip(fields["ids"], fields["hashes"], strict=True)]
    positions = [int(p) for p in fields["positions"]]
    if len(positions) != len(keys) or len(keys) != len(offsets.article_passages) - 1:
        raise IndexFormatError("the delta's articles and table disagree")
    dead = np.zeros(int(fields["main_rows"]), dtype=np.bool_)
    rows = np.asarray(fields["dead"], dtype=np.int64)
    if len(rows) and (rows.min() < 0 or rows.max() >= len(dead)):
        raise IndexFormatError("the delta's dead rows lie outside its main index")
    dead[rows] = True
    return Delta(keys, positions, offsets, bm25, dead), fields


def _load_delta(corpus: Corpus, cache_dir: Path, key: str) -> Index:
    """The cached main index and delta of exactly this corpus; raises if missing or not
    intact (FileNotFoundError when there is none)."""
    try:
        delta, fields = _read_delta(cache_dir, key)
    except (KeyError, TypeError, IndexError) as exc:
        raise IndexFormatError(f"the delta's header is malformed ({exc!r})") from exc
    base = str(fields["base"])
    offsets, main_fields = Offsets.load(_path(cache_dir, base, "tables"))
    if main_fields.get("key") != base or len(offsets.article_passages) - 1 != len(delta.dead):
        raise IndexFormatError("the delta was made on another main index")
    articles = corpus.articles
    if any(
        p >= len(articles) or (articles[p].id, articles[p].content_hash) != k
        for p, k in zip(delta.positions, delta.keys, strict=True)
    ):
        raise IndexFormatError("the delta's articles are not the corpus's")
    in_delta = set(delta.positions)
    kept = iter([a.content_hash for i, a in enumerate(articles) if i not in in_delta])
    hashes = [None if dead else next(kept, None) for dead in delta.dead.tolist()]
    bm25 = BM25Index.load(_path(cache_dir, base, "bm25"))
    main = Main(hashes, offsets, bm25, str(fields["base_version"]))
    return combine(corpus, main, delta, check=True)


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


def _save_any(index: Index, cache_dir: Path, key: str) -> None:
    """Write a main index, or the delta of one (see module); a failure is a warning."""
    try:
        if index.segments is None:
            _save(index, cache_dir, key)
            for path in cache_dir.glob("delta-*"):  # made on older main indexes
                path.unlink(missing_ok=True)
        else:
            _save_delta(index.segments, cache_dir, key)
            _prune(cache_dir, key, "delta")
    except OSError as exc:
        log.warning(
            "cannot write the index cache to %s (%s); continuing without it", cache_dir, exc
        )


def _save(index: Index, cache_dir: Path, key: str) -> None:
    """Write the index's three files atomically."""
    if not isinstance(index.bm25, BM25Index):
        raise TypeError("an index with a delta is saved as a delta")
    manifest = _manifest(index, key)
    fields = {"key": key, "manifest_sha256": hashlib.sha256(manifest).hexdigest()}
    cache_dir.mkdir(parents=True, exist_ok=True)
    index.bm25.save(_path(cache_dir, key, "bm25"))
    index.offsets.save(_path(cache_dir, key, "tables"), fields)
    hashes = [a.content_hash for a in index.corpus.articles]
    _write_hashes(cache_dir, key, hashes, index.version)
    write_atomic(_path(cache_dir, key, "json"), manifest)
    _prune(cache_dir, key)


def _save_delta(segments: Segments, cache_dir: Path, key: str) -> None:
    """Write a delta's two files atomically, the table (naming the other) last."""
    delta = segments.delta
    bm25_path = _path(cache_dir, key, "bm25", "delta")
    delta.bm25.save(bm25_path)
    fields = {
        "key": key,
        "format": INDEX_FORMAT,
        "base": _key_of(segments.main.version),
        "base_version": segments.main.version,
        "bm25_sha256": hashlib.sha256(bm25_path.read_bytes()).hexdigest(),
        "ids": [k[0] for k in delta.keys],
        "hashes": [k[1] for k in delta.keys],
        "positions": delta.positions,
        "main_rows": len(delta.dead),
        "dead": np.flatnonzero(delta.dead).tolist(),
    }
    delta.offsets.save(_path(cache_dir, key, "tables", "delta"), fields)


def _prune(cache_dir: Path, key: str, what: str = "index") -> None:
    """Delete all but the newest `_KEEP` versions of main indexes or of deltas (older
    formats included)."""
    newest: dict[str, float] = {}
    for path in cache_dir.glob(f"{what}-*"):
        version = path.name.split(".")[0]
        newest[version] = max(newest.get(version, 0.0), _mtime(path))
    current = f"{what}-{key}"
    others = sorted((v for v in newest if v != current), key=newest.__getitem__, reverse=True)
    doomed = set(others[_KEEP - 1 :])
    for path in cache_dir.glob(f"{what}-*"):
        if path.name.split(".")[0] in doomed:
            path.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
