"""Fixtures of the feed tests: the loopback site and a fetcher allowed to reach it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from citebot.feeds.fetch import Fetcher, FetchPolicy
from tests.feeds.server import Site, serving


@pytest.fixture
def site() -> Iterator[Site]:
    """A loopback HTTP server serving the routes the test writes."""
    with serving() as state:
        yield state


@pytest.fixture
def fetcher() -> Fetcher:
    """A fetcher allowed to reach loopback (as CITEBOT_FETCH_ALLOW_PRIVATE=true), short timeouts."""
    return Fetcher(FetchPolicy(allow_private=True, timeout_s=2.0, max_bytes=200_000))
