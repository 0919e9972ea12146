"""/help, and the administrators' replies: /stats, /reload, /add and the feeds' status.

Built from `bot.render`'s primitives, so every rule of that module holds here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.render import (
    COLOUR,
    CONTENT_MAX,
    FIELD_VALUE_MAX,
    clip,
    code,
    escape_line,
    length,
    link_text,
    plain,
)
from citebot.corpus.articles import Article

# ---------------------------------------------------------------- help, stats, reload


def render_help(bot_name: str, *, auto_answer: bool) -> discord.Embed:
    """What the bot does and how to ask it."""
    name = clip(bot_name, 80, escape_line)
    description = (
        f"{name} answers questions about the articles it was given. Every answer is copied "
        "word for word from an article, with the sentence it comes from and the article; "
        "a *possible answer* is one worth checking against its quote, and when the articles "
        "do not say, it says so and which words nothing in them mentions."
    )
    embed = discord.Embed(title=f"How to use {name}", description=description, colour=COLOUR)
    embed.add_field(
        name="Commands",
        value=(
            "`/ask question [source] [private]` ask a question; `source` searches one article, "
            "`private` shows the answer to you only\n"
            "`/sources [page]` list the articles\n"
            "`/source article` show one article\n"
            "`/help` this message\n"
            "`/add url`, `/reload`, `/stats` for server administrators"
        ),
        inline=False,
    )
    asking = (
        f"Mention {name} with a question in any channel it can read, or reply to one of its "
        "answers to follow up on the same article."
    )
    if auto_answer:
        asking += " In its auto-answer channels, questions are answered without a mention."
    embed.add_field(name="Asking in a channel", value=asking, inline=False)
    embed.add_field(
        name="Under each answer",
        value="**Read the article** opens it · **More context** the sentences around the "
        "quote · **Why this answer** the words that counted and how sure it is · 👍 / 👎 "
        "tell the maintainers whether it helped (click again to take your vote back)",
        inline=False,
    )
    return embed


@dataclass(frozen=True)
class StatsView:
    """What /stats shows (built from storage.Stats by the admin cog)."""

    asked: int
    answered: int
    abstained: int
    helpful: int
    unhelpful: int
    top_unanswered: Sequence[tuple[str | None, str, int]] = ()
    corpus_version: str | None = None


def render_stats(stats: StatsView) -> discord.Embed:
    embed = discord.Embed(title="Question statistics", colour=COLOUR)

    def share(n: int) -> str:
        return f"{n} ({n / stats.asked:.0%})" if stats.asked else str(n)

    embed.add_field(name="Questions asked", value=str(stats.asked))
    embed.add_field(name="Answered", value=share(stats.answered))
    embed.add_field(name="No answer (the articles don't say)", value=share(stats.abstained))
    embed.add_field(name="Feedback", value=f"👍 {stats.helpful} · 👎 {stats.unhelpful}")
    if stats.corpus_version:
        embed.add_field(name="Corpus version", value=code(stats.corpus_version, 40))
    lines: list[str] = []
    used = 0
    for question, digest, count in stats.top_unanswered:
        shown = (
            clip(question, 150, escape_line)
            if question
            else f"(question not logged, {code(digest[:12], 20)})"
        )
        line = f"{count}× {shown}"
        if used + length(line) + 1 > FIELD_VALUE_MAX:
            break
        lines.append(line)
        used += length(line) + 1
    embed.add_field(
        name="Most frequent unanswered questions",
        value="\n".join(lines) or "None yet.",
        inline=False,
    )
    return embed


@dataclass(frozen=True)
class ReloadOutcome:
    """What a /reload did (built by the bot; rendered here)."""

    ok: bool
    articles: int
    old_version: str | None
    new_version: str | None
    added: Sequence[str] = ()
    removed: Sequence[str] = ()
    problems: Sequence[tuple[str, str]] = field(default_factory=tuple)
    error: str | None = None


def render_reload(outcome: ReloadOutcome) -> str:
    """The admin's reply to /reload: what changed and every file that did not load."""
    if not outcome.ok:
        head = (
            f"Reload failed: {clip(outcome.error or 'unknown error', 600, escape_line)}\n"
            f"Still serving the previous corpus ({outcome.articles} articles, version "
            f"{code(outcome.old_version or 'unknown', 40)})."
        )
        return clip(head, CONTENT_MAX, plain)
    if outcome.old_version == outcome.new_version:
        change = f"unchanged (version {code(outcome.new_version or 'unknown', 40)})"
    else:
        change = (
            f"version {code(outcome.old_version or 'none', 40)} → "
            f"{code(outcome.new_version or 'none', 40)}"
        )
    lines = [f"Reloaded the corpus: {outcome.articles} articles, {change}."]
    for label, ids in (("Added", outcome.added), ("Removed", outcome.removed)):
        if ids:
            shown = ", ".join(code(i, 60) for i in ids[:10])
            more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
            lines.append(f"{label}: {shown}{more}.")
    if outcome.problems:
        lines.append(f"Files that did not load ({len(outcome.problems)}):")
    text = "\n".join(lines)
    for i, (path, reason) in enumerate(outcome.problems):
        line = f"\n• {code(path, 200)}: {clip(reason, 300, escape_line)}"
        tail = f"\n…and {len(outcome.problems) - i} more"
        if length(text) + length(line) + length(tail) > CONTENT_MAX:
            return text + tail
        text += line
    return text


# ---------------------------------------------------------------- web pages and feeds


def render_added(
    article: Article | None, *, url: str, articles: int = 0, error: str | None = None
) -> str:
    """The admin's reply to /add: the article taken in, or why the page was not."""
    shown = link_text(url, 300) or code(url, 300)
    if article is None:
        reason = clip(error or "unknown error", 600, escape_line)
        return clip(f"Could not add {shown}: {reason}", CONTENT_MAX, plain)
    meta = ", ".join(
        [
            article.date.isoformat() if article.date else "undated",
            article.source or "source not stated",
        ]
    )
    return clip(
        f"Added **{clip(article.title, 300, escape_line)}** ({code(article.id, 130)}; "
        f"{escape_line(meta)}) from {shown}. Now answering from {articles} articles.",
        CONTENT_MAX,
        plain,
    )


def render_feeds(states: Sequence[Any]) -> str:
    """The feeds' status for administrators: each feed's last poll, articles and last error."""
    lines = [f"Feeds ({len(states)}), polled into the corpus:"]
    for state in states:
        when = f"<t:{int(state.last_poll.timestamp())}:R>" if state.last_poll else "never polled"
        line = f"• {link_text(state.url, 200) or code(state.url, 200)}: last poll {when}, "
        line += f"{state.articles} articles"
        if state.last_error:
            line += f"; last error: {clip(state.last_error, 200, escape_line)}"
        lines.append(line)
    text = "\n".join(lines)
    return text if length(text) <= CONTENT_MAX else clip(text, CONTENT_MAX, plain)
