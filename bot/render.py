"""Text for Discord: its limits, and measuring, escaping, cutting and marking text to fit them.

Everything the bot says is built from these pure functions: the answer in `bot.reply`,
the article list in `bot.listing`, /help and the administrators' replies in
`bot.notices`. Rules kept by every one of them:
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
from collections.abc import Callable
from typing import Any

import discord

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


# ---------------------------------------------------------------- errors and threads


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
