"""Feeds and pages into the corpus, end to end against a real server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from citebot.cli import main
from citebot.corpus.folder import load_corpus
from citebot.feeds.feeds import FEEDS_DIR, feed_states, folder_of, poll_all, poll_feed
from citebot.feeds.fetch import Fetcher
from citebot.pipeline import Asker
from citebot.retrieval.index import Index
from tests.feeds.server import Route, Site

FERRY = [
    "The harbour authority opened a third ferry terminal on 3 May 2026, officials said.",
    "The terminal serves 4,000 passengers a day and cost 80 million dollars to build.",
]
BRIDGE = [
    "The city council approved the new Elm Street bridge on 14 April 2026 after a long debate.",
    "Construction is expected to take two years, the council's engineer said.",
]
LIBRARY = [
    "Mayor Ana Ruiz reopened the central library on 2 March 2026 after its renovation.",
    "The library now holds 300,000 books and a new reading room for children.",
]


def rss(site: Site, items: list[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 feed of (path, title, pubDate) items."""
    body = "".join(
        f"<item><title>{t}</title><link>{site.url(p)}</link><guid>{site.url(p)}</guid>"
        f"<pubDate>{d}</pubDate></item>"
        for p, t, d in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Herald</title>'
        f"<link>{site.url('/')}</link><description>News</description>{body}</channel></rss>"
    ).encode()


def atom(site: Site, path: str, title: str, updated: str) -> bytes:
    """An Atom feed with one entry."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>City Desk</title><id>urn:city</id><updated>{updated}</updated>"
        f'<entry><title>{title}</title><link href="{site.url(path)}"/><id>urn:{path}</id>'
        f"<updated>{updated}</updated></entry></feed>"
    ).encode()


@pytest.fixture
def news(site: Site) -> Site:
    """An RSS feed of two pages and an Atom feed of one, all served."""
    site.page(
        "/news/ferry.html",
        "Third ferry terminal opens",
        FERRY,
        site_name="Harbour Herald",
        date="2026-05-03",
    )
    site.page("/news/bridge.html", "Council approves Elm Street bridge", BRIDGE)
    site.page("/city/library", "Central library reopens", LIBRARY, date="2026-03-02")
    site.routes["/rss.xml"] = Route(
        rss(
            site,
            [
                ("/news/ferry.html", "Ferry", "Sun, 03 May 2026 08:00:00 GMT"),
                ("/news/bridge.html", "Bridge", "Tue, 14 Apr 2026 09:00:00 GMT"),
            ],
        ),
        content_type="application/rss+xml",
    )
    site.routes["/atom.xml"] = Route(
        atom(site, "/city/library", "Library", "2026-03-02T10:00:00Z"),
        content_type="application/atom+xml",
    )
    return site


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder and its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_new_entries_become_answerable_with_their_url(
    news: Site, fetcher: Fetcher, tmp_path: Path
) -> None:
    """Polled entries are corpus files (one folder per feed) and answers cite their page's URL."""
    corpus_dir = tmp_path / "corpus"
    results = poll_all(fetcher, corpus_dir, [news.url("/rss.xml"), news.url("/atom.xml")])
    assert [len(r.added) for r in results] == [2, 1]
    assert not any(r.failures for r in results)
    corpus = load_corpus(corpus_dir)
    assert not corpus.problems
    assert {a.path.split("/")[0] for a in corpus.articles if a.path} == {FEEDS_DIR}
    assert {Path(a.path).parent for a in corpus.articles if a.path} == {
        folder_of(Path(), news.url("/rss.xml")),
        folder_of(Path(), news.url("/atom.xml")),
    }
    ferry = next(a for a in corpus.articles if "ferry" in a.id)
    assert (ferry.title, ferry.source, str(ferry.date)) == (
        "Third ferry terminal opens",
        "Harbour Herald",
        "2026-05-03",
    )
    bridge = next(a for a in corpus.articles if "bridge" in a.id)
    # The page states neither: the feed's own date and title are used, nothing is guessed.
    assert (str(bridge.date), bridge.source) == ("2026-04-14", "Harbour Herald")
    asker = Asker(Index.build(corpus))
    answer = asker.ask("When did the harbour authority open the third ferry terminal?")
    assert answer.answered
    assert "3 May 2026" in (answer.answer or "")
    assert answer.citations[0].url == news.url("/news/ferry.html")
    library = asker.ask("Who reopened the central library?")
    assert "Ana Ruiz" in (library.answer or "")
    assert library.citations[0].url == news.url("/city/library")


def test_second_poll_adds_nothing(news: Site, fetcher: Fetcher, tmp_path: Path) -> None:
    """Polling again changes no file and asks for the feed conditionally (a 304)."""
    corpus_dir = tmp_path / "corpus"
    poll_feed(fetcher, corpus_dir, news.url("/rss.xml"))
    before = snapshot(corpus_dir / FEEDS_DIR)
    news.requests.clear()
    again = poll_feed(fetcher, corpus_dir, news.url("/rss.xml"))
    assert (again.added, again.replaced, again.failures) == ((), (), ())
    assert [p for p, _ in news.requests] == ["/rss.xml"]
    assert "If-None-Match" in news.requests[0][1]
    after = snapshot(corpus_dir / FEEDS_DIR)
    assert {k: v for k, v in after.items() if not k.endswith(".feed.json")} == {
        k: v for k, v in before.items() if not k.endswith(".feed.json")
    }


def test_same_page_in_two_feeds_is_taken_once(news: Site, fetcher: Fetcher, tmp_path: Path) -> None:
    """A page another feed already brought in is not written twice (canonical URL)."""
    news.routes["/other.xml"] = Route(
        rss(news, [("/news/ferry.html#comments", "Ferry again", "Sun, 03 May 2026 08:00:00 GMT")]),
        content_type="application/rss+xml",
    )
    corpus_dir = tmp_path / "corpus"
    poll_all(fetcher, corpus_dir, [news.url("/rss.xml"), news.url("/other.xml")])
    corpus = load_corpus(corpus_dir)
    assert len(corpus.articles) == 2
    assert not corpus.problems


def test_changed_page_replaces_its_article(news: Site, fetcher: Fetcher, tmp_path: Path) -> None:
    """An entry whose page changed replaces its file: one article, the new text."""
    corpus_dir = tmp_path / "corpus"
    poll_feed(fetcher, corpus_dir, news.url("/atom.xml"))
    corrected = [LIBRARY[0].replace("2 March", "3 March"), LIBRARY[1]]
    news.page("/city/library", "Central library reopens", corrected, date="2026-03-03")
    news.routes["/atom.xml"] = Route(
        atom(news, "/city/library", "Library (corrected)", "2026-03-03T10:00:00Z"),
        content_type="application/atom+xml",
    )
    result = poll_feed(fetcher, corpus_dir, news.url("/atom.xml"))
    assert len(result.replaced) == 1
    assert result.added == ()
    corpus = load_corpus(corpus_dir)
    assert len(corpus.articles) == 1
    assert "on 3 March 2026" in corpus.articles[0].body
    answer = Asker(Index.build(corpus)).ask("When did Mayor Ana Ruiz reopen the central library?")
    assert "3 March 2026" in (answer.answer or "")


def test_failures_are_reported_and_lose_nothing(
    news: Site, fetcher: Fetcher, tmp_path: Path
) -> None:
    """Each failing feed or page gives its URL and reason; good entries still come in; stored files stay."""
    corpus_dir = tmp_path / "corpus"
    poll_feed(fetcher, corpus_dir, news.url("/atom.xml"))
    stored = snapshot(corpus_dir / FEEDS_DIR)
    news.routes["/html-feed"] = Route(b"<html><body>hi</body></html>")
    news.routes["/junk.xml"] = Route(b"this is not xml at all", content_type="application/xml")
    news.routes["/empty.html"] = Route(b"<html><body><nav>Home</nav></body></html>")
    news.routes["/huge.html"] = Route(b"<p>" + b"word " * 60_000 + b"</p>")
    news.routes["/mixed.xml"] = Route(
        rss(
            news,
            [
                ("/missing.html", "Gone", ""),
                ("/empty.html", "Empty", ""),
                ("/huge.html", "Huge", ""),
                ("/news/ferry.html", "Ferry", ""),
            ],
        ),
        content_type="application/rss+xml",
    )
    feeds = ["/nowhere.xml", "/html-feed", "/junk.xml", "/mixed.xml", "/atom.xml"]
    results = poll_all(fetcher, corpus_dir, [news.url(f) for f in feeds])
    reasons = {f.url.removeprefix(news.base): f.reason for r in results for f in r.failures}
    assert reasons == {
        "/nowhere.xml": "the server answered 404 Not Found",
        "/html-feed": "the server sent text/html, expected application/rss+xml or application/atom+xml",
        "/junk.xml": "this is not an RSS or Atom feed (no entries found)",
        "/missing.html": "the server answered 404 Not Found",
        "/empty.html": "no article text found on this page",
        "/huge.html": "300,007 bytes is over the 200,000-byte limit",
    }
    assert results[3].added and "ferry" in results[3].added[0]
    after = snapshot(corpus_dir / FEEDS_DIR)
    assert {k: v for k, v in after.items() if k in stored and not k.endswith(".json")} == {
        k: v for k, v in stored.items() if not k.endswith(".json")
    }
    states = {
        s.url.removeprefix(news.base): s
        for s in feed_states(corpus_dir, [news.url(f) for f in feeds])
    }
    assert states["/nowhere.xml"].last_error == "the server answered 404 Not Found"
    assert states["/mixed.xml"].articles == 1
    assert (
        states["/mixed.xml"].last_error is not None
        and "3 page(s) failed" in states["/mixed.xml"].last_error
    )


def test_a_failed_page_is_tried_again_next_poll(
    news: Site, fetcher: Fetcher, tmp_path: Path
) -> None:
    """A page that failed is not remembered as taken: the next poll fetches it."""
    corpus_dir = tmp_path / "corpus"
    news.routes["/news/bridge.html"] = Route(b"busy", status=503)
    first = poll_feed(fetcher, corpus_dir, news.url("/rss.xml"))
    assert len(first.added) == 1
    news.page("/news/bridge.html", "Council approves Elm Street bridge", BRIDGE)
    news.routes["/rss.xml"].body += b" "  # a new ETag: the feed is read again
    second = poll_feed(fetcher, corpus_dir, news.url("/rss.xml"))
    assert len(second.added) == 1
    assert "bridge" in second.added[0]


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CLI settings for a temporary corpus and cache; loopback allowed."""
    monkeypatch.setenv("CITEBOT_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("CITEBOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CITEBOT_FETCH_ALLOW_PRIVATE", "true")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "corpus"


def test_cli_feeds_poll_and_ask(
    news: Site, cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`citebot feeds poll` takes the feeds and exits 0; the next ask cites the page; status lists them."""
    monkeypatch.setenv("CITEBOT_FEEDS", f"{news.url('/rss.xml')},{news.url('/atom.xml')}")
    assert main(["feeds", "poll"]) == 0
    out = capsys.readouterr().out
    assert f"{news.url('/rss.xml')}: 2 new, 0 replaced, 0 unchanged" in out
    assert main(["ask", "--json", "Who reopened the central library?"]) == 0
    assert news.url("/city/library") in capsys.readouterr().out
    assert main(["feeds", "status"]) == 0
    assert f"{news.url('/atom.xml')}  " in capsys.readouterr().out


def test_cli_feeds_poll_exits_1_on_failure(
    news: Site, cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failing feed makes `feeds poll` exit 1 with its URL and reason; the others still ingest."""
    monkeypatch.setenv("CITEBOT_FEEDS", f"{news.url('/missing.xml')} {news.url('/atom.xml')}")
    assert main(["feeds", "poll"]) == 1
    out, err = capsys.readouterr()
    assert f"error: {news.url('/missing.xml')}: the server answered 404 Not Found" in err
    assert f"{news.url('/atom.xml')}: 1 new" in out


def test_cli_refuses_loopback_by_default(
    news: Site, cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without CITEBOT_FETCH_ALLOW_PRIVATE the CLI refuses a loopback feed and page, saying how to allow it."""
    monkeypatch.delenv("CITEBOT_FETCH_ALLOW_PRIVATE")
    monkeypatch.setenv("CITEBOT_FEEDS", news.url("/rss.xml"))
    assert main(["feeds", "poll"]) == 1
    assert "CITEBOT_FETCH_ALLOW_PRIVATE=true" in capsys.readouterr().err
    assert main(["ingest", news.url("/city/library")]) == 1
    assert "loopback address, which is refused" in capsys.readouterr().err
    assert news.requests == []
    assert not list(cli_env.rglob("*.md"))


def test_cli_ingest_url(news: Site, cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`citebot ingest URL` writes the page to corpus/web with its metadata; again is refused."""
    assert main(["ingest", news.url("/city/library")]) == 0
    (path,) = (cli_env / "web").glob("*.md")
    text = path.read_text()
    assert "title: Central library reopens" in text
    assert "date: 2026-03-02" in text
    assert f"url: {news.url('/city/library')}" in text
    assert "source:" not in text  # the page names no site: none is invented
    assert LIBRARY[0] in text
    capsys.readouterr()
    assert main(["ingest", news.url("/city/library")]) == 1
    assert "already in the corpus" in capsys.readouterr().err
    assert main(["ask", "Who reopened the central library?"]) == 0
    assert "Ana Ruiz" in capsys.readouterr().out


def test_cli_feeds_without_feeds_configured(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`feeds poll` with no CITEBOT_FEEDS says what to set."""
    monkeypatch.delenv("CITEBOT_FEEDS", raising=False)
    assert main(["feeds", "poll"]) == 2
    assert "set CITEBOT_FEEDS" in capsys.readouterr().err
