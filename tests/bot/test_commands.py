"""Slash commands and buttons, end to end: the real bot from create_bot, through the emulator."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from bot.errors import UNEXPECTED
from bot.settings import BotSettings
from citebot.cite import Answer
from citebot.errors import CitebotError
from citebot.pipeline import Asker
from tests.bot.support import (
    QUESTION,
    assert_never_pings,
    custom_ids,
    headline,
    marked,
    rows,
    running,
)
from tests.emulator import DiscordEmulator, FakeUser, StoredMessage

EPHEMERAL = 64
HKSP = "hksp-shenzhen-branch-2023"
SEOUL = "seoul-mayor-hk-shenzhen-visit-2019"


async def test_login_syncs_every_command_with_its_options(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """At login the commands are synced globally, with descriptions, options and admin defaults."""
    async with running(emu, settings, asker):
        commands = {c["name"]: c for c in emu.commands[None]}
    assert set(commands) == {"ask", "sources", "source", "help", "reload", "stats", "add"}
    assert list(emu.commands) == [None]
    for command in commands.values():
        assert 1 <= len(command["description"]) <= 100
    ask = {o["name"]: o for o in commands["ask"]["options"]}
    assert ask["question"]["type"] == 3 and ask["question"]["required"] is True
    assert ask["question"]["max_length"] == settings.max_question_chars
    assert ask["source"].get("autocomplete") is True and not ask["source"].get("required")
    assert ask["private"]["type"] == 5
    assert [o["name"] for o in commands["source"]["options"]] == ["article", "public"]
    assert commands["source"]["options"][0]["autocomplete"] is True
    assert commands["sources"]["options"][0]["min_value"] == 1
    for admin in ("reload", "stats", "add"):
        assert str(commands[admin]["default_member_permissions"]) == "8"  # Administrator
    assert commands["ask"]["default_member_permissions"] is None


async def test_guild_ids_sync_commands_to_those_guilds_only(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """With CITEBOT_GUILD_IDS the commands go to the guild (instant), not global."""
    settings = settings.model_copy(update={"guild_ids": [emu.guild.id], "max_question_chars": 300})
    async with running(emu, settings, asker):
        inter = await emu.send_slash_command("ask", {"question": QUESTION})
        reply = await inter.wait_for_reply()
    assert emu.commands.get(None, []) == []
    guild_commands = {c["name"]: c for c in emu.commands[emu.guild.id]}
    assert set(guild_commands) == {"ask", "sources", "source", "help", "reload", "stats", "add"}
    question = guild_commands["ask"]["options"][0]
    assert question["name"] == "question" and question["max_length"] == 300
    assert marked(asker) in reply.content


async def test_ask_shows_question_headline_marked_quote_and_the_article(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """/ask defers, then shows the question, the resolved date, the marked quote, one article
    line, and the buttons More context, Why this answer, 👍, 👎."""
    async with running(emu, settings, asker):
        inter = await emu.send_slash_command("ask", {"question": QUESTION}, user=emu.member)
        reply = await inter.wait_for_reply()

    assert inter.callbacks[0] == {"type": 5}  # deferred ("thinking"), public
    lines = reply.content.splitlines()
    assert lines[:2] == [
        f"-# {QUESTION}",
        headline(asker),
    ]
    assert lines[2].startswith("> The Hong Kong Science Park opened a new branch")
    assert marked(asker) in lines[2]
    assert lines[3:] == [
        "-# Hong Kong Science Park opens branch in Shenzhen as neighbouring cities move "
        "forward with collaboration on tech hub · 7 September 2023"
    ]
    assert not reply.ephemeral and not reply.embeds
    assert reply.mentions == []
    (answer_id,) = rows(settings.db_path, "SELECT id FROM answers")[0]
    assert custom_ids(reply) == [
        f"citebot:answer:{action}:{answer_id}" for action in ("context", "why", "up", "down")
    ]
    assert rows(
        settings.db_path, "SELECT question, answered, answer, article_id, via FROM answers"
    ) == [(QUESTION, 1, asker.ask(QUESTION).answer, HKSP, "slash")]
    assert_never_pings(emu)


async def test_more_context_is_offered_only_when_there_is_more_to_read(
    emu: DiscordEmulator, settings: BotSettings, corpus_dir: Path
) -> None:
    """An answer quoted from a one-sentence article, whose words no other sentence has,
    gets no More context button; Why and the votes are still there."""
    (corpus_dir / "bridge.md").write_text(
        "---\nid: bridge\ntitle: Footbridge\ndate: 2024-01-02\n---\n\n"
        "The Tagus footbridge opened in 1990.\n",
        encoding="utf-8",
    )
    async with running(emu, settings):
        reply = await (
            await emu.send_slash_command("ask", {"question": "When did the Tagus footbridge open?"})
        ).wait_for_reply()
    assert "__**1990**__" in reply.content
    assert [i.split(":")[2] for i in custom_ids(reply)] == ["why", "up", "down"]


async def test_an_answer_with_a_known_url_links_the_article_and_offers_to_read_it(
    emu: DiscordEmulator, settings: BotSettings, corpus_dir: Path
) -> None:
    """With a URL the article line is a masked link (no preview) and a link button opens it."""
    path = corpus_dir / f"{HKSP}.md"
    text = path.read_text("utf-8").replace(
        "language: en", "url: https://example.org/hk_sp\nlanguage: en"
    )
    path.write_text(text, "utf-8")
    async with running(emu, settings):
        reply = await (await emu.send_slash_command("ask", {"question": QUESTION})).wait_for_reply()
    assert reply.content.splitlines()[-1] == (
        "-# [Hong Kong Science Park opens branch in Shenzhen as neighbouring cities move forward "
        "with collaboration on tech hub](<https://example.org/hk_sp>) · 7 September 2023"
    )
    first = reply.components[0]["components"][0]
    assert first["style"] == 5 and first["url"] == "https://example.org/hk_sp"
    assert first["label"] == "Read the article"


async def test_a_sure_answer_is_the_headline_and_a_less_sure_one_says_to_check(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """At or above the answer threshold the value alone is the headline; below it the
    headline reads "Possible answer — check the quote:", and Why says which in words. The
    tier is stored with the answer."""
    sure = Asker(asker.index, min_confidence=0.0, answer_confidence=0.0)
    unsure = Asker(asker.index, min_confidence=0.0, answer_confidence=1.0)
    replies, whys = [], []
    for reader in (sure, unsure):
        async with running(emu, settings, reader):
            reply = await (
                await emu.send_slash_command("ask", {"question": QUESTION})
            ).wait_for_reply()
            why = await (await emu.send_component_click(custom_ids(reply)[1])).wait_for_reply()
        replies.append(reply.content.splitlines()[1])
        whys.append(why.embeds[0]["description"])
    value = f"**{sure.ask(QUESTION).normalized_text or sure.ask(QUESTION).answer}**"
    assert replies == [value, f"Possible answer — check the quote: {value}"]
    assert "This is an answer the articles support well" in whys[0]
    assert "This is a possible answer: the quote is worth checking" in whys[1]
    stored = [json for (json,) in rows(settings.db_path, "SELECT answer_json FROM answers")]
    assert '"tier":"answer"' in stored[0] and '"tier":"possible"' in stored[1]


async def test_private_ask_is_ephemeral_and_its_text_is_not_stored(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """private:true answers only the asker, and the question is stored as a hash only."""
    async with running(emu, settings, asker):
        inter = await emu.send_slash_command("ask", {"question": QUESTION, "private": True})
        reply = await inter.wait_for_reply()
    assert inter.callbacks[0] == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert reply.ephemeral and marked(asker) in reply.content
    ((question, digest),) = rows(settings.db_path, "SELECT question, question_hash FROM answers")
    assert question is None and len(digest) == 32
    assert QUESTION not in str(rows(settings.db_path, "SELECT answer_json FROM answers"))


async def test_abstention_says_the_articles_dont_say_and_which_words_nothing_mentions(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """A question the articles cannot answer: the missing words, what the bot covers, no
    unrelated article, and a "Why no answer" button that names the words."""
    async with running(emu, settings, asker):
        inter = await emu.send_slash_command("ask", {"question": "who won the world cup in Tokyo?"})
        reply = await inter.wait_for_reply()
        why = await (await emu.send_component_click(custom_ids(reply)[0])).wait_for_reply()
    assert reply.content.splitlines() == [
        "-# who won the world cup in Tokyo?",
        "The articles don't say. Nothing in them mentions **cup** or **Tokyo**.",
        "-# I answer from 2 articles; `/sources` lists them.",
    ]
    assert [i.split(":")[2] for i in custom_ids(reply)] == ["why", "up", "down"]
    assert reply.components[0]["components"][0]["label"] == "Why no answer"
    assert why.ephemeral and why.embeds[0]["title"] == "Why no answer"
    assert why.embeds[0]["description"] == "Nothing in the articles mentions **cup** or **Tokyo**."
    assert rows(settings.db_path, "SELECT answered FROM answers") == [(0,)]


async def test_more_context_adds_the_neighbours_and_why_speaks_plainly(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """More context shows the sentences around the quote, not the quote again; Why shows the
    question's own words with their shares, the tier in words and the article, no stems."""
    async with running(emu, settings, asker):
        inter = await emu.send_slash_command("ask", {"question": QUESTION})
        answer = await inter.wait_for_reply()
        context_id, why_id = custom_ids(answer)[:2]
        context = await (await emu.send_component_click(context_id)).wait_for_reply()
        why = await (await emu.send_component_click(why_id)).wait_for_reply()

    assert context.ephemeral
    assert context.content.startswith(
        "-# Hong Kong Science Park opens branch in Shenzhen as neighbouring cities move forward "
        "with collaboration on tech hub · 7 September 2023\n> The Shenzhen park, covering 31,000"
    )
    assert "The Hong Kong Science Park opened a new branch" not in context.content
    assert why.ephemeral
    (embed,) = why.embeds
    assert embed["title"] == "Why this answer"
    expected = asker.ask(QUESTION)
    assert f"confidence {expected.confidence:.2f}" in embed["description"]
    assert "It comes from *Hong Kong Science Park opens branch" in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    # Only the question's words the quoted passage has count, each as the question wrote it.
    parts = fields["Words that counted"].split(" · ")
    assert all(re.fullmatch(r"\*\*\w+\*\* \d+%", part) for part in parts)
    shown = [part.split("**")[1] for part in parts]
    assert set(shown) <= set(QUESTION.rstrip("?").split()) and "Science" in shown  # not "scienc"
    assert set(fields) == {"Words that counted"}  # no answer type, no corpus version
    assert_never_pings(emu)


def vote_buttons(message: StoredMessage) -> list[tuple[str, int, str | None]]:
    """(emoji, style, label) of the 👍 and 👎 buttons of an answer message."""
    buttons = [b for row in message.components for b in row["components"]]
    return [(b["emoji"]["name"], b["style"], b.get("label")) for b in buttons if b.get("emoji")]


async def test_a_vote_colours_its_button_and_a_second_click_takes_it_back(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """👍 is committed, then the answer message shows it (green, counted); the same click
    again clears it; 👎 replaces a 👍; one row per person and answer."""
    async with running(emu, settings, asker):
        answer = await (
            await emu.send_slash_command("ask", {"question": QUESTION})
        ).wait_for_reply()
        up_id, down_id = custom_ids(answer)[2:]

        async def click(custom_id: str, user: FakeUser) -> list[tuple[str, int, str | None]]:
            record = await emu.send_component_click(custom_id, user=user)
            await record.wait_for_response()
            assert record.response_type == 7  # the answer message itself is updated
            shown = emu.get_message(answer.id)
            assert shown is not None and shown.content == answer.content  # only buttons change
            return vote_buttons(shown)

        first = await click(up_id, emu.member)
        assert rows(settings.db_path, "SELECT user_id, vote FROM feedback") == [(emu.member.id, 1)]
        both = await click(up_id, emu.admin)
        cleared = await click(up_id, emu.member)
        switched = await click(down_id, emu.admin)
    assert first == [("👍", 3, "1"), ("👎", 2, None)]  # 3: green
    assert both == [("👍", 3, "2"), ("👎", 2, None)]
    assert cleared == [("👍", 3, "1"), ("👎", 2, None)]
    assert switched == [("👍", 2, None), ("👎", 4, "1")]  # 4: red
    assert rows(settings.db_path, "SELECT user_id, vote FROM feedback") == [(emu.admin.id, -1)]


async def test_answer_buttons_work_after_a_restart(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """A new bot process serves Why and 👍 on an answer sent by the previous one."""
    async with running(emu, settings, asker):
        answer = await (
            await emu.send_slash_command("ask", {"question": QUESTION})
        ).wait_for_reply()
    async with running(emu, settings, asker):
        why = await (await emu.send_component_click(custom_ids(answer)[1])).wait_for_reply()
        vote = await emu.send_component_click(custom_ids(answer)[2])
        await vote.wait_for_response()
    assert why.embeds[0]["title"] == "Why this answer"
    assert vote.response_type == 7
    assert rows(settings.db_path, "SELECT COUNT(*) FROM feedback") == [(1,)]


def add_articles(corpus: Path, count: int) -> list[str]:
    ids = []
    for n in range(count):
        article_id = f"extra-{n:02d}"
        (corpus / f"{article_id}.md").write_text(
            f"---\nid: {article_id}\ntitle: Extra article number {n}\ndate: 2024-01-{n + 1:02d}\n---\n\n"
            f"Paragraph {n} of an extra article about nothing in particular.\n",
            encoding="utf-8",
        )
        ids.append(article_id)
    return ids


async def test_sources_pages_with_buttons_that_survive_a_restart(
    emu: DiscordEmulator, settings: BotSettings, corpus_dir: Path
) -> None:
    """/sources pages by 10; Next shows page 2; after a restart Previous still works."""
    add_articles(corpus_dir, 12)  # 14 articles: two pages
    async with running(emu, settings):  # loads the corpus folder itself
        listing = await (await emu.send_slash_command("sources")).wait_for_reply()
        assert listing.ephemeral  # only the asker sees it unless public:true
        assert "[Extra article number 0]" not in listing.embeds[0]["description"]  # no URL
        assert "`extra-00`" not in listing.embeds[0]["description"]  # no ids
        assert listing.embeds[0]["footer"]["text"].startswith("Page 1 of 2 · 14 articles")
        assert custom_ids(listing) == ["citebot:sources:0", "citebot:sources:2"]
        buttons = listing.components[0]["components"]
        assert [b["label"] for b in buttons] == ["Previous", "Next"]
        assert [b.get("disabled") for b in buttons] == [True, False]
        assert listing.embeds[0]["description"].count("\n") == 9  # 10 lines

        click = await emu.send_component_click("citebot:sources:2", listing)
        await click.wait_for_response()
    assert click.response_type == 7  # the list message itself is updated
    page_two = emu.get_message(listing.id)
    assert page_two is not None
    assert page_two.embeds[0]["footer"]["text"].startswith("Page 2 of 2")
    assert page_two.embeds[0]["description"].startswith("**11.** ")
    assert custom_ids(page_two) == ["citebot:sources:1", "citebot:sources:3"]

    async with running(emu, settings):  # a new process: nothing of the old one in memory
        click = await emu.send_component_click("citebot:sources:1", page_two)
        await click.wait_for_response()
    assert click.response_type == 7
    again = emu.get_message(listing.id)
    assert again is not None and again.embeds[0]["footer"]["text"].startswith("Page 1 of 2")
    assert_never_pings(emu)


async def test_source_autocomplete_offers_only_matching_known_ids(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """Autocomplete matches ids and titles and only ever offers ids of loaded articles."""
    async with running(emu, settings, asker):
        by_id = await (
            await emu.send_autocomplete("source", {"article": "hksp"})
        ).wait_for_choices()
        by_title = await (
            await emu.send_autocomplete("source", {"article": "seoul mayor"})
        ).wait_for_choices()
        everything = await (
            await emu.send_autocomplete("source", {"article": ""})
        ).wait_for_choices()
        nothing = await (
            await emu.send_autocomplete("source", {"article": "zzz"})
        ).wait_for_choices()
        for_ask = await (
            await emu.send_autocomplete(
                "ask", {"question": "x", "source": "science park"}, focused="source"
            )
        ).wait_for_choices()
    assert [c["value"] for c in by_id] == [HKSP]
    assert by_id[0]["name"].startswith("Hong Kong Science Park opens branch")
    assert [c["value"] for c in by_title] == [SEOUL]
    assert sorted(c["value"] for c in everything) == sorted(asker.corpus.ids)
    assert nothing == []
    assert [c["value"] for c in for_ask] == [HKSP]


async def test_source_shows_one_article_and_refuses_unknown_ids(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """/source privately shows title, first paragraph and date (publicly on request); an
    unknown id gets a short error."""
    async with running(emu, settings, asker):
        shown = await (await emu.send_slash_command("source", {"article": HKSP})).wait_for_reply()
        public = await (
            await emu.send_slash_command("source", {"article": HKSP, "public": True})
        ).wait_for_reply()
        unknown = await (
            await emu.send_slash_command("source", {"article": "no-such"})
        ).wait_for_reply()
    (embed,) = shown.embeds
    assert shown.ephemeral  # private unless public:true
    assert embed["title"].startswith("Hong Kong Science Park opens branch in Shenzhen")
    assert embed["description"].startswith("The Hong Kong Science Park opened a new branch")
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields == {"Date": "7 September 2023"}  # no "no link", ids or passage counts
    assert not public.ephemeral and public.embeds[0]["title"] == embed["title"]
    assert unknown.ephemeral
    assert unknown.content == "No article has the id `no-such`; `/sources` lists them."


async def test_help_explains_commands_privately(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """/help answers privately with the commands and how to ask."""
    async with running(emu, settings, asker):
        reply = await (await emu.send_slash_command("help")).wait_for_reply()
    assert reply.ephemeral
    text = str(reply.embeds)
    assert "/ask question" in text and "Mention citebot" in text


async def test_cooldown_refuses_politely_with_the_retry_time(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """Past the per-user rate, /ask is refused at once, privately, saying when to retry."""
    settings = settings.model_copy(update={"ask_cooldown_rate": 1, "ask_cooldown_seconds": 60})
    async with running(emu, settings, asker):
        await (await emu.send_slash_command("ask", {"question": QUESTION})).wait_for_reply()
        refused = await emu.send_slash_command("ask", {"question": QUESTION})
        reply = await refused.wait_for_reply()
        other_user = await (
            await emu.send_slash_command("ask", {"question": QUESTION}, user=emu.admin)
        ).wait_for_reply()
    assert refused.response_type == 4  # answered, not deferred
    assert reply.ephemeral
    assert reply.content.startswith("You are asking quickly: you can ask again <t:")
    assert reply.content.endswith(":R>.")
    assert marked(asker) in other_user.content
    assert rows(settings.db_path, "SELECT COUNT(*) FROM answers") == [(2,)]


async def test_a_bad_question_gets_a_short_private_error(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """A question the core refuses after the defer: the public "thinking" goes, the error is private."""
    async with running(emu, settings, asker):
        inter = await emu.send_slash_command("ask", {"question": "???"})
        await inter.wait_for_followups(1)
        unknown = await emu.send_slash_command("ask", {"question": QUESTION, "source": "nope"})
        await unknown.wait_for_followups(1)
    for record in (inter, unknown):
        assert record.original_deleted
        posted = emu.calls_to("POST", f"/webhooks/{emu.application_id}/{record.token}")
        assert [c.json["flags"] for c in posted] == [EPHEMERAL]
    first = emu.calls_to("POST", f"/webhooks/{emu.application_id}/{inter.token}")[0].json
    assert first["content"] == (
        "That question has no words to search for; ask about a person, place, event or "
        "thing in the articles."
    )
    second = emu.calls_to("POST", f"/webhooks/{emu.application_id}/{unknown.token}")[0].json
    assert second["content"] == "No article has the id `nope`; `/sources` lists them."
    assert rows(settings.db_path, "SELECT COUNT(*) FROM answers") == [(0,)]
    assert_never_pings(emu)


class BrokenAsker(Asker):
    """An Asker failing the way an operator's mistake does (not the asker's fault)."""

    def ask(self, question: str, source: str | None = None) -> Answer:
        raise CitebotError("model.json is missing; run scripts/train.py")


async def test_an_operator_error_is_logged_in_full_and_shown_as_a_short_apology(
    discord_emulator: DiscordEmulator,
    settings: BotSettings,
    asker: Asker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failure that is not the user's: a generic private reply, the traceback in the log."""
    emu = discord_emulator
    async with running(emu, settings, BrokenAsker(asker.index)):
        inter = await emu.send_slash_command("ask", {"question": QUESTION})
        await inter.wait_for_followups(1)
    (posted,) = emu.calls_to("POST", f"/webhooks/{emu.application_id}/{inter.token}")
    assert posted.json["flags"] == EPHEMERAL
    assert posted.json["content"] == UNEXPECTED
    assert "scripts/train.py" not in posted.json["content"]
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.getMessage() == "unexpected error in /ask"
    assert record.exc_info is not None and "model.json is missing" in str(record.exc_info[1])
    assert emu.unexpected == [] and emu.error_calls == []
