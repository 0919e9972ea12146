"""One bot in two processes, one shard each, sharing PostgreSQL and Redis, through the emulator.

The two processes are real (`python -m bot`, configured only by environment
variables, as in production); the emulator splits its two guilds between shard 0
and shard 1 as Discord does, so each guild's questions reach one process only.
All five tests share one start-up (about ten seconds); the last one kills
PostgreSQL, so it runs last.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from tests.emulator.records import InteractionRecord
from tests.emulator.store import message_json
from tests.hardening.support import button, is_answer
from tests.scale.support import Cluster, start_cluster
from tests.services import postgres_missing, redis_missing

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(postgres_missing() is not None, reason=str(postgres_missing())),
    pytest.mark.skipif(redis_missing() is not None, reason=str(redis_missing())),
    pytest.mark.asyncio(loop_scope="module"),
]

QUESTION = "when did the Hetao park open?"
COMPONENT = 3  # interaction type of a button click


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    """Emulator, PostgreSQL, Redis and two bot processes (shard 0 and shard 1 of 2)."""
    async with start_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


async def rows(cluster: Cluster, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Query PostgreSQL directly, as an operator would."""
    db = await asyncpg.connect(cluster.database_url)
    try:
        return [tuple(r) for r in await db.fetch(sql, *args)]
    finally:
        await db.close()


async def ask(cluster: Cluster, guild: int, user: Any, question: str = QUESTION) -> Any:
    """/ask in guild 0 or 1 (so through process 0 or 1); the reply message."""
    inter = await cluster.emu.send_slash_command(
        "ask", {"question": question}, user=user, channel=cluster.channels[guild]
    )
    return await inter.wait_for_reply(15)


async def test_questions_from_both_shards_are_answered_and_stored_once(cluster: Cluster) -> None:
    """A question in each guild is answered by the process holding that guild's shard, and
    each is one row in PostgreSQL, under its own guild."""
    user = cluster.user("asker")
    replies = [await ask(cluster, g, user) for g in (0, 1)]
    assert all(is_answer(r.content) for r in replies)
    ids = [int(button(r, "up").rsplit(":", 1)[1]) for r in replies]
    stored = await rows(cluster, "SELECT id, guild_id, via FROM answers WHERE id = ANY($1)", ids)
    assert sorted(stored) == sorted(
        [(ids[0], cluster.guilds[0].id, "slash"), (ids[1], cluster.guilds[1].id, "slash")]
    )
    assert await rows(cluster, "SELECT COUNT(*) FROM answers") == [(2,)]
    assert sorted(tuple(i["shard"]) for i in cluster.emu.identifies) == [(0, 2), (1, 2)]
    # Commands are registered once, by the process holding shard 0.
    assert len(cluster.emu.calls_to("PUT", "/applications/")) == 1


async def test_a_vote_through_either_process_is_one_row(cluster: Cluster) -> None:
    """A user votes 👍 through process 0, then 👎 on the same answer through process 1 (as after
    a re-shard moved the guild): one row, holding the later vote."""
    emu = cluster.emu
    user = cluster.user("voter")
    reply = await ask(cluster, 0, user)
    answer_id = int(button(reply, "up").rsplit(":", 1)[1])
    # A vote answers by redrawing the message with the vote shown (no separate reply).
    await (await emu.send_component_click(button(reply, "up"), reply, user=user)).wait_for_reply()
    assert await rows(
        cluster, "SELECT user_id, vote FROM feedback WHERE answer_id = $1", answer_id
    ) == [(user.id, 1)]
    down = button(reply, "down")
    # The same message's button, delivered from guild 1's channel, so to the other process.
    record: InteractionRecord = await emu._send_interaction(
        COMPONENT,
        {"custom_id": down, "component_type": 2},
        user=user,
        channel=cluster.channels[1],
        message=message_json(emu, reply),
    )
    await record.wait_for_reply(15)
    assert await rows(
        cluster, "SELECT user_id, vote FROM feedback WHERE answer_id = $1", answer_id
    ) == [(user.id, -1)]


async def test_a_users_cooldown_holds_across_the_processes(cluster: Cluster) -> None:
    """The cooldown allows 3 questions a minute per user: asked alternately through both
    processes, the fourth is refused, whichever process gets it."""
    user = cluster.user("quick")
    replies = [await ask(cluster, g, user) for g in (0, 1, 0, 1)]
    assert [is_answer(r.content) for r in replies] == [True, True, True, False]
    assert "You are asking quickly" in replies[3].content and replies[3].ephemeral


async def test_reload_in_one_process_reloads_both(cluster: Cluster) -> None:
    """A new article and /reload in guild 0: process 1 reloads too, and answers from it."""
    (cluster.corpus_dir / "library.md").write_text(
        "---\nid: fresh-library\ntitle: A fresh library\ndate: 2024-05-01\n---\n\n"
        "The fresh library in Riverton opened on Wednesday with two thousand books.\n",
        encoding="utf-8",
    )
    inter = await cluster.emu.send_slash_command(
        "reload", user=cluster.admin, channel=cluster.channels[0]
    )
    report = await inter.wait_for_reply(30)
    assert "Added: `fresh-library`." in report.content
    await cluster.processes[1].wait_for_log("reloaded the corpus", 30)
    reply = await ask(
        cluster, 1, cluster.user("reader"), "when did the fresh library in Riverton open?"
    )
    assert is_answer(reply.content) and "A fresh library" in reply.content


async def test_killing_postgres_loses_no_acknowledged_answer_and_the_bot_keeps_answering(
    cluster: Cluster,
) -> None:
    """PostgreSQL killed mid-run: both processes keep answering (without buttons) and say a vote
    was not saved; every answer shown with buttons before is still there after the restart, and
    the answers given while it was down are written once when it is back."""
    before = await rows(cluster, "SELECT id FROM answers ORDER BY id")
    users = [cluster.user("outage-0"), cluster.user("outage-1")]
    acknowledged = [await ask(cluster, g, users[g]) for g in (0, 1)]
    acked_ids = [int(button(r, "up").rsplit(":", 1)[1]) for r in acknowledged]
    cluster.postgres.kill()
    during = [await ask(cluster, g, users[g], "who opened the park?") for g in (0, 1)]
    assert all(r.components == [] and r.content for r in during)
    vote = await cluster.emu.send_component_click(
        button(acknowledged[0], "up"), acknowledged[0], user=users[0]
    )
    refused = await vote.wait_for_reply(15)
    assert refused.ephemeral and "was not saved" in refused.content
    # A follow-up (a reply to an answer) cannot read the earlier answer: asked afresh.
    followup = await cluster.emu.send_message(
        f"{cluster.emu.bot_user.mention} who opened the park?",
        author=users[0],
        channel=cluster.channels[0],
        reply_to=acknowledged[0],
    )
    answered_anyway = await cluster.emu.wait_for_bot_message(reply_to=followup, timeout=15)
    assert answered_anyway.content and answered_anyway.components == []
    cluster.postgres.start()
    expected = len(before) + 5  # two acknowledged, three kept while PostgreSQL was down
    async with asyncio.timeout(30):
        while (await rows(cluster, "SELECT COUNT(*) FROM answers"))[0][0] < expected:
            await asyncio.sleep(0.2)
    after = await ask(cluster, 0, cluster.user("outage-after"))
    stored = await rows(cluster, "SELECT id, question FROM answers ORDER BY id")
    assert len(stored) == expected + 1
    assert {i for i, _ in stored} >= {i for (i,) in before} | set(acked_ids)
    assert [q for _, q in stored].count("who opened the park?") == 3
    assert button(after, "up")
    assert [p.problems() for p in cluster.processes] == [[], []]
