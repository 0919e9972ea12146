"""/add and the feed poll in the real bot, with pages served by a real server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import BotSettings
from tests.bot.support import assert_never_pings, running
from tests.emulator import DiscordEmulator
from tests.feeds.server import Route, Site, serving
from tests.feeds.test_feeds import LIBRARY, rss

QUESTION = "Who reopened the central library?"


@pytest.fixture
def site() -> Iterator[Site]:
    """A loopback HTTP server serving the routes the test writes."""
    with serving() as state:
        yield state


def web_settings(settings: BotSettings, **extra: object) -> BotSettings:
    """The test settings, allowed to fetch from loopback (the test server)."""
    return settings.model_copy(update={"fetch_allow_private": True, **extra})


async def test_add_takes_a_page_and_answers_from_it(
    emu: DiscordEmulator, settings: BotSettings, site: Site, corpus_dir: Path
) -> None:
    """An admin's /add fetches the page, says what was added, and the next /ask cites its URL."""
    site.page("/city/library", "Central library reopens", LIBRARY, site_name="City Desk")
    async with running(emu, web_settings(settings)) as bot:
        before = len(bot.asker.corpus.articles)
        add = await emu.send_slash_command(
            "add", {"url": site.url("/city/library")}, user=emu.admin
        )
        report = await add.wait_for_reply(timeout=20)
        answer = await (
            await emu.send_slash_command("ask", {"question": QUESTION})
        ).wait_for_reply()
        assert len(bot.asker.corpus.articles) == before + 1
    assert report.ephemeral
    assert report.content.startswith("Added **Central library reopens** (`")
    assert "City Desk" in report.content
    assert f"Now answering from {before + 1} articles." in report.content
    assert "Ana Ruiz" in answer.content
    assert f"<{site.url('/city/library')}>" in answer.content
    assert list((corpus_dir / "web").glob("*.md"))
    assert_never_pings(emu)


async def test_add_reports_a_failing_page_and_changes_nothing(
    emu: DiscordEmulator, settings: BotSettings, site: Site, corpus_dir: Path
) -> None:
    """A 404 is reported with the URL and reason; the served corpus stays as it was."""
    async with running(emu, web_settings(settings)) as bot:
        old = bot.asker
        add = await emu.send_slash_command("add", {"url": site.url("/nothing")}, user=emu.admin)
        report = await add.wait_for_reply(timeout=20)
        assert bot.asker is old
    assert (
        report.content
        == f"Could not add <{site.url('/nothing')}>: the server answered 404 Not Found"
    )
    assert not (corpus_dir / "web").exists()


async def test_add_refuses_loopback_by_default(
    emu: DiscordEmulator, settings: BotSettings, site: Site
) -> None:
    """Without CITEBOT_FETCH_ALLOW_PRIVATE the page on loopback is refused, saying why."""
    site.page("/city/library", "Central library reopens", LIBRARY)
    async with running(emu, settings):
        add = await emu.send_slash_command(
            "add", {"url": site.url("/city/library")}, user=emu.admin
        )
        report = await add.wait_for_reply(timeout=20)
    assert "loopback address, which is refused" in report.content
    assert site.requests == []


async def test_add_is_for_admins_only(
    emu: DiscordEmulator, settings: BotSettings, site: Site
) -> None:
    """A member's /add is refused privately and fetches nothing."""
    async with running(emu, web_settings(settings)):
        add = await emu.send_slash_command("add", {"url": site.url("/x")}, user=emu.member)
        report = await add.wait_for_reply()
    assert report.content == "Only server administrators can use this command."
    assert site.requests == []


async def test_feeds_are_polled_and_shown_to_admins(
    emu: DiscordEmulator, settings: BotSettings, site: Site
) -> None:
    """The bot polls its feeds on its own, swaps the index in, and /sources shows admins the feed."""
    site.page("/city/library", "Central library reopens", LIBRARY)
    site.routes["/rss.xml"] = Route(
        rss(site, [("/city/library", "Library", "Mon, 02 Mar 2026 10:00:00 GMT")]),
        content_type="application/rss+xml",
    )
    feed = site.url("/rss.xml")
    async with running(emu, web_settings(settings, feeds=[feed])) as bot:
        page = site.url("/city/library")
        async with asyncio.timeout(20):  # the first poll runs right after start-up
            while not any(a.url == page for a in bot.asker.corpus.articles):
                await asyncio.sleep(0.05)
        answer = await (
            await emu.send_slash_command("ask", {"question": QUESTION})
        ).wait_for_reply()
        listing = await emu.send_slash_command("sources", user=emu.admin)
        await listing.wait_for_reply()
        await emu.wait_until(lambda: bool(listing.followups), 5.0, "the feeds' status")
        member_listing = await emu.send_slash_command("sources", user=emu.member)
        await member_listing.wait_for_reply()
    assert f"<{site.url('/city/library')}>" in answer.content
    status = listing.followups[0]
    assert status.ephemeral
    assert status.content.startswith("Feeds (1), polled into the corpus:")
    assert f"<{feed}>: last poll <t:" in status.content
    assert "1 articles" in status.content
    assert member_listing.followups == []
