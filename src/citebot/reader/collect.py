"""Everything the models look at for one question: ranked sentences and their candidates.

`collect` ranks the hits' sentences (`sentences`) and, for the best ones, makes their
candidate tables (`candidates`) and the features of every candidate (`features`),
stacked in one batch (`Collected.features`) for the span model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from citebot.reader.candidates import (
    FloatArray,
    IntArray,
    SentenceTable,
    sentence_tables,
    with_extra,
)
from citebot.reader.contract import CorpusView, Hit
from citebot.reader.features import (
    Features,
    SentenceEvidence,
    block_features,
    prepare_tables,
    term_pairs,
)
from citebot.reader.question import AnswerType, Question
from citebot.reader.sentences import (
    ScoredSentence,
    carried,
    focus_present,
    names_present,
    rank_sentences,
    term_weights,
)
from citebot.reader.spans import definition_candidates
from citebot.text.tokenizer import tokenize

TOP_SENTENCES = 8


@dataclass
class Block:
    """The candidates of one ranked sentence and their features (rows of `Collected.features`)."""

    scored: ScoredSentence
    table: SentenceTable
    dense: FloatArray
    hashed: IntArray


@dataclass
class Collected:
    """Everything the models look at for one question."""

    weights: dict[str, float]
    hits: list[Hit]
    missing: list[str]
    ranked: list[ScoredSentence]
    blocks: list[Block]
    features: Features = field(default_factory=Features.empty)  # the blocks' rows, stacked


def collect(
    question: Question,
    hits: Sequence[Hit],
    corpus: CorpusView,
    article_id: str | None = None,
    *,
    top_sentences: int = TOP_SENTENCES,
) -> Collected:
    """Rank the hits' sentences and compute the features of the best sentences' candidates.

    `article_id`: the one article the question was asked about, if any (its hits come
    from it alone; a name it never uses is missing even when other articles have it).
    """
    hits = list(hits)
    weights = term_weights(corpus, question)
    missing = missing_names(question, corpus, article_id)
    if not hits or not weights:
        return Collected(weights, hits, missing, [], [])
    ranked = rank_sentences(corpus, question, weights, hits)
    return with_blocks(
        corpus, question, Collected(weights, hits, missing, ranked, []), top_sentences
    )


def with_blocks(
    corpus: CorpusView, question: Question, found: Collected, top_sentences: int
) -> Collected:
    """`found` (retrieved and ranked) with the blocks of its best `top_sentences` sentences."""
    weights, ranked = found.weights, found.ranked
    top = ranked[:top_sentences]
    best_coverage = max(s.coverage for s in top)
    pairs = term_pairs(question.text)
    chosen: list[tuple[ScoredSentence, SentenceTable, SentenceEvidence]] = []
    # The tables of the sentences not met before are made in one batch.
    tables = sentence_tables([(s.text, corpus.article_date(s.article_id)) for s in top])
    prepare_tables(tables, [s.text for s in top])
    for rank, (scored, table) in enumerate(zip(top, tables, strict=True)):
        text = scored.text
        if question.answer_type == AnswerType.DEFINITION and question.subject:
            table = with_extra(table, text, definition_candidates(text, question.subject))
        if not table.candidates:
            continue
        evidence = SentenceEvidence(
            coverage=scored.coverage,
            context=scored.context,
            density=scored.density,
            passage_score=scored.passage_score,
            coverage_gap=best_coverage - scored.coverage,
            rank=rank,
            bigrams=len(pairs & term_pairs(text)) / len(pairs) if pairs else 0.0,
            carried=carried(scored, weights),
            # With few articles the idf of a name they all share is ~0, yet "the Shenzhen
            # park" and "Cyberport" are different subjects: presence counts regardless.
            terms_present=len(scored.matched) / len(weights),
            names_present=names_present(question, scored),
            focus_present=focus_present(question, scored),
        )
        chosen.append((scored, table, evidence))
    made = block_features(question, weights, [(t, e, s.text) for s, t, e in chosen])
    blocks = [Block(s, table, *made.sentence(j)) for j, (s, table, _) in enumerate(chosen)]
    return Collected(weights, found.hits, found.missing, ranked, blocks, made)


def missing_names(
    question: Question, corpus: CorpusView, article_id: str | None = None
) -> list[str]:
    """The names of the question that the corpus (or the one article asked about) never uses."""
    return [e for e in question.entities if not _known(corpus, e, article_id)]


def _known(corpus: CorpusView, entity: str, article_id: str | None = None) -> bool:
    """Whether any word of a name the question uses occurs in the corpus, or in the one
    article the question is restricted to: an article that never names "Seoul" cannot
    say when the mayor left Seoul, whatever the other articles say."""
    return any(corpus.mentions(t, article_id) for t in tokenize(entity))
