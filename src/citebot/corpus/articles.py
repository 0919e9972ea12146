"""Articles and the corpus folder they live in.

An article file is Markdown or plain text with optional YAML front matter (the
Jekyll/Hugo convention: `id`, `title`, `date`, `source`, `url`, `language`), or an
HTML page whose main text and metadata are extracted. Without front matter the
title and date are inferred from the text itself. A file that cannot be read is
reported with its name and the reason; the rest of the corpus still loads.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import frontmatter
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from citebot.errors import CorpusError
from citebot.text.dates import find_dateline, parse_date

if TYPE_CHECKING:
    from citebot.corpus import snapshot as corpus_snapshot

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")
FRONT_MATTER_KEYS = frozenset({"id", "title", "date", "source", "url", "language"})
MAX_FILE_BYTES = 5_000_000
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# " date 2023-09-07 Some title" on the first line: a shape seen in exported feeds.
_DATE_TITLE_LINE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s+(.+?)\s*$", re.I)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")


class Article(BaseModel):
    """One news article or press release; `body` is the text every quote is cut from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    body: str
    date: dt.date | None = None
    source: str | None = None
    url: str | None = None
    language: str = "en"
    path: str | None = Field(default=None, description="file it was loaded from")

    @functools.cached_property
    def content_hash(self) -> str:
        """A hash of everything but `path`: equal hashes mean the index can reuse its work."""
        return hashlib.sha256(self.model_dump_json(exclude={"path"}).encode()).hexdigest()[:32]

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Article:
        """A copy (see pydantic); it recomputes `content_hash`, which `update` may change."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("content_hash", None)
        return copy

    @field_validator("id")
    @classmethod
    def _id_is_safe(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError(
                "id must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or "
                f"digit (got {value!r})"
            )
        return value

    @field_validator("title", "body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://\S+$", value):
            raise ValueError(f"url must start with http:// or https:// (got {value!r})")
        return value


class Problem(BaseModel):
    """A file that was skipped, and why."""

    model_config = ConfigDict(frozen=True)

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class Corpus(BaseModel):
    """The articles that loaded, the files that did not, and a version of the content."""

    model_config = ConfigDict(frozen=True)

    articles: tuple[Article, ...]
    problems: tuple[Problem, ...] = ()
    # The files the articles were read from, with their stat data when the folder was
    # scanned: a reload parses only files whose stat data differ.
    _files: corpus_snapshot.Files | None = PrivateAttr(default=None)
    _snapshot: tuple[int, int] | None = PrivateAttr(default=None)  # its (size, mtime)

    @functools.cached_property
    def version(self) -> str:
        """A short hash of every article's content and metadata: changes when any file does."""
        digest = hashlib.sha256()
        for article in self.articles:
            digest.update(article.content_hash.encode())
        return digest.hexdigest()[:16]

    def get(self, article_id: str) -> Article | None:
        """The article with this id, or None."""
        for article in self.articles:
            if article.id == article_id:
                return article
        return None

    @property
    def ids(self) -> list[str]:
        return [a.id for a in self.articles]


def decode(raw: bytes, name: str) -> str:
    """UTF-8 text of a file (a BOM is allowed); anything else is a CorpusError."""
    if not raw.strip():
        raise CorpusError(name, "the file is empty; put the article text in it or delete it")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise CorpusError(name, f"bad UTF-16 text ({exc.reason})") from exc
    if b"\x00" in raw:
        raise CorpusError(name, "this is a binary file, not text; save the article as UTF-8 text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            name,
            f"not UTF-8 text (byte {exc.start} cannot be decoded); re-save the file as UTF-8",
        ) from exc


def parse_article(name: str, raw: bytes) -> tuple[Article, list[str]]:
    """Parse one file's bytes into an Article, with notes on what was inferred."""
    if len(raw) > MAX_FILE_BYTES:
        raise CorpusError(
            name, f"{len(raw):,} bytes is over the {MAX_FILE_BYTES:,}-byte limit; split it"
        )
    text = decode(raw, name)
    stem = Path(name).stem
    if Path(name).suffix.lower() in {".html", ".htm"}:
        meta, body, notes = _from_html(name, text)
    else:
        meta, body, notes = _from_text(name, text)
    meta.setdefault("id", _default_id(stem))
    try:
        article = Article(**meta, body=body, path=name)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "file"
        raise CorpusError(name, f"{field}: {first['msg']}") from exc
    return article, notes


def _default_id(stem: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:128]
    return slug or "article"


def _from_text(name: str, text: str) -> tuple[dict[str, Any], str, list[str]]:
    """Front matter if present; otherwise infer title and date from the first lines."""
    notes: list[str] = []
    meta: dict[str, Any] = {}
    body = text
    if text.lstrip("\ufeff").startswith("---"):
        try:
            post = frontmatter.loads(text)
        except yaml.YAMLError as exc:
            raise CorpusError(
                name, f"the front matter is not valid YAML ({_yaml_reason(exc)}); fix it"
            ) from exc
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. `date: 0000-00-00`
            raise CorpusError(
                name, f"the front matter has an impossible value ({exc}); fix it"
            ) from exc
        if not isinstance(post.metadata, dict):
            raise CorpusError(name, "the front matter must be YAML `key: value` lines")
        meta = _clean_front_matter(name, post.metadata, notes)
        body = post.content
    body = body.strip()
    if "title" not in meta:
        title, body, how = _infer_title(body)
        if title:
            meta["title"] = title
            notes.append(f"title from {how}")
        else:
            notes.append("no title found")
    date_line = _DATE_TITLE_LINE.match(str(meta.get("title", "")))
    if date_line:  # the inferred first line was " date 2023-09-07 Title"
        meta["title"] = date_line.group(2)
        meta.setdefault("date", parse_date(date_line.group(1)))
        notes.append("date from a leading 'date YYYY-MM-DD' line")
    if meta.get("date") is None:
        dateline = find_dateline(body)
        if dateline:
            meta["date"] = dateline
            notes.append("date from the dateline")
        else:
            meta.pop("date", None)
            notes.append("no date found")
    return meta, body, notes


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "syntax error"
    return f"{problem} at line {mark.line + 1}" if mark is not None else str(problem)


def _clean_front_matter(name: str, data: dict[Any, Any], notes: list[str]) -> dict[str, Any]:
    """Keep the known keys, as strings or a date; unknown keys are noted, not fatal."""
    meta: dict[str, Any] = {}
    for key, value in data.items():
        if key not in FRONT_MATTER_KEYS:
            notes.append(f"unknown front matter key {key!r} ignored")
            continue
        if value is None or value == "":
            continue
        if key == "date":
            meta["date"] = _front_matter_date(name, value)
        elif isinstance(value, str | int | float):
            meta[key] = str(value).strip()
        else:
            raise CorpusError(name, f"front matter {key!r} must be a single value, not {value!r}")
    return meta


def _front_matter_date(name: str, value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    parsed = parse_date(str(value))
    if parsed is None:
        raise CorpusError(name, f"date {value!r} is not a date; write it as YYYY-MM-DD")
    return parsed


def _infer_title(body: str) -> tuple[str | None, str, str]:
    """First Markdown heading, else the first line when it reads like a title."""
    lines = body.split("\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        heading = _HEADING.match(line)
        if heading:
            return heading.group(1), "\n".join(lines[i + 1 :]).strip(), "the first heading"
        if len(line) <= 300:
            return line.strip(), "\n".join(lines[i + 1 :]).strip(), "the first line"
        return None, body, ""
    return None, body, ""


def _from_html(name: str, html: str) -> tuple[dict[str, Any], str, list[str]]:
    """Main text and metadata of a web page, via trafilatura (imported only when needed)."""
    import trafilatura

    doc = trafilatura.bare_extraction(html, with_metadata=True, favor_recall=True)
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not text:
        raise CorpusError(name, "no article text found in this HTML page")
    notes = ["text and metadata extracted from HTML"]
    meta: dict[str, Any] = {}
    title = getattr(doc, "title", None)
    if title:
        meta["title"] = title.strip()
        first, _, rest = text.partition("\n")
        if first.strip() == meta["title"] and rest.strip():
            text = rest.strip()  # the page repeats its title as the first line
    else:
        inferred, text, _how = _infer_title(text)
        if inferred:
            meta["title"] = inferred
    date = parse_date(str(getattr(doc, "date", "") or ""))
    if date:
        meta["date"] = date
    url = getattr(doc, "url", None)
    if url and re.match(r"^https?://", url):
        meta["url"] = url
    source = getattr(doc, "sitename", None)
    if source:
        meta["source"] = source
    return meta, text, notes


def iter_article_files(directory: Path) -> list[Path]:
    """Article files of a corpus folder, sorted; README files and hidden files are not articles."""
    from citebot.corpus.snapshot import scan

    return [directory / rel for rel in scan(directory)]


def load_files(
    files: Sequence[Path], *, root: Path | None = None, progress: bool = False
) -> Corpus:
    """Load the given files as one corpus, keeping the first of two files with the same id."""
    loaded: dict[str, Article | Problem] = {}
    for path in progress_bar(files, progress, "loading"):
        name = str(path.relative_to(root)) if root else str(path)
        loaded[name] = parse_file(path, name)
    return assemble(loaded)


def parse_file(path: Path, name: str) -> Article | Problem:
    """One file's article, or the problem that stops it loading."""
    try:
        article, _notes = parse_article(name, path.read_bytes())
    except CorpusError as exc:
        return Problem(path=name, reason=exc.reason)
    except OSError as exc:
        return Problem(path=name, reason=f"cannot be read ({exc.strerror})")
    except Exception as exc:  # a parser bug on odd input must not stop the corpus
        log.exception("unexpected error loading %s", name)
        return Problem(path=name, reason=f"could not be parsed ({type(exc).__name__}: {exc})")
    return article


def assemble(loaded: Mapping[str, Article | Problem | None]) -> Corpus:
    """The corpus of files loaded in order, keeping the first of two with the same id."""
    articles: list[Article] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for name, item in loaded.items():
        if item is None:
            continue
        if isinstance(item, Problem):
            problems.append(item)
        elif item.id in seen:
            problems.append(
                Problem(
                    path=name,
                    reason=f"duplicate id {item.id!r} (also in {seen[item.id]}); "
                    "give one of them another `id:` in its front matter",
                )
            )
        else:
            seen[item.id] = name
            articles.append(item)
    return Corpus.model_construct(articles=tuple(articles), problems=tuple(problems))


def progress_bar(items: Sequence[Path], enabled: bool, label: str) -> Iterable[Path]:
    if not enabled or len(items) < 50:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=label, unit="file", leave=False)
