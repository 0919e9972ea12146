"""`citebot ingest`: raw files (txt, md, html) -> corpus files with YAML front matter.

Raw text as scraped often carries page furniture: indentation, bullet markers,
"Go to Main Content" links. Those are removed; every other character of the text
is kept, because quotes must be exact. What was inferred (title, date, source)
and what could not be is reported, and an existing article is never overwritten
unless asked (`--force`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from citebot.atomic import write_atomic
from citebot.corpus.articles import Article, iter_article_files, load_files, parse_article
from citebot.errors import CorpusError

_BULLET = re.compile(r"^[ \t]*(?:[•·▪●◦‣∙]|\*(?=\s))[ \t]*")
_NAV_LINE = re.compile(
    r"^\s*(?:(?:skip|go|jump) to (?:the )?(?:main )?content|back to top|home|menu|search|"
    r"share|print|print this page|close|sign in|log in|subscribe)\s*$",
    re.I,
)


@dataclass(frozen=True)
class Ingested:
    """One ingested file: where it was written and what was inferred."""

    source: Path
    target: Path
    article: Article
    notes: list[str]


def clean_raw_text(text: str) -> str:
    """Drop navigation lines, bullet markers and indentation; keep every other character."""
    lines = []
    for line in text.splitlines():
        if _NAV_LINE.match(line):
            continue
        lines.append(_BULLET.sub("", line).strip())
    lines = [line for line in lines if line]
    # Short labels above the headline ("Press Releases") are page furniture: the
    # headline is the first line of five words or more.
    headline = next((i for i, line in enumerate(lines) if len(line.split()) >= 5), 0)
    lines = lines[headline:]
    # One blank line between paragraphs, as the corpus format expects.
    return re.sub(r"\n{3,}", "\n\n", "\n\n".join(line for line in lines if line)).strip()


def ingest_file(
    path: Path,
    corpus_dir: Path,
    *,
    force: bool = False,
    existing: Mapping[str, str | None] | None = None,
) -> Ingested:
    """Convert one raw file into `corpus_dir/<id>.md`; raise CorpusError with the reason.

    `existing` maps the ids of the corpus's articles to their files (the CLI passes its
    loaded corpus's, and adds each file it ingests); without it the folder is parsed
    to find them (every file: ~45 s at 1M passages).
    """
    raw = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".txt":
        from citebot.corpus.articles import decode

        raw = clean_raw_text(decode(raw, path.name)).encode()
    article, notes = parse_article(path.name, raw)
    target = corpus_dir / f"{article.id}.md"
    if existing is None:
        existing = (
            {
                a.id: a.path
                for a in load_files(iter_article_files(corpus_dir), root=corpus_dir).articles
            }
            if corpus_dir.is_dir()
            else {}
        )
    if not force and (target.exists() or article.id in existing):
        where = existing.get(article.id) or target.name
        raise CorpusError(
            path.name,
            f"an article with id {article.id!r} already exists ({where}); "
            "pass --force to replace it, or give this file another name",
        )
    corpus_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(target, to_corpus_file(article).encode())  # a replaced file: old or new
    missing = [f for f in ("date", "source", "url") if getattr(article, f) is None]
    if missing:
        notes.append("not found: " + ", ".join(missing) + " (add them to the front matter)")
    return Ingested(path, target, article, notes)


def to_corpus_file(article: Article) -> str:
    """The article as Markdown with YAML front matter (the format the loader reads)."""
    meta = {
        "id": article.id,
        "title": article.title,
        "date": article.date,
        "source": article.source,
        "url": article.url,
        "language": article.language,
    }
    front = yaml.safe_dump(
        {k: v for k, v in meta.items() if v is not None},
        sort_keys=False,
        allow_unicode=True,
        width=1000,
    )
    return f"---\n{front}---\n\n{article.body.strip()}\n"
