"""Running the bot: `citebot-bot`, `python -m bot`, or `citebot bot`.

`citebot bot` finds `run` through the entry point group `citebot.commands`
(pyproject.toml): the core never names this package.

`run()` returns an exit code: 0 after a clean stop, 2 with one sentence on stderr
when the bot cannot start as configured (no token, a rejected token, a bad
setting, an intent the portal has not enabled), 130 on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

import discord
from pydantic import ValidationError

from bot.client import create_bot
from bot.settings import BotSettings
from bot.storage import StorageError
from citebot.errors import CitebotError
from citebot.settings import Settings

log = logging.getLogger("bot")

NO_TOKEN = (
    "DISCORD_TOKEN is not set; copy the bot's token from the Discord developer portal "
    "(your application -> Bot -> Reset Token) into the environment or into .env"
)
BAD_TOKEN = (
    "Discord rejected DISCORD_TOKEN; copy the bot's token again from the developer portal "
    "(your application -> Bot -> Reset Token)"
)
NO_INTENT = (
    "Discord refused the Message Content intent that auto-answer channels need; enable it in "
    "the developer portal (your application -> Bot -> Privileged Gateway Intents) or set "
    "CITEBOT_MESSAGE_CONTENT_INTENT=false"
)


def run(settings: Settings, argv: Sequence[str] = ()) -> int:
    """Run the bot until it is stopped; the exit code. (`citebot bot` takes no arguments.)"""
    if argv:
        return _fail(f"`citebot bot` takes no arguments, got {' '.join(argv)!r}")
    _configure_logging()
    try:
        bot_settings = BotSettings.upgrade(settings)
    except ValidationError as exc:
        return _fail(f"bad setting: {_first_error(exc)}")
    token = bot_settings.discord_token
    if token is None or not token.get_secret_value().strip():
        return _fail(NO_TOKEN)
    try:
        asyncio.run(_serve(bot_settings, token.get_secret_value().strip()))
    except discord.LoginFailure:
        return _fail(BAD_TOKEN)
    except discord.PrivilegedIntentsRequired:
        return _fail(NO_INTENT)
    except discord.ConnectionClosed as exc:
        if exc.code == 4004:  # "Authentication failed": the gateway's way of saying it
            return _fail(BAD_TOKEN)
        raise
    except (CitebotError, StorageError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    return 0


async def _serve(settings: BotSettings, token: str) -> None:
    bot = create_bot(settings)
    async with bot:
        await bot.start(token)


def _fail(message: str) -> int:
    print(f"citebot: {message}", file=sys.stderr)
    return 2


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = "_".join(str(p) for p in error["loc"])
    # Fields are read from CITEBOT_<FIELD>; aliases such as DISCORD_TOKEN are already names.
    name = field if field.isupper() else f"CITEBOT_{field.upper()}"
    return f"{name}: {error['msg']}"


def _configure_logging() -> None:
    """discord.py's log format on stderr, unless the host application configured logging."""
    if not logging.getLogger().handlers:
        discord.utils.setup_logging(level=logging.INFO)


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        return _fail(f"bad setting: {_first_error(exc)}")
    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
