"""A web page -> an Article: trafilatura's main text and metadata, nothing invented.

The title, date and site name are the page's own (its meta tags, JSON-LD, `<title>`);
a date or source the page does not state is left out, or taken from the feed that
listed the page (`fallback_date`, `fallback_source`), which states them too. The
article's URL is the page's canonical URL (`<link rel=canonical>`, `og:url`) when it
names an http(s) address, else the address it was fetched from; its id is made from
that URL, so the same page fetched again is the same article.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from citebot.corpus.articles import MAX_FILE_BYTES, Article
from citebot.feeds.fetch import PAGE_TYPES, Fetcher, FetchError
from citebot.text.dates import parse_date

# trafilatura names a page without a site name after its host: that is not a name the
# page states, so it is not kept as the article's source.
_HOST = re.compile(r"^https?://(?:www\.)?([^/]+)")
# Fewer words than this is navigation or a stub (a login wall, "Home"), not an article.
MIN_WORDS = 20


def canonical_url(url: str) -> str:
    """The URL without fragment, default port or trailing `?`, scheme and host lower-cased.

    FetchError when it cannot be read as a URL (a bad port, an unclosed `[` of IPv6).
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchError(url, f"this is not a valid address ({exc})") from exc
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host if port in (None, default) else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def article_id_for(url: str) -> str:
    """A readable, stable id for the page at `url`: host and last path words, plus a hash."""
    parts = urlsplit(url)
    words = [w for w in re.split(r"[^A-Za-z0-9]+", parts.path) if w and w not in ("html", "htm")]
    host = (parts.hostname or "page").removeprefix("www.")
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", f"{host}-{'-'.join(words[-8:])}").strip("-.")
    digest = hashlib.sha1(url.encode()).hexdigest()[:8]
    return f"{slug[:100].rstrip('-.')}-{digest}"


def page_to_article(
    html: bytes,
    url: str,
    *,
    fallback_date: dt.date | None = None,
    fallback_source: str | None = None,
) -> Article:
    """The article in a fetched page; FetchError (naming the URL) when it holds no text."""
    import trafilatura

    if len(html) > MAX_FILE_BYTES:
        raise FetchError(url, f"the page is over the {MAX_FILE_BYTES:,}-byte article limit")
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, favor_recall=True)
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if len(text.split()) < MIN_WORDS:
        raise FetchError(url, "no article text found on this page")
    title = (getattr(doc, "title", None) or "").strip()
    first, _, rest = text.partition("\n")
    if title and first.strip() == title and rest.strip():
        text = rest.strip()  # the page repeats its title as the first line
    stated = getattr(doc, "url", None) or ""
    final_url = canonical_url(stated if re.match(r"^https?://\S+$", stated) else url)
    meta: dict[str, Any] = {
        "id": article_id_for(final_url),
        "title": title or first.strip()[:300],
        "body": text,
        "url": final_url,
        "date": parse_date(str(getattr(doc, "date", "") or "")) or fallback_date,
        "source": _stated_source(getattr(doc, "sitename", None), final_url) or fallback_source,
    }
    try:
        return Article(**meta)
    except ValidationError as exc:
        first_error = exc.errors()[0]
        field = ".".join(str(p) for p in first_error["loc"])
        raise FetchError(url, f"the page gives no usable {field} ({first_error['msg']})") from exc


def fetch_article(
    fetcher: Fetcher,
    url: str,
    *,
    fallback_date: dt.date | None = None,
    fallback_source: str | None = None,
) -> Article:
    """Fetch one page and make it an article (FetchError on any failure)."""
    page = fetcher.get(url, accept=PAGE_TYPES)
    return page_to_article(
        page.body, page.url, fallback_date=fallback_date, fallback_source=fallback_source
    )


def _stated_source(sitename: str | None, url: str) -> str | None:
    """The site name the page states; trafilatura's fallback to the host name is dropped."""
    if not sitename or not sitename.strip():
        return None
    host = _HOST.match(url)
    if host and sitename.strip().lower() == host[1].lower():
        return None
    return sitename.strip()
