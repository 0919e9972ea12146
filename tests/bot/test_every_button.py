"""Every button of every answer works, and a stored answer that cannot be read never silences the bot."""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import time
from pathlib import Path

import pytest

from bot.cogs.ask import UNREADABLE
from bot.errors import UNEXPECTED
from bot.settings import BotSettings
from citebot.pipeline import Asker
from citebot.text.tokenizer import words
from tests.bot.support import QUESTION, custom_ids, rows, running
from tests.emulator import DiscordEmulator, StoredMessage

QUESTIONS = Path(__file__).parents[1] / "data" / "reply-questions.txt"
WH = ("who", "what", "when", "where", "how many", "which")


def question_set(asker: Asker, generated: int, seed: int = 15) -> list[str]:
    """The fixed question set, then `generated` questions made of the articles' words."""
    fixed = [q.strip() for q in QUESTIONS.read_text("utf-8").splitlines() if q.strip()]
    vocabulary = sorted(
        {
            a.body[w.start : w.end]
            for a in asker.corpus.articles
            for w in words(a.body)
            if not w.is_stop
        }
    )
    rng = random.Random(seed)
    made = [
        " ".join([rng.choice(WH), *rng.sample(vocabulary, rng.randint(1, 5))]) + "?"
        for _ in range(generated)
    ]
    return fixed + made


async def click_all_twice(emu: DiscordEmulator, answer: StoredMessage) -> list[str]:
    """Click every button with a custom id under `answer` twice in a row (a vote is given,
    then taken back); what each click showed."""
    shown = []
    for custom_id in custom_ids(answer):
        for _ in range(2):
            record = await emu.send_component_click(custom_id, answer)
            reply = await record.wait_for_reply()
            shown.append(reply.content or json.dumps(reply.embeds))
    return shown


@pytest.mark.slow
async def test_a_hundred_questions_every_button_and_a_reply_to_each_without_an_error(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """106 questions by /ask; every button under every
    answer clicked twice (so each vote is given and taken back); a reply to each answer gets
    an answer. No error anywhere (the `emu` fixture also checks the log and every REST call)."""
    questions = question_set(asker, generated=60)
    assert len(questions) >= 100
    settings = settings.model_copy(update={"ask_cooldown_rate": 10 * len(questions)})
    clicks = replies = 0
    started = time.perf_counter()
    async with running(emu, settings, asker):
        for question in questions:
            answer = await (
                await emu.send_slash_command("ask", {"question": question})
            ).wait_for_reply()
            assert answer.content.startswith("-# ") and custom_ids(answer), question
            for shown in await click_all_twice(emu, answer):
                assert shown and UNEXPECTED not in shown and UNREADABLE not in shown, question
                clicks += 1
            follow_up = await emu.send_message("who said that?", reply_to=answer)
            reply = await emu.wait_for_bot_message(reply_to=follow_up)
            assert reply.content.startswith("-# who said that?"), question
            replies += 1
    assert clicks >= 6 * len(questions) and replies == len(questions)
    assert rows(settings.db_path, "SELECT COUNT(*) FROM feedback") == [(0,)]  # all taken back
    print(f"{len(questions)} questions, {clicks} clicks, {replies} replies in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip


async def test_an_answer_stored_by_an_older_version_gets_a_sentence_not_silence(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """A row whose JSON no longer reads (a score stored as null by an older version): its
    buttons answer in one sentence, a vote still counts, a reply is answered afresh."""
    async with running(emu, settings, asker):
        answer = await (
            await emu.send_slash_command("ask", {"question": QUESTION})
        ).wait_for_reply()
        ((answer_id, stored),) = rows(settings.db_path, "SELECT id, answer_json FROM answers")
        broken = json.loads(stored)
        broken["citations"][0]["score"] = None  # what -inf became in JSON
        with_null = json.dumps(broken)
        with contextlib.closing(sqlite3.connect(settings.db_path)) as db, db:
            db.execute("UPDATE answers SET answer_json = ? WHERE id = ?", (with_null, answer_id))
        context_id, why_id, up_id, _ = custom_ids(answer)
        context = await (await emu.send_component_click(context_id, answer)).wait_for_reply()
        why = await (await emu.send_component_click(why_id, answer)).wait_for_reply()
        vote = await (await emu.send_component_click(up_id, answer)).wait_for_reply()
        follow_up = await emu.send_message("who is Peter Mok?", reply_to=answer)
        reply = await emu.wait_for_bot_message(reply_to=follow_up)
    assert context.ephemeral and context.content == UNREADABLE
    assert why.ephemeral and why.content == UNREADABLE
    assert vote.ephemeral and vote.content == "Your vote is recorded."
    assert rows(settings.db_path, "SELECT vote FROM feedback") == [(1,)]
    assert reply.content.startswith("-# who is Peter Mok?\n")
    assert rows(settings.db_path, "SELECT answer_json FROM answers WHERE id = ?", answer_id) == [
        (with_null,)
    ]  # nothing stored is lost or rewritten
