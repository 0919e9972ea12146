"""Hostile input through the real bot: any question, any article text, nothing breaks or pings.

The core's own property tests (tests/test_hostile.py) call the Asker directly; these go
through Discord: the question arrives as /ask and as an @mention over the emulated
gateway, and everything the bot sends back is checked against Discord's limits (the
emulator answers 400/50035 to an over-long body) and for anything that could ping.

One bot serves a whole property: hypothesis runs its examples on a worker thread and
hands each one to the event loop, where the bot and the emulator keep running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.cogs.channels import HINT
from bot.errors import UNEXPECTED
from bot.settings import BotSettings
from citebot.pipeline import Asker
from tests.bot.support import QUESTION
from tests.emulator import DiscordEmulator, FakeMember, InteractionRecord, StoredMessage
from tests.hardening.support import (
    LogCapture,
    assert_cannot_ping,
    assert_clean_run,
    is_abstention,
    is_answered,
    serving,
    texts_of,
)
from tests.test_hostile import NASTY

PROPERTY_TIMEOUT = 75.0  # the whole property, shrinking included
EXAMPLE_TIMEOUT = 15.0
EPHEMERAL = 64
ROLE = "<@&123456789012345678>"
USER = "<@123456789012345678>"

FRAGMENTS = [
    "@everyone",
    "@here",
    ROLE,
    USER,
    "<@!876543210987654321>",
    "```",
    "```py\nprint('@everyone')\n```",
    "`",
    "**",
    "__",
    "~~",
    "||",
    "> ",
    "# ",
    "-# ",
    "[click](https://example.org/@everyone)",
    "'; DROP TABLE answers; --",
    "' OR 1=1 --",
    "../../etc/passwd",
    "/etc/shadow",
    "C:\\Windows\\system32\\",
    "\u202e",
    "\u200f",
    "\u200e",
    "\u2066",
    "\u200b",
    "\x00",
    "\x1b[31m",
    "\x7f",
    "\r\n",
    "\t",
    "🙂",
    "👨‍👩‍👧",
    "🇭🇰",
    "深圳",
    "مرحبا",
    "when did the Hetao park open?",
    "Hetao",
    "Seoul",
    "who",
    "?",
    "!",
    "...",
    " ",
]
fragment = st.sampled_from(FRAGMENTS)
questions = st.one_of(
    st.sampled_from(NASTY),
    st.lists(fragment, max_size=12).map("".join),
    st.lists(fragment | st.text(max_size=12), max_size=8).map(" ".join),
    st.text(max_size=300),
    st.text(
        alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "So", "Po", "Sm"]),
        max_size=120,
    ),
    st.builds(lambda piece, n: (piece * n)[:10_000], fragment, st.integers(1, 10_000)),
    # A question the articles answer, wrapped in hostile text: the answer path gets it too.
    st.builds(
        lambda before, question, after: f"{before}{question}{after}",
        st.lists(fragment, max_size=4).map("".join),
        st.sampled_from([QUESTION, "who is the mayor of Seoul?", "when did the park open?"]),
        st.lists(fragment, max_size=4).map("".join),
    ),
)


# One bot serves all examples; deadline=None because an example waits on Discord round trips.
property_settings = hypothesis_settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def kind_of_reply(content: str) -> str:
    """What a reply is: an answer, an abstention, the mention hint, or a refusal."""
    assert content.strip(), "an empty reply"
    assert content != UNEXPECTED, "the bot failed on this input"
    if is_answered(content):
        return "answer"
    if is_abstention(content):
        return "abstention"
    if content == HINT:
        return "hint"
    # A refusal is a sentence that says what to do, never a stack trace or a bare word.
    assert len(content) >= 20 and content.rstrip().endswith((".", "?")), content
    assert "Traceback" not in content and "Error" not in content, content
    return "refusal"


async def ask_both_ways(emu: DiscordEmulator, question: str, user: FakeMember) -> list[str]:
    """Ask `question` as /ask and as an @mention; the kinds of the two replies."""
    inter = await emu.send_slash_command("ask", {"question": question}, user=user)
    slash = await inter.wait_for_reply(EXAMPLE_TIMEOUT)
    if kind_of_reply(slash.content) == "refusal":
        # Sent as an ephemeral follow-up after the public "thinking…" was deleted.
        posted = emu.calls_to("POST", f"/webhooks/{emu.application_id}/{inter.token}")
        assert [c.json.get("flags") for c in posted] == [EPHEMERAL], "a refusal is private"
        assert inter.original_deleted
    mention = await emu.send_message(f"{emu.bot_user.mention} {question}", author=user)
    reply = await emu.wait_for_bot_message(reply_to=mention, timeout=EXAMPLE_TIMEOUT)
    return [kind_of_reply(slash.content), kind_of_reply(reply.content)]


def run_on_loop(
    loop: asyncio.AbstractEventLoop,
) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """From hypothesis's thread: run one coroutine on the bot's loop and wait for it (bounded)."""

    def run(coro: Coroutine[Any, Any, Any]) -> Any:
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, EXAMPLE_TIMEOUT), loop)
        return future.result(EXAMPLE_TIMEOUT + 5)

    return run


def checked_example(
    emu: DiscordEmulator, logs: LogCapture, action: Coroutine[Any, Any, Any]
) -> Coroutine[Any, Any, Any]:
    """`action`, then: no refused call, no ERROR record, nothing sent that could ping."""

    async def run() -> Any:
        calls, errors = len(emu.calls), len(logs.errors())
        result = await action
        fresh = emu.calls[calls:]
        assert [(c.method, c.path, c.status) for c in fresh if c.status >= 400] == []
        assert logs.errors()[errors:] == []
        assert_cannot_ping(emu, since=calls)
        return result

    return run()


async def test_any_question_as_slash_command_and_mention_is_answered_or_refused(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker, logs: LogCapture
) -> None:
    """Any Unicode question, as /ask and as a mention: an answer, an abstention or a clear refusal;
    never an error, a refused message or a ping."""
    settings = settings.model_copy(update={"ask_cooldown_rate": 1000})
    seen: dict[str, int] = {}
    async with serving(emu, settings, asker, timeout=PROPERTY_TIMEOUT):
        run = run_on_loop(asyncio.get_running_loop())

        @property_settings
        @given(question=questions)
        @example(question="")
        @example(question="   \t  ")
        @example(question="?!.,;:…")
        @example(question="a" * 10_000)
        @example(question="@everyone when did the Hetao park open? @here")
        @example(question=f"{ROLE} {USER} who?")
        @example(question="```\n@everyone\n```")
        @example(question="'; DROP TABLE answers; --")
        @example(question="../../etc/passwd")
        @example(question="\u202ewhen did the Hetao park open?\u202c")
        @example(question="\x00\x01\x02")
        @example(question="🙂" * 600)
        def check(question: str) -> None:
            kinds = run(checked_example(emu, logs, ask_both_ways(emu, question, emu.member)))
            for kind in kinds:
                seen[kind] = seen.get(kind, 0) + 1

        await asyncio.to_thread(check)
    assert_clean_run(emu, logs)
    # The property reached every kind of reply, so each path was held to the rules.
    assert {"answer", "abstention", "refusal", "hint"} <= set(seen), seen


# ---------------------------------------------------------------- hostile articles

MENTIONS_ID = "council-hearing-2024"
LONG_ID = "lantern-festival-2024"
TITLE_ID = "harbour-bridge-2024"
LONG_SENTENCE = (
    "The lantern festival in Riverton opened on Friday "
    + ", ".join(
        f"with stall {n} selling **paper** lanterns to @everyone and {ROLE} under ~~old~~ banners"
        for n in range(60)
    )
)[:4999] + "."
HUGE_TITLE = f"Breaking **news** @everyone {ROLE} ||spoiler|| `code` " * 60  # 4,200 characters


def article(meta: dict[str, object], body: str) -> str:
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=100_000)
    return f"---\n{front}---\n\n{body}\n"


def write_hostile_corpus(corpus: Path) -> None:
    """Three articles full of mentions, Markdown, fences, a 5,000-character sentence, a huge
    title; plus a broken file whose very name is hostile."""
    (corpus / "council.md").write_text(
        article(
            {
                "id": MENTIONS_ID,
                "title": f"@everyone {ROLE} **Council** calls __hearing__ ||now||",
                "date": "2024-03-04",
                "source": f"{USER} News @here",
                "url": "https://example.org/@everyone/<@123>/story",
            },
            f"The city council said @everyone must attend the budget hearing on Monday, and "
            f"{USER} and <@!876543210987654321> will chair it for {ROLE}.\n\n"
            "Residents can write to ```@here``` or read the **agenda** at ~~the hall~~ "
            "||before|| the meeting.\n\n"
            f"```\n@everyone this code fence holds a ping\n{ROLE}\n```\n\n"
            '> The mayor said: "@here the hearing opens on Monday at 9."',
        ),
        encoding="utf-8",
    )
    assert len(LONG_SENTENCE) == 5000
    (corpus / "lanterns.md").write_text(
        article({"id": LONG_ID, "title": "Lantern festival", "date": "2024-02-09"}, LONG_SENTENCE),
        encoding="utf-8",
    )
    (corpus / "bridge.md").write_text(
        article(
            {"id": TITLE_ID, "title": HUGE_TITLE, "date": "2024-05-14", "source": "@here " * 200},
            "The harbour bridge reopened on Tuesday after repairs by @everyone.\n\n"
            "Engineers said the bridge carries 40,000 cars a day.",
        ),
        encoding="utf-8",
    )
    (corpus / f"news\n@everyone {ROLE} **x** `y`.md").write_bytes(b"\xff\xfe\x00binary")


async def test_hostile_articles_are_quoted_within_limits_and_ping_nobody(
    emu: DiscordEmulator, settings: BotSettings, corpus_dir: Path, logs: LogCapture
) -> None:
    """Articles quoting @everyone, <@id>, Markdown, code fences, a 5,000-character sentence and a
    huge title: every answer, list, article view, button and reload report fits and pings nobody."""
    write_hostile_corpus(corpus_dir)
    questions = [
        "who must attend the budget hearing?",
        "when is the budget hearing?",
        "when did the lantern festival in Riverton open?",
        "what were the stalls selling?",
        "when did the harbour bridge reopen?",
        "how many cars does the bridge carry?",
    ]
    replies: list[StoredMessage] = []
    async with serving(emu, settings) as bot:  # loads corpus_dir itself
        assert {MENTIONS_ID, LONG_ID, TITLE_ID} <= set(bot.asker.corpus.ids)
        for question in questions:
            inter = await emu.send_slash_command("ask", {"question": question})
            replies.append(await inter.wait_for_reply())
            mention = await emu.send_message(f"{emu.bot_user.mention} {question}")
            replies.append(await emu.wait_for_bot_message(reply_to=mention))
        answered = [r for r in replies if is_answered(r.content)]
        for reply in answered:
            for row in reply.components:
                for button in row["components"]:
                    if button.get("custom_id", "::").split(":")[2] in ("context", "why"):
                        click = await emu.send_component_click(button["custom_id"], reply)
                        replies.append(await click.wait_for_reply())
        for article_id in (MENTIONS_ID, LONG_ID, TITLE_ID):
            source = await emu.send_slash_command("source", {"article": article_id})
            replies.append(await source.wait_for_reply())
        listing = await emu.send_slash_command("sources")
        replies.append(await listing.wait_for_reply())
        choices: list[InteractionRecord] = []
        for typed in ("", "@everyone", "**", "lantern"):
            choices.append(await emu.send_autocomplete("source", {"article": typed}))
        reload = await emu.send_slash_command("reload", user=emu.admin)
        replies.append(await reload.wait_for_reply())
        for record in choices:
            for choice in await record.wait_for_choices():
                assert choice["value"] in bot.asker.corpus.ids
                assert 1 <= len(choice["name"]) <= 100

    assert_clean_run(emu, logs)
    checked = assert_cannot_ping(emu)
    assert checked >= len(replies)
    # The hostile text did reach Discord, defused: the zero-width space breaks every mention.
    shown = "\n".join(t for r in replies for t in texts_of(r.payload or {}))
    assert "@\u200beveryone" in shown and "@\u200bhere" in shown
    assert "<@\u200b&123456789012345678>" in shown
    assert "news @\u200beveryone" in shown  # the broken file's hostile name, in the reload report
    assert len(answered) >= 4, [r.content[:80] for r in replies]
