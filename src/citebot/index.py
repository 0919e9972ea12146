"""The searchable index: every article's sentences and passages, and BM25 over passages.

BM25 variant: rank-bm25's `BM25Plus` with k1=0.9, b=0.75, delta=1. Its idf,
log((N+1)/df), is positive for every term, so a corpus of one, two or three
articles still ranks sensibly; `BM25Okapi` gives a term found in half the
passages an idf of 0 and floors negative ones, which with two articles silences
most of the vocabulary. k1=0.9 (Anserini's default; rank-bm25's is 1.5)
saturates a repeated word sooner, so a passage that names more of the question's
words beats one that repeats a single word (SQuAD 2.0 dev, open mode: paragraph
recall@1 +0.8 on either half of the articles, @5 unchanged; b=0.5/0.9 and
k1=1.2/2.0 were no better). delta only adds a per-query constant and never
changes a ranking. A passage is indexed with its article's title, because
titles name what an article is about in words its passages may not repeat.

Searching (`Index.search`, what the reader uses) is two steps:

1. BM25 (`Index.bm25_search`) over each distinct question term once: the ranking is
   exactly rank-bm25's `BM25Plus(...).get_scores` for those terms (tests check it).
   A caller's repeated term (the reader's emphasis on the question's verb) is the
   reader's business, not retrieval's: counted twice it pulled passages that
   repeat the verb above the paragraph the question was written about (recall@1
   -1.4, @5 -1.0 on SQuAD dev).
2. Re-ranking (`rerank`) of the best `RERANK_DEPTH` passages by where the question's
   words sit inside them. BM25 sees a passage as a bag of words; a question is
   usually answered by one sentence that holds most of its words, often in the
   question's own order ("the Bank of England raised" / "when did the Bank of
   England raise"). Two cheap scores, both in [0, 1], are added to the BM25 score
   (scaled by the best BM25 score of the query so that they weigh the same for
   every question): the idf-weighted share of the question's terms found in the
   passage's best single sentence, and the share of the question's adjacent term
   pairs (stop words skipped) found adjacent in some sentence of the passage.
   Weights (0.25 each) and depth were chosen on the "train" half of the SQuAD dev
   articles and hold on the held-out half; nothing in them is specific to SQuAD
   (scripts/retrieval_grid.py measures every variant). `search` wants only the best
   k: a hit whose BM25 score plus the largest bonus its passage's index terms allow
   cannot reach them has its sentences left unread (most of the 20 on a cold question).

Scoring is `bm25.BM25Index`: the same BM25Plus scores as rank-bm25 (a parity test
checks them within 1e-6), precomputed per term and summed sparsely, so a query costs
a fraction of a millisecond at 100k passages instead of rank-bm25's Python loop.
Sentences and passages are offsets in numpy columns (`citebot.tables`); the
`Sentence` and `Passage` objects the reader uses are made when read.

`updated` re-indexes a changed corpus reusing the unchanged articles' work: only new
or edited articles are split and tokenised (splitting is most of a build's cost),
while the BM25 weights are all recomputed from the kept term frequencies, because
any edit moves every term's idf and the average passage length.

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
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from heapq import heappush, heappushpop
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt

from citebot.binfile import IndexFormatError
from citebot.bm25 import BM25Index
from citebot.corpus import Article, Corpus
from citebot.passages import Passage, passage_bounds, sentence_spans
from citebot.tables import PassageList, SentenceMap, Tables, TablesBuilder, sentences_apart
from citebot.text import term_pairs, term_set
from citebot.tokens import TermIds, passage_terms

log = logging.getLogger(__name__)

# Bump when tokenisation, passage rules or the stored layout change: old caches are ignored.
INDEX_FORMAT = 4
# BM25Plus parameters of every index built here (see the module docstring). BM25Index's
# own defaults stay rank-bm25's, and the parity tests run with these values too.
BM25_K1 = 0.9
BM25_B = 0.75
BM25_DELTA = 1.0
# Part of the cache key: an index built with other BM25 parameters is never loaded.
_PARAMETERS = f"k1={BM25_K1},b={BM25_B},delta={BM25_DELTA}"
# Re-ranking (see the module docstring): how many of BM25's best passages are re-ordered,
# and the weight of each second score relative to the query's best BM25 score.
RERANK_DEPTH = 20
SENTENCE_WEIGHT = 0.25
BIGRAM_WEIGHT = 0.25
# Terms whose idf an index remembers (`Index.idf`).
_IDF_CACHE = 65_536
# Index versions kept in a cache folder: the current one and the one it may be updated from.
_KEEP = 2
# An update that keeps less than this share of the passages is done as a full build:
# it would split and tokenise most of the corpus anyway.
_MIN_REUSE = 0.5


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved passage, the score it is ranked by, and its BM25Plus score.

    `score` is `bm25` plus the re-ranking bonus (`rerank`), so hits come in order of
    `score`; a hit `bm25_search` returns has `score == bm25`.
    """

    passage: Passage
    score: float
    bm25: float


class Index:
    """Sentences, passages and a BM25 model over a corpus."""

    def __init__(self, corpus: Corpus, tables: Tables, bm25: BM25Index) -> None:
        """Wrap a corpus and its checked tables and BM25 index; see `build` and `load_index`."""
        if bm25.n_docs != tables.n_passages:
            raise ValueError(
                f"the BM25 index has {bm25.n_docs} documents but there are "
                f"{tables.n_passages} passages"
            )
        self.corpus = corpus
        self.tables = tables
        self.bm25 = bm25
        self._positions = {a.id: i for i, a in enumerate(corpus.articles)}
        self.sentences = SentenceMap(corpus.articles, self._positions, tables)
        self.passages = PassageList(corpus.articles, tables)
        self.doc_freq = _DocFreq(bm25)
        self._idf: dict[str, float] = {}  # `idf` of the terms asked for lately

    @classmethod
    def build(cls, corpus: Corpus, *, progress: bool = False) -> Index:
        """Split every article and index its passages (title words included)."""
        builder = TablesBuilder()
        tokens = TermIds()
        for article in _progress(corpus.articles, progress, "indexing"):
            spans, bounds = _split(article)
            builder.add(spans, bounds)
            tokens.add(article, spans, bounds)
        ids, lengths, terms = tokens.finish()
        tables = builder.finish()
        del tokens, builder  # their buffers are not needed during the BM25 build (its peak)
        bm25 = BM25Index.from_ids(
            ids, lengths, terms, k1=BM25_K1, b=BM25_B, delta=BM25_DELTA, consume=True
        )
        del ids  # overwritten by the build (consume)
        return cls(corpus, tables, bm25)

    def updated(self, corpus: Corpus, *, progress: bool = False) -> Index:
        """The index of `corpus`, splitting and tokenising only articles this one lacks.

        The result equals `Index.build(corpus)`: same passages, same scores, same order.
        """
        return update(
            [(a.id, a.content_hash) for a in self.corpus.articles],
            self.tables,
            self.bm25,
            corpus,
            progress=progress,
        )

    @property
    def version(self) -> str:
        """The corpus version this index was built from."""
        return self.corpus.version

    def article(self, article_id: str) -> Article:
        return self.corpus.articles[self._positions[article_id]]

    def passages_of(self, article_id: str) -> range:
        """The ids of an article's passages (empty for an unknown article), without making them."""
        position = self._positions.get(article_id)
        return range(*self.passages.range_of(position)) if position is not None else range(0)

    def idf(self, term: str) -> float:
        """BM25Plus idf; a term the corpus never uses gets the largest possible idf.

        Remembered: a question asks for the idf of each of its terms three times over
        (its weights, the re-rank, the confidence features), at ~10k instructions each.
        """
        known = self._idf.get(term)
        if known is None:
            n = len(self.passages)
            known = float(np.log((n + 1) / max(self.bm25.document_frequency(term), 0.5)))
            if len(self._idf) >= _IDF_CACHE:
                self._idf.clear()
            self._idf[term] = known
        return known

    def search(self, terms: Sequence[str], k: int, article_id: str | None = None) -> list[Hit]:
        """The k best passages for the query terms, optionally within one article.

        BM25 over the distinct terms, then the best `RERANK_DEPTH` passages re-ranked
        by `rerank` (see the module docstring); hits below that depth keep BM25's order.
        Only the k returned are made into `Passage` objects.
        """
        unique = list(dict.fromkeys(terms))
        ids, bm25 = self._bm25_top(unique, max(k, RERANK_DEPTH), article_id)
        depth = min(RERANK_DEPTH, len(ids))
        order = _reranked(self, unique, ids[:depth], bm25[:depth], keep=k)
        if order is None:
            order = [(j, bm25[j]) for j in range(depth)]
        chosen = (order + [(j, bm25[j]) for j in range(depth, len(ids))])[:k]
        passages = self.passages.take([ids[j] for j, _ in chosen])
        return [Hit(p, score, bm25[j]) for p, (j, score) in zip(passages, chosen, strict=True)]

    def bm25_search(self, terms: Sequence[str], k: int, article_id: str | None = None) -> list[Hit]:
        """The k best passages by BM25Plus alone (rank-bm25's ranking), ties to the lower id.

        Every occurrence of a term counts, as in rank-bm25; `search` passes distinct terms.
        """
        ids, scores = self._bm25_top(terms, k, article_id)
        return [Hit(p, s, s) for p, s in zip(self.passages.take(ids), scores, strict=True)]

    def _bm25_top(
        self, terms: Sequence[str], k: int, article_id: str | None
    ) -> tuple[list[int], list[float]]:
        """The passage ids and BM25Plus scores of `bm25_search`'s hits."""
        if not len(self.passages) or not terms:
            return [], []
        allowed = None
        if article_id is not None:
            own = self.passages_of(article_id)
            if not own:
                return [], []
            allowed = np.arange(own.start, own.stop, dtype=np.int64)
        ids, scores = self.bm25.top_k(list(terms), k, allowed=allowed)
        return ids.tolist(), scores.tolist()

    def term_contributions(self, terms: Sequence[str], passage_index: int) -> dict[str, float]:
        """Each query term's share of one passage's score (the per-query constant excluded)."""
        weights = self.bm25.term_weights(list(terms), passage_index)
        return {t: round(w, 4) for t, w in weights.items() if w > 0}


def rerank(
    index: Index, terms: Sequence[str], hits: Sequence[Hit], *, keep: int | None = None
) -> list[Hit]:
    """`hits` re-ordered by BM25 plus the sentence and word-pair scores (module docstring).

    `terms` are the query's distinct terms in question order. A hit's new score is
    `bm25 + best_bm25 * (SENTENCE_WEIGHT * sentence + BIGRAM_WEIGHT * pairs)`; the sort
    is stable, so equal scores keep BM25's order.

    With `keep`, only the best `keep` are asked for: a hit that cannot reach them is
    left out without reading its sentences (`_bonus_ceilings`). The hits returned are
    then the same best `keep`, with the same scores in the same order, and maybe others.
    """
    order = _reranked(
        index, terms, [h.passage.index for h in hits], [h.bm25 for h in hits], keep=keep
    )
    if order is None:
        return list(hits)
    return [Hit(hits[j].passage, score, hits[j].bm25) for j, score in order]


def _reranked(
    index: Index, terms: Sequence[str], ids: list[int], bm25: list[float], *, keep: int | None
) -> list[tuple[int, float]] | None:
    """`rerank` of the passages `ids` with BM25 scores `bm25`: (position in `ids`, new
    score) of each hit read, best first; None when there is nothing to re-rank by."""
    top = max(bm25, default=0.0)
    if top <= 0 or not terms:
        return None
    idf = {t: index.idf(t) for t in terms}
    total = sum(idf.values()) or 1.0
    wanted_pairs = set(pairwise(terms))
    keep = len(ids) if keep is None else keep
    # Where every hit's sentences are, read at once: the ceilings' `apart` and the texts.
    offsets = index.passages.sentence_offsets(ids)
    articles = index.corpus.articles
    apart = [sentences_apart(articles[p].body, a, b) for p, _, a, b in offsets[keep:]]
    ceilings = _bonus_ceilings(
        index, np.asarray(ids[keep:], dtype=np.int64), idf, total, wanted_pairs, top, apart
    )
    best_scores: list[float] = []  # the best `keep` scores so far (a heap: lowest first)
    scored: list[tuple[int, float]] = []
    for n, (position, _, starts, ends) in enumerate(offsets):
        # At best equal to the keep-th best score so far is not enough: the `keep` hits
        # scoring at least that come before this one, and the sort is stable.
        if n >= keep and bm25[n] + ceilings[n - keep] <= best_scores[0]:
            continue
        body = articles[position].body
        best = 0.0
        pairs: set[tuple[str, str]] = set()
        for start, end in zip(starts, ends, strict=True):
            text = body[start:end]
            present = term_set(text)
            held = list(filter(present.__contains__, idf))
            # The idf of the query terms present, summed in query order (as the ceilings).
            best = max(best, sum(map(idf.__getitem__, held)) / total)
            if len(held) > 1 and wanted_pairs:  # a pair needs two of them
                pairs |= term_pairs(text) & wanted_pairs
        share = len(pairs) / len(wanted_pairs) if wanted_pairs else 0.0
        score = bm25[n] + top * (SENTENCE_WEIGHT * best + BIGRAM_WEIGHT * share)
        scored.append((n, score))
        if len(best_scores) < keep:
            heappush(best_scores, score)
        else:
            heappushpop(best_scores, score)
    return sorted(scored, key=lambda item: -item[1])


def _bonus_ceilings(
    index: Index,
    ids: npt.NDArray[np.int64],
    idf: dict[str, float],
    total: float,
    wanted_pairs: set[tuple[str, str]],
    top: float,
    apart: Sequence[bool],
) -> list[float]:
    """For each passage of `ids`, a bonus `rerank` cannot exceed: the one it would get if a
    single sentence held every query term the passage is indexed with, and some sentence
    every wanted pair of them (infinite when that is not known to bound it).

    A sentence's terms are among its passage's index terms when whitespace separates
    the passage's sentences (`apart`, `tables.sentences_apart`): the index tokenised the
    text spanning them (and the title), and a word run never holds whitespace, so each
    sentence's runs are runs of that text. Every step then takes at least the values the
    exact bonus takes, and float sums of positive idfs (in the same order: adding 0.0 for
    a term a passage lacks leaves a sum as it is), products and quotients do not
    decrease when their operands do not: the ceiling is never below the bonus.
    """
    if not len(ids):
        return []
    holds = {t: index.bm25.holds(t, ids) for t in idf}
    best = np.zeros(len(ids))
    for t, w in idf.items():
        best += w * holds[t]
    pairs = np.zeros(len(ids))
    for a, b in wanted_pairs:
        pairs += holds[a] & holds[b]
    share = pairs / len(wanted_pairs) if wanted_pairs else pairs
    ceilings = top * (SENTENCE_WEIGHT * (best / total) + BIGRAM_WEIGHT * share)
    ceilings[~np.asarray(apart, dtype=np.bool_)] = math.inf
    out: list[float] = ceilings.tolist()
    return out


def update(
    old_articles: Sequence[tuple[str, str]],
    old_tables: Tables,
    old_bm25: BM25Index,
    corpus: Corpus,
    *,
    progress: bool = False,
) -> Index:
    """The index of `corpus` from an index of articles `(id, content_hash)` and its parts.

    An article with the same id and hash keeps its rows and postings; the others are
    split and tokenised. Kept articles must stay in their old order (a reordered corpus,
    or one that keeps under half the passages, is built from scratch).
    """
    old = {key: i for i, key in enumerate(old_articles)}
    reuse = [old.get((a.id, a.content_hash)) for a in corpus.articles]
    kept = [i for i in reuse if i is not None]
    old_p = old_tables.article_passages
    kept_passages = sum(int(old_p[i + 1] - old_p[i]) for i in kept)
    if any(b <= a for a, b in pairwise(kept)) or kept_passages < _MIN_REUSE * old_tables.n_passages:
        return Index.build(corpus, progress=progress)
    builder = TablesBuilder()
    new_id = np.full(old_bm25.n_docs, -1, dtype=np.int64)
    added: list[list[str]] = []
    added_at: list[int] = []
    next_id = 0
    fresh = [a for a, i in zip(corpus.articles, reuse, strict=True) if i is None]
    split = {a.id: _split(a) for a in _progress(fresh, progress, "indexing changes")}
    for article, i in zip(corpus.articles, reuse, strict=True):
        if i is not None:
            builder.copy(old_tables, i)
            lo, hi = int(old_p[i]), int(old_p[i + 1])
            new_id[lo:hi] = np.arange(next_id, next_id + hi - lo)
            next_id += hi - lo
            continue
        spans, bounds = split[article.id]
        builder.add(spans, bounds)
        for terms in passage_terms(article, spans, bounds):
            added.append(terms)
            added_at.append(next_id)
            next_id += 1
    bm25 = old_bm25.updated(new_id, added, np.asarray(added_at, dtype=np.int64))
    log.info(
        "index updated: %d of %d articles split again, %d of %d passages kept",
        len(fresh),
        len(corpus.articles),
        kept_passages,
        len(added) + kept_passages,
    )
    return Index(corpus, builder.finish(), bm25)


def _split(article: Article) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    """An article's sentence spans and passage bounds."""
    spans = sentence_spans(article.body)
    return spans, passage_bounds(article.body, spans)


def _progress(articles: Sequence[Article], enabled: bool, label: str) -> Iterable[Article]:
    """The articles, with a progress bar on request when there are enough to wait for."""
    if not enabled or len(articles) < 50:
        return articles
    from tqdm import tqdm

    return tqdm(articles, desc=label, unit="article", leave=False)


class _DocFreq:
    """Read-only `term -> number of passages` view of the BM25 index (no second copy)."""

    def __init__(self, bm25: BM25Index) -> None:
        self._bm25 = bm25

    def get(self, term: str, default: int = 0) -> int:
        return self._bm25.document_frequency(term) or default

    def __getitem__(self, term: str) -> int:
        found = self._bm25.document_frequency(term)
        if not found:
            raise KeyError(term)
        return found


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
            index.tables.check(corpus.articles)
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
    tables, fields = Tables.load(_path(cache_dir, key, "tables"))
    if fields.get("key") != key:
        raise IndexFormatError("the passage table was written for another corpus")
    tables.check(corpus.articles)
    return Index(corpus, tables, BM25Index.load(_path(cache_dir, key, "bm25")))


def _newest_base(
    cache_dir: Path, key: str
) -> tuple[list[tuple[str, str]], Tables, BM25Index] | None:
    """The newest intact cached index of another corpus version, to update from."""
    manifests = [p for p in cache_dir.glob("index-*.json") if p != _path(cache_dir, key, "json")]
    for path in sorted(manifests, key=_mtime, reverse=True)[:1]:
        try:
            raw = path.read_bytes()
            manifest = json.loads(raw)
            if manifest["format"] != INDEX_FORMAT:
                return None
            old_key = str(manifest["key"])
            tables, fields = Tables.load(_path(cache_dir, old_key, "tables"))
            if fields.get("manifest_sha256") != hashlib.sha256(raw).hexdigest():
                raise IndexFormatError("the manifest does not match its passage table")
            bm25 = BM25Index.load(_path(cache_dir, old_key, "bm25"))
            if (bm25.k1, bm25.b, bm25.delta) != (BM25_K1, BM25_B, BM25_DELTA):
                return None  # other parameters: every weight differs, build from scratch
            articles = [(str(a["id"]), str(a["hash"])) for a in manifest["articles"]]
            if len(articles) != len(tables.article_passages) - 1 or bm25.n_docs != (
                tables.n_passages
            ):
                raise IndexFormatError("the manifest, table and BM25 index disagree")
            return articles, tables, bm25
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.info("not updating from %s (%s); building from scratch", path.name, exc)
    return None


def _manifest(index: Index, key: str) -> bytes:
    """The JSON manifest: which corpus the index came from, article by article."""
    ptr = index.tables.article_passages.tolist()
    articles = [
        {"id": a.id, "path": a.path, "hash": a.content_hash, "passages": [ptr[i], ptr[i + 1]]}
        for i, a in enumerate(index.corpus.articles)
    ]
    manifest = {
        "format": INDEX_FORMAT,
        "key": key,
        "corpus_version": index.version,
        "passages": len(index.passages),
        "sentences": int(index.tables.article_sentences[-1]),
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
        index.tables.save(_path(cache_dir, key, "tables"), fields)
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
