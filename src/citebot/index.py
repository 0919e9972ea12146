"""The searchable index: every article's sentences and passages, and BM25 over passages.

BM25 variant: rank-bm25's `BM25Plus` (k1=1.5, b=0.75, delta=1). Its idf,
log((N+1)/df), is positive for every term, so a corpus of one, two or three
articles still ranks sensibly; `BM25Okapi` gives a term found in half the
passages an idf of 0 and floors negative ones, which with two articles silences
most of the vocabulary. A passage is indexed with its article's title, because
titles name what an article is about in words its passages may not repeat.

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
from rank_bm25 import BM25Plus

from citebot.corpus import Article, Corpus
from citebot.passages import Passage, Sentence, make_passages, split_sentences
from citebot.text import tokenize

log = logging.getLogger(__name__)

# Bump when tokenisation, passage rules or the stored layout change: old caches are ignored.
INDEX_FORMAT = 1


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
        passage_terms: list[list[str]],
    ) -> None:
        self.corpus = corpus
        self.sentences = sentences
        self.passages = passages
        self.passage_terms = passage_terms
        self._articles = {a.id: a for a in corpus.articles}
        by_article: dict[str, list[int]] = {}
        for i, p in enumerate(passages):
            by_article.setdefault(p.article_id, []).append(i)
        self._article_passages = {k: np.asarray(v, dtype=np.int64) for k, v in by_article.items()}
        # rank-bm25 divides by the average length: an empty corpus gets a dummy document.
        self._bm25 = BM25Plus(passage_terms or [["\x00"]])
        self.doc_freq: dict[str, int] = {}
        for terms in passage_terms:
            for term in set(terms):
                self.doc_freq[term] = self.doc_freq.get(term, 0) + 1

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
        return cls(corpus, sentences, passages, terms)

    @property
    def version(self) -> str:
        """The corpus version this index was built from."""
        return self.corpus.version

    def article(self, article_id: str) -> Article:
        return self._articles[article_id]

    def idf(self, term: str) -> float:
        """BM25Plus idf; a term the corpus never uses gets the largest possible idf."""
        n = len(self.passages)
        return float(np.log((n + 1) / max(self.doc_freq.get(term, 0), 0.5)))

    def search(self, terms: Sequence[str], k: int, article_id: str | None = None) -> list[Hit]:
        """The k best passages for the query terms, optionally within one article."""
        if not self.passages or not terms:
            return []
        scores = np.asarray(self._bm25.get_scores(list(terms)), dtype=np.float64)
        if article_id is not None:
            allowed = self._article_passages.get(article_id)
            if allowed is None:
                return []
            mask = np.full(scores.shape, -np.inf)
            mask[allowed] = 0.0
            scores = scores + mask
        order = np.lexsort((np.arange(len(scores)), -scores))[:k]
        return [Hit(self.passages[i], float(scores[i])) for i in order if np.isfinite(scores[i])]

    def term_contributions(self, terms: Sequence[str], passage_index: int) -> dict[str, float]:
        """Each query term's share of one passage's score (the per-query constant excluded)."""
        doc_terms = self.passage_terms[passage_index]
        out: dict[str, float] = {}
        length = len(doc_terms)
        bm = self._bm25
        for term in dict.fromkeys(terms):
            tf = doc_terms.count(term)
            if tf == 0:
                continue
            norm = bm.k1 * (1 - bm.b + bm.b * length / bm.avgdl)
            weight = bm.idf.get(term, 0.0) * (tf * (bm.k1 + 1)) / (norm + tf)
            out[term] = round(float(weight) * terms.count(term), 4)
        return out


def _cache_key(corpus: Corpus) -> str:
    digest = hashlib.sha256(f"{INDEX_FORMAT}:{corpus.version}".encode()).hexdigest()
    return digest[:24]


def load_index(corpus: Corpus, cache_dir: Path | None, *, progress: bool = False) -> Index:
    """The index of `corpus`, from the cache when it holds this exact content, else built."""
    if cache_dir is None:
        return Index.build(corpus, progress=progress)
    path = cache_dir / f"index-{_cache_key(corpus)}.pickle"
    try:
        with path.open("rb") as fh:
            state = pickle.load(fh)
        if state["key"] == _cache_key(corpus):
            return Index(corpus, state["sentences"], state["passages"], state["terms"])
        log.warning("index cache %s is for another corpus; rebuilding", path)
    except FileNotFoundError:
        pass
    except Exception as exc:  # a truncated or foreign file: never trusted, rebuilt
        log.warning("index cache %s is unreadable (%s); rebuilding", path, exc)
    index = Index.build(corpus, progress=progress)
    _save(index, path, _cache_key(corpus))
    return index


def _save(index: Index, path: Path, key: str) -> None:
    """Write atomically (temp file + rename); a cache that cannot be written is only a warning."""
    state = {
        "key": key,
        "sentences": index.sentences,
        "passages": index.passages,
        "terms": index.passage_terms,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".index-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot write the index cache to %s (%s); continuing without it", path, exc)
