"""The on-disk index cache and incremental updates: identical to a fresh build, never trusted when damaged."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from citebot.corpus.articles import Article, Corpus
from citebot.corpus.folder import load_corpus
from citebot.retrieval import cache as cache_module
from citebot.retrieval import index as index_module
from citebot.retrieval.cache import load_index
from citebot.retrieval.index import Index
from citebot.text.tokenizer import tokenize
from tests.conftest import make_article

QUERIES = (
    "bridge opened",
    "Hong Kong science park",
    "mayor Seoul visit",
    "tunnel Friday",
    "大公坊",
)


def same_index(got: Index, want: Index) -> None:
    """Two indexes hold the same passages and sentences and answer every query identically."""
    assert list(got.passages) == list(want.passages)
    for article_id in want.sentences:
        assert list(got.sentences[article_id]) == list(want.sentences[article_id])
    for query in QUERIES:
        terms = tokenize(query)
        assert got.search(terms, 50) == want.search(terms, 50)
        for hit in want.search(terms, 3):
            assert got.term_contributions(terms, hit.passage.index) == want.term_contributions(
                terms, hit.passage.index
            )
        assert got.idf(terms[0]) == want.idf(terms[0])


def write_corpus(folder: Path, articles: dict[str, str]) -> None:
    """Replace the article files of a corpus folder."""
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    for name, body in articles.items():
        (folder / f"{name}.md").write_text(f"# {name.title()}\n\n{body}\n")


ARTICLES = {
    "a": "The bridge opened on Tuesday. The mayor cut the ribbon.\n\nTraffic was light.",
    "b": "The tunnel opened on Friday. Engineers praised the work.",
    "c": "Farmers expect a large rice harvest this autumn. Prices fell.",
}


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """A corpus folder holding ARTICLES and an empty cache folder."""
    corpus_dir, cache = tmp_path / "corpus", tmp_path / "cache"
    write_corpus(corpus_dir, ARTICLES)
    return corpus_dir, cache


def versions(cache: Path) -> dict[str, list[str]]:
    """Cached index versions -> the suffixes of their files."""
    out: dict[str, list[str]] = {}
    for p in sorted(cache.glob("index-*")):
        out.setdefault(p.name.split(".")[0], []).append(p.suffix)
    return out


def test_cache_round_trip_is_identical_and_reused(folders: tuple[Path, Path]) -> None:
    """A cached index loads (memory-mapped) equal to a fresh build, without rewriting files."""
    corpus_dir, cache = folders
    first = load_index(load_corpus(corpus_dir), cache)
    assert list(versions(cache).values()) == [[".bm25", ".hashes", ".json", ".tables"]]
    stamps = {p: p.stat().st_mtime_ns for p in cache.glob("index-*")}
    again = load_index(load_corpus(corpus_dir), cache)
    assert {p: p.stat().st_mtime_ns for p in cache.glob("index-*")} == stamps
    assert again.version == first.version
    same_index(again, Index.build(load_corpus(corpus_dir)))


def test_manifest_describes_the_corpus(folders: tuple[Path, Path]) -> None:
    """The JSON manifest lists each article's id, path, content hash and passage range."""
    import json

    corpus_dir, cache = folders
    corpus = load_corpus(corpus_dir)
    index = load_index(corpus, cache)
    (path,) = cache.glob("index-*.json")
    manifest = json.loads(path.read_text())
    assert manifest["corpus_version"] == corpus.version
    assert manifest["passages"] == len(index.passages)
    assert [(a["id"], a["path"], a["hash"]) for a in manifest["articles"]] == [
        (a.id, a.path, a.content_hash) for a in corpus.articles
    ]
    ranges = [tuple(a["passages"]) for a in manifest["articles"]]
    assert ranges[0][0] == 0 and ranges[-1][1] == len(index.passages)
    for (lo, hi), article in zip(ranges, corpus.articles, strict=True):
        assert {index.passages[i].article_id for i in range(lo, hi)} == {article.id}


def test_an_edit_is_seen_and_old_versions_are_pruned(folders: tuple[Path, Path]) -> None:
    """Any edit makes a new version; the cache keeps the current one and the one before."""
    corpus_dir, cache = folders
    load_index(load_corpus(corpus_dir), cache)
    for n, word in enumerate(["tunnel", "ferry", "airport"]):
        write_corpus(corpus_dir, {**ARTICLES, "a": f"The {word} opened on Monday."})
        index = load_index(load_corpus(corpus_dir), cache)
        assert index.search(tokenize(word), 1)[0].passage.article_id == "a"
        assert len(versions(cache)) == min(n + 2, 2)


@pytest.mark.parametrize("suffix", [".bm25", ".tables"])
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_cache_is_rebuilt_not_trusted(
    folders: tuple[Path, Path], caplog: pytest.LogCaptureFixture, suffix: str, damage: str
) -> None:
    """A truncated or bit-flipped cache file is detected, logged, rebuilt and rewritten."""
    corpus_dir, cache = folders
    load_index(load_corpus(corpus_dir), cache)
    (cached,) = cache.glob(f"index-*{suffix}")
    data = bytearray(cached.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) - 3] ^= 0x10  # inside the last array
    cached.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        index = load_index(load_corpus(corpus_dir), cache)
    assert "unreadable" in caplog.text
    same_index(index, Index.build(load_corpus(corpus_dir)))
    assert load_index(load_corpus(corpus_dir), cache).version == index.version


def test_stale_tables_of_another_corpus_are_not_trusted(
    folders: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """Files of another corpus version put under this version's name are refused, not used."""
    corpus_dir, cache = folders
    load_index(load_corpus(corpus_dir), cache)
    old = {p.suffix: p for p in cache.glob("index-*")}
    write_corpus(corpus_dir, {**ARTICLES, "b": "A much longer article now.\n\nWith two blocks."})
    load_index(load_corpus(corpus_dir), cache)
    new = {p.suffix: p for p in cache.glob("index-*") if p not in old.values()}
    for suffix in (".tables", ".bm25"):
        new[suffix].write_bytes(old[suffix].read_bytes())
    with caplog.at_level(logging.WARNING):
        index = load_index(load_corpus(corpus_dir), cache)
    assert "unreadable" in caplog.text
    same_index(index, Index.build(load_corpus(corpus_dir)))


@pytest.mark.parametrize("killed", [".bm25", ".tables", ".json"])
def test_interrupted_write_leaves_the_old_index_loadable(
    folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, killed: str
) -> None:
    """A save killed before any one of its renames leaves the previous version intact and
    no temp file behind; the next load of the new corpus builds it then."""
    corpus_dir, cache = folders
    old = load_index(load_corpus(corpus_dir), cache)
    before = {p.name: p.read_bytes() for p in cache.glob("index-*")}
    edited = {**ARTICLES, "c": "The harvest was small."}
    write_corpus(corpus_dir, edited)
    real = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if str(dst).endswith(killed):
            raise KeyboardInterrupt  # stands in for a kill between write and rename
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        load_index(load_corpus(corpus_dir), cache)
    monkeypatch.undo()
    for name, data in before.items():
        assert (cache / name).read_bytes() == data
    assert not list(cache.glob(".*"))
    write_corpus(corpus_dir, ARTICLES)
    same_index(load_index(load_corpus(corpus_dir), cache), old)
    write_corpus(corpus_dir, edited)
    same_index(load_index(load_corpus(corpus_dir), cache), Index.build(load_corpus(corpus_dir)))


@pytest.fixture
def news(shipped_corpus: Corpus) -> Corpus:
    """The shipped articles and eight small ones, some with several passages."""
    made = []
    for i in range(8):
        blocks = [
            f"Block {j} of story {i}: the council met on Monday and the mayor spoke. "
            f"Residents asked about the bridge, the tunnel and rice prices in district {j}."
            for j in range(i % 4 + 1)
        ]
        made.append(make_article(f"story-{i}", "\n\n".join(blocks), title=f"Story {i}"))
    return Corpus(articles=(*shipped_corpus.articles, *made))


def edited_corpora(base: Corpus) -> dict[str, Corpus]:
    """Edits of a corpus: one article changed, one added, one removed, and all at once."""
    articles = list(base.articles)
    changed = articles[1].model_copy(
        update={"body": articles[1].body.replace("the", "the renamed", 1) + "\n\nA new block."}
    )
    extra = Article(id="zz-late", title="Late news", body="The tunnel opened on Friday. 大公坊.")
    return {
        "edit": Corpus(articles=(articles[0], changed, *articles[2:])),
        "add": Corpus(articles=(*articles, extra)),
        "remove": Corpus(articles=(*articles[:3], *articles[4:])),
        "all": Corpus(articles=(articles[0], changed, *articles[3:6], extra, *articles[6:])),
    }


@pytest.mark.parametrize("change", ["edit", "add", "remove", "all"])
def test_incremental_update_equals_a_fresh_build(
    news: Corpus, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Updating an index for an edited corpus gives exactly a fresh build's passages,
    sentences, scores and order, and splits only the new or edited articles."""
    base = Index.build(news)
    corpus = edited_corpora(news)[change]
    split: list[str] = []
    real = index_module._split
    monkeypatch.setattr(index_module, "_split", lambda a: split.append(a.id) or real(a))
    updated = base.updated(corpus)
    monkeypatch.undo()
    old = {(a.id, a.content_hash) for a in news.articles}
    assert split == [a.id for a in corpus.articles if (a.id, a.content_hash) not in old]
    same_index(updated, Index.build(corpus))
    assert updated.bm25.n_docs == len(updated.passages)


def test_reload_updates_from_the_cache_on_disk(
    news: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold start after an edit updates the newest cached index instead of rebuilding,
    and a corrupt manifest (its article hashes not kept apart) makes it build from scratch."""
    load_index(news, tmp_path)
    corpus = edited_corpora(news)["all"]
    split: list[str] = []
    real = index_module._split
    monkeypatch.setattr(index_module, "_split", lambda a: split.append(a.id) or real(a))
    index = load_index(corpus, tmp_path)
    assert len(split) == 2
    same_index(index, Index.build(corpus))
    # The manifest of the newest version now gets damaged; the next edit must not trust it.
    (manifest,) = [p for p in tmp_path.glob("index-*.json") if index.version in p.read_text()]
    manifest.write_text(manifest.read_text().replace('"hash": "', '"hash": "0', 1))
    manifest.with_suffix(".hashes").unlink()  # as in a cache written before that file
    split.clear()
    again = edited_corpora(corpus)["edit"]
    rebuilt = load_index(again, tmp_path)
    assert len(split) == len(again.articles)
    same_index(rebuilt, Index.build(again))


def test_update_reads_the_article_hashes_not_the_manifest(
    news: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold start after an edit takes the main index's article hashes from their own
    file, not from the manifest; a damaged hashes file falls back to the manifest and is
    written again; the index equals a fresh build either way."""
    load_index(news, tmp_path)
    (hashes,) = tmp_path.glob("index-*.hashes")
    corpus = edited_corpora(news)["add"]
    monkeypatch.setattr(cache_module, "_manifest_hashes", _refuse)
    same_index(load_index(corpus, tmp_path), Index.build(corpus))
    monkeypatch.undo()
    for path in tmp_path.glob("delta-*"):
        path.unlink()
    data = bytearray(hashes.read_bytes())
    data[-3] ^= 0xFF
    hashes.write_bytes(bytes(data))
    again = edited_corpora(news)["edit"]
    same_index(load_index(again, tmp_path), Index.build(again))
    assert hashes.read_bytes() != bytes(data)  # made again from the manifest


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("the manifest was parsed")


def test_previous_index_is_updated_without_a_cache(news: Corpus) -> None:
    """load_index(previous=...) without a cache folder still updates incrementally."""
    corpus = edited_corpora(news)["add"]
    index = load_index(corpus, None, previous=Index.build(news))
    same_index(index, Index.build(corpus))


def test_reordered_corpus_is_rebuilt(news: Corpus) -> None:
    """Articles that changed order cannot keep their postings' order: a full build is done."""
    reordered = Corpus(articles=tuple(reversed(news.articles)))
    same_index(Index.build(news).updated(reordered), Index.build(reordered))
