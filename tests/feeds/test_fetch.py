"""Fetching: what a URL may reach and cost, against a real server on loopback."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from citebot.cli import main
from citebot.feeds.fetch import PAGE_TYPES, Fetcher, FetchError, FetchPolicy, forbidden_kind
from tests.feeds.server import Route, Site


def test_loopback_is_refused_by_default(site: Site) -> None:
    """Without CITEBOT_FETCH_ALLOW_PRIVATE a loopback address is refused before any request."""
    site.page("/a", "A page", ["Some text that is long enough to be an article body."])
    with pytest.raises(FetchError, match="loopback address, which is refused") as caught:
        Fetcher().get(site.url("/a"), accept=PAGE_TYPES)
    assert "CITEBOT_FETCH_ALLOW_PRIVATE=true" in str(caught.value)
    assert site.requests == []


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("169.254.169.254", "link-local"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("100.64.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("fe80::1", "link-local"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_forbidden_kinds(address: str, kind: str | None) -> None:
    """Cloud metadata, LAN, shared and mapped addresses are refused; public ones are not."""
    assert forbidden_kind(address) == kind


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "file:///etc/passwd", "gopher://x/"])
def test_only_http_and_https(url: str) -> None:
    """Other schemes are refused with a message, without touching the network."""
    with pytest.raises(FetchError, match=r"only http:// and https://"):
        Fetcher().get(url, accept=PAGE_TYPES)


def test_user_agent_and_conditional_request(site: Site, fetcher: Fetcher) -> None:
    """Requests name citebot; a known ETag is sent back and an unchanged page is a 304."""
    site.page("/a", "A page", ["Text."])
    first = fetcher.get(site.url("/a"), accept=PAGE_TYPES)
    assert first.status == 200
    assert b"Text." in first.body
    again = fetcher.get(site.url("/a"), accept=PAGE_TYPES, etag=first.etag)
    assert again.not_modified
    assert again.body == b""
    page_requests = [h for path, h in site.requests if path == "/a"]
    assert all(h["User-Agent"].startswith("citebot/") for h in page_requests)
    assert page_requests[1]["If-None-Match"] == first.etag


def test_http_errors_name_the_status(site: Site, fetcher: Fetcher) -> None:
    """A 404 or 500 is a FetchError with the status, naming the URL."""
    site.routes["/gone"] = Route(b"no", status=410)
    with pytest.raises(FetchError, match="answered 404") as caught:
        fetcher.get(site.url("/missing"), accept=PAGE_TYPES)
    assert caught.value.url == site.url("/missing")
    with pytest.raises(FetchError, match="answered 410"):
        fetcher.get(site.url("/gone"), accept=PAGE_TYPES)


def test_content_type_is_checked(site: Site, fetcher: Fetcher) -> None:
    """A PDF where a page is expected is refused with both types named."""
    site.routes["/doc"] = Route(b"%PDF-1.4", content_type="application/pdf")
    with pytest.raises(FetchError, match="sent application/pdf, expected text/html"):
        fetcher.get(site.url("/doc"), accept=PAGE_TYPES)


def test_size_cap_declared_and_decoded(site: Site, fetcher: Fetcher) -> None:
    """A body over the cap is refused: by its Content-Length, or when a small gzip inflates."""
    site.routes["/big"] = Route(b"x" * 300_000)
    with pytest.raises(FetchError, match="over the 200,000-byte limit"):
        fetcher.get(site.url("/big"), accept=PAGE_TYPES)
    bomb = gzip.compress(b"<p>" + b"a" * 5_000_000)
    site.routes["/bomb"] = Route(bomb, headers={"Content-Encoding": "gzip"})
    assert len(bomb) < 200_000
    with pytest.raises(FetchError, match="over the 200,000-byte limit"):
        fetcher.get(site.url("/bomb"), accept=PAGE_TYPES)


def test_redirects_followed_and_capped(site: Site, fetcher: Fetcher) -> None:
    """A redirect is followed to the final URL; a loop stops at the cap; ftp is refused."""
    site.page("/final", "Final", ["Text."])
    site.routes["/moved"] = Route(b"", status=301, headers={"Location": "/final"})
    assert fetcher.get(site.url("/moved"), accept=PAGE_TYPES).url == site.url("/final")
    site.routes["/loop"] = Route(b"", status=302, headers={"Location": "/loop"})
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetcher.get(site.url("/loop"), accept=PAGE_TYPES)
    site.routes["/away"] = Route(b"", status=302, headers={"Location": "ftp://example.org/x"})
    with pytest.raises(FetchError, match="only http"):
        fetcher.get(site.url("/away"), accept=PAGE_TYPES)


def test_robots_txt_is_respected(site: Site, fetcher: Fetcher) -> None:
    """A path robots.txt disallows is refused; others on the same site are fetched."""
    site.routes["/robots.txt"] = Route(
        b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    site.page("/private/a", "Private", ["Text."])
    site.page("/public", "Public", ["Text."])
    with pytest.raises(FetchError, match=r"robots\.txt does not allow"):
        fetcher.get(site.url("/private/a"), accept=PAGE_TYPES)
    assert fetcher.get(site.url("/public"), accept=PAGE_TYPES).status == 200
    assert [p for p, _ in site.requests].count("/robots.txt") == 1  # remembered per site


def test_slow_server_times_out(site: Site) -> None:
    """A server that does not answer in time is a FetchError, not a hang."""
    site.routes["/slow"] = Route(b"late", delay=1.5)
    quick = Fetcher(FetchPolicy(allow_private=True, timeout_s=0.3))
    with pytest.raises(FetchError, match="did not answer in time"):
        quick.get(site.url("/slow"), accept=PAGE_TYPES)


def test_unreachable_and_unknown_hosts(fetcher: Fetcher) -> None:
    """A closed port and a name that does not resolve are reported, not raised raw."""
    with pytest.raises(FetchError, match="unreachable"):
        fetcher.get("http://127.0.0.1:9/x", accept=PAGE_TYPES)
    with pytest.raises(FetchError, match="cannot be resolved"):
        fetcher.get("http://no-such-host.invalid/x", accept=PAGE_TYPES)


@pytest.mark.parametrize("url", ["http://[::1/x", "http://example.org:port/x", "https://"])
def test_malformed_urls_are_refused_with_a_message(url: str) -> None:
    """A URL that cannot be parsed is a FetchError naming it, never a raw ValueError."""
    with pytest.raises(FetchError) as caught:
        Fetcher().get(url, accept=PAGE_TYPES)
    assert caught.value.url == url


def test_malformed_url_in_cli_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`citebot ingest http://[::1/x` reports the bad address and exits 1, writing nothing."""
    monkeypatch.setenv("CITEBOT_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("CITEBOT_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["ingest", "http://[::1/x"]) == 1
    assert "not a valid address" in capsys.readouterr().err
    assert not (tmp_path / "corpus").exists()
