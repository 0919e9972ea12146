"""/reload and /stats, end to end: admin only, broken files reported, the old index kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import client as bot_client
from bot.settings import BotSettings
from citebot.pipeline import Asker
from citebot.retrieval.index import Index
from tests.bot.support import QUESTION, assert_never_pings, custom_ids, marked, rows, running
from tests.emulator import DiscordEmulator

HKSP_FILE = "hksp-shenzhen-branch-2023.md"


async def test_reload_reports_broken_files_and_keeps_serving_their_old_version(
    emu: DiscordEmulator, settings: BotSettings, corpus_dir: Path, asker: Asker
) -> None:
    """A broken edit and a bad new file are named; the broken article keeps answering."""
    async with running(emu, settings) as bot:  # the bot loads corpus_dir itself
        before = bot.asker.index.version
        (corpus_dir / HKSP_FILE).write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
        (corpus_dir / "notes.txt").write_bytes(b"\x00\x01binary")
        (corpus_dir / "fresh.md").write_text(
            "---\nid: fresh-article\ntitle: A fresh article\ndate: 2024-05-01\n---\n\n"
            "The fresh article is about a library that holds two thousand books.\n",
            encoding="utf-8",
        )
        reload = await emu.send_slash_command("reload", user=emu.admin)
        report = await reload.wait_for_reply()
        answer = await (
            await emu.send_slash_command("ask", {"question": QUESTION})
        ).wait_for_reply()
        shown = await (
            await emu.send_slash_command("source", {"article": "fresh-article"})
        ).wait_for_reply()
        after = bot.asker.index.version

    assert reload.callbacks[0] == {"type": 5, "data": {"flags": 64}}
    assert report.ephemeral
    text = report.content
    assert text.startswith("Reloaded the corpus: 3 articles, version ")
    assert "Added: `fresh-article`." in text
    assert "Files that did not load (2):" in text
    assert f"• `{HKSP_FILE}`: the front matter is not valid YAML" in text
    assert "(still serving its previous version)" in text
    assert "• `notes.txt`: this is a binary file" in text
    assert before != after
    assert marked(asker) in answer.content  # the broken article's old version still answers
    assert shown.embeds[0]["title"] == "A fresh article"
    assert_never_pings(emu)


async def test_reload_of_a_vanished_folder_keeps_the_old_index(
    emu: DiscordEmulator, settings: BotSettings, corpus_dir: Path, asker: Asker
) -> None:
    """If the corpus folder is gone, /reload says so and every article keeps being served."""
    async with running(emu, settings) as bot:
        old = bot.asker
        shutil.rmtree(corpus_dir)
        report = await (await emu.send_slash_command("reload", user=emu.admin)).wait_for_reply()
        answer = await (
            await emu.send_slash_command("ask", {"question": QUESTION})
        ).wait_for_reply()
        assert bot.asker is old
    assert report.content.startswith("Reload failed: ")
    assert "no such folder" in report.content
    assert "Still serving the previous corpus (2 articles" in report.content
    assert marked(asker) in answer.content


async def test_admin_commands_are_refused_to_members_even_if_shown_to_them(
    emu: DiscordEmulator, settings: BotSettings, corpus_dir: Path, asker: Asker
) -> None:
    """A member without Administrator gets a short private refusal; nothing is reloaded."""
    async with running(emu, settings, asker) as bot:
        (corpus_dir / HKSP_FILE).unlink()
        reload = await emu.send_slash_command("reload", user=emu.member)
        refused = await reload.wait_for_reply()
        stats = await (await emu.send_slash_command("stats", user=emu.member)).wait_for_reply()
        assert bot.asker is asker  # not reloaded: the deleted file's article is still there
    assert reload.response_type == 4  # refused at once, not deferred
    for reply in (refused, stats):
        assert reply.ephemeral
        assert reply.content == "Only server administrators can use this command."
        assert not reply.embeds


async def test_stats_counts_questions_answers_feedback_and_unanswered(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """/stats shows totals, the answered share, votes, and the most repeated unanswered question."""
    tokyo = "who won the world cup in Tokyo?"
    async with running(emu, settings, asker):
        answer = await (
            await emu.send_slash_command("ask", {"question": QUESTION})
        ).wait_for_reply()
        for user in (emu.member, emu.admin):
            await (
                await emu.send_slash_command("ask", {"question": tokyo}, user=user)
            ).wait_for_reply()
        await (await emu.send_component_click(custom_ids(answer)[2])).wait_for_reply()
        stats = await (await emu.send_slash_command("stats", user=emu.admin)).wait_for_reply()
    assert stats.ephemeral
    fields = {f["name"]: f["value"] for f in stats.embeds[0]["fields"]}
    assert fields["Questions asked"] == "3"
    assert fields["Answered"] == "1 (33%)"
    assert fields["No answer (the articles don't say)"] == "2 (67%)"
    assert fields["Feedback"] == "👍 1 · 👎 0"
    assert fields["Most frequent unanswered questions"] == f"2× {tokyo}"
    assert rows(settings.db_path, "SELECT COUNT(*) FROM answers WHERE answered = 0") == [(2,)]


async def test_buttons_of_an_answer_whose_article_changed_say_so(
    emu: DiscordEmulator, settings: BotSettings, corpus_dir: Path
) -> None:
    """After an edit and /reload, More context says the article changed; Why still explains."""
    async with running(emu, settings) as bot:
        answer = await (
            await emu.send_slash_command("ask", {"question": QUESTION})
        ).wait_for_reply()
        old_version = bot.asker.index.version
        path = corpus_dir / HKSP_FILE
        head, _, body = path.read_text(encoding="utf-8").partition("---\n\n")
        path.write_text(
            f"{head}---\n\nEditor's note: this story was updated.\n\n{body}", encoding="utf-8"
        )
        await (await emu.send_slash_command("reload", user=emu.admin)).wait_for_reply()
        context_id, why_id = custom_ids(answer)[:2]
        context = await (await emu.send_component_click(context_id)).wait_for_reply()
        why = await (await emu.send_component_click(why_id)).wait_for_reply()
        new_version = bot.asker.index.version
    assert old_version != new_version
    assert context.ephemeral and context.content == (
        "The article this answer quoted has changed or gone since; ask again for an answer "
        "from its current text."
    )
    assert why.embeds[0]["title"] == "Why this answer"


@pytest.mark.parametrize("use_cache", [False, True])
async def test_reload_updates_the_index_it_replaces_instead_of_rebuilding(
    emu: DiscordEmulator,
    settings: BotSettings,
    corpus_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    use_cache: bool,
) -> None:
    """/reload hands the serving index to load_index: an edit updates it, no full build."""
    settings = settings.model_copy(update={"use_cache": use_cache})
    calls: list[dict[str, object]] = []
    builds: list[int] = []
    real_load, real_build = bot_client.load_index, Index.build.__func__  # type: ignore[attr-defined]

    def spy_load(*args: object, **kwargs: object) -> Index:
        calls.append(kwargs)
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    def spy_build(cls: type[Index], /, *args: object, **kwargs: object) -> Index:
        builds.append(1)
        return real_build(cls, *args, **kwargs)  # type: ignore[no-any-return]

    async with running(emu, settings) as bot:
        old = bot.asker.index
        path = corpus_dir / HKSP_FILE
        path.write_text(path.read_text(encoding="utf-8") + "\nA late line.\n", encoding="utf-8")
        monkeypatch.setattr(bot_client, "load_index", spy_load)
        monkeypatch.setattr(Index, "build", classmethod(spy_build))
        report = await (await emu.send_slash_command("reload", user=emu.admin)).wait_for_reply()
        new = bot.asker.index
    assert report.content.startswith("Reloaded the corpus: 2 articles")
    assert len(calls) == 1 and calls[0].get("previous") is old
    assert builds == []  # the edited article was re-split; the index was not built anew
    assert new is not old and new.version != old.version
    assert "A late line." in new.article("hksp-shenzhen-branch-2023").body
