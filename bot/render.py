"""Everything the bot says, formatted for Discord: pure functions, every limit enforced here.

Rules kept by every function of this module:
* Discord's limits hold whatever the input: 2,000 characters of content, embed title
  256, description 4,096, 25 fields of 1,024 (names 256), footer 2,048, 6,000 in all.
  Lengths are counted in UTF-16 code units (what Discord's JavaScript counts), which is
  never less than Python's `len`, so a text that fits here fits there.
* Text from articles and users is escaped (Markdown and mentions) *before* it is
  marked up, and shortened before it is escaped, so a cut never lands inside an
  escape sequence or a pair of `**`: long texts end with "…" at a word boundary.
* Nothing here can ping: the bot sends with `NO_MENTIONS`, and mentions in quoted
  text are broken with a zero-width space as well.
Answers are plain message content rather than embeds: content is shown to users who
turned embeds off and in channels where the bot lacks Embed Links, and links in it
are wrapped in <angle brackets> so Discord adds no preview card.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from citebot.corpus.articles import Article

NO_MENTIONS = discord.AllowedMentions.none()

CONTENT_MAX = 2000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
CHOICE_NAME_MAX = 100
CHOICE_VALUE_MAX = 100
AUTOCOMPLETE_MAX = 25
THREAD_NAME_MAX = 100
SOURCES_PER_PAGE = 10
ELLIPSIS = "…"
HIGHLIGHT = ("__**", "**__")
COLOUR = discord.Colour.blurple()

Escape = Callable[[str], str]
_SHORT_MENTION = re.compile(r"@(?=[!&]?[0-9])")


# ---------------------------------------------------------------- measuring, escaping, cutting


def length(text: str) -> int:
    """Length as Discord counts it: UTF-16 code units (an emoji can count 2)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Markdown and mentions escaped: shows as written, pings nobody, breaks no layout."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    # discord.py breaks only ids of 17-20 digits; "<@&123>" must not look like a mention either.
    return _SHORT_MENTION.sub("@\u200b", text)


def escape_line(text: str) -> str:
    """`escape`, on one line: line breaks become spaces (titles, list items)."""
    return escape(" ".join(text.split()))


def escape_quoted(text: str) -> str:
    """`escape` for the inside of a block quote: every line keeps the "> " prefix."""
    return escape(text).replace("\n", "\n> ")


def plain(text: str) -> str:
    """No escaping (autocomplete names, thread names: Discord shows them literally)."""
    return " ".join(text.split())


def clip(raw: str, limit: int, esc: Escape = escape) -> str:
    """`esc(raw)`, or its longest head that fits `limit` with "…", cut at a word boundary."""
    whole = esc(raw)
    if length(whole) <= limit:
        return whole
    return _cut(raw, limit, esc, keep_head=True)


def clip_start(raw: str, limit: int, esc: Escape = escape) -> str:
    """Like `clip` but keeps the end of the text: "…" + its longest tail that fits."""
    whole = esc(raw)
    if length(whole) <= limit:
        return whole
    return _cut(raw, limit, esc, keep_head=False)


def _cut(raw: str, limit: int, esc: Escape, *, keep_head: bool) -> str:
    if limit < length(ELLIPSIS):
        return ""
    budget = limit - length(ELLIPSIS)

    def piece(n: int) -> str:
        return raw[:n] if keep_head else raw[len(raw) - n :]

    # The longest n with length(esc(piece(n))) <= budget. Escaping only lengthens a text,
    # except that it may collapse white space, so a few times the budget is far enough to
    # look (and keeps each step cheap when the text is megabytes long).
    low, high = 0, min(len(raw), 4 * budget + 64)
    while low < high:
        mid = (low + high + 1) // 2
        if length(esc(piece(mid))) <= budget:
            low = mid
        else:
            high = mid - 1
    kept = piece(low)
    # Back off to a word boundary unless that would throw away most of what fits.
    if keep_head:
        space = max(kept.rfind(" "), kept.rfind("\n"))
        if space >= len(kept) // 2:
            kept = kept[:space]
        kept = kept.rstrip()
    else:
        spaces = [i for i in (kept.find(" "), kept.find("\n")) if i >= 0]
        if spaces and min(spaces) <= len(kept) // 2:
            kept = kept[min(spaces) + 1 :]
        kept = kept.lstrip()
    # Escaping is not strictly monotonic (a URL is left alone only once complete): recheck.
    while kept and length(esc(kept)) > budget:
        drop = max(1, len(kept) // 10)
        kept = kept[:-drop] if keep_head else kept[drop:]
    if not kept:
        return ELLIPSIS
    return esc(kept) + ELLIPSIS if keep_head else ELLIPSIS + esc(kept)


def highlight(text: str, start: int, end: int, limit: int, esc: Escape = escape_quoted) -> str:
    """`text` escaped with `text[start:end]` marked, shortened around the mark to fit `limit`."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    span = text[start:end]
    if not span.strip():
        return clip(text, limit, esc)
    # Keep white space outside the marks: Discord does not bold "** x**".
    start += len(span) - len(span.lstrip())
    end -= len(span) - len(span.rstrip())
    before, span, after = text[:start], text[start:end], text[end:]
    opening, closing = HIGHLIGHT
    marks = length(opening) + length(closing)
    marked = opening + clip(span, max(length(ELLIPSIS), limit * 3 // 5 - marks), esc) + closing
    rest = limit - length(marked)
    whole_before, whole_after = esc(before), esc(after)
    if length(whole_before) + length(whole_after) <= rest:
        return whole_before + marked + whole_after
    # A third of the room before the mark, the rest after; either side lends what it spares.
    before_room = min(length(whole_before), rest // 3)
    shown_after = clip(after, rest - before_room, esc)
    shown_before = clip_start(before, rest - length(shown_after), esc)
    return shown_before + marked + shown_after


def code(text: str, limit: int) -> str:
    """`text` as inline code when it can be, else escaped text; within `limit`."""
    flat = discord.utils.escape_mentions(plain(text))
    if "`" not in flat and flat and length(flat) + 2 <= limit:
        return f"`{flat}`"
    return clip(flat, limit, escape_line)


def long_date(iso: str | None) -> str:
    """An ISO date as "7 September 2023" ("undated" when there is none)."""
    if not iso or not iso.strip():
        return "undated"
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return or_else(clip(iso, 40, escape_line), "undated")
    return f"{day.day} {day:%B %Y}"


def or_else(text: str, default: str) -> str:
    """`text`, or `default` when it shows nothing (Discord refuses blank field values)."""
    return text if text.strip() else default


def fits_content(text: str) -> bool:
    return 0 < length(text) <= CONTENT_MAX


def embed_problems(embed: discord.Embed) -> list[str]:
    """Every Discord limit this embed breaks (empty when it can be sent)."""
    data: dict[str, Any] = dict(embed.to_dict())
    problems = []
    total = 0
    for key, limit in (("title", EMBED_TITLE_MAX), ("description", EMBED_DESCRIPTION_MAX)):
        text = str(data.get(key) or "")
        total += length(text)
        if length(text) > limit:
            problems.append(f"{key} is {length(text)} > {limit}")
    fields = data.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        problems.append(f"{len(fields)} fields > {EMBED_FIELDS_MAX}")
    for i, fld in enumerate(fields):
        name, value = str(fld.get("name", "")), str(fld.get("value", ""))
        total += length(name) + length(value)
        if not name.strip() or not value.strip():
            problems.append(f"field {i} has an empty name or value")
        if length(name) > FIELD_NAME_MAX:
            problems.append(f"field {i} name is {length(name)} > {FIELD_NAME_MAX}")
        if length(value) > FIELD_VALUE_MAX:
            problems.append(f"field {i} value is {length(value)} > {FIELD_VALUE_MAX}")
    footer = str((data.get("footer") or {}).get("text") or "")
    total += length(footer)
    if length(footer) > FOOTER_MAX:
        problems.append(f"footer is {length(footer)} > {FOOTER_MAX}")
    author = str((data.get("author") or {}).get("name") or "")
    total += length(author)
    if total > EMBED_TOTAL_MAX:
        problems.append(f"embed total is {total} > {EMBED_TOTAL_MAX}")
    return problems


# ---------------------------------------------------------------- links


def link_text(url: str | None, limit: int) -> str | None:
    """`<url>` (no preview card), or None when there is none or it is too long to show whole."""
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if scheme not in ("http", "https") or not sep or not authority or "@" in authority:
        return None  # not a web link, or user@host (a classic disguise): not shown
    # A URL cannot be shortened. "<", ">" and spaces would end the link early; "@" is
    # encoded so no "@everyone" survives even inside a link.
    for char, code_ in (("<", "%3C"), (">", "%3E"), (" ", "%20"), ("@", "%40")):
        path = path.replace(char, code_)
    safe = f"{scheme}://{authority}{slash}{path}"
    if length(safe) + 2 > limit or any(c.isspace() for c in safe):
        return None
    return f"<{safe}>"


# ---------------------------------------------------------------- articles


def page_count(total: int, per_page: int = SOURCES_PER_PAGE) -> int:
    return max(1, -(-total // per_page))


def render_sources_page(articles: Sequence[Article], page: int) -> tuple[discord.Embed, int, int]:
    """One page of the article list (page clamped to what exists): (embed, page, pages)."""
    pages = page_count(len(articles))
    page = max(1, min(page, pages))
    chosen = articles[(page - 1) * SOURCES_PER_PAGE : page * SOURCES_PER_PAGE]
    lines = []
    for n, article in enumerate(chosen, start=(page - 1) * SOURCES_PER_PAGE + 1):
        title = clip(article.title.replace("[", "(").replace("]", ")"), 200, escape_line)
        link = link_text(article.url, 600)
        parts = [f"[{title}]({link})" if link else title]
        if article.date:
            parts.append(long_date(article.date.isoformat()))
        if article.source and article.source.strip():
            parts.append(clip(article.source, 80, escape_line))
        lines.append(f"**{n}.** " + " · ".join(parts))
    description = "\n".join(lines) or "No articles are loaded."
    embed = discord.Embed(title="Sources", description=description, colour=COLOUR)
    footer = f"Page {page} of {pages} · {len(articles)} article{'s' * (len(articles) != 1)}"
    embed.set_footer(text=footer + " · /source shows one")
    return embed, page, pages


def first_paragraph(body: str) -> str:
    for block in body.replace("\r\n", "\n").split("\n\n"):
        if block.strip():
            return block.strip()
    return body.strip()


def render_source(article: Article) -> discord.Embed:
    """One article: title (linked when a URL is known), its first paragraph, date, source."""
    embed = discord.Embed(
        title=clip(article.title, EMBED_TITLE_MAX, escape_line),
        description=clip(first_paragraph(article.body), 1500),
        colour=COLOUR,
    )
    if article.url and link_text(article.url, 2000):
        embed.url = article.url
    if article.date:
        embed.add_field(name="Date", value=long_date(article.date.isoformat()))
    source = clip(article.source or "", 300, escape_line)
    if source.strip():
        embed.add_field(name="Source", value=source)
    return embed


def article_choices(articles: Sequence[Article], typed: str) -> list[tuple[str, str]]:
    """Autocomplete (name, value) pairs: articles whose id or title contains what was typed."""
    needle = typed.casefold().strip()
    scored = []
    for position, article in enumerate(articles):
        if length(article.id) > CHOICE_VALUE_MAX:
            continue  # Discord refuses longer choice values; the id can still be typed
        haystack_id, haystack_title = article.id.casefold(), article.title.casefold()
        if needle and needle not in haystack_id and needle not in haystack_title:
            continue
        rank = 0 if haystack_id.startswith(needle) else 1 if needle in haystack_id else 2
        scored.append((rank, position, article))
    scored.sort(key=lambda item: (item[0], item[1]))
    choices = []
    for _, _, article in scored[:AUTOCOMPLETE_MAX]:
        suffix = f" ({article.id})"
        room = CHOICE_NAME_MAX - length(suffix)
        if room >= 10:
            name = clip(article.title, room, plain) + suffix
        else:
            name = clip(article.id, CHOICE_NAME_MAX, plain)
        choices.append((name, article.id))
    return choices


# ---------------------------------------------------------------- help, stats, reload, errors


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


def render_error(message: str) -> str:
    """A short error for the user (the message is already Markdown-safe)."""
    text = message.strip() or "Something went wrong."
    if length(text) > CONTENT_MAX:
        text = clip(text, CONTENT_MAX, plain)
    return text


def sentence(text: str) -> str:
    """A library message ("the question is empty; type ...") as a sentence for people."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def thread_name(question: str) -> str:
    """A thread title from a question (Discord: 1-100 characters, shown literally)."""
    return clip(question, THREAD_NAME_MAX, plain) or "Question"


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
