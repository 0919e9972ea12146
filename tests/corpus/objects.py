"""Sentences and passages as objects, from the offsets production computes.

Production keeps offsets (`sentence_spans`, `passage_bounds`) and makes objects lazily
(`retrieval.offsets`); these plain definitions are what the tests check both against.
"""

from __future__ import annotations

from citebot.corpus.articles import Article
from citebot.corpus.passages import Passage, Sentence, passage_bounds, sentence_spans


def split_sentences(article: Article) -> list[Sentence]:
    """Sentences of the article body, in order, with verbatim offsets."""
    body = article.body
    return [
        Sentence(
            article_id=article.id,
            index=i,
            paragraph=paragraph,
            start=start,
            end=end,
            text=body[start:end],
        )
        for i, (start, end, paragraph) in enumerate(sentence_spans(body))
    ]


def make_passages(
    article: Article,
    sentences: list[Sentence],
    *,
    max_words: int = 200,
    min_words: int = 20,
) -> list[Passage]:
    """Group sentences into overlapping passages (see the module docstring for the rules)."""
    spans = [(s.start, s.end, s.paragraph) for s in sentences]
    body = article.body
    out: list[Passage] = []
    for first, last in passage_bounds(body, spans, max_words=max_words, min_words=min_words):
        start, end = spans[first][0], spans[last - 1][1]
        out.append(
            Passage(
                article_id=article.id,
                index=len(out),
                start=start,
                end=end,
                text=body[start:end],
                first_sentence=first,
                last_sentence=last,
            )
        )
    return out
