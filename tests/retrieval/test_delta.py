"""Updates kept as a delta beside the main index: searched as a rebuild would be, folded
when large, saved and loaded safely."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from citebot.corpus.articles import Article, Corpus
from citebot.corpus.folder import load_corpus
from citebot.pipeline import Asker
from citebot.retrieval import index as index_module
from citebot.retrieval.cache import load_index
from citebot.retrieval.delta import next_index
from citebot.retrieval.index import Index
from citebot.text.tokenizer import tokenize
from tests.conftest import make_article

WORDS = (
    "harbour ferry council budget school river bridge tunnel festival museum market "
    "railway airport hospital library stadium garden factory village mayor minister "
    "engineer farmer teacher doctor pilot"
).split()
VERBS = "opened closed visited approved praised delayed expanded repaired".split()
PLACES = "Seoul Busan Lisbon Porto Hanoi Manila Quito Lima".split()


def sentence(rng: random.Random) -> str:
    return (
        f"The {rng.choice(WORDS)} {rng.choice(VERBS)} the {rng.choice(WORDS)} "
        f"in {rng.choice(PLACES)} with the {rng.choice(WORDS)}."
    )


def article(rng: random.Random, article_id: str) -> Article:
    paragraphs = [
        " ".join(sentence(rng) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 4))
    ]
    return make_article(article_id, "\n\n".join(paragraphs), title=f"News of {article_id}")


def corpus_of(articles: list[Article]) -> Corpus:
    return Corpus(articles=tuple(sorted(articles, key=lambda a: a.id)))


@pytest.fixture
def rng() -> random.Random:
    """A seeded generator: the same articles every run."""
    return random.Random(16)


@pytest.fixture
def base(rng: random.Random) -> list[Article]:
    """Sixty generated articles, the main index's corpus."""
    return [article(rng, f"a{i:03d}") for i in range(60)]


def changed(rng: random.Random, base: list[Article]) -> list[Article]:
    """`base` with two articles added (one sorting first), one replaced and one removed."""
    out = [a for a in base if a.id != "a017"]
    out[5] = article(rng, out[5].id)
    return [*out, article(rng, "a000-late"), article(rng, "zz-late")]


QUERIES = [
    "ferry harbour Seoul",
    "mayor opened bridge",
    "museum Lisbon",
    "the ferry",
    "farmer village Quito",
    "pilot airport Manila",
    "council budget approved",
]


def by_place(index: Index, query: str, k: int) -> list[tuple[float, str, int]]:
    """The top k as (score, article id, passage start), comparable across indexes: in
    order of score, passages tied on it by place (their ids differ with a delta)."""
    hits = index.bm25_search(tokenize(query), k)
    return sorted((-h.bm25, h.passage.article_id, h.passage.start) for h in hits)


def reranked(index: Index, query: str, k: int) -> list[tuple[float, str, int]]:
    """The same for `search`, the re-ranked hits."""
    hits = index.search(tokenize(query), k)
    return sorted((-h.score, h.passage.article_id, h.passage.start) for h in hits)


def test_delta_scores_equal_a_rebuild(rng: random.Random, base: list[Article]) -> None:
    """With a delta (added, replaced, removed articles) every passage scores exactly as in
    a full rebuild, and the rankings are the same; ids of unchanged passages stay."""
    main = Index.build(corpus_of(base))
    new = corpus_of(changed(rng, base))
    index = next_index(main, new, fold_share=1.0)
    assert index.segments is not None
    rebuilt = Index.build(new)
    assert index.n_live == len(rebuilt.passages)
    for query in QUERIES:
        # Every passage, then the best 10: the k-th score is the same, so are the hits
        # above it; of hits tied at it, which are kept may differ (ids differ).
        assert by_place(index, query, 400) == by_place(rebuilt, query, 400)
        top = by_place(index, query, 10)
        assert [s for s, *_ in top] == [s for s, *_ in by_place(rebuilt, query, 10)]
        assert reranked(index, query, 10)[:5] == reranked(rebuilt, query, 10)[:5]
        assert all(index.idf(t) == rebuilt.idf(t) for t in tokenize(query))
    assert index.passages_of("a001") == main.passages_of("a001")


def test_removed_and_replaced_articles_are_never_returned(
    rng: random.Random, base: list[Article]
) -> None:
    """A removed article's passages and a replaced article's old text are gone, even when
    k asks for every passage; the new text is found."""
    main = Index.build(corpus_of(base))
    replaced = base[5]
    new_text = make_article(replaced.id, "The ferry closed the zeppelin hangar in Lima.")
    articles = [new_text if a.id == replaced.id else a for a in base if a.id != "a017"]
    index = next_index(main, corpus_of(articles), fold_share=1.0)
    assert index.segments is not None
    every = index.bm25_search(tokenize("ferry"), 10_000)  # matches first, then the rest
    assert len(every) == index.n_live
    assert "a017" not in {h.passage.article_id for h in every}
    texts = {h.passage.text for h in every if h.passage.article_id == replaced.id}
    assert texts == {new_text.body}
    assert index.bm25_search(tokenize("zeppelin"), 3)[0].passage.article_id == replaced.id
    assert index.search(tokenize("zeppelin"), 3, article_id="a017") == []


def test_an_added_article_is_answerable(base: list[Article]) -> None:
    """An article added through a delta is searched and answered from, with its quote."""
    main = Index.build(corpus_of(base))
    late = make_article(
        "zz-ferry",
        "The harbour authority opened a third ferry terminal on Friday, officials said.\n\n"
        "The terminal serves 4,000 passengers a day.",
        title="Late news from the harbour",
        date="2026-12-05",
    )
    index = next_index(main, corpus_of([*base, late]), fold_share=1.0)
    assert index.segments is not None
    answer = Asker(index).ask("How many passengers does the terminal serve a day?")
    assert answer.answered
    assert answer.citations[0].article_id == "zz-ferry"
    assert "4,000" in (answer.answer or "")


def test_a_large_change_folds_into_a_rebuilt_index(rng: random.Random, base: list[Article]) -> None:
    """Past the fold share the result has no delta and equals a build from scratch:
    same passages in the same order, same scores and ids."""
    main = Index.build(corpus_of(base))
    small = next_index(main, corpus_of([*base, article(rng, "zz-1")]), fold_share=1.0)
    assert small.segments is not None
    new = corpus_of([*base, article(rng, "zz-1"), *(article(rng, f"zz-{i}") for i in range(2, 9))])
    folded = next_index(small, new, fold_share=0.05)
    assert folded.segments is None
    rebuilt = Index.build(new)
    assert list(folded.passages) == list(rebuilt.passages)
    for query in QUERIES:
        terms = tokenize(query)
        assert folded.search(terms, 50) == rebuilt.search(terms, 50)
        assert folded.bm25_search(terms, 50) == rebuilt.bm25_search(terms, 50)


def test_each_delta_splits_only_the_new_articles(
    rng: random.Random, base: list[Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second change re-indexes the articles the previous delta lacks, not the delta's
    own: an update costs the change, not the delta (and not the corpus)."""
    main = Index.build(corpus_of(base))
    first = [*base, *(article(rng, f"zz-{i}") for i in range(3))]
    one = next_index(main, corpus_of(first), fold_share=1.0)
    split: list[str] = []
    real = index_module._split
    monkeypatch.setattr(index_module, "_split", lambda a: split.append(a.id) or real(a))
    second = corpus_of([*first, article(rng, "zz-9")])
    two = next_index(one, second, fold_share=1.0)
    assert split == ["zz-9"]
    assert two.segments is not None
    assert by_place(two, "ferry harbour", 50) == by_place(Index.build(second), "ferry harbour", 50)


def write(folder: Path, articles: list[Article]) -> None:
    """Corpus files of `articles` (front matter: id and title)."""
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    for a in articles:
        (folder / f"{a.id}.md").write_text(f"---\nid: {a.id}\ntitle: {a.title}\n---\n\n{a.body}\n")


@pytest.fixture
def cached(tmp_path: Path, base: list[Article]) -> tuple[Path, Path, Index]:
    """A corpus folder of `base`, its cache folder and the cached main index."""
    corpus_dir, cache = tmp_path / "corpus", tmp_path / "cache"
    write(corpus_dir, base)
    return corpus_dir, cache, load_index(load_corpus(corpus_dir), cache)


def test_a_saved_delta_loads_beside_its_main_index(
    rng: random.Random, base: list[Article], cached: tuple[Path, Path, Index]
) -> None:
    """A reload saves only a small delta; a new process loads main + delta, searching
    exactly as the reloaded index does; the main index's files are not rewritten."""
    corpus_dir, cache, main = cached
    stamps = {p.name: p.stat().st_mtime_ns for p in cache.glob("index-*")}
    write(corpus_dir, changed(rng, base))
    reloaded = load_index(load_corpus(corpus_dir), cache, previous=main, fold_share=1.0)
    assert reloaded.segments is not None
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("index-*")} == stamps
    assert sorted(p.suffix for p in cache.glob("delta-*")) == [".bm25", ".tables"]
    fresh = load_index(load_corpus(corpus_dir), cache, fold_share=1.0)
    assert fresh.segments is not None
    for query in QUERIES:
        terms = tokenize(query)
        assert fresh.search(terms, 30) == reloaded.search(terms, 30)


def test_a_cold_start_on_a_changed_corpus_reuses_the_cached_delta(
    rng: random.Random,
    base: list[Article],
    cached: tuple[Path, Path, Index],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new process meeting a corpus changed again (a cron feed poll) builds on the
    newest main index and delta in the cache: only the newest article is split."""
    corpus_dir, cache, main = cached
    first = [*base, article(rng, "zz-1"), article(rng, "zz-2")]
    write(corpus_dir, first)
    load_index(load_corpus(corpus_dir), cache, previous=main, fold_share=1.0)
    write(corpus_dir, [*first, article(rng, "zz-3")])
    split: list[str] = []
    real = index_module._split
    monkeypatch.setattr(index_module, "_split", lambda a: split.append(a.id) or real(a))
    index = load_index(load_corpus(corpus_dir), cache, fold_share=1.0)
    assert split == ["zz-3"]
    assert index.segments is not None


@pytest.mark.parametrize("damage", ["corrupt-bm25", "missing-bm25", "missing-tables", "swap"])
def test_a_damaged_delta_is_reported_and_made_again(
    rng: random.Random,
    base: list[Article],
    cached: tuple[Path, Path, Index],
    damage: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A corrupt, half-written (one file missing: a killed update) or mismatched delta is
    never trusted: a clear warning or a quiet miss, then the same index made again."""
    corpus_dir, cache, main = cached
    other = [*base, article(rng, "zz-other")]
    write(corpus_dir, other)
    load_index(load_corpus(corpus_dir), cache, previous=main, fold_share=1.0)
    other_bm25 = next(cache.glob("delta-*.bm25")).read_bytes()
    write(corpus_dir, changed(rng, base))
    want = load_index(load_corpus(corpus_dir), cache, previous=main, fold_share=1.0)
    key = max(cache.glob("delta-*.tables"), key=lambda p: p.stat().st_mtime_ns).stem
    bm25, tables = cache / f"{key}.bm25", cache / f"{key}.tables"
    if damage == "corrupt-bm25":
        raw = bytearray(bm25.read_bytes())
        raw[-3] ^= 0xFF
        bm25.write_bytes(bytes(raw))
    elif damage == "missing-bm25":
        bm25.unlink()
    elif damage == "missing-tables":
        tables.unlink()
    else:  # another delta's BM25 file beside this table
        bm25.write_bytes(other_bm25)
    with caplog.at_level(logging.WARNING):
        got = load_index(load_corpus(corpus_dir), cache, fold_share=1.0)
    assert "index delta" in caplog.text and "rebuilding" in caplog.text
    assert got.segments is not None
    for query in QUERIES:
        terms = tokenize(query)
        assert got.search(terms, 30) == want.search(terms, 30)
    again = load_index(load_corpus(corpus_dir), cache, fold_share=1.0)  # repaired on disk
    assert again.search(tokenize("ferry"), 5) == want.search(tokenize("ferry"), 5)


def test_an_unchanged_corpus_loads_the_main_index_alone(cached: tuple[Path, Path, Index]) -> None:
    """With nothing changed there is no delta: the cached main index is used as it is."""
    corpus_dir, cache, main = cached
    index = load_index(load_corpus(corpus_dir), cache)
    assert index.segments is None
    assert not list(cache.glob("delta-*"))
    assert index.search(tokenize("ferry harbour"), 10) == main.search(tokenize("ferry harbour"), 10)


def test_forgetting_remembered_weights_changes_nothing(
    rng: random.Random, base: list[Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delta's per-term weights are remembered within a bound; when they are
    forgotten after every term the answers are the same."""
    from citebot.retrieval import segments

    main = Index.build(corpus_of(base))
    new = corpus_of(changed(rng, base))
    remembering = next_index(main, new, fold_share=1.0)
    monkeypatch.setattr(segments, "_CACHE_POSTINGS", 1)
    forgetting = next_index(main, new, fold_share=1.0)
    for query in QUERIES:
        terms = tokenize(query)
        assert forgetting.search(terms, 20) == remembering.search(terms, 20)
        assert forgetting.search(terms, 20) == remembering.search(terms, 20)


def test_a_fold_writes_a_main_index_and_drops_the_deltas(
    rng: random.Random, base: list[Article], cached: tuple[Path, Path, Index]
) -> None:
    """A change past the fold share is saved as a new main index, the deltas made on the
    old one are deleted, and the next start loads the new main index alone."""
    corpus_dir, cache, main = cached
    small = [*base, article(rng, "zz-1")]
    write(corpus_dir, small)
    with_delta = load_index(load_corpus(corpus_dir), cache, previous=main, fold_share=0.5)
    assert with_delta.segments is not None and list(cache.glob("delta-*"))
    write(corpus_dir, [*small, *(article(rng, f"zz-{i}") for i in range(2, 9))])
    folded = load_index(load_corpus(corpus_dir), cache, previous=with_delta, fold_share=0.05)
    assert folded.segments is None
    assert not list(cache.glob("delta-*"))
    assert len(list(cache.glob("index-*.json"))) == 2  # the new one and the one before
    again = load_index(load_corpus(corpus_dir), cache)
    assert again.segments is None
    assert again.search(tokenize("ferry harbour"), 10) == folded.search(
        tokenize("ferry harbour"), 10
    )
