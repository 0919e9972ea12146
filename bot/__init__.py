"""The Discord adapter of citebot: the only package that imports discord.

Data flow: a slash command, button or channel message -> `CitebotBot` (client.py)
-> `citebot.Asker` on a worker thread -> storage.py (SQLite) -> reply.py, listing.py,
notices.py (the messages, built on render.py: every Discord limit and all escaping)
-> Discord. One cog per feature in `cogs/`.
"""
