"""The answer message and the texts behind its buttons, formatted for Discord.

The message reads top to bottom in the order a person checks an answer, short enough
for a phone screen (measured by scripts/reply_layout.py: median 4 lines):

    -# when did the Hetao park open?                       the question, for the channel
    **Thursday, 7 September 2023**                         the headline (resolved value)
    > ... southern Shenzhen __**on Thursday**__, marking ... the one quoted sentence
    -# [Hong Kong Science Park opens ...](<url>) · 7 September 2023   one line per article

A "possible answer" (the confidence model is less sure) says so before the span, so
the quote carries the message; an abstention says the articles do not, and which of
the question's words nothing in them mentions. The primitives (escaping, clipping,
Discord's limits) are `bot.render`'s, and every rule of that module holds here too.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.render import (
    COLOUR,
    CONTENT_MAX,
    FIELD_VALUE_MAX,
    clip,
    escape_line,
    fits_content,
    highlight,
    length,
    link_text,
    long_date,
    plain,
)
from citebot.cite import Answer, Citation
from citebot.context import ContextGroup
from citebot.corpus.articles import Corpus
from citebot.text.tokenizer import words

QUESTION_MAX = 200
POSSIBLE = "Possible answer — check the quote:"
TIER_WORDS = {
    "answer": "an answer the articles support well",
    "possible": "a possible answer: the quote is worth checking",
    "none": "no answer",
}


def subtext(text: str) -> str:
    """A small grey line ("-# "); `text` must be one line, already escaped."""
    return "-# " + text


def question_line(question: str, note: str | None = None) -> str | None:
    """The question as asked (escaped, mentions broken, one line), and the note after it."""
    shown = clip(question, QUESTION_MAX, escape_line)
    if note:
        shown = (shown + " · " if shown.strip() else "") + clip(note, 200, escape_line)
    return subtext(shown) if shown.strip() else None


def article_link(title: str, url: str | None, limit: int) -> str:
    """`[title](<url>)` when the URL can be shown whole and safely, else the escaped title."""
    # Brackets in the shown text would end the masked link early.
    shown = clip(title.replace("[", "(").replace("]", ")"), limit, escape_line)
    link = link_text(url, 600)
    return f"[{shown}]({link})" if link and shown.strip() else shown


def article_line(citation: Citation, n: int | None, title_limit: int) -> str:
    """One article's subtext line: [n], the (linked) title, the source and the date."""
    parts = [article_link(citation.title, citation.url, title_limit)]
    source = clip(citation.source or "", 80, escape_line)
    if source.strip():
        parts.append(source)
    if citation.date:
        parts.append(long_date(citation.date))
    head = f"[{n}] " if n is not None else ""
    return subtext(head + " · ".join(parts))


def cited_articles(answer: Answer) -> list[Citation]:
    """The first citation of each distinct article, in citation order."""
    seen: dict[str, Citation] = {}
    for citation in answer.citations:
        seen.setdefault(citation.article_id, citation)
    return list(seen.values())


def quote_span(answer: Answer, first: Citation) -> tuple[int, int]:
    """The answer's offsets inside the first citation's quote (or an empty span)."""
    if answer.answer_start is not None and answer.answer_end is not None:
        start, end = answer.answer_start - first.start, answer.answer_end - first.start
        if 0 <= start < end <= len(first.quote) and first.quote[start:end] == answer.answer:
            return start, end
    if answer.answer:
        found = first.quote.find(answer.answer)
        if found >= 0:
            return found, found + len(answer.answer)
    return 0, 0


def headline(answer: Answer, limit: int) -> str:
    """The resolved value when there is one ("Thursday, 7 September 2023"), else the span."""
    value = answer.normalized_text or answer.answer or ""
    shown = clip(value, limit, escape_line)
    bold = f"**{shown}**" if shown.strip() else ""
    if answer.tier == "possible":
        return f"{POSSIBLE} {bold}".rstrip()
    return bold or "Answer:"


def render_answer(answer: Answer, corpus: Corpus, *, note: str | None = None) -> str:
    """The message for an Answer (an abstention included); `corpus` for its size and the
    closest article; `note` follows the question (e.g. which article a follow-up searched)."""
    if not answer.answered or not answer.citations:
        return render_abstention(answer, corpus, note)
    for quote_max, title_max in ((420, 150), (300, 100), (200, 60)):
        text = _answered(answer, note, quote_max, title_max)
        if fits_content(text):
            return text
    # Unreachable: the last caps sum to well under 2,000 (a URL longer than 600 is not shown).
    return clip(answer.answer or answer.quote or "…", CONTENT_MAX // 2)


def _answered(answer: Answer, note: str | None, quote_max: int, title_max: int) -> str:
    first = answer.citations[0]
    lines = [question_line(answer.question, _with_reading(note, answer))]
    lines.append(headline(answer, 200))
    start, end = quote_span(answer, first)
    sources = cited_articles(answer)
    marker = " [1]" if len(sources) > 1 else ""
    lines.append("> " + highlight(first.quote, start, end, quote_max) + marker)
    numbered = len(sources) > 1
    for n, citation in enumerate(sources, start=1):
        lines.append(article_line(citation, n if numbered else None, title_max))
    return "\n".join(line for line in lines if line is not None)


def render_abstention(answer: Answer, corpus: Corpus, note: str | None = None) -> str:
    """ "The articles don't say.", the words nothing mentions, the closest related article."""
    lines = [question_line(answer.question, _with_reading(note, answer))]
    said = "The articles don't say."
    unknown = [clip(w, 60, escape_line) for w in answer.unknown_words[:4]]
    if unknown:
        said += f" Nothing in them mentions {_and(['**' + w + '**' for w in unknown])}."
    lines.append(said)
    closest = next((a for a in map(corpus.get, answer.suggestions) if a is not None), None)
    if closest is not None:
        lines.append(subtext("Closest article: " + article_link(closest.title, closest.url, 150)))
    count = len(corpus.articles)
    lines.append(
        subtext(f"I answer from {count} article{'s' * (count != 1)}; `/sources` lists them.")
    )
    return "\n".join(line for line in lines if line is not None)


def _with_reading(note: str | None, answer: Answer) -> str | None:
    """`note`, then how misspelt words were read ('read “purhcased” as “purchased”')."""
    return " · ".join(n for n in (note, answer.read_as_text()) if n) or None


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def render_more_context(groups: Sequence[ContextGroup], answer: Answer) -> str:
    """The sentences around the quote and others carrying the answer, grouped by article."""
    parts: list[str] = []
    room = CONTENT_MAX
    span = answer.answer or ""
    for group in groups:
        head = "-# " + " · ".join(
            [clip(group.title, 150, escape_line)] + ([long_date(group.date)] if group.date else [])
        )
        block = [head]
        for sentence in group.sentences:
            found = sentence.text.casefold().find(span.casefold()) if span else -1
            start, end = (found, found + len(span)) if found >= 0 else (0, 0)
            block.append("> " + highlight(sentence.text, start, end, 400))
        text = "\n".join(block)
        if length(text) + 1 > room:
            break
        parts.append(text)
        room -= length(text) + 1
    return "\n".join(parts) or "Nothing more to show around this quote."


def shown_words(answer: Answer, limit: int = FIELD_VALUE_MAX) -> str:
    """The question's words as written (else as the quote writes them), with each one's share."""
    evidence = {t: w for t, w in answer.evidence.items() if w > 0}
    total = sum(evidence.values())
    if not evidence or total <= 0:
        return "No word of the question matched the quoted passage."
    written: dict[str, str] = {}
    for text in (answer.question, answer.quote or ""):
        for w in words(text):
            written.setdefault(w.term, text[w.start : w.end])
    ranked = sorted(evidence.items(), key=lambda kv: (-kv[1], kv[0]))
    items = [f"**{clip(written.get(t, t), 60, escape_line)}** {w / total:.0%}" for t, w in ranked]
    return clip(" · ".join(items), limit, plain)


def render_why(answer: Answer, *, threshold: float, answer_threshold: float) -> discord.Embed:
    """Why this answer (or why none), for people: words, tier, article; no stems, no hashes."""
    if answer.answered and answer.citations:
        first = answer.citations[0]
        when = f", {long_date(first.date)}" if first.date else ""
        description = (
            f"This is {TIER_WORDS[answer.tier]} (confidence {answer.confidence:.2f}; "
            f"the bot says *answer* from {answer_threshold:.2f} and *possible answer* from "
            f"{threshold:.2f}). It comes from *{clip(first.title, 300, escape_line)}*{when}."
        )
        embed = discord.Embed(title="Why this answer", description=description, colour=COLOUR)
        embed.add_field(name="Words that counted", value=shown_words(answer), inline=False)
        return embed
    unknown = [f"**{clip(w, 60, escape_line)}**" for w in answer.unknown_words[:8]]
    if unknown:
        description = f"Nothing in the articles mentions {_and(unknown)}."
    else:
        description = (
            "The closest passage did not answer the question clearly enough "
            f"(confidence {answer.confidence:.2f}; the bot answers from {threshold:.2f})."
        )
    return discord.Embed(title="Why no answer", description=description, colour=COLOUR)
