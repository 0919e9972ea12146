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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from citebot.cite import Answer, Citation
from citebot.corpus import Article

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


# ---------------------------------------------------------------- measuring, escaping, cutting


def length(text: str) -> int:
    """Length as Discord counts it: UTF-16 code units (an emoji can count 2)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Markdown and mentions escaped: shows as written, pings nobody, breaks no layout."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


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


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class _Budget:
    """Character caps for the parts of an answer; tried from generous to terse."""

    answer: int
    quote: int
    title: int
    source: int
    url: int
    other_quotes: int
    article_id: int
    citations: int


_BUDGETS = (
    _Budget(300, 1100, 200, 100, 300, 300, 130, 5),
    _Budget(200, 800, 140, 80, 200, 160, 100, 5),
    _Budget(160, 600, 100, 60, 120, 0, 64, 5),
    _Budget(120, 400, 60, 40, 0, 0, 40, 3),
)


def render_answer(answer: Answer, titles: Mapping[str, str], *, note: str | None = None) -> str:
    """The message for an Answer: an abstention, or the answer, its quote and numbered sources.

    `titles` maps article ids to titles (for an abstention's closest articles); `note`
    is an extra first line (e.g. which earlier answer a follow-up continues).
    """
    if not answer.answered or not answer.citations:
        return _render_abstention(answer, titles, note)
    for budget in _BUDGETS:
        text = _render_answered(answer, budget, note)
        if fits_content(text):
            return text
    # Unreachable with the budgets above (the last one sums to well under 2,000).
    return clip(answer.answer or answer.quote or "…", CONTENT_MAX // 2)


def _quote_span(answer: Answer, first: Citation) -> tuple[int, int]:
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


def _render_answered(answer: Answer, budget: _Budget, note: str | None) -> str:
    first = answer.citations[0]
    lines = []
    if note:
        lines.append("*" + clip(note, 200, escape_line) + "*")
    shown_answer = clip(answer.answer or "", budget.answer, escape_line)
    head = f"**{shown_answer}**" if shown_answer.strip() else "Answer:"
    shown_value = answer.normalized_text or answer.normalized
    if shown_value and plain(shown_value).casefold() != plain(answer.answer or "").casefold():
        head += " → " + clip(shown_value, 100, escape_line)
    lines.append(head)
    start, end = _quote_span(answer, first)
    lines.append("> " + highlight(first.quote, start, end, budget.quote) + " [1]")
    lines.append("")
    lines.append("**Sources**")
    seen: dict[str, int] = {}
    shown = answer.citations[: budget.citations]
    for citation in shown:
        earlier = seen.get(citation.article_id)
        if earlier is None:
            seen[citation.article_id] = citation.n
            lines.append(f"**[{citation.n}]** " + _source_line(citation, budget))
        else:
            lines.append(f"**[{citation.n}]** same article as [{earlier}]")
        if citation is not first and budget.other_quotes:
            lines.append("> " + clip(citation.quote, budget.other_quotes, escape_quoted))
    hidden = len(answer.citations) - len(shown)
    if hidden > 0:
        lines.append(f"…and {hidden} more")
    return "\n".join(lines)


def _source_line(citation: Citation, budget: _Budget) -> str:
    parts = [
        clip(citation.title, budget.title, escape_line),
        long_date(citation.date),
        or_else(clip(citation.source or "", budget.source, escape_line), "source not stated"),
    ]
    link = link_text(citation.url, budget.url)
    if link:
        parts.append(link)
    parts.append(code(citation.article_id, budget.article_id))
    return parts[0] + " — " + " · ".join(parts[1:])


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


def _render_abstention(answer: Answer, titles: Mapping[str, str], note: str | None) -> str:
    lines = []
    if note:
        lines.append("*" + clip(note, 200, escape_line) + "*")
    reason = clip(answer.message, 400, escape_line) if answer.message else None
    lines.append(f"Not found in the sources: {reason}." if reason else "Not found in the sources.")
    suggestions = answer.suggestions[:5]
    if suggestions:
        lines.append("Closest articles:")
        for article_id in suggestions:
            title = titles.get(article_id)
            shown_id = code(article_id, 110)
            if title:
                lines.append(f"• **{clip(title, 200, escape_line)}** ({shown_id})")
            else:
                lines.append(f"• {shown_id}")
    return "\n".join(lines)


def render_context(
    title: str, article_id: str, text: str, start: int, end: int, *, changed: bool = False
) -> str:
    """The paragraph around an answer, the answer marked; `changed` when it is the old quote."""
    head = f"Context from *{clip(title, 200, escape_line)}* ({code(article_id, 110)}):"
    if changed:
        head = (
            "The article has changed since this answer; this is the sentence it quoted, "
            f"from *{clip(title, 200, escape_line)}* ({code(article_id, 110)}):"
        )
    room = CONTENT_MAX - length(head) - length("\n> ")
    return head + "\n> " + highlight(text, start, end, room)


def render_why(
    answer: Answer, *, threshold: float, current_version: str | None, question_logged: bool
) -> discord.Embed:
    """How the answer was chosen: matched terms and their weight, confidence, type, version."""
    if answer.answered:
        description = (
            f"**{clip(answer.answer or '', 300, escape_line)}** was taken from source [1] with "
            f"confidence **{answer.confidence:.2f}**; the bot answers at {threshold:.2f} or more."
        )
    else:
        reason = clip(answer.message or "no passage matched well enough", 400, escape_line)
        description = (
            f"No answer: {reason}. Confidence **{answer.confidence:.2f}**; "
            f"the bot answers at {threshold:.2f} or more."
        )
    if question_logged and answer.question:
        description = f"Question: {clip(answer.question, 600, escape_line)}\n\n{description}"
    embed = discord.Embed(title="Why this answer", description=description, colour=COLOUR)
    embed.add_field(name="Matched terms", value=_evidence_lines(answer.evidence), inline=False)
    embed.add_field(
        name="Answer type", value=or_else(clip(answer.answer_type or "", 100), "unknown")
    )
    version = answer.corpus_version or "unknown"
    shown = code(version, 40)
    if current_version and current_version != answer.corpus_version:
        shown += f" (the articles changed since; now {code(current_version, 40)})"
    else:
        shown += " (current)"
    embed.add_field(name="Corpus version", value=shown)
    embed.set_footer(
        text="Term weights are each word's BM25 contribution to the passage the answer came from."
    )
    return embed


def _evidence_lines(evidence: Mapping[str, float], limit: int = FIELD_VALUE_MAX) -> str:
    if not evidence:
        return "No word of the question matched this passage."
    total = sum(max(v, 0.0) for v in evidence.values()) or 1.0
    ranked = sorted(evidence.items(), key=lambda kv: (-kv[1], kv[0]))
    lines: list[str] = []
    used = 0
    for i, (term, weight) in enumerate(ranked):
        line = f"{code(term, 60)} {weight:.2f} ({max(weight, 0.0) / total:.0%})"
        more = f"…and {len(ranked) - i} more"
        if used + length(line) + 1 + length(more) > limit:
            lines.append(more)
            break
        lines.append(line)
        used += length(line) + 1
    return "\n".join(lines)


# ---------------------------------------------------------------- articles


def page_count(total: int, per_page: int = SOURCES_PER_PAGE) -> int:
    return max(1, -(-total // per_page))


def render_sources_page(
    articles: Sequence[Article], page: int, *, version: str | None = None
) -> tuple[discord.Embed, int, int]:
    """One page of the article list (page clamped to what exists): (embed, page, pages)."""
    pages = page_count(len(articles))
    page = max(1, min(page, pages))
    chosen = articles[(page - 1) * SOURCES_PER_PAGE : page * SOURCES_PER_PAGE]
    lines = []
    for n, article in enumerate(chosen, start=(page - 1) * SOURCES_PER_PAGE + 1):
        date = article.date.isoformat() if article.date else "undated"
        lines.append(
            f"**{n}.** {clip(article.title, 200, escape_line)} — {date} · {code(article.id, 130)}"
        )
    description = "\n".join(lines) or "No articles are loaded."
    embed = discord.Embed(title="Sources", description=description, colour=COLOUR)
    footer = f"Page {page} of {pages} · {len(articles)} article{'s' * (len(articles) != 1)}"
    if version:
        footer += f" · corpus version {plain(version)[:40]}"
    embed.set_footer(text=footer + " · /source <id> shows one")
    return embed, page, pages


def first_paragraph(body: str) -> str:
    for block in body.replace("\r\n", "\n").split("\n\n"):
        if block.strip():
            return block.strip()
    return body.strip()


def render_source(article: Article, *, passages: int, sentences: int) -> discord.Embed:
    """One article: title, date, source, link, first paragraph, how it is indexed."""
    embed = discord.Embed(
        title=clip(article.title, EMBED_TITLE_MAX, escape_line),
        description=clip(first_paragraph(article.body), 1500),
        colour=COLOUR,
    )
    if article.url and link_text(article.url, 2000):
        embed.url = article.url
    embed.add_field(
        name="Date", value=long_date(article.date.isoformat() if article.date else None)
    )
    embed.add_field(
        name="Source",
        value=or_else(clip(article.source or "", 300, escape_line), "source not stated"),
    )
    embed.add_field(
        name="Link", value=link_text(article.url, FIELD_VALUE_MAX) or "no link", inline=False
    )
    embed.add_field(name="Id", value=code(article.id, 140))
    embed.add_field(
        name="Indexed as",
        value=f"{passages} passage{'s' * (passages != 1)}, "
        f"{sentences} sentence{'s' * (sentences != 1)}",
    )
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
        "word for word from an article, with the sentence it comes from and numbered sources; "
        "when the articles do not say, it answers *not found in the sources* and names the "
        "closest articles."
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
            "`/reload`, `/stats` for server administrators"
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
        value="**Show context** the paragraph around it · **Why this answer** the matched "
        "words and confidence · 👍 / 👎 tell the maintainers whether it helped",
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


def render_stats(stats: StatsView) -> discord.Embed:
    embed = discord.Embed(title="Question statistics", colour=COLOUR)

    def share(n: int) -> str:
        return f"{n} ({n / stats.asked:.0%})" if stats.asked else str(n)

    embed.add_field(name="Questions asked", value=str(stats.asked))
    embed.add_field(name="Answered", value=share(stats.answered))
    embed.add_field(name="Not found in the sources", value=share(stats.abstained))
    embed.add_field(name="Feedback", value=f"👍 {stats.helpful} · 👎 {stats.unhelpful}")
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
