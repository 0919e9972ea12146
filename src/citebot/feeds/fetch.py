"""HTTP fetching that cannot be abused or hang: what a page or feed URL may reach and cost.

Every request: http(s) only; the host is resolved here and every address it resolves
to is checked (loopback, private, link-local, reserved, multicast and unspecified
ranges are refused unless `CITEBOT_FETCH_ALLOW_PRIVATE=true`), and the connection is
made to the checked address itself, so a name that resolves differently a moment
later (DNS rebinding) cannot slip through; redirects are followed by hand, at most
`max_redirects`, each hop checked the same way; a timeout per read and one for the
whole response; a size cap counted on the decoded bytes; a content-type check; a
User-Agent naming citebot; robots.txt (`urllib.robotparser`) asked before each URL;
ETag / Last-Modified sent back when known, so an unchanged page costs a 304.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import urllib.robotparser
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

import urllib3
from pydantic import BaseModel, ConfigDict

from citebot.errors import CitebotError

USER_AGENT = "citebot/0.1 (+https://github.com/citebot/citebot; news question answering)"
PAGE_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)


class FetchError(CitebotError):
    """A URL could not be fetched; the message names the URL and the reason."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class FetchPolicy(BaseModel):
    """The limits every request is held to."""

    model_config = ConfigDict(frozen=True)

    allow_private: bool = False
    timeout_s: float = 10.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    user_agent: str = USER_AGENT


class Fetched(BaseModel):
    """A response that passed every check; `body` is empty when the server said 304."""

    model_config = ConfigDict(frozen=True)

    url: str
    status: int
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    """Fetches URLs under one policy; remembers each site's robots.txt for its lifetime."""

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}

    def get(
        self,
        url: str,
        *,
        accept: Iterable[str],
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """The response to GET `url` (redirects followed), or FetchError saying why not."""
        try:
            parts = urlsplit(url)
            _ = parts.port  # raises on a port that is not a number
        except ValueError as exc:
            raise FetchError(url, f"this is not a valid address ({exc})") from exc
        accepted = tuple(accept)
        headers = {"Accept": ", ".join(accepted) + ", */*;q=0.1"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + 3 * self.policy.timeout_s
        current = url
        for _ in range(self.policy.max_redirects + 1):
            if urlsplit(current).scheme not in ("http", "https"):
                raise FetchError(url, "only http:// and https:// addresses can be fetched")
            self._check_robots(current, deadline)
            response = self._request(current, headers, deadline)
            location = response.headers.get("Location")
            if response.status in (301, 302, 303, 307, 308) and location:
                response.release_conn()
                current = urljoin(current, location)
                continue
            return self._accept(url, current, response, accepted, deadline)
        raise FetchError(
            url, f"more than {self.policy.max_redirects} redirects; give the final address"
        )

    def _accept(
        self,
        url: str,
        final: str,
        response: urllib3.BaseHTTPResponse,
        accepted: tuple[str, ...],
        deadline: float,
    ) -> Fetched:
        """Check status and type, then read the body under the size cap."""
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if response.status == 304:
            response.release_conn()
            return Fetched(url=final, status=304, content_type=content_type, body=b"")
        if response.status >= 400:
            response.release_conn()
            raise FetchError(url, f"the server answered {response.status} {response.reason}")
        if response.status != 200:
            response.release_conn()
            raise FetchError(url, f"unexpected HTTP status {response.status}")
        if content_type not in accepted:
            response.release_conn()
            raise FetchError(
                url,
                f"the server sent {content_type or 'no content type'}, expected "
                + " or ".join(accepted[:2]),
            )
        body = self._read(url, response, deadline)
        return Fetched(
            url=final,
            status=200,
            content_type=content_type,
            body=body,
            etag=etag,
            last_modified=modified,
        )

    def _read(self, url: str, response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
        """The decoded body, refused past `max_bytes` or past the deadline (a slow drip)."""
        cap = self.policy.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            response.release_conn()
            raise FetchError(url, f"{int(declared):,} bytes is over the {cap:,}-byte limit")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.stream(65_536, decode_content=True):
                size += len(chunk)
                if size > cap:
                    raise FetchError(url, f"the response is over the {cap:,}-byte limit")
                if time.monotonic() > deadline:
                    raise FetchError(url, "the server is sending too slowly; try again later")
                chunks.append(chunk)
        except urllib3.exceptions.HTTPError as exc:
            raise FetchError(url, f"the connection failed while reading ({exc})") from exc
        finally:
            response.release_conn()
        return b"".join(chunks)

    def _request(
        self, url: str, headers: dict[str, str], deadline: float
    ) -> urllib3.BaseHTTPResponse:
        """One GET to a checked address of the URL's host, redirects not followed."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(url, "only http:// and https:// addresses can be fetched")
        host = parts.hostname
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise FetchError(url, "the port number is not valid") from exc
        address = self._checked_address(url, host, port)
        left = max(0.1, min(self.policy.timeout_s, deadline - time.monotonic()))
        timeout = urllib3.Timeout(connect=left, read=left)
        pool: urllib3.HTTPConnectionPool
        if parts.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address, port, server_hostname=host, assert_hostname=host, timeout=timeout
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        default_port = port == (443 if parts.scheme == "https" else 80)
        sent = {
            **headers,
            "Host": host if default_port else f"{host}:{port}",
            "User-Agent": self.policy.user_agent,
        }
        try:
            return pool.urlopen(
                "GET",
                path,
                headers=sent,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.NewConnectionError as exc:  # a subclass of the timeout
            raise FetchError(url, f"unreachable ({_short(exc)})") from exc
        except urllib3.exceptions.TimeoutError as exc:
            raise FetchError(url, "the server did not answer in time; try again later") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise FetchError(url, f"unreachable ({_short(exc)})") from exc

    def _checked_address(self, url: str, host: str, port: int) -> str:
        """The first address `host` resolves to, once every one of them is allowed."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(url, f"the host name {host!r} cannot be resolved") from exc
        addresses = [str(info[4][0]) for info in infos]
        if not addresses:
            raise FetchError(url, f"the host name {host!r} has no address")
        if not self.policy.allow_private:
            for address in addresses:
                kind = forbidden_kind(address)
                if kind:
                    raise FetchError(
                        url,
                        f"{host} resolves to {address}, a {kind} address, which is refused; "
                        "set CITEBOT_FETCH_ALLOW_PRIVATE=true to fetch from your own network",
                    )
        return addresses[0]

    def _check_robots(self, url: str, deadline: float) -> None:
        """Refuse a URL the site's robots.txt disallows for citebot."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        robots = self._robots.get(origin)
        if robots is None:
            robots = self._read_robots(origin, deadline)
            self._robots[origin] = robots
        if not robots.can_fetch(self.policy.user_agent, url):
            raise FetchError(url, "the site's robots.txt does not allow fetching this page")

    def _read_robots(self, origin: str, deadline: float) -> urllib.robotparser.RobotFileParser:
        """The site's robots.txt; missing (4xx) allows everything, as RFC 9309 says."""
        robots = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        try:
            response = self._request(origin + "/robots.txt", {}, deadline)
        except FetchError as exc:
            if "refused" in exc.reason:
                raise
            robots.parse([])  # unreachable: the page request will report it
            return robots
        status = response.status
        if 400 <= status < 500 or status in (301, 302, 303, 307, 308):
            response.release_conn()
            robots.parse([])
            return robots
        text = self._read(origin + "/robots.txt", response, deadline) if status == 200 else b""
        if status >= 500:
            # RFC 9309: a server error means "assume complete disallow" for now.
            robots.parse(["User-agent: *", "Disallow: /"])
        else:
            robots.parse(text.decode("utf-8", "replace").splitlines())
        return robots


def forbidden_kind(address: str) -> str | None:
    """Why an IP address may not be fetched by default ("loopback", ...), or None."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved or not ip.is_global),
    ):
        if flag:
            return kind
    return None


def _short(exc: Exception) -> str:
    """The last, most specific part of a urllib3 error message."""
    text = str(exc)
    return text.rsplit(": ", 1)[-1][:200] if ": " in text else text[:200]
