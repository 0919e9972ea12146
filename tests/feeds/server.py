"""A real HTTP server on loopback (http.server in a thread) serving pages and feeds tests write."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What the server answers at one path."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering


class Site:
    """The routes of the test server (changed by tests while it runs) and what was asked."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.base = ""

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str, title: str, paragraphs: list[str], **meta: str) -> None:
        """Serve an article page at `path` (meta: date, site_name)."""
        tags = (
            [f'<meta property="og:site_name" content="{meta["site_name"]}">']
            if "site_name" in meta
            else []
        )
        if "date" in meta:
            tags.append(f'<meta property="article:published_time" content="{meta["date"]}">')
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        html = (
            f"<!doctype html><html><head><title>{title}</title>{''.join(tags)}</head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{body}</article>"
            "<footer>Copyright the test site</footer></body></html>"
        )
        self.routes[path] = Route(html.encode())


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def do_GET(self) -> None:
        self.site.requests.append((self.path, dict(self.headers.items())))
        route = self.site.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        time.sleep(route.delay)
        etag = '"' + hashlib.sha1(route.body).hexdigest()[:12] + '"'
        if route.status == 200 and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(route.body)))
        self.send_header("ETag", etag)
        for key, value in route.headers.items():
            self.send_header(key, value)
        self.end_headers()
        # The client may stop reading (a size cap): that is what such a test checks.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(route.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests assert on `Site.requests` instead."""


@contextmanager
def serving() -> Iterator[Site]:
    """A loopback HTTP server (a real socket, in a thread) serving `Site.routes` meanwhile."""
    state = Site()
    handler = type("Handler", (_Handler,), {"site": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
