"""Sentences and passages of an article, each with offsets into `article.body`.

Retrieval works on passages of a few sentences rather than single sentences: the
sentence that answers often lacks a word of the question that its neighbours
have ("when did the Hetao park open?" is answered by a sentence without "Hetao").
Passages are built the way DrQA groups short paragraphs: consecutive sentences
until about `max_words`, a paragraph break ends a passage that is already long
enough, and a passage cut inside a paragraph overlaps the next by one sentence so
that no pair of neighbouring sentences is ever split apart.

A passage is thus normally one paragraph (blank-line block): a paragraph is what a
writer keeps to one topic. `min_words=20` only joins what is too short to stand
alone (a dateline, a heading, a one-line quote) to the next paragraph; with 40,
the tail of a long paragraph (the overlap sentence plus a short remainder) ran on
into the next paragraph, whose opening sentences then sat in a passage about
something else (SQuAD 2.0 dev, open mode: paragraph recall@5 +1.9 points going
from 40 to 20). `max_words=200` keeps a typical encyclopedia paragraph (~130
words) whole instead of cutting it in two (+0.9 more at recall@5 from 120 to 200);
news paragraphs, of 20-60 words, are one passage each at any of these sizes.

Sentence splitting is pysbd's, but pysbd costs about a millisecond per paragraph
(1M passages would take ~40 minutes), so a paragraph in the plain shape most news
text has -- ASCII words, commas, decimals, and sentences that end in "." or "?"
after a word that is no abbreviation, followed by one space and a capital -- is
split by `_plain_split` instead, which gives pysbd's answer for exactly that shape
(checked against pysbd on SQuAD, the shipped corpus and generated text). Anything
else goes to pysbd.

Invariant, tested for every passage of every article: `body[start:end] == text`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

_BLOCK_SPLIT = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END = re.compile(r"[.!?:;\"”’)\]]\s*$")


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


# (start, end, paragraph) of a sentence, offsets into the article body.
SentenceSpan = tuple[int, int, int]

# The plain shape `_plain_split` handles; anything else (quotes, brackets, "!", "/",
# "&", double spaces) goes to pysbd. An apostrophe must sit inside a word ("city's"):
# pysbd reads one after a space as an opening quote.
_PLAIN_TEXT = re.compile(r"(?:[^\W\d_]|[0-9 ,%.?;:'\u2013\u2014-])+")
_PLAIN_ASCII = re.compile(r"[A-Za-z0-9 ,%.?;:'-]+")  # the same for ASCII text, 10x faster
_LOOSE_APOSTROPHE = re.compile(r"(?<![^\W\d_])'|'(?![^\W\d_])")
_PLAIN_TERMINATOR = re.compile(r"[.?]")
# The word before a sentence end: letters (checked against pysbd's abbreviations), or
# a number whose last group has 3+ digits ("in 1998.", "5,000."); "in 12." is how
# pysbd's numbered lists look, so it is left to pysbd.
_PLAIN_END_WORD = re.compile(r"[A-Za-z]{2,}|[0-9,]*[0-9]{3}")


@functools.cache
def _segmenter() -> Any:  # pysbd ships no type hints
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


@functools.cache
def _abbreviations() -> frozenset[str]:
    """Every word pysbd may treat as an abbreviation when a period follows it."""
    from pysbd.lang.english import English  # type: ignore[import-untyped]  # no stubs

    known = English.Abbreviation
    return frozenset(
        word.lower()
        for word in (
            *known.ABBREVIATIONS,
            *known.PREPOSITIVE_ABBREVIATIONS,
            *known.NUMBER_ABBREVIATIONS,
        )
    )


def sentence_spans(body: str) -> list[SentenceSpan]:
    """(start, end, paragraph) of every sentence of `body`, in order, with verbatim offsets."""
    spans: list[SentenceSpan] = []
    for paragraph, (b_start, b_end) in enumerate(_blocks(body)):
        for l_start, l_end in _line_groups(body, b_start, b_end):
            for s_start, s_end in _segment(body, l_start, l_end):
                spans.append((s_start, s_end, paragraph))
    return spans


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
    plain = _plain_split(text)
    if plain is not None:
        return iter([(start + s, start + e) for s, e in plain])
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


def _plain_split(text: str) -> list[tuple[int, int]] | None:
    """Sentence spans of plain text exactly as pysbd splits it; None if `text` is not plain.

    Plain: letters, digits, spaces (never two in a row), "," "%" ";" ":" dashes,
    apostrophes inside words, decimals ("3.5"); every other "." or "?" ends a sentence:
    it follows a word pysbd does not know as an abbreviation (or a number like 1998)
    and comes last or before one space and a capital letter. pysbd splits such text
    at exactly those marks.
    """
    plain = _PLAIN_ASCII if text.isascii() else _PLAIN_TEXT
    if not plain.fullmatch(text) or "  " in text:
        return None
    if "'" in text and _LOOSE_APOSTROPHE.search(text):
        return None
    spans: list[tuple[int, int]] = []
    begin = 0
    n = len(text)
    for mark in _PLAIN_TERMINATOR.finditer(text):
        i = mark.start()
        if 0 < i < n - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            continue  # a decimal point
        if i + 1 < n and not (text[i + 1] == " " and i + 2 < n and "A" <= text[i + 2] <= "Z"):
            return None
        word = text[text.rfind(" ", begin, i) + 1 : i]
        if not _PLAIN_END_WORD.fullmatch(word) or word.lower() in _abbreviations():
            return None
        spans.append((begin, i + 1))
        begin = i + 2
    if begin < n:
        spans.append((begin, n))
    return spans


def passage_bounds(
    body: str, spans: list[SentenceSpan], *, max_words: int = 200, min_words: int = 20
) -> list[tuple[int, int]]:
    """`[first_sentence, last_sentence)` of each passage (the rules: see the module docstring)."""
    if max_words < 1 or min_words < 0:
        raise ValueError(f"max_words ({max_words}) must be >= 1 and min_words ({min_words}) >= 0")
    # Words are runs of non-space characters; str.split() is 3x faster than a regex.
    lengths = [len(body[start:end].split()) for start, end, _ in spans]
    bounds: list[tuple[int, int]] = []
    i, n = 0, len(spans)
    while i < n:
        j, words = i, 0
        broke_at_paragraph = False
        while j < n:
            if j > i and spans[j][2] != spans[j - 1][2] and words >= min_words:
                broke_at_paragraph = True
                break
            if j > i and words + lengths[j] > max_words:
                break
            words += lengths[j]
            j += 1
        bounds.append((i, j))
        if j >= n:
            break
        # Overlap by one sentence inside a paragraph; a paragraph break needs none.
        i = j if broke_at_paragraph or j - i == 1 else j - 1
    return bounds
