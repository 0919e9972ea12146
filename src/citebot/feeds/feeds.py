"""RSS/Atom polling and web pages written into the corpus, with each feed's state.

Articles from a feed live in `corpus/feeds/<feed>/` as plain corpus files (Markdown
with YAML front matter), so a person can read, fix or delete them; pages added by
URL live in `corpus/web/`. Each of those folders keeps a `.feed.json` (hidden, so not
an article): the feed's URL, ETag and Last-Modified, when it was last polled and how
that went, and one entry per page taken: its canonical URL, file, body hash and the
feed entry's fingerprint (id, dates, title, summary).

A poll asks for the feed conditionally (an unchanged feed costs a 304), then fetches
only entries it has not seen or whose fingerprint changed; a page whose text is the
same as stored is left alone, a changed one replaces its file. Entries are
deduplicated across every feed folder by canonical URL and by body hash. A failure
(feed or page) is reported with its URL and reason; nothing already stored changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from citebot.atomic import write_atomic
from citebot.corpus.articles import Article
from citebot.corpus.ingest import to_corpus_file
from citebot.corpus.snapshot import Written
from citebot.feeds.fetch import FEED_TYPES, Fetcher, FetchError
from citebot.feeds.pages import canonical_url, fetch_article

log = logging.getLogger(__name__)

FEEDS_DIR = "feeds"
WEB_DIR = "web"
STATE_FILE = ".feed.json"


class Entry(BaseModel):
    """One page taken from a feed (or added by URL), and what it looked like."""

    model_config = ConfigDict(frozen=True)

    file: str | None  # relative to the corpus folder; None: a duplicate of another entry
    body_hash: str
    fingerprint: str = ""


class FeedState(BaseModel):
    """What is known about one feed between polls (its folder's `.feed.json`)."""

    model_config = ConfigDict(frozen=True)

    url: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_poll: dt.datetime | None = None
    last_error: str | None = None
    entries: dict[str, Entry] = Field(default_factory=dict)

    @property
    def articles(self) -> int:
        """How many articles this feed has written (duplicates of others not counted)."""
        return sum(1 for e in self.entries.values() if e.file)


class Failure(BaseModel):
    """A feed or page that could not be taken."""

    model_config = ConfigDict(frozen=True)

    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"


class PollResult(BaseModel):
    """What one poll of one feed did."""

    model_config = ConfigDict(frozen=True)

    feed: str
    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    unchanged: int = 0
    failures: tuple[Failure, ...] = ()
    # The article files written and removed, relative to the corpus folder: handed to
    # the update (`load_corpus(written=...)`), which then reads them alone, without a scan.
    written: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def written_by(results: Sequence[PollResult]) -> Written:
    """The files some polls wrote and removed, for `load_corpus(written=...)`."""
    return Written(
        files=tuple(f for r in results for f in r.written),
        removed=tuple(f for r in results for f in r.removed),
    )


def folder_of(corpus_dir: Path, feed_url: str) -> Path:
    """The corpus subfolder of a feed: its host and path words, plus a short hash."""
    words = re.sub(r"[^A-Za-z0-9.]+", "-", re.sub(r"^https?://(www\.)?", "", feed_url))
    digest = hashlib.sha1(feed_url.encode()).hexdigest()[:8]
    return corpus_dir / FEEDS_DIR / f"{words.strip('-.')[:60].rstrip('-.')}-{digest}"


def load_state(folder: Path, url: str) -> FeedState:
    """The folder's saved state; a missing or unreadable one starts afresh (logged)."""
    path = folder / STATE_FILE
    try:
        state = FeedState.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return FeedState(url=url)
    except (OSError, ValidationError) as exc:
        log.warning("%s is unreadable (%s); starting that feed's state afresh", path, exc)
        return FeedState(url=url)
    return state if state.url == url else FeedState(url=url)


def save_state(folder: Path, state: FeedState) -> None:
    write_atomic(folder / STATE_FILE, state.model_dump_json(indent=1).encode())


def known_pages(corpus_dir: Path) -> tuple[dict[str, str], set[str]]:
    """Every feed folder's pages: canonical URL -> state file, and the body hashes."""
    urls: dict[str, str] = {}
    hashes: set[str] = set()
    for path in sorted(corpus_dir.glob(f"{FEEDS_DIR}/*/{STATE_FILE}")) + sorted(
        corpus_dir.glob(f"{WEB_DIR}/{STATE_FILE}")
    ):
        try:
            state = FeedState.model_validate_json(path.read_bytes())
        except (OSError, ValidationError):
            continue
        for url, entry in state.entries.items():
            urls.setdefault(url, str(path))
            hashes.add(entry.body_hash)
    return urls, hashes


def body_hash(article: Article) -> str:
    return hashlib.sha256(article.body.encode()).hexdigest()[:32]


def poll_feed(fetcher: Fetcher, corpus_dir: Path, feed_url: str) -> PollResult:
    """Fetch one feed and take its new and changed entries into its corpus folder."""
    import feedparser

    folder = folder_of(corpus_dir, feed_url)
    state = load_state(folder, feed_url)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        got = fetcher.get(
            feed_url, accept=FEED_TYPES, etag=state.etag, last_modified=state.last_modified
        )
        if got.not_modified:
            save_state(folder, state.model_copy(update={"last_poll": now, "last_error": None}))
            return PollResult(feed=feed_url, unchanged=len(state.entries))
        parsed = feedparser.parse(got.body)
        if not parsed.entries and (parsed.bozo or not parsed.feed.get("title")):
            raise FetchError(feed_url, "this is not an RSS or Atom feed (no entries found)")
    except FetchError as exc:
        save_state(folder, state.model_copy(update={"last_poll": now, "last_error": exc.reason}))
        return PollResult(feed=feed_url, failures=(Failure(url=feed_url, reason=exc.reason),))
    title = str(parsed.feed.get("title") or "").strip() or None
    result, entries = _take_entries(fetcher, corpus_dir, folder, state, parsed.entries, title)
    first = result.failures[0].reason if result.failures else None
    failed = f"{len(result.failures)} page(s) failed, first: {first}" if first else None
    save_state(
        folder,
        state.model_copy(
            update={
                "title": title,
                "etag": got.etag,
                "last_modified": got.last_modified,
                "last_poll": now,
                "last_error": f"{len(result.failures)} page(s) failed: {failed}"
                if failed
                else None,
                "entries": entries,
            }
        ),
    )
    return result


@dataclass
class _Taking:
    """What one poll has taken so far (entries by canonical URL, hashes seen, the counts)."""

    entries: dict[str, Entry]
    other_urls: dict[str, str]
    hashes: set[str]
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    unchanged: int = 0
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _take_entries(
    fetcher: Fetcher,
    corpus_dir: Path,
    folder: Path,
    state: FeedState,
    items: list[Any],
    feed_title: str | None,
) -> tuple[PollResult, dict[str, Entry]]:
    """Fetch the entries that are new or changed; the result and the feed's new entries."""
    other_urls, hashes = known_pages(corpus_dir)
    entries = dict(state.entries)
    taking = _Taking(entries, other_urls, hashes | {e.body_hash for e in entries.values()})
    for item in items:
        _take_entry(fetcher, corpus_dir, folder, state.url, item, feed_title, taking)
    result = PollResult(
        feed=state.url,
        added=tuple(taking.added),
        replaced=tuple(taking.replaced),
        unchanged=taking.unchanged,
        failures=tuple(taking.failures),
        written=tuple(taking.written),
        removed=tuple(taking.removed),
    )
    return result, taking.entries


def _take_entry(
    fetcher: Fetcher,
    corpus_dir: Path,
    folder: Path,
    feed_url: str,
    item: Any,
    feed_title: str | None,
    taking: _Taking,
) -> None:
    """Take one feed entry: skip it if known and unchanged, else fetch and write its page."""
    link = str(item.get("link") or "").strip()
    if not link:
        taking.failures.append(Failure(url=feed_url, reason="an entry has no link; skipped"))
        return
    url = canonical_url(urljoin(feed_url, link))
    fingerprint = _fingerprint(item)
    old = taking.entries.get(url)
    # Known and unchanged, or another feed (or /add) took this page already.
    if (old is not None and old.fingerprint == fingerprint) or (
        old is None and url in taking.other_urls
    ):
        taking.unchanged += 1
        return
    try:
        article = fetch_article(
            fetcher, url, fallback_date=_entry_date(item), fallback_source=feed_title
        )
    except FetchError as exc:
        taking.failures.append(Failure(url=url, reason=exc.reason))
        return
    digest = body_hash(article)
    if (old is not None and old.body_hash == digest) or (old is None and digest in taking.hashes):
        # The same text as stored (or as another page's): remember the entry, write nothing.
        file = old.file if old is not None else None
        taking.entries[url] = Entry(file=file, body_hash=digest, fingerprint=fingerprint)
        taking.unchanged += 1
        return
    target = folder / f"{article.id}.md"
    write_atomic(target, to_corpus_file(article).encode())
    relative = target.relative_to(corpus_dir).as_posix()
    taking.written.append(relative)
    if old is not None and old.file and (corpus_dir / old.file) != target:
        (corpus_dir / old.file).unlink(missing_ok=True)
        taking.removed.append(old.file)
    (taking.replaced if old is not None else taking.added).append(article.id)
    taking.entries[url] = Entry(file=relative, body_hash=digest, fingerprint=fingerprint)
    taking.hashes.add(digest)


def _fingerprint(item: Any) -> str:
    """What a feed says about an entry: when it changes, the page is fetched again."""
    # dict.get: feedparser's own `get` maps a missing `updated` to `published`, with a warning
    keys = ("id", "updated", "published", "title", "summary")
    parts = [str(dict.get(item, k) or "") for k in keys]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _entry_date(item: Any) -> dt.date | None:
    """The entry's publication (else update) date, as the feed states it."""
    for key in ("published_parsed", "updated_parsed"):
        parsed = dict.get(item, key)
        if parsed:
            return dt.date(*time.struct_time(parsed)[:3])
    return None


def add_page(
    fetcher: Fetcher, corpus_dir: Path, url: str, *, force: bool = False
) -> tuple[Path, Article]:
    """Fetch one page into `corpus/web/`: its file and article; FetchError when it fails
    or is already there."""
    folder = corpus_dir / WEB_DIR
    state = load_state(folder, "web")
    wanted = canonical_url(url)
    other_urls, hashes = known_pages(corpus_dir)
    if not force and wanted in other_urls:
        raise FetchError(url, "this page is already in the corpus; pass --force to fetch it again")
    article = fetch_article(fetcher, wanted)
    digest = body_hash(article)
    if not force and (article.url in other_urls or digest in hashes):
        raise FetchError(url, "the same article is already in the corpus (same text or address)")
    target = folder / f"{article.id}.md"
    write_atomic(target, to_corpus_file(article).encode())
    entry = Entry(file=str(target.relative_to(corpus_dir)), body_hash=digest)
    entries = {**state.entries, wanted: entry}
    save_state(folder, state.model_copy(update={"entries": entries}))
    return target, article


def poll_all(fetcher: Fetcher, corpus_dir: Path, feed_urls: list[str]) -> list[PollResult]:
    """Poll every feed once, one after another; a failing feed never stops the others."""
    results = []
    for url in feed_urls:
        try:
            results.append(poll_feed(fetcher, corpus_dir, url))
        except OSError as exc:  # the corpus folder cannot be written: nothing was taken
            failure = Failure(url=url, reason=f"cannot write to {corpus_dir} ({exc.strerror})")
            results.append(PollResult(feed=url, failures=(failure,)))
    return results


def feed_states(corpus_dir: Path, feed_urls: list[str]) -> list[FeedState]:
    """Each configured feed's saved state (a never-polled feed has no `last_poll`)."""
    return [load_state(folder_of(corpus_dir, url), url) for url in feed_urls]
