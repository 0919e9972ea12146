"""Sentences and passages of an article, each with offsets into `article.body`.

Retrieval works on passages of a few sentences rather than single sentences: the
sentence that answers often lacks a word of the question that its neighbours
have ("when did the Hetao park open?" is answered by a sentence without "Hetao").
Passages are built the way DrQA groups short paragraphs: consecutive sentences
until about `max_words`, a paragraph break ends a passage that is already long
enough, and a passage cut inside a paragraph overlaps the next by one sentence so
that no pair of neighbouring sentences is ever split apart.

Invariant, tested for every passage of every article: `body[start:end] == text`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from citebot.corpus import Article

_BLOCK_SPLIT = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END = re.compile(r"[.!?:;\"”’)\]]\s*$")
_WORD = re.compile(r"\S+")


class Sentence(BaseModel):
    """A sentence of an article; `paragraph` counts the article's blank-line blocks."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    index: int
    paragraph: int
    start: int
    end: int
    text: str


class Passage(BaseModel):
    """Consecutive sentences `[first_sentence, last_sentence)` of one article."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    index: int
    start: int
    end: int
    text: str
    first_sentence: int
    last_sentence: int


@functools.cache
def _segmenter() -> Any:  # pysbd ships no type hints
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(article: Article) -> list[Sentence]:
    """Sentences of the article body, in order, with verbatim offsets."""
    body = article.body
    sentences: list[Sentence] = []
    for paragraph, (b_start, b_end) in enumerate(_blocks(body)):
        for l_start, l_end in _line_groups(body, b_start, b_end):
            for s_start, s_end in _segment(body, l_start, l_end):
                sentences.append(
                    Sentence(
                        article_id=article.id,
                        index=len(sentences),
                        paragraph=paragraph,
                        start=s_start,
                        end=s_end,
                        text=body[s_start:s_end],
                    )
                )
    return sentences


def _blocks(body: str) -> Iterator[tuple[int, int]]:
    """Blank-line separated blocks, as (start, end) with surrounding space trimmed."""
    start = 0
    for sep in _BLOCK_SPLIT.finditer(body):
        yield from _trimmed(body, start, sep.start())
        start = sep.end()
    yield from _trimmed(body, start, len(body))


def _trimmed(body: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    piece = body[start:end]
    stripped = piece.strip()
    if stripped:
        offset = start + piece.index(stripped)
        yield offset, offset + len(stripped)


def _line_groups(body: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Lines of a block, rejoined where a hard wrap split a sentence.

    A newline ends a sentence (lists, headings, bullet highlights) unless the line
    does not end like a sentence and the next line starts in lower case.
    """
    group_start = start
    pos = start
    while True:
        newline = body.find("\n", pos, end)
        if newline < 0:
            yield from _trimmed(body, group_start, end)
            return
        line = body[pos:newline]
        following = body[newline + 1 : end].lstrip()
        soft = not _SENTENCE_END.search(line) and following[:1].islower()
        if not soft:
            yield from _trimmed(body, group_start, newline)
            group_start = newline + 1
        pos = newline + 1


def _segment(body: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """pysbd's sentences of body[start:end], located verbatim (pysbd may alter spacing)."""
    # A soft line break inside a group is a space to the splitter (same length, same offsets).
    text = body[start:end].replace("\n", " ")
    pieces: list[str] = _segmenter().segment(text)
    cursor = 0
    spans: list[tuple[int, int]] = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        found = text.find(piece, cursor)
        if found < 0:  # the segmenter rewrote the text: keep the span honest instead
            return iter([(start, end)])
        spans.append((start + found, start + found + len(piece)))
        cursor = found + len(piece)
    # Anything the segmenter skipped stays attached to the sentence before it.
    merged: list[tuple[int, int]] = []
    for i, (s, e) in enumerate(spans):  # offsets are the same in `text` and `body`
        next_start = spans[i + 1][0] if i + 1 < len(spans) else end
        gap = body[e:next_start]
        if gap.strip():
            e = next_start - (len(gap) - len(gap.rstrip()))
        merged.append((s, e))
    if merged and merged[0][0] > start and body[start : merged[0][0]].strip():
        merged[0] = (start, merged[0][1])
    return iter(merged or [(start, end)])


def make_passages(
    article: Article,
    sentences: list[Sentence],
    *,
    max_words: int = 120,
    min_words: int = 40,
) -> list[Passage]:
    """Group sentences into overlapping passages (see the module docstring for the rules)."""
    if max_words < 1 or min_words < 0:
        raise ValueError(f"max_words ({max_words}) must be >= 1 and min_words ({min_words}) >= 0")
    lengths = [len(_WORD.findall(s.text)) for s in sentences]
    passages: list[Passage] = []
    i, n = 0, len(sentences)
    while i < n:
        j, words = i, 0
        broke_at_paragraph = False
        while j < n:
            if (
                j > i
                and sentences[j].paragraph != sentences[j - 1].paragraph
                and words >= min_words
            ):
                broke_at_paragraph = True
                break
            if j > i and words + lengths[j] > max_words:
                break
            words += lengths[j]
            j += 1
        first, last = sentences[i], sentences[j - 1]
        passages.append(
            Passage(
                article_id=article.id,
                index=len(passages),
                start=first.start,
                end=last.end,
                text=article.body[first.start : last.end],
                first_sentence=i,
                last_sentence=j,
            )
        )
        if j >= n:
            break
        # Overlap by one sentence inside a paragraph; a paragraph break needs none.
        i = j if broke_at_paragraph or j - i == 1 else j - 1
    return passages
