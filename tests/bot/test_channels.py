"""Questions in channels, end to end: mentions, auto-answer channels, threads, follow-ups."""

from __future__ import annotations

from bot.settings import BotSettings
from citebot.cite import Answer
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
from tests.emulator import DiscordEmulator
from tests.emulator.gateway import INTENT_MESSAGE_CONTENT

HKSP = "hksp-shenzhen-branch-2023"


class RecordingAsker(Asker):
    """The real Asker, remembering what it was asked (to see which article a follow-up used)."""

    def __init__(self, asker: Asker) -> None:
        super().__init__(asker.index)
        self.asked: list[tuple[str, str | None]] = []

    def ask(self, question: str, source: str | None = None) -> Answer:
        self.asked.append((question, source))
        return super().ask(question, source)


async def test_a_mention_is_answered_as_a_reply_without_the_privileged_intent(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """ "@citebot <question>" gets the answer as a reply that pings nobody, without message content intent."""
    async with running(emu, settings, asker):
        asked = await emu.send_message(f"{emu.bot_user.mention} {QUESTION}", author=emu.member)
        reply = await emu.wait_for_bot_message(reply_to=asked)
    assert not emu.identifies[0]["intents"] & INTENT_MESSAGE_CONTENT
    assert reply.content.splitlines()[:2] == [
        f"-# {QUESTION}",
        headline(asker),
    ]
    assert reply.message_reference is not None and reply.reference_id == asked.id
    assert reply.mentions == []  # not even the asker: the reply does not ping
    assert [i.split(":")[2] for i in custom_ids(reply)] == ["context", "why", "up", "down"]
    assert rows(settings.db_path, "SELECT question, via FROM answers") == [(QUESTION, "mention")]
    assert_never_pings(emu)


async def test_a_bare_mention_gets_a_hint(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """A mention with no question gets a one-line hint, and nothing is stored."""
    async with running(emu, settings, asker):
        asked = await emu.send_message(emu.bot_user.mention)
        reply = await emu.wait_for_bot_message(reply_to=asked)
    assert reply.content.startswith("Ask me a question after the mention")
    assert rows(settings.db_path, "SELECT COUNT(*) FROM answers") == [(0,)]


async def test_auto_answer_channel_answers_questions_and_ignores_chatter(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """In an auto-answer channel a question-like message is answered; chatter and other channels are not."""
    auto, other = emu.guild.text_channels
    settings = settings.model_copy(update={"auto_answer_channel_ids": [auto.id]})
    async with running(emu, settings, asker):
        elsewhere = await emu.send_message(QUESTION, channel=other)
        chatter = await emu.send_message("nice weather today", channel=auto)
        question = await emu.send_message(QUESTION, channel=auto)
        reply = await emu.wait_for_bot_message(auto, reply_to=question)
    # The events arrive in order and chatter is dropped before any await, so by the time
    # the question is answered the two earlier messages have been handled.
    assert emu.identifies[0]["intents"] & INTENT_MESSAGE_CONTENT
    assert marked(asker) in reply.content
    answered_to = {m.reference_id for m in emu.bot_messages()}
    assert answered_to == {question.id}
    assert chatter.id not in answered_to and elsewhere.id not in answered_to
    assert rows(settings.db_path, "SELECT via FROM answers") == [("auto",)]


async def test_auto_answer_threads_answer_inside_a_new_thread(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """With CITEBOT_AUTO_ANSWER_THREADS the answer goes into a thread named after the question."""
    settings = settings.model_copy(
        update={"auto_answer_channel_ids": [emu.channel.id], "auto_answer_threads": True}
    )
    async with running(emu, settings, asker):
        question = await emu.send_message(QUESTION)
        await emu.wait_until(lambda: any(emu.bot_messages(t) for t in emu.threads))
    (thread,) = emu.threads
    assert thread.name == QUESTION and thread.parent_id == emu.channel.id
    (answer,) = emu.bot_messages(thread)
    assert marked(asker) in answer.content
    assert emu.bot_messages(emu.channel) == []
    assert emu.calls_to("POST", f"/channels/{emu.channel.id}/messages/{question.id}/threads")
    assert_never_pings(emu)


async def test_replying_to_an_answer_follows_up_on_its_article(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """A reply to an answer is asked of that answer's article first, and says so."""
    recording = RecordingAsker(asker)
    follow_up = "what is the name of the Hong Kong chief executive?"
    async with running(emu, settings, recording):
        asked = await emu.send_message(f"{emu.bot_user.mention} {QUESTION}")
        first = await emu.wait_for_bot_message(reply_to=asked)
        again = await emu.send_message(follow_up, reply_to=first)  # a reply pings the bot
        second = await emu.wait_for_bot_message(reply_to=again)
    assert recording.asked == [(QUESTION, None), (follow_up, HKSP)]
    assert second.content.startswith(
        f"-# {follow_up} · following up in “Hong Kong Science Park opens branch in Shenzhen"
    )
    assert rows(settings.db_path, "SELECT via, article_id FROM answers ORDER BY id") == [
        ("mention", HKSP),
        ("followup", HKSP),
    ]


async def test_a_follow_up_the_article_cannot_answer_searches_everything(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """When the earlier article has no answer, the follow-up is asked of every article."""
    recording = RecordingAsker(asker)
    follow_up = "when did the mayor leave Seoul?"
    async with running(emu, settings, recording):
        asked = await emu.send_message(f"{emu.bot_user.mention} {QUESTION}")
        first = await emu.wait_for_bot_message(reply_to=asked)
        again = await emu.send_message(follow_up, reply_to=first)
        second = await emu.wait_for_bot_message(reply_to=again)
    assert recording.asked[1:] == [(follow_up, HKSP), (follow_up, None)]
    assert "following up" not in second.content
    assert "-# Seoul Mayor Park heads to Hong Kong and Shenzhen" in second.content


async def test_replies_to_other_messages_are_not_follow_ups(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """Replies to a user, to a bot message without answer buttons, or saying "thanks!" are ignored."""
    async with running(emu, settings, asker):
        listing = await (await emu.send_slash_command("sources")).wait_for_reply()
        someone = await emu.send_message("hello there", author=emu.admin)
        await emu.send_message("when did it open?", reply_to=someone)
        await emu.send_message("when did it open?", reply_to=listing, reply_ping=False)
        answered = await emu.send_message(f"{emu.bot_user.mention} {QUESTION}")
        answer = await emu.wait_for_bot_message(reply_to=answered)
        await emu.send_message("thanks!", reply_to=answer)  # pings the bot but asks nothing
        asked = await emu.send_message(f"{emu.bot_user.mention} {QUESTION}")
        await emu.wait_for_bot_message(reply_to=asked)
    assert [m.reference_id for m in emu.bot_messages() if m.reference_id] == [answered.id, asked.id]
