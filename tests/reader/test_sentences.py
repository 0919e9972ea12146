"""Sentence ranking: the fast ranker scores exactly as its plain definition."""

from __future__ import annotations

from citebot.corpus.articles import Corpus
from citebot.reader.question import parse_question
from citebot.reader.sentences import ANAPHOR, ScoredSentence, rank_sentences, term_weights
from citebot.retrieval.index import Hit, Index
from citebot.text.tokenizer import term_set
from tests.reader.test_reading import EXAMPLES


def _rank_sentences_plain(
    index: Index, weights: dict[str, float], hits: list[Hit]
) -> list[ScoredSentence]:
    """`rank_sentences` as first written: a `Sentence` and its neighbours' texts read one by one."""
    total = sum(weights.values()) or 1.0
    top = hits[0].score or 1.0
    seen: dict[tuple[str, int], ScoredSentence] = {}
    for hit in hits:
        sentences = index.sentences[hit.passage.article_id]
        for i in range(hit.passage.first_sentence, hit.passage.last_sentence):
            key = (hit.passage.article_id, i)
            if key in seen:
                continue
            s = sentences[i]
            own = term_set(s.text)
            matched = [t for t in weights if t in own]
            coverage = sum(weights[t] for t in matched) / total
            prev = term_set(sentences[i - 1].text) if i > 0 else frozenset()
            nxt = term_set(sentences[i + 1].text) if i + 1 < len(sentences) else frozenset()
            context = (
                sum(w for t, w in weights.items() if t in own or t in prev or t in nxt) / total
            )
            if i > 0 and ANAPHOR.match(s.text):
                coverage = max(
                    coverage,
                    0.9 * sum(w for t, w in weights.items() if t in own or t in prev) / total,
                )
            density = len(matched) / max(len(own), 1)
            scored = ScoredSentence(
                sentences, i, s.text, hit.score / top, coverage, context, matched, density
            )
            scored.score = coverage + 0.4 * context + 0.25 * scored.passage_score + 0.3 * density
            seen[key] = scored
    return sorted(seen.values(), key=lambda s: -s.score)


def test_the_ranker_scores_as_the_plain_definition(shipped_corpus: Corpus) -> None:
    """The ranker reads texts from the table and makes no `Sentence`; it ranks and scores
    exactly as the plain sentence-by-sentence definition, and its sentences are the index's."""
    index = Index.build(shipped_corpus)
    questions = [q for q, _, _ in EXAMPLES] + [
        s.text for article in shipped_corpus.articles for s in index.sentences[article.id]
    ]
    compared = 0
    for text in questions:
        question = parse_question(text)
        weights = term_weights(index, question)
        hits = index.search(list(question.terms), 8)
        if not hits or not weights:
            continue
        fast = rank_sentences(index, question, weights, hits)
        plain = _rank_sentences_plain(index, weights, hits)
        fields = ("article_id", "index", "text", "passage_score", "coverage", "context")
        more = ("matched", "density", "score")
        assert [[getattr(s, f) for f in fields + more] for s in fast] == [
            [getattr(s, f) for f in fields + more] for s in plain
        ]
        for s in fast:
            assert s.sentence == index.sentences[s.article_id][s.index]
            assert s.sentence.text == s.text
        compared += 1
    assert compared > 40
