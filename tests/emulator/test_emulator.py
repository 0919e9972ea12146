"""The emulator against plain discord.py clients (no citebot code involved)."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.emulator import DiscordEmulator, StoredMessage
from tests.emulator.gateway import HEARTBEAT, IDENTIFY, RESUME

READY = 0.05  # guild_ready_timeout for every client: on_ready 50 ms after the last GUILD_CREATE


def make_bot(**kwargs: Any) -> commands.Bot:
    return commands.Bot(command_prefix="!", intents=discord.Intents.default(), **kwargs)


def add_ask_command(bot: commands.Bot, *, defer: bool = True) -> None:
    """``/ask question [private]``: defer (or answer at once), then edit the original."""

    @bot.tree.command(name="ask", description="Ask the archive a question")
    @app_commands.describe(question="What you want to know", private="Only show it to me")
    async def ask(interaction: discord.Interaction, question: str, private: bool = False) -> None:
        if not defer:
            await interaction.response.send_message(f"Answer: {question}", ephemeral=private)
            return
        await interaction.response.defer(thinking=True, ephemeral=private)
        embed = discord.Embed(title="Sources", description=f"About {question!r}")
        await interaction.edit_original_response(content=f"Answer: {question}", embed=embed)
        await interaction.followup.send("One more thing", ephemeral=True)


async def test_bare_client_logs_in_and_sees_the_world(discord_emulator: DiscordEmulator) -> None:
    """A bare discord.Client logs in, reaches on_ready, sees the guild; calls are recorded."""
    emu = discord_emulator
    intents = discord.Intents.default()
    intents.members = True  # otherwise Discord (and the emulator) only sends the bot's member
    client = discord.Client(intents=intents, chunk_guilds_at_startup=False)
    async with emu.run_client(client, "secret-token", guild_ready_timeout=READY):
        assert client.user is not None and client.user.id == emu.bot_user.id
        assert client.application_id == emu.application_id
        guild = client.get_guild(emu.guild.id)
        assert guild is not None and guild.name == "Test Guild"
        assert {c.name for c in guild.text_channels} == {"general", "citebot"}
        assert guild.get_member(emu.admin.id) is not None
        assert guild.get_member(emu.admin.id).guild_permissions.administrator  # type: ignore[union-attr]
        assert not guild.get_member(emu.member.id).guild_permissions.administrator  # type: ignore[union-attr]

    assert [(c.method, c.path) for c in emu.calls[:2]] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
    ]
    assert len(emu.identifies) == 1
    assert emu.identifies[0]["token"] == "secret-token"
    assert emu.identifies[0]["intents"] == intents.value
    assert emu.connections[0].query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    assert [f.t for f in emu.dispatched("READY") + emu.dispatched("GUILD_CREATE")] == [
        "READY",
        "GUILD_CREATE",
    ]
    assert emu.unexpected == []
    assert emu.error_calls == []


async def test_slash_command_syncs_and_answers_deferred(discord_emulator: DiscordEmulator) -> None:
    """A Bot syncs its app command (PUT recorded) and a deferred answer plus follow-up is captured."""
    emu = discord_emulator
    bot = make_bot()
    add_ask_command(bot)
    async with emu.run_client(bot, guild_ready_timeout=READY):
        await bot.tree.sync()
        put = emu.calls_to("PUT", f"/applications/{emu.application_id}/commands")
        assert len(put) == 1
        (command,) = put[0].json
        assert command["name"] == "ask"
        assert command["description"] == "Ask the archive a question"
        options = {o["name"]: o for o in command["options"]}
        assert options["question"]["type"] == 3
        assert options["question"]["required"] is True
        assert options["question"]["description"] == "What you want to know"
        assert options["private"]["type"] == 5
        assert not options["private"].get("required", False)
        assert [c["name"] for c in emu.commands[None]] == ["ask"]

        inter = await emu.send_slash_command("ask", {"question": "Who won?"})
        reply = await inter.wait_for_reply()
        (followup,) = await inter.wait_for_followups(1)

    assert inter.callbacks == [{"type": 5}]
    callback = emu.calls_to("POST", f"/interactions/{inter.id}/")[0]
    assert callback.query == {"with_response": "1"}
    patch = emu.calls_to(
        "PATCH", f"/webhooks/{emu.application_id}/{inter.token}/messages/@original"
    )
    assert patch[0].json["content"] == "Answer: Who won?"
    assert patch[0].json["embeds"][0]["title"] == "Sources"
    assert reply is inter.original
    assert reply.content == "Answer: Who won?"
    assert reply.embeds[0]["description"] == "About 'Who won?'"
    assert not reply.loading and not reply.ephemeral
    assert reply.type == 20  # CHAT_INPUT_COMMAND
    assert followup.content == "One more thing"
    assert followup.ephemeral
    assert followup.payload["flags"] == 64
    assert followup.interaction_metadata["original_response_message_id"] == str(reply.id)
    # the registered command's id travels in the interaction, like on Discord
    assert inter.payload["data"]["id"] == emu.commands[None][0]["id"]
    assert emu.unexpected == []
    assert emu.error_calls == []


async def test_autocomplete_returns_choices(discord_emulator: DiscordEmulator) -> None:
    """An autocomplete interaction reaches the callback and its choices are captured."""
    emu = discord_emulator
    bot = make_bot()
    topics = ["elections", "economy", "energy", "sport"]

    @bot.tree.command(name="topic", description="Browse a topic")
    async def topic(interaction: discord.Interaction, name: str, limit: int = 5) -> None:
        await interaction.response.send_message(name)

    @topic.autocomplete("name")
    async def complete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=t.title(), value=t) for t in topics if t.startswith(current)
        ]

    async with emu.run_client(bot, guild_ready_timeout=READY):
        await bot.tree.sync()
        inter = await emu.send_autocomplete("topic", {"limit": 3, "name": "e"}, focused="name")
        choices = await inter.wait_for_choices()

    focused = [o for o in inter.payload["data"]["options"] if o.get("focused")]
    assert [o["name"] for o in focused] == ["name"]
    assert inter.response_type == 8
    assert choices == [
        {"name": "Elections", "value": "elections"},
        {"name": "Economy", "value": "economy"},
        {"name": "Energy", "value": "energy"},
    ]


async def test_button_click_reaches_persistent_view(discord_emulator: DiscordEmulator) -> None:
    """A component click on a bot message reaches a persistent View's button callback."""
    emu = discord_emulator
    clicked: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class SourcesView(discord.ui.View):
        def __init__(self) -> None:
            super().__init__(timeout=None)

        @discord.ui.button(label="More sources", custom_id="citebot:more")
        async def more(
            self, interaction: discord.Interaction, button: discord.ui.Button[Any]
        ) -> None:
            clicked.set_result(interaction.user.id)
            await interaction.response.send_message("Here are more", ephemeral=True)

    class ViewBot(commands.Bot):
        async def setup_hook(self) -> None:
            self.add_view(SourcesView())

    bot = ViewBot(command_prefix="!", intents=discord.Intents.default())
    async with emu.run_client(bot, guild_ready_timeout=READY):
        channel = bot.get_channel(emu.channel.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("Answer with sources", view=SourcesView())
        stored = emu.get_message(sent.id)
        assert stored is not None
        assert stored.components[0]["components"][0]["custom_id"] == "citebot:more"

        inter = await emu.send_component_click("citebot:more", user=emu.admin)
        assert await asyncio.wait_for(clicked, 5) == emu.admin.id
        reply = await inter.wait_for_reply()

    assert inter.payload["message"]["id"] == str(sent.id)
    assert inter.response_type == 4
    assert reply.content == "Here are more" and reply.ephemeral
    assert emu.unexpected == []


async def test_mention_reaches_on_message_and_reply_is_captured(
    discord_emulator: DiscordEmulator,
) -> None:
    """A MESSAGE_CREATE mentioning the bot reaches on_message; the reply carries its reference."""
    emu = discord_emulator
    seen: asyncio.Future[discord.Message] = asyncio.get_running_loop().create_future()

    class Replier(discord.Client):
        async def on_message(self, message: discord.Message) -> None:
            if self.user in message.mentions and not seen.done():
                seen.set_result(message)
                await message.reply("Here is what I found", mention_author=False)

    client = Replier(intents=discord.Intents.default())  # no message_content intent
    async with emu.run_client(client, guild_ready_timeout=READY):
        asked = await emu.send_message(f"{emu.bot_user.mention} what happened in Paris?")
        message = await asyncio.wait_for(seen, 5)
        reply = await emu.wait_for_bot_message(reply_to=asked)

    # mentioned, so the content is delivered even without the privileged intent
    assert message.content == f"<@{emu.bot_user.id}> what happened in Paris?"
    assert message.author.id == emu.member.id
    assert message.channel.id == emu.channel.id
    post = emu.calls_to("POST", f"/channels/{emu.channel.id}/messages")[0]
    assert int(post.json["message_reference"]["message_id"]) == asked.id
    assert post.json["allowed_mentions"]["replied_user"] is False
    assert reply.content == "Here is what I found"
    assert reply.reference_id == asked.id
    assert reply.type == 19  # REPLY
    assert reply.mentions == []  # mention_author=False: nobody pinged


async def test_message_content_is_hidden_without_intent_or_mention(
    discord_emulator: DiscordEmulator,
) -> None:
    """Without MESSAGE_CONTENT and without a mention the bot receives empty content."""
    emu = discord_emulator
    contents: asyncio.Queue[str] = asyncio.Queue()

    class Listener(discord.Client):
        async def on_message(self, message: discord.Message) -> None:
            await contents.put(message.content)

    client = Listener(intents=discord.Intents.default())
    async with emu.run_client(client, guild_ready_timeout=READY):
        await emu.send_message("just chatting")
        await emu.send_message("hi", channel=emu.dm_channel(emu.member))
        assert await asyncio.wait_for(contents.get(), 5) == ""
        assert await asyncio.wait_for(contents.get(), 5) == "hi"  # DMs are always readable


async def test_rate_limited_callback_is_retried(discord_emulator: DiscordEmulator) -> None:
    """A 429 on the interaction callback is honoured by discord.py and the reply still lands."""
    emu = discord_emulator
    bot = make_bot()
    add_ask_command(bot, defer=False)
    rule = emu.rate_limit("POST", "/interactions/", retry_after=0.2)
    async with emu.run_client(bot, guild_ready_timeout=READY):
        await bot.tree.sync()
        inter = await emu.send_slash_command("ask", {"question": "rate?"})
        reply = await inter.wait_for_reply()

    assert reply.content == "Answer: rate?"
    first, second = emu.calls_to("POST", f"/interactions/{inter.id}/")
    assert (first.status, first.injected) == (429, True)
    assert second.status == 200
    assert second.time - first.time >= 0.18
    assert rule.exhausted


@pytest.mark.parametrize(
    ("how", "reidentifies"),
    [
        ("close-4000", False),
        ("close-4000-session-invalidated", True),
        ("op7-reconnect", False),
        ("op9-invalid-session", True),
    ],
)
async def test_gateway_loss_recovers(
    discord_emulator: DiscordEmulator, how: str, reidentifies: bool
) -> None:
    """After the gateway drops or asks to reconnect, the client RESUMEs or re-IDENTIFYs and
    still answers slash commands."""
    emu = discord_emulator
    bot = make_bot()
    add_ask_command(bot, defer=False)
    # skip_identify_delay: discord.py sleeps 5 s before any IDENTIFY but the first
    async with emu.run_client(bot, guild_ready_timeout=READY, skip_identify_delay=True):
        await bot.tree.sync()
        first = await emu.send_slash_command("ask", {"question": "before"})
        await first.wait_for_reply()

        if how.startswith("close"):
            await emu.drop_gateway(4000, invalidate_session=how.endswith("invalidated"))
        elif how == "op7-reconnect":
            await emu.send_reconnect()
        else:
            await emu.invalidate_session(resumable=False)
        if how != "op9-invalid-session":
            await emu.wait_for_gateway(RESUME)
        if reidentifies:
            await emu.wait_for_gateway(IDENTIFY, count=2)
        await emu.wait_until_connected()

        after = await emu.send_slash_command("ask", {"question": "after"})
        reply = await after.wait_for_reply()

    assert reply.content == "Answer: after"
    assert len(emu.connections) >= 2
    if how.startswith("close"):
        assert emu.connections[0].close_code == 4000
        assert emu.connections[0].closed_by_server
    if emu.resumes:
        assert emu.resumes[0]["session_id"] == emu.connections[0].session_id
        assert emu.resumes[0]["seq"] >= 3  # READY, GUILD_CREATE, INTERACTION_CREATE, ...
    assert len(emu.identifies) == (2 if reidentifies else 1)
    assert bool(emu.dispatched("RESUMED")) is not reidentifies


async def test_unknown_route_is_recorded_as_unexpected(discord_emulator: DiscordEmulator) -> None:
    """A call to a route the emulator does not know gets 404 and lands in ``unexpected``."""
    emu = discord_emulator
    client = discord.Client(intents=discord.Intents.default())
    async with emu.run_client(client, guild_ready_timeout=READY):
        with pytest.raises(discord.NotFound):
            await client.http.request(discord.http.Route("GET", "/nowhere/{x}", x=1))
    assert [(c.method, c.path, c.status) for c in emu.unexpected] == [("GET", "/nowhere/1", 404)]


async def test_expired_interaction_is_unknown(discord_emulator: DiscordEmulator) -> None:
    """An expired interaction token gets Discord's 404 / 10062 Unknown interaction."""
    emu = discord_emulator
    go = asyncio.Event()
    errors: asyncio.Future[discord.HTTPException] = asyncio.get_running_loop().create_future()
    bot = make_bot()

    @bot.tree.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction) -> None:
        await go.wait()
        try:
            await interaction.response.send_message("too late")
        except discord.HTTPException as exc:
            errors.set_result(exc)

    async with emu.run_client(bot, guild_ready_timeout=READY):
        inter = await emu.send_slash_command("slow")
        emu.expire_interaction(inter)
        go.set()
        exc = await asyncio.wait_for(errors, 5)

    assert isinstance(exc, discord.NotFound)
    assert exc.code == 10062
    assert not inter.acknowledged


async def test_server_error_is_retried(discord_emulator: DiscordEmulator) -> None:
    """An injected 500 on a channel post is retried by discord.py and the message is stored."""
    emu = discord_emulator
    client = discord.Client(intents=discord.Intents.default())
    emu.fail_next("POST", f"/channels/{emu.channel.id}/messages", status=500)
    async with emu.run_client(client, guild_ready_timeout=READY):
        channel = client.get_channel(emu.channel.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("persistent")
    statuses = [c.status for c in emu.calls_to("POST", f"/channels/{emu.channel.id}/messages")]
    assert statuses == [500, 200]
    stored = emu.get_message(sent.id)
    assert isinstance(stored, StoredMessage) and stored.content == "persistent"


async def test_heartbeats_keep_the_announced_interval() -> None:
    """The client heartbeats at the HELLO interval; every beat is recorded and ACKed."""
    async with DiscordEmulator(heartbeat_interval=0.1) as emu:
        client = discord.Client(intents=discord.Intents.default())
        async with emu.run_client(client, guild_ready_timeout=READY):
            await emu.wait_for_gateway(HEARTBEAT, count=5)
            assert client.latency < 1.0
        intervals = emu.heartbeat_intervals()[:4]
        acks = [f for f in emu.gateway_log if f.direction == "send" and f.op == 11]
    assert len(intervals) == 4
    assert all(0.05 <= i <= 0.6 for i in intervals), intervals
    assert len(acks) >= 5


async def test_common_bot_calls_are_served(discord_emulator: DiscordEmulator) -> None:
    """Typing, reactions, threads, fetches and edits all hit known routes without errors."""
    emu = discord_emulator
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    class Busy(discord.Client):
        async def on_message(self, message: discord.Message) -> None:
            if message.author.bot or self.user not in message.mentions:
                return
            async with message.channel.typing():
                reply = await message.reply("Working on it")
            await reply.add_reaction("\N{BOOKS}")
            thread = await reply.create_thread(name="Sources")
            await thread.send("First source")
            fetched = await message.channel.fetch_message(reply.id)
            await fetched.edit(content="Done")
            await self.fetch_channel(message.channel.id)
            done.set_result(None)

    client = Busy(intents=discord.Intents.default())
    async with emu.run_client(client, guild_ready_timeout=READY):
        await emu.send_message("go", mentions=[emu.bot_user])
        await asyncio.wait_for(done, 5)

    assert emu.typing == [emu.channel.id]
    (reply,) = [m for m in emu.bot_messages(emu.channel) if m.reference_id]
    assert reply.content == "Done" and reply.edited
    assert reply.reactions == {"\N{BOOKS}": [emu.bot_user.id]}
    (thread,) = emu.threads
    assert thread.id == reply.id and thread.name == "Sources"
    assert [m.content for m in emu.bot_messages(thread)] == ["First source"]
    assert emu.unexpected == []
    assert emu.error_calls == []


async def test_sharded_client_asks_gateway_bot() -> None:
    """AutoShardedClient asks GET /gateway/bot, identifies with a shard and becomes ready."""
    async with DiscordEmulator(shard_count=1) as emu:
        client = discord.AutoShardedClient(intents=discord.Intents.default())
        async with emu.run_client(client, guild_ready_timeout=READY):
            assert client.get_guild(emu.guild.id) is not None
    assert emu.calls_to("GET", "/gateway/bot")
    assert emu.identifies[0]["shard"] == [0, 1]


async def test_discord_limits_are_enforced(discord_emulator: DiscordEmulator) -> None:
    """Bodies Discord would reject (content over 2000 chars) get Discord's 400 / 50035."""
    emu = discord_emulator
    client = discord.Client(intents=discord.Intents.default())
    async with emu.run_client(client, guild_ready_timeout=READY):
        channel = client.get_channel(emu.channel.id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as info:
            await channel.send("x" * 2001)
    assert info.value.status == 400 and info.value.code == 50035
    assert "Must be 2000 or fewer in length" in str(info.value)
    assert [c.status for c in emu.error_calls] == [400]


async def test_file_uploads_are_parsed_from_multipart(discord_emulator: DiscordEmulator) -> None:
    """Multipart bodies (payload_json + files) are parsed; attachments can be downloaded."""
    emu = discord_emulator
    bot = make_bot()
    downloaded: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    @bot.tree.command(name="export", description="Export the sources")
    async def export(interaction: discord.Interaction) -> None:
        upload = discord.File(io.BytesIO(b"source one\n"), filename="sources.txt")
        await interaction.response.send_message("Sources attached", file=upload)
        original = await interaction.original_response()
        downloaded.set_result(await original.attachments[0].read())

    async with emu.run_client(bot, guild_ready_timeout=READY):
        inter = await emu.send_slash_command("export")
        reply = await inter.wait_for_reply()
        assert await asyncio.wait_for(downloaded, 5) == b"source one\n"

    callback = emu.calls_to("POST", f"/interactions/{inter.id}/")[0]
    assert callback.json["type"] == 4
    assert callback.json["data"]["content"] == "Sources attached"
    assert [(f.field_name, f.filename, f.data) for f in callback.files] == [
        ("files[0]", "sources.txt", b"source one\n")
    ]
    assert reply.attachments[0]["filename"] == "sources.txt"
    assert reply.attachments[0]["size"] == len(b"source one\n")
    assert emu.calls_to("GET", f"/webhooks/{emu.application_id}/{inter.token}/messages/@original")
    assert emu.unexpected == []


async def test_modal_context_menu_and_dm_interactions(discord_emulator: DiscordEmulator) -> None:
    """Modals round-trip, message context menus resolve their target, DM commands have no guild."""
    emu = discord_emulator
    bot = make_bot()
    seen: dict[str, Any] = {}

    class Feedback(discord.ui.Modal, title="Feedback"):
        text: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Text", custom_id="text")

        async def on_submit(self, interaction: discord.Interaction) -> None:
            seen["feedback"] = self.text.value
            await interaction.response.send_message("Thanks!", ephemeral=True)

    @bot.tree.command(name="feedback", description="Send feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback(custom_id="feedback-modal"))

    @bot.tree.context_menu(name="Cite this")
    async def cite(interaction: discord.Interaction, message: discord.Message) -> None:
        seen["cited"] = message.content
        await interaction.response.send_message(f"Citing {message.id}")

    @bot.tree.command(name="ping", description="Ping")
    async def ping(interaction: discord.Interaction) -> None:
        seen["dm_guild"] = interaction.guild
        await interaction.response.send_message("pong")

    async with emu.run_client(bot, guild_ready_timeout=READY):
        await bot.tree.sync()
        opened = await emu.send_slash_command("feedback")
        modal = await opened.wait_for_response()
        assert modal["type"] == 9 and modal["data"]["custom_id"] == "feedback-modal"
        submitted = await emu.send_modal_submit("feedback-modal", {"text": "Great bot"})
        assert (await submitted.wait_for_reply()).content == "Thanks!"

        target = await emu.send_message("The minister resigned on Tuesday.")
        menu = await emu.send_context_menu("Cite this", target)
        assert (await menu.wait_for_reply()).content == f"Citing {target.id}"

        dm = await emu.send_slash_command("ping", channel=emu.dm_channel(emu.member))
        assert (await dm.wait_for_reply()).content == "pong"

    assert seen == {
        "feedback": "Great bot",
        "cited": "The minister resigned on Tuesday.",
        "dm_guild": None,
    }
    assert "member" not in dm.payload and dm.payload["user"]["id"] == str(emu.member.id)
    assert emu.unexpected == []
    assert emu.error_calls == []
