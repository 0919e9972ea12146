"""Retrieval, the lazy sentence/passage views, the on-disk cache and incremental updates."""

from __future__ import annotations

import logging
import math
import os
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citebot.corpus.articles import Article, Corpus, load_corpus
from citebot.corpus.passages import make_passages, split_sentences
from citebot.retrieval import index as index_module
from citebot.retrieval.index import Hit, Index, load_index
from citebot.retrieval.offsets import PassageList
from citebot.text.tokenizer import tokenize
from tests.conftest import make_article


def tiny(n: int) -> Corpus:
    bodies = [
        "The mayor opened a new bridge over the river on Tuesday.",
        "The football club won the league after a long season.",
        "Farmers expect a large rice harvest this autumn.",
    ]
    return Corpus(articles=tuple(make_article(f"a{i}", bodies[i]) for i in range(n)))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_corpora_rank_the_matching_article_first(n: int) -> None:
    """With 1, 2 or 3 articles, the article holding the query words ranks first, score > 0."""
    index = Index.build(tiny(n))
    for i, query in enumerate(["bridge river", "football league", "rice harvest"][:n]):
        hits = index.search(tokenize(query), 3)
        assert hits[0].passage.article_id == f"a{i}"
        assert index.term_contributions(tokenize(query), hits[0].passage.index)
        if n > 1:
            assert hits[0].score > hits[1].score


def test_okapi_would_silence_a_two_article_corpus() -> None:
    """Why BM25Plus: BM25Okapi gives a term in one of two documents zero weight."""
    from rank_bm25 import BM25Okapi

    docs = [tokenize("bridge river"), tokenize("football league")]
    assert list(BM25Okapi(docs).get_scores(tokenize("bridge"))) == [0.0, 0.0]


def test_cjk_question_finds_its_article(shipped_corpus: Corpus) -> None:
    """A question written in Chinese characters finds the article that contains them."""
    index = Index.build(shipped_corpus)
    for query in ("大公坊", "深圳灣创业廣場"):
        assert index.search(tokenize(query), 1)[0].passage.article_id == (
            "seoul-mayor-hk-shenzhen-visit-2019"
        )


def test_title_words_reach_passages() -> None:
    """A word only in the title still finds the article's passages."""
    corpus = Corpus(
        articles=(
            make_article("a", "The mayor spoke on Tuesday.", title="Budget debate"),
            make_article("b", "The weather was fine on Tuesday.", title="Weather report"),
        )
    )
    assert Index.build(corpus).search(tokenize("budget"), 1)[0].passage.article_id == "a"


def test_search_within_one_article(shipped_corpus: Corpus) -> None:
    """Restricting to one article returns only its passages."""
    index = Index.build(shipped_corpus)
    hits = index.search(tokenize("Hong Kong"), 50, "hksp-shenzhen-branch-2023")
    assert hits and {h.passage.article_id for h in hits} == {"hksp-shenzhen-branch-2023"}
    assert sorted(h.passage.index for h in hits) == list(
        index.passages_of("hksp-shenzhen-branch-2023")
    )
    assert index.passages_of("unknown-id") == range(0)
    assert index.search(tokenize("Hong Kong"), 5, "unknown-id") == []


def test_search_matches_rank_bm25_on_the_shipped_corpus(shipped_corpus: Corpus) -> None:
    """The BM25 step ranks the shipped corpus's passages exactly as rank-bm25 BM25Plus
    with the index's parameters."""
    from rank_bm25 import BM25Plus

    index = Index.build(shipped_corpus)
    assert (index.bm25.k1, index.bm25.b, index.bm25.delta) == (
        index_module.BM25_K1,
        index_module.BM25_B,
        index_module.BM25_DELTA,
    )
    docs = [tokenize(index.article(p.article_id).title) + tokenize(p.text) for p in index.passages]
    reference = BM25Plus(
        docs, k1=index_module.BM25_K1, b=index_module.BM25_B, delta=index_module.BM25_DELTA
    )
    questions = ("when did the Hetao park open", "Mayor Park Hong Kong officials", "大公坊")
    for question in (*questions, "park park open"):
        terms = tokenize(question)
        expected = reference.get_scores(terms)
        hits = index.bm25_search(terms, len(docs))
        assert [h.passage.index for h in hits] == sorted(
            range(len(docs)), key=lambda i: (-expected[i], i)
        )
        for h in hits:
            assert abs(h.score - expected[h.passage.index]) < 1e-6
            assert h.bm25 == h.score


def test_search_is_bm25_over_distinct_terms_then_the_rerank(shipped_corpus: Corpus) -> None:
    """`search`: BM25 over each distinct term once, its best RERANK_DEPTH passages re-ordered
    by `rerank` (BM25 score plus a bonus), the rest in BM25's order; scores never rise."""
    index = Index.build(shipped_corpus)
    depth = index_module.RERANK_DEPTH
    for question in ("when did the Hetao park open open", "Mayor Park Hong Kong officials"):
        terms = tokenize(question)
        unique = list(dict.fromkeys(terms))
        bm25 = index.bm25_search(unique, len(index.passages))
        hits = index.search(terms, len(index.passages))
        assert hits == index_module.rerank(index, unique, bm25[:depth]) + bm25[depth:]
        assert index.search(terms, 3) == hits[:3]
        assert {h.passage.index for h in hits[:depth]} == {h.passage.index for h in bm25[:depth]}
        assert all(h.score >= h.bm25 for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        by_id = {h.passage.index: h.score for h in bm25}
        assert all(h.bm25 == by_id[h.passage.index] for h in hits)


@pytest.fixture(scope="module")
def shipped_index(shipped_corpus: Corpus) -> Index:
    """The shipped corpus, indexed once for this module's property tests."""
    return Index.build(shipped_corpus)


def _ceilings(index: Index, unique: list[str], hits: list[Hit]) -> list[float]:
    """`_bonus_ceilings` of the hits for the query's distinct terms, as the re-rank gets them."""
    idf = {t: index.idf(t) for t in unique}
    return index_module._bonus_ceilings(
        index,
        _ids_of(hits),
        idf,
        sum(idf.values()),
        set(pairwise(unique)),
        max(h.bm25 for h in hits),
        index.passages.apart(_ids_of(hits)),
    )


def _ids_of(hits: list[Hit]) -> np.ndarray:
    """The hits' passage ids, as the re-rank's bonus ceilings take them."""
    return np.asarray([h.passage.index for h in hits], dtype=np.int64)


def _vocabulary(index: Index) -> list[str]:
    return sorted({t for p in index.passages for t in tokenize(p.text)})


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_search_keeps_the_best_k_of_the_full_rerank(
    shipped_index: Index, data: st.DataObject
) -> None:
    """`search` skips the sentences of hits that cannot reach its best k; its k hits are
    still the full re-rank's first k, scores and order included."""
    vocabulary = _vocabulary(shipped_index)
    terms = data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=6))
    k = data.draw(st.integers(1, 12))
    unique = list(dict.fromkeys(terms))
    bm25 = shipped_index.bm25_search(unique, max(k, index_module.RERANK_DEPTH))
    depth = index_module.RERANK_DEPTH
    full = index_module.rerank(shipped_index, unique, bm25[:depth]) + bm25[depth:]
    assert shipped_index.search(terms, k) == full[:k]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_bonus_ceilings_bound_the_bonus(shipped_index: Index, data: st.DataObject) -> None:
    """No hit scores above its BM25 score plus the bonus ceiling the re-rank skips hits by."""
    vocabulary = _vocabulary(shipped_index)
    unique = list(
        dict.fromkeys(data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=6)))
    )
    hits = shipped_index.bm25_search(unique, 40)
    ceilings = _ceilings(shipped_index, unique, hits)
    scores = {h.passage.index: h.score for h in index_module.rerank(shipped_index, unique, hits)}
    for hit, ceiling in zip(hits, ceilings, strict=True):
        assert scores[hit.passage.index] <= hit.bm25 + ceiling


def test_apart_sentences_hold_only_their_passage_terms(shipped_index: Index) -> None:
    """Where `apart` says whitespace separates a passage's sentences, every term of each
    sentence is one the passage is indexed with (what the bonus ceilings rely on)."""
    ids = np.arange(len(shipped_index.passages), dtype=np.int64)
    found = shipped_index.passages.apart(ids)
    assert shipped_index.passages.apart(ids[::-7]) == found[::-7]  # any ids, any order
    for passage, apart in zip(shipped_index.passages, found, strict=True):
        sentences = shipped_index.sentences[passage.article_id]
        span = range(passage.first_sentence, passage.last_sentence)
        body = shipped_index.article(passage.article_id).body
        separated = all(
            body[a.end].isspace() and body[b.start - 1].isspace()
            for a, b in pairwise(sentences[i] for i in span)
        )
        assert apart == separated
        if not separated:
            continue
        terms = sorted({t for i in span for t in tokenize(sentences.text(i))})
        one = np.asarray([passage.index], dtype=np.int64)
        assert all(shipped_index.bm25.holds(t, one)[0] for t in terms)
    assert sum(found) > 0.9 * len(shipped_index.passages)
    # Sentences the splitter cut where no whitespace is: not apart.
    body = "Prices rose (sharply).Then they fell. Nobody knew why."
    index = Index.build(Corpus(articles=(make_article("touching", body),)))
    sentences = index.sentences["touching"]
    assert [sentences.text(i) for i in range(2)] == ["Prices rose (sharply).", "Then they fell."]
    assert index.passages.apart(np.asarray([0], dtype=np.int64)) == [False]


def test_holds_is_the_postings(shipped_index: Index) -> None:
    """`BM25Index.holds`: which documents a term's postings list (an unknown term: none)."""
    ids = np.arange(len(shipped_index.passages), dtype=np.int64)
    for term in ["park", "shenzhen", "the-word-nobody-uses", *_vocabulary(shipped_index)[::37]]:
        expected = [shipped_index.bm25.term_weights([term], int(i))[term] > 0 for i in ids]
        assert shipped_index.bm25.holds(term, ids).tolist() == expected


def _plain_rerank(index: Index, terms: list[str], hits: list[Hit]) -> list[Hit]:
    """The re-rank as the module docstring defines it, over `Passage` and `Sentence` objects."""
    top = max(h.bm25 for h in hits)
    idf = {t: index.idf(t) for t in terms}
    total = sum(idf.values()) or 1.0
    wanted = set(pairwise(terms))
    out = []
    for hit in hits:
        p = hit.passage
        sentences = index.sentences[p.article_id][p.first_sentence : p.last_sentence]
        best = max(sum(w for t, w in idf.items() if t in set(tokenize(s.text))) for s in sentences)
        pairs = set().union(*(set(pairwise(tokenize(s.text))) for s in sentences)) & wanted
        share = len(pairs) / len(wanted) if wanted else 0.0
        bonus = top * (
            index_module.SENTENCE_WEIGHT * best / total + index_module.BIGRAM_WEIGHT * share
        )
        out.append(Hit(p, hit.bm25 + bonus, hit.bm25))
    return sorted(out, key=lambda h: -h.score)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_rerank_is_its_definition(shipped_index: Index, data: st.DataObject) -> None:
    """`rerank` (table rows, cached term sets) scores and orders hits as the plain
    definition does over the passages' Sentence objects, bit for bit."""
    vocabulary = _vocabulary(shipped_index)
    terms = data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=6))
    unique = list(dict.fromkeys(terms))
    hits = shipped_index.bm25_search(unique, index_module.RERANK_DEPTH)
    assert index_module.rerank(shipped_index, unique, hits) == _plain_rerank(
        shipped_index, unique, hits
    )


def test_rerank_prefers_the_sentence_that_holds_the_question() -> None:
    """Of two passages with the same words (same BM25 score), the one whose single
    sentence holds the question's words, in the question's order, ranks first."""
    corpus = Corpus(
        articles=(
            make_article(
                "scattered",
                "The central bank met on Monday. Interest rates were discussed. "
                "England saw a raise in prices.",
            ),
            make_article(
                "together",
                "The central bank of England raised interest rates on Monday. "
                "Prices were discussed. It saw a meeting.",
            ),
        )
    )
    index = Index.build(corpus)
    terms = tokenize("When did the central bank of England raise interest rates?")
    bm25 = index.bm25_search(terms, 2)
    assert abs(bm25[0].bm25 - bm25[1].bm25) < 1e-9  # a bag of words cannot tell them apart
    hits = index.search(terms, 2)
    assert [h.passage.article_id for h in hits] == ["together", "scattered"]
    assert hits[0].score > hits[1].score
    assert index_module.rerank(index, [], bm25) == bm25  # nothing to look for: unchanged


def test_sentence_offsets_are_the_passages_sentences(shipped_index: Index) -> None:
    """`sentence_offsets` places each passage's sentences (and up to `around` neighbours
    within its article) where its Sentence objects are, for any ids in any order."""
    ids = list(range(len(shipped_index.passages)))[::-1]
    for around in (0, 1, 2):
        found = shipped_index.passages.sentence_offsets(ids, around)
        for i, (position, first, starts, ends) in zip(ids, found, strict=True):
            passage = shipped_index.passages[i]
            assert shipped_index.corpus.articles[position].id == passage.article_id
            sentences = shipped_index.sentences[passage.article_id]
            lo = max(passage.first_sentence - around, 0)
            hi = min(passage.last_sentence + around, len(sentences))
            assert first == lo
            assert starts == [s.start for s in sentences[lo:hi]]
            assert ends == [s.end for s in sentences[lo:hi]]
    assert shipped_index.passages.sentence_offsets([]) == []


def test_lazy_views_equal_the_objects_the_splitter_makes(shipped_corpus: Corpus) -> None:
    """index.sentences and index.passages hold the same Sentence/Passage values as
    split_sentences/make_passages, by index, slice, negative index and iteration."""
    index = Index.build(shipped_corpus)
    expected_passages = []
    for article in shipped_corpus.articles:
        sentences = split_sentences(article)
        assert list(index.sentences[article.id]) == sentences
        assert index.sentences[article.id][1:3] == sentences[1:3]
        assert index.sentences[article.id][-1] == sentences[-1]
        assert len(index.sentences.get(article.id, [])) == len(sentences)
        for p in make_passages(article, sentences):
            expected_passages.append(p.model_copy(update={"index": len(expected_passages)}))
    assert list(index.passages) == expected_passages
    assert len(index.passages) == len(expected_passages)
    assert index.passages[-1] == expected_passages[-1]
    assert index.passages[2:5] == expected_passages[2:5]
    some = [5, 0, len(expected_passages) - 1, 3, 3]
    assert index.passages.take(some) == [expected_passages[i] for i in some]
    assert index.passages.take([]) == []
    for article in shipped_corpus.articles:
        sentences = index.sentences[article.id]
        n = len(sentences)
        for first, last in [(0, n), (1, min(3, n)), (n, n)]:
            assert sentences.texts(first, last) == [s.text for s in sentences[first:last]]
    assert set(index.sentences) == set(shipped_corpus.ids)
    assert index.sentences.get("no-such-article") is None
    with pytest.raises(IndexError):
        index.passages[len(expected_passages)]
    with pytest.raises(KeyError):
        index.sentences["no-such-article"]


# ------------------------------------------------------------------ cache and updates

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
    assert list(versions(cache).values()) == [[".bm25", ".json", ".tables"]]
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
    and a corrupt manifest makes it build from scratch instead."""
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
    split.clear()
    again = edited_corpora(corpus)["edit"]
    rebuilt = load_index(again, tmp_path)
    assert len(split) == len(again.articles)
    same_index(rebuilt, Index.build(again))


def test_previous_index_is_updated_without_a_cache(news: Corpus) -> None:
    """load_index(previous=...) without a cache folder still updates incrementally."""
    corpus = edited_corpora(news)["add"]
    index = load_index(corpus, None, previous=Index.build(news))
    same_index(index, Index.build(corpus))


def test_reordered_corpus_is_rebuilt(news: Corpus) -> None:
    """Articles that changed order cannot keep their postings' order: a full build is done."""
    reordered = Corpus(articles=tuple(reversed(news.articles)))
    same_index(Index.build(news).updated(reordered), Index.build(reordered))


def test_sentence_texts_and_paragraphs_read_without_objects_equal_the_sentences(
    shipped_corpus: Corpus,
) -> None:
    """`SentenceList.text(i)` and `.paragraph(i)` are sentence i's, whether or not its
    object was made."""
    index = Index.build(shipped_corpus)
    for article in shipped_corpus.articles:
        sentences = index.sentences[article.id]
        texts = [sentences.text(i) for i in range(len(sentences))]  # before any object
        paragraphs = [sentences.paragraph(i) for i in range(len(sentences))]
        assert len(set(paragraphs)) > 1
        assert texts == [s.text for s in sentences]
        assert paragraphs == [s.paragraph for s in sentences]
        assert texts == [sentences.text(i) for i in range(len(sentences))]  # after
        assert texts == [s.text for s in split_sentences(article)]


def test_hits_whose_sentences_may_join_are_never_skipped(
    shipped_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A passage whose sentences are not known to be apart gets no finite ceiling, so the
    re-rank reads it; search still returns the full re-rank's best k."""
    monkeypatch.setattr(PassageList, "apart", lambda self, ids: [False] * len(ids))
    monkeypatch.setattr(index_module, "sentences_apart", lambda body, starts, ends: False)
    unique = tokenize("when did the Hetao park open")
    hits = shipped_index.bm25_search(unique, index_module.RERANK_DEPTH)
    ceilings = _ceilings(shipped_index, unique, hits)
    assert ceilings == [math.inf] * len(hits)
    full = index_module.rerank(shipped_index, unique, hits)
    assert shipped_index.search(unique, 3) == full[:3]
