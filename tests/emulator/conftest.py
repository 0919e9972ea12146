from tests.emulator.fixtures import discord_emulator

__all__ = ["discord_emulator"]
