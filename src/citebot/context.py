"""More context for an answer: the text around its quote that the quote does not already say.

An answer shows one sentence. A reader checking it wants the sentences on either side
(what "it" or "he" refers to) and any other sentence of the retrieved passages that
carries the answer or the question's rarest words (the same fact said elsewhere, or
said differently). The quoted sentence itself is never repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

from citebot.cite import Answer
from citebot.corpus.passages import Sentence
from citebot.retrieval.index import Index
from citebot.text.tokenizer import fold, term_set

RARE_TERMS = 2  # the question's terms that weigh most in the answer's passage
MAX_OTHERS = 3  # sentences beyond the neighbours, per article


@dataclass(frozen=True)
class ContextGroup:
    """Sentences of one article, in the article's order."""

    article_id: str
    title: str
    date: str | None
    sentences: tuple[Sentence, ...]


def more_context(index: Index, answer: Answer) -> list[ContextGroup]:
    """The groups of sentences to show beyond the quote; empty when there is nothing to add
    or the quoted article has changed since the answer was given."""
    if not answer.answered or not answer.citations:
        return []
    first = answer.citations[0]
    article = index.corpus.get(first.article_id)
    if article is None or article.body[first.start : first.end] != first.quote:
        return []
    sentences = index.sentences.get(article.id)
    if not sentences:
        return []
    own = next((s.index for s in sentences if s.start == first.start), None)
    wanted: dict[str, dict[int, Sentence]] = {article.id: {}}
    if own is not None:
        for k in (own - 1, own + 1):
            if 0 <= k < len(sentences):
                wanted[article.id][k] = sentences[k]
    rare = sorted(answer.evidence, key=lambda t: (-answer.evidence[t], t))[:RARE_TERMS]
    span = fold(answer.answer or "").strip()
    # Passage numbers are only meaningful in the index that answered.
    retrieved = answer.passages if answer.corpus_version == index.version else []
    for passage in index.passages.take(retrieved):
        found = wanted.setdefault(passage.article_id, {})
        others = index.sentences.get(passage.article_id)
        if others is None:
            continue
        for k in range(passage.first_sentence, passage.last_sentence):
            if len(found) >= MAX_OTHERS + 2 or (passage.article_id, k) == (article.id, own):
                continue
            sentence = others[k]
            if (span and span in fold(sentence.text)) or (
                rare and set(rare) <= term_set(sentence.text)
            ):
                found.setdefault(k, sentence)
    groups = []
    for article_id, found in wanted.items():
        if found:
            source = index.article(article_id)
            groups.append(
                ContextGroup(
                    article_id,
                    source.title,
                    source.date.isoformat() if source.date else None,
                    tuple(found[k] for k in sorted(found)),
                )
            )
    return groups
