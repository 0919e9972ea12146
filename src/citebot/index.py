"""The searchable index: every article's sentences and passages, and BM25 over passages.

BM25 variant: rank-bm25's `BM25Plus` (k1=1.5, b=0.75, delta=1). Its idf,
log((N+1)/df), is positive for every term, so a corpus of one, two or three
articles still ranks sensibly; `BM25Okapi` gives a term found in half the
passages an idf of 0 and floors negative ones, which with two articles silences
most of the vocabulary. A passage is indexed with its article's title, because
titles name what an article is about in words its passages may not repeat.

Scoring is `bm25.BM25Index`: the same BM25Plus scores as rank-bm25 (a parity test
checks them within 1e-6), precomputed per term and summed sparsely, so a query costs
a fraction of a millisecond at 100k passages instead of rank-bm25's Python loop.

The index is cached on disk under a key made of the corpus content and the index
format, so a restart does not re-index an unchanged corpus and any edit is seen.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from citebot.bm25 import BM25Index, IndexFormatError
from citebot.corpus import Article, Corpus
from citebot.passages import Passage, Sentence, make_passages, split_sentences
from citebot.text import tokenize

log = logging.getLogger(__name__)

# Bump when tokenisation, passage rules or the stored layout change: old caches are ignored.
INDEX_FORMAT = 2


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved passage and its BM25 score."""

    passage: Passage
    score: float


class Index:
    """Sentences, passages and a BM25 model over a corpus."""

    def __init__(
        self,
        corpus: Corpus,
        sentences: dict[str, list[Sentence]],
        passages: list[Passage],
        bm25: BM25Index,
    ) -> None:
        self.corpus = corpus
        self.sentences = sentences
        self.passages = passages
        self.bm25 = bm25
        self._articles = {a.id: a for a in corpus.articles}
        by_article: dict[str, list[int]] = {}
        for i, p in enumerate(passages):
            by_article.setdefault(p.article_id, []).append(i)
        self._article_passages = {k: np.asarray(v, dtype=np.int64) for k, v in by_article.items()}
        self.doc_freq = _DocFreq(bm25)

    @classmethod
    def build(cls, corpus: Corpus, *, progress: bool = False) -> Index:
        """Split every article and index its passages (title words included)."""
        sentences: dict[str, list[Sentence]] = {}
        passages: list[Passage] = []
        terms: list[list[str]] = []
        articles: Iterable[Article] = corpus.articles
        if progress and len(corpus.articles) >= 50:
            from tqdm import tqdm

            articles = tqdm(articles, desc="indexing", unit="article", leave=False)
        for article in articles:
            article_sentences = split_sentences(article)
            sentences[article.id] = article_sentences
            title_terms = tokenize(article.title)
            for p in make_passages(article, article_sentences):
                passages.append(p.model_copy(update={"index": len(passages)}))
                terms.append(title_terms + tokenize(p.text))
        return cls(corpus, sentences, passages, BM25Index.build(terms))

    @property
    def version(self) -> str:
        """The corpus version this index was built from."""
        return self.corpus.version

    def article(self, article_id: str) -> Article:
        return self._articles[article_id]

    def idf(self, term: str) -> float:
        """BM25Plus idf; a term the corpus never uses gets the largest possible idf."""
        n = len(self.passages)
        return float(np.log((n + 1) / max(self.bm25.document_frequency(term), 0.5)))

    def search(self, terms: Sequence[str], k: int, article_id: str | None = None) -> list[Hit]:
        """The k best passages for the query terms, optionally within one article."""
        if not self.passages or not terms:
            return []
        allowed = None
        if article_id is not None:
            allowed = self._article_passages.get(article_id)
            if allowed is None:
                return []
        ids, scores = self.bm25.top_k(list(terms), k, allowed=allowed)
        return [Hit(self.passages[int(i)], float(s)) for i, s in zip(ids, scores, strict=True)]

    def term_contributions(self, terms: Sequence[str], passage_index: int) -> dict[str, float]:
        """Each query term's share of one passage's score (the per-query constant excluded)."""
        weights = self.bm25.term_weights(list(terms), passage_index)
        return {t: round(w, 4) for t, w in weights.items() if w > 0}


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


def _cache_key(corpus: Corpus) -> str:
    digest = hashlib.sha256(f"{INDEX_FORMAT}:{corpus.version}".encode()).hexdigest()
    return digest[:24]


def load_index(corpus: Corpus, cache_dir: Path | None, *, progress: bool = False) -> Index:
    """The index of `corpus`, from the cache when it holds this exact content, else built.

    The cache is two files named by a key of the corpus content and the index format:
    the BM25 weights in `BM25Index`'s checksummed binary form, and the sentence and
    passage tables. Both are written atomically; a missing, stale, truncated or corrupt
    one is never trusted: the index is rebuilt and the cache rewritten.
    """
    if cache_dir is None:
        return Index.build(corpus, progress=progress)
    key = _cache_key(corpus)
    tables, weights = cache_dir / f"index-{key}.tables", cache_dir / f"index-{key}.bm25"
    try:
        with tables.open("rb") as fh:
            state = pickle.load(fh)
        if state["key"] != key:
            raise IndexFormatError(f"{tables} was written for another corpus")
        bm25 = BM25Index.load(weights)
        if bm25.n_docs != len(state["passages"]):
            raise IndexFormatError(f"{weights} does not match {tables}")
        return Index(corpus, state["sentences"], state["passages"], bm25)
    except FileNotFoundError:
        pass
    except Exception as exc:  # truncated, corrupt or foreign: never trusted, rebuilt
        log.warning("index cache %s is unreadable (%s); rebuilding", tables.parent, exc)
    index = Index.build(corpus, progress=progress)
    _save(index, tables, weights, key)
    return index


def _save(index: Index, tables: Path, weights: Path, key: str) -> None:
    """Write both cache files atomically; a cache that cannot be written is only a warning."""
    state = {"key": key, "sentences": index.sentences, "passages": index.passages}
    try:
        tables.parent.mkdir(parents=True, exist_ok=True)
        index.bm25.save(weights)
        fd, tmp = tempfile.mkstemp(dir=tables.parent, prefix=".index-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, tables)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        log.warning("cannot write the index cache to %s (%s); continuing without it", tables, exc)
