"""The re-ranker's features: each is its plain definition, in [0, 1], over BM25's best passages."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citebot.corpus.articles import Corpus
from citebot.retrieval.features import (
    FEATURES,
    LONG_PASSAGE,
    PREFIX,
    WINDOW_SLACK,
    passage_features,
)
from citebot.retrieval.index import Hit, Index
from citebot.retrieval.vectors import load_term_vectors
from citebot.text.tokenizer import tokenize
from tests.conftest import make_article


def _plain_features(index: Index, terms: list[str], hits: list[Hit]) -> list[list[float]]:
    """FEATURES as the module docstring and FEATURES' comments define them, over `Passage`
    and `Sentence` objects, one passage at a time."""
    top = max(h.bm25 for h in hits)
    idf = {t: index.idf(t) for t in terms}
    total = sum(idf.values()) or 1.0
    wanted = set(pairwise(terms))
    vectors = load_term_vectors()
    rows = []
    for hit in hits:
        p = hit.passage
        sentences = index.sentences[p.article_id][p.first_sentence : p.last_sentence]
        bags = [tokenize(s.text) for s in sentences]
        sequence = [t for bag in bags for t in bag]
        best = max(sum(idf[t] for t in set(bag) & set(terms)) for bag in bags) / total
        pairs = set().union(*(set(pairwise(bag)) for bag in bags)) & wanted
        width = len(terms) + WINDOW_SLACK
        window = max(
            (
                sum(idf[t] for t in set(sequence[i : i + width]) & set(terms))
                for i in range(len(sequence))
            ),
            default=0.0,
        )
        run = longest = 0
        for a, b in pairwise([None, *sequence]):
            in_order = a in terms and b in terms and terms.index(b) == terms.index(a) + 1
            run = run + 1 if in_order else 0
            longest = max(longest, run)
        title = set(tokenize(index.article(p.article_id).title))
        rows.append(
            [
                hit.bm25 / top,
                best,
                len(pairs) / len(wanted) if wanted else 0.0,
                sum(idf[t] for t in set(sequence) & set(terms)) / total,
                window / total,
                longest / (len(terms) - 1) if len(terms) > 1 else 0.0,
                sum(idf[t] for t in title & set(terms)) / total,
                min(len(sequence) / LONG_PASSAGE, 1.0),
                max(
                    sum(idf[t] for t in terms if t[:PREFIX] in {u[:PREFIX] for u in bag})
                    for bag in bags
                )
                / total,
                sum(idf[t] for t in terms if t[:PREFIX] in {u[:PREFIX] for u in sequence}) / total,
                max(
                    (
                        sum(
                            idf[t] * _closest(vectors.of([t])[0], vectors.of(bag), t, bag)
                            for t in terms
                        )
                        for bag in bags
                        if bag
                    ),
                    default=0.0,
                )
                / total,
            ]
        )
    return rows


def _closest(vector: np.ndarray, others: np.ndarray, term: str, bag: list[str]) -> float:
    """1 when the bag holds the term, else its best cosine (at least 0) with the bag's terms."""
    if term in bag:
        return 1.0
    return max(0.0, min(1.0, max(float(vector @ other) for other in others)))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_features_are_their_definition(shipped_index: Index, data: st.DataObject) -> None:
    """Every feature of every passage BM25 returns equals its plain definition and lies in
    [0, 1], for any query over the corpus's words."""
    vocabulary = sorted({t for p in shipped_index.passages for t in tokenize(p.text)})
    terms = data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=6, unique=True))
    hits = shipped_index.bm25_search(terms, 20)
    x = passage_features(
        shipped_index, terms, [h.passage.index for h in hits], [h.bm25 for h in hits]
    )
    assert x.shape == (len(hits), len(FEATURES))
    plain = np.array(_plain_features(shipped_index, terms, hits)).reshape(x.shape)
    soft = FEATURES.index("soft_sentence")
    np.testing.assert_allclose(np.delete(x, soft, 1), np.delete(plain, soft, 1), atol=1e-12)
    np.testing.assert_allclose(x[:, soft], plain[:, soft], atol=1e-6)  # float32 vectors
    assert ((x >= 0) & (x <= 1)).all()


def test_proximity_features_tell_together_from_scattered() -> None:
    """A passage holding the question's words side by side, in its order, scores higher on
    every proximity feature than one holding the same words scattered over sentences."""
    corpus = Corpus(
        articles=(
            make_article(
                "scattered",
                "The bank met on a cold grey Monday morning in the city centre. "
                "Rates were high for many long months. England raised prices.",
            ),
            make_article(
                "together",
                "The bank of England raised rates. Prices were high for many long months. "
                "It met on a cold grey Monday morning in the city centre.",
            ),
        )
    )
    index = Index.build(corpus)
    terms = list(dict.fromkeys(tokenize("When did the bank of England raise rates?")))
    hits = index.bm25_search(terms, 2)
    x = passage_features(index, terms, [h.passage.index for h in hits], [h.bm25 for h in hits])
    row = {h.passage.article_id: x[n] for n, h in enumerate(hits)}
    for name in ("sentence", "pairs", "window", "run"):
        f = FEATURES.index(name)
        assert row["together"][f] > row["scattered"][f], name
    f = FEATURES.index("coverage")
    assert row["together"][f] == row["scattered"][f]  # the same words, anywhere


def test_no_passages_or_no_score_give_no_features() -> None:
    """Nothing to measure (no passages, or BM25 found nothing) is an empty or zero matrix,
    never a division by zero."""
    index = Index.build(Corpus(articles=(make_article("a", "A short text about rates."),)))
    assert passage_features(index, ["rate"], [], []).shape == (0, len(FEATURES))
    assert not passage_features(index, ["rate"], [0], [0.0]).any()


def test_prefix_features_meet_words_the_stemmer_keeps_apart() -> None:
    """ "historical reference" answers "reference in history": `prefix` counts the word the
    stemmer keeps apart (histor / histori), `sentence` does not."""
    corpus = Corpus(
        articles=(make_article("a", "The first historical reference to the town dates to 1313."),)
    )
    index = Index.build(corpus)
    terms = list(dict.fromkeys(tokenize("When is the first reference in history to the town?")))
    hits = index.bm25_search(terms, 1)
    row = passage_features(index, terms, [hits[0].passage.index], [hits[0].bm25])[0]
    assert row[FEATURES.index("prefix")] == 1.0
    assert row[FEATURES.index("prefix_coverage")] == 1.0
    assert row[FEATURES.index("sentence")] < 1.0


def test_soft_sentence_counts_words_used_alike() -> None:
    """ "When did the war begin?" against "The war started in 1914.": `sentence` counts
    only "war", `soft_sentence` also counts "begin" by its vector's closeness to "start";
    with every question term in the sentence both are 1."""
    corpus = Corpus(
        articles=(make_article("a", "The war started in 1914. Peace came much later."),)
    )
    index = Index.build(corpus)
    vectors = load_term_vectors()
    assert float(vectors.of(["begin"])[0] @ vectors.of(["start"])[0]) > 0.3
    for question, lower in (("When did the war begin?", True), ("When did the war start?", False)):
        terms = list(dict.fromkeys(tokenize(question)))
        hits = index.bm25_search(terms, 1)
        row = passage_features(index, terms, [hits[0].passage.index], [hits[0].bm25])[0]
        exact, soft = row[FEATURES.index("sentence")], row[FEATURES.index("soft_sentence")]
        if lower:
            assert exact < soft < 1.0
        else:
            assert exact == soft == 1.0
