"""The bot: a `commands.Bot` holding the Asker, the database and the limits on concurrency.

`create_bot` is the one factory, used by `citebot bot` and by the tests alike.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.database import Store, open_store
from bot.errors import BotError, ConfigError, report_error
from bot.notices import ReloadOutcome
from bot.render import NO_MENTIONS
from bot.settings import BotSettings
from bot.storage import StorageError, StoredAnswer, StoreUnavailable
from citebot.cite import Answer
from citebot.corpus.folder import load_corpus
from citebot.corpus.snapshot import Written
from citebot.errors import CitebotError
from citebot.pipeline import Asker
from citebot.retrieval.cache import load_index
from citebot.settings import Settings

if TYPE_CHECKING:
    from bot.shared import Shared

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.cogs.ask",
    "bot.cogs.sources",
    "bot.cogs.channels",
    "bot.cogs.admin",
    "bot.cogs.feeds",
    "bot.cogs.help",
)


class UserCooldowns:
    """Per-user token buckets for asking (slash command, mention and auto-answer alike).

    Owned by the bot instance rather than the module-level mapping of
    `app_commands.checks.cooldown`, so its rate comes from settings and two bots
    in one process (tests, shards) never share a bucket.
    """

    def __init__(self, rate: int, per: float) -> None:
        self.rate = rate
        self.per = per
        self._buckets: dict[int, app_commands.Cooldown] = {}

    def hit(self, user_id: int, now: float | None = None) -> app_commands.CommandOnCooldown | None:
        """Take one question from the user's bucket; the error to raise when it is empty."""
        if len(self._buckets) > 1000:  # forget users whose window has passed
            self._buckets = {k: b for k, b in self._buckets.items() if b.get_tokens(now) < b.rate}
        bucket = self._buckets.setdefault(user_id, app_commands.Cooldown(self.rate, self.per))
        retry_after = bucket.update_rate_limit(now)
        if retry_after is None:
            return None
        return app_commands.CommandOnCooldown(bucket, retry_after)


class CitebotTree(app_commands.CommandTree["CitebotBot"]):
    """The command tree; its `on_error` is the single place errors reach users and the log."""

    async def on_error(
        self, interaction: discord.Interaction[CitebotBot], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


class CitebotBot(commands.Bot):
    """citebot on Discord: slash commands, buttons and channel questions over one Asker."""

    def __init__(self, settings: BotSettings, asker: Asker | None = None, **options: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels, threads and roles, which commands and replies use
        intents.guild_messages = True  # mentions, replies and auto-answer channels
        # Privileged: only needed to read messages that do not mention the bot.
        intents.message_content = settings.wants_message_content
        super().__init__(
            command_prefix=commands.when_mentioned,  # required by commands.Bot; no text commands
            help_command=None,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            tree_cls=CitebotTree,
            **options,
        )
        self.settings = settings
        self._asker = asker
        self._store: Store | None = None
        #: Redis, when CITEBOT_REDIS_URL is set: cooldowns and reloads across processes.
        self.shared: Shared | None = None
        workers = settings.max_concurrent_questions
        # At most `workers` questions are computed at once; the rest wait on the semaphore
        # (on the event loop, costing nothing) instead of queueing inside the executor.
        self._question_slots = asyncio.Semaphore(workers)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="citebot-ask")
        self._reload_lock = asyncio.Lock()
        self.cooldowns = UserCooldowns(settings.ask_cooldown_rate, settings.ask_cooldown_seconds)

    # ------------------------------------------------------------------ lifecycle

    async def setup_hook(self) -> None:
        if self._asker is None:
            self._asker = await asyncio.to_thread(self._load_asker)
        for problem in self._asker.corpus.problems:
            log.warning("skipped %s", problem)
        self._store = await open_store(self.settings)
        if self.settings.redis_url is not None:
            from bot.shared import Shared  # redis is imported only by bots that use it

            self.shared = await Shared.connect(self.settings.redis_url.get_secret_value())
            self.shared.listen_for_reloads(self._reload_announced)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        # Commands belong to the application, not to a shard: with several processes, the
        # one holding shard 0 registers them and the others leave Discord's rate limit alone.
        if not self.settings.shard_ids or 0 in self.settings.shard_ids:
            await self._sync_commands()

    async def _sync_commands(self) -> None:
        if not self.settings.guild_ids:
            synced = await self.tree.sync()
            log.info("synced %d global commands (may take a while to show)", len(synced))
            return
        for guild_id in self.settings.guild_ids:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            try:
                synced = await self.tree.sync(guild=guild)
            except discord.Forbidden as exc:
                raise ConfigError(
                    f"cannot register commands in guild {guild_id}: the bot is not in it or was "
                    "invited without the applications.commands scope; fix CITEBOT_GUILD_IDS or "
                    "invite the bot again"
                ) from exc
            log.info("synced %d commands to guild %d", len(synced), guild_id)

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            if self.shared is not None:
                shared, self.shared = self.shared, None
                await shared.close()
            if self._store is not None:
                store, self._store = self._store, None
                await store.close()
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def on_message(self, message: discord.Message, /) -> None:
        """No text commands: the Channels cog answers questions asked in channels."""

    async def on_ready(self) -> None:
        log.info(
            "logged in as %s (%s) in %d guilds", self.user, self.application_id, len(self.guilds)
        )

    # ------------------------------------------------------------------ the core

    @property
    def asker(self) -> Asker:
        """The Asker serving questions now (replaced whole by /reload)."""
        if self._asker is None:
            raise BotError("The articles are still loading; try again in a moment.")
        return self._asker

    @property
    def store(self) -> Store:
        if self._store is None:
            raise BotError("The bot is still starting; try again in a moment.")
        return self._store

    async def take_question(
        self, user_id: int, now: float | None = None
    ) -> app_commands.CommandOnCooldown | None:
        """One question from the user's cooldown bucket (shared by every process with Redis)."""
        if self.shared is not None:
            return await self.shared.take_question(user_id, self.cooldowns, now)
        return self.cooldowns.hit(user_id, now)

    def titles(self) -> dict[str, str]:
        return {a.id: a.title for a in self.asker.corpus.articles}

    async def ask(self, question: str, source: str | None = None) -> Answer:
        """Answer on a worker thread, at most `max_concurrent_questions` at a time."""
        asker = self.asker  # taken once: a reload meanwhile does not change this question
        async with self._question_slots:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, functools.partial(asker.ask, question, source)
            )

    async def record(
        self,
        answer: Answer,
        *,
        via: str,
        private: bool = False,
        guild_id: int | None = None,
        channel_id: int | None = None,
    ) -> StoredAnswer | None:
        """Store the question and answer (committed before it returns, so before any reply).

        None when the database refuses the write (locked for longer than its busy timeout,
        which SQLite spends retrying; a full disk): that is logged as an error, and the
        answer is still sent, without the buttons that need its row. A PostgreSQL server
        out of reach keeps the answer and writes it when it is back (a warning).
        """
        try:
            return await self.store.record_answer(
                answer,
                via=via,
                # A private question's text is never kept, whatever the setting.
                log_question=self.settings.log_questions and not private,
                guild_id=guild_id,
                channel_id=channel_id,
            )
        except StoreUnavailable as exc:
            log.warning("could not store a %s answer yet (%s); sent without buttons", via, exc)
            return None
        except (sqlite3.Error, StorageError) as exc:
            log.error(
                "could not store a %s answer in %s (%s); it is sent without its buttons",
                via,
                self.store.where,
                exc,
            )
            return None

    def _load_asker(
        self,
        previous: Asker | None = None,
        defer_save: Callable[[Callable[[], None]], None] | None = None,
        written: Written | None = None,
    ) -> Asker:
        """Read the corpus folder and index it (blocking: run it on a thread).

        On a reload the index being replaced is handed to `load_index`, so that only
        new and edited articles are split and tokenised again, not the whole corpus.
        `defer_save` takes the writing of the caches, for after the swap. `written`: the
        files the bot itself wrote (/add, a feed poll), read alone without a folder scan.
        """
        settings = self.settings
        corpus = load_corpus(
            settings.corpus_dir,
            previous=previous.corpus if previous is not None else None,
            cache_dir=settings.cache_dir if settings.use_cache else None,
            written=written,
            defer_save=defer_save,
        )
        index = load_index(
            corpus,
            settings.cache_dir if settings.use_cache else None,
            previous=previous.index if previous is not None else None,
            defer_save=defer_save,
        )
        asker = Asker(
            index,
            min_confidence=settings.min_confidence,
            answer_confidence=settings.answer_confidence,
            max_question_chars=settings.max_question_chars,
        )
        _freeze_heap()
        return asker

    async def reload_corpus(
        self, *, announce: bool = True, written: Written | None = None
    ) -> ReloadOutcome:
        """Re-read the corpus off the event loop and swap the Asker in one assignment.

        Questions already running finish on the Asker they started with. If the folder
        cannot be read at all, the current Asker keeps serving and the error is returned.
        With Redis, a successful reload is announced so that the other processes reload.
        `written` (the bot's own writes): only those files are read, the folder is not
        scanned; /reload scans it (files may have been edited by hand).
        """
        async with self._reload_lock:
            old = self.asker
            saves: list[Callable[[], None]] = []
            try:
                new = await asyncio.to_thread(self._load_asker, old, saves.append, written)
            except CitebotError as exc:
                log.warning("reload failed, still serving version %s: %s", old.index.version, exc)
                return ReloadOutcome(
                    ok=False,
                    articles=len(old.corpus.articles),
                    old_version=old.index.version,
                    new_version=None,
                    error=str(exc),
                )
            self._asker = new
            # The new index answers already; its cache is written meanwhile (1M: ~1.5 s).
            for save in saves:
                await asyncio.to_thread(save)
            before, after = set(old.corpus.ids), set(new.corpus.ids)
            log.info("reloaded the corpus: %s -> %s", old.index.version, new.index.version)
            if announce and self.shared is not None:
                heard = await self.shared.announce_reload(new.index.version)
                log.info("told the other processes to reload (%d listening)", max(0, heard - 1))
            return ReloadOutcome(
                ok=True,
                articles=len(new.corpus.articles),
                old_version=old.index.version,
                new_version=new.index.version,
                added=sorted(after - before),
                removed=sorted(before - after),
                problems=[(p.path, p.reason) for p in new.corpus.problems],
            )

    async def _reload_announced(self, version: str) -> None:
        """Another process reloaded: do the same, unless this one already serves `version`."""
        if self._asker is not None and self._asker.index.version == version:
            return
        outcome = await self.reload_corpus(announce=False)
        if not outcome.ok:
            log.warning("could not follow another process's reload: %s", outcome.error)


def _freeze_heap() -> None:
    """Keep what was just loaded (corpus, index) out of the garbage collector's full passes.

    A full (generation 2) collection walks every tracked object, the loaded corpus and
    index included: 100-150 ms at 100k passages, a few times per few hundred questions,
    which is what the slowest answers (p99) were waiting for. `gc.freeze` moves everything
    alive now to the permanent generation, which collections skip (reference counting
    still frees it). The previous freeze is undone and collected first, so that whatever
    cycles the index a reload replaced had are freed one reload later, not kept forever.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ShardedCitebotBot(CitebotBot, commands.AutoShardedBot):
    """The same bot on several gateway shards (CITEBOT_SHARD_COUNT, CITEBOT_SHARD_IDS)."""


def point_discord_at(settings: BotSettings) -> None:
    """Use a REST and/or gateway proxy instead of Discord's own endpoints, when set.

    discord.py reads these two class attributes for every request and connection,
    so this affects the whole process.
    """
    import discord.gateway
    import discord.http

    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def create_bot(settings: Settings, asker: Asker | None = None, **options: Any) -> CitebotBot:
    """The bot for these settings; `asker` skips loading the corpus (the tests share one)."""
    settings = BotSettings.upgrade(settings)
    point_discord_at(settings)
    if settings.shard_count is not None:
        return ShardedCitebotBot(
            settings,
            asker,
            shard_count=settings.shard_count,
            shard_ids=settings.shard_ids or None,  # None: every shard in this process
            **options,
        )
    return CitebotBot(settings, asker, **options)
