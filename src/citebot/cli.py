"""The `citebot` command: ask, sources, source, ingest, eval, and installed extensions' commands.

An extension adds a command through the entry point group `citebot.commands`: the
entry point's name is the command, its object a function `run(settings, argv) -> int`
taking the command's own arguments (`citebot bot` and `citebot db` are the Discord
adapter's, declared in pyproject.toml). The core thus
never names the packages built on it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, TextIO

from citebot.cite import Answer
from citebot.corpus.articles import Article, Corpus
from citebot.corpus.folder import load_corpus
from citebot.corpus.snapshot import Written
from citebot.errors import CitebotError, CorpusError, QuestionError
from citebot.pipeline import Asker
from citebot.retrieval.cache import load_index
from citebot.settings import Settings


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings()
    except Exception as exc:  # pydantic's ValidationError names the variable
        print(f"citebot: bad setting: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "corpus", None):
        settings = settings.model_copy(update={"corpus_dir": Path(args.corpus)})
    try:
        result: int = args.run(args, settings)
        return result
    except CitebotError as exc:
        print(f"citebot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citebot",
        description="Answer questions from a corpus of news articles with exact, cited quotes.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer a question (or a batch of questions)")
    ask.add_argument("question", nargs="?", help="the question, in quotes")
    ask.add_argument("--source", metavar="ID", help="only search the article with this id")
    ask.add_argument("--batch", metavar="FILE", help="one question per line ('-' for stdin)")
    ask.add_argument("--json", action="store_true", help="print JSON instead of text")
    _corpus_option(ask)
    ask.set_defaults(run=_cmd_ask)

    sources = sub.add_parser("sources", help="list the articles")
    sources.add_argument("--json", action="store_true")
    _corpus_option(sources)
    sources.set_defaults(run=_cmd_sources)

    source = sub.add_parser("source", help="show one article")
    source.add_argument("id", help="the article id (see `citebot sources`)")
    source.add_argument("--json", action="store_true")
    _corpus_option(source)
    source.set_defaults(run=_cmd_source)

    ingest = sub.add_parser(
        "ingest", help="turn raw txt/md/html files, or web pages by URL, into corpus articles"
    )
    ingest.add_argument("files", nargs="+", metavar="FILE_OR_URL")
    ingest.add_argument("--force", action="store_true", help="replace an existing article")
    _corpus_option(ingest)
    ingest.set_defaults(run=_cmd_ingest)

    feeds = sub.add_parser("feeds", help="feeds poll: fetch CITEBOT_FEEDS once (for cron)")
    feeds.add_argument("action", choices=["poll", "status"])
    _corpus_option(feeds)
    feeds.set_defaults(run=_cmd_feeds)

    evaluate = sub.add_parser("eval", help="measure answer quality (eval squad FILE ...)")
    evaluate.add_argument("rest", nargs=argparse.REMAINDER)
    evaluate.set_defaults(run=_cmd_eval)

    for name, entry in sorted(_extension_commands().items()):
        if name in sub.choices:  # an extension cannot replace a built-in command
            continue
        extension = sub.add_parser(name, help=f"run {entry.value} (an installed extension)")
        _corpus_option(extension)
        extension.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        extension.set_defaults(run=_run_extension, entry=entry)
    return parser


COMMAND_GROUP = "citebot.commands"


def _extension_commands() -> dict[str, EntryPoint]:
    """The commands installed packages declare, by name (nothing is imported yet)."""
    return {entry.name: entry for entry in entry_points(group=COMMAND_GROUP)}


def _corpus_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus", metavar="DIR", help="corpus folder (default: $CITEBOT_CORPUS_DIR or corpus/)"
    )


def _load(
    settings: Settings,
    *,
    progress: bool = True,
    previous: Corpus | None = None,
    written: Written | None = None,
) -> Corpus:
    """The corpus folder (`written`: only the files this command wrote are read again)."""
    corpus = load_corpus(
        settings.corpus_dir,
        progress=progress and sys.stderr.isatty(),
        previous=previous,
        cache_dir=settings.cache_dir if settings.use_cache else None,
        written=written,
    )
    for problem in corpus.problems:
        print(f"warning: skipped {problem}", file=sys.stderr)
    return corpus


def _asker(
    settings: Settings, *, previous: Corpus | None = None, written: Written | None = None
) -> Asker:
    corpus = _load(settings, previous=previous, written=written)
    cache = settings.cache_dir if settings.use_cache else None
    return Asker(
        load_index(corpus, cache, progress=sys.stderr.isatty()),
        min_confidence=settings.min_confidence,
        answer_confidence=settings.answer_confidence,
        max_question_chars=settings.max_question_chars,
    )


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if args.batch:
        if args.question:
            raise QuestionError("give either a question or --batch FILE, not both")
        return _ask_batch(args.batch, settings, sys.stdout)
    if not args.question:
        raise QuestionError('no question given; try: citebot ask "when did the Hetao park open?"')
    answer = _asker(settings).ask(args.question, source=args.source)
    print(answer.model_dump_json(indent=2) if args.json else render(answer))
    return 0


def _ask_batch(path: str, settings: Settings, out: TextIO) -> int:
    """One JSON answer per input line, in order; a bad line gets an `error` object, not a stop."""
    asker = _asker(settings)
    if path == "-":
        lines: Iterable[str] = sys.stdin
    else:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise QuestionError(f"cannot read the batch file {path}: {exc}") from exc
    for question, source in _batch_items(lines):
        try:
            record: dict[str, Any] = asker.ask(question, source=source).model_dump(mode="json")
        except QuestionError as exc:
            record = {"question": question, "answered": False, "error": str(exc)}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
    return 0


def _batch_items(lines: Iterable[str]) -> Iterator[tuple[str, str | None]]:
    """Questions from plain lines or {"question", "source"} objects; blank lines are skipped."""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                yield line, None
                continue
            if isinstance(item, dict) and isinstance(item.get("question"), str):
                source = item.get("source")
                yield item["question"], source if isinstance(source, str) else None
                continue
        yield line, None


TIER_HEADS = {"answer": "Answer:", "possible": "Possible answer — check the quote:"}


def render(answer: Answer) -> str:
    """A readable answer, as the bot lays it out: question, tier and headline, quote, and
    one line per cited article."""
    lines = [f"Q: {answer.question}"]
    if answer.read_as:
        lines.append(f"  ({answer.read_as_text()})")
    if not answer.answered or not answer.citations:
        said = "No answer: the articles don't say."
        if answer.unknown_words:
            said += f" Nothing in them mentions {', '.join(answer.unknown_words[:4])}."
        lines.append(said)
        if answer.suggestions:
            lines.append(f"  Closest article: {answer.suggestions[0]}")
        lines.append(f"Confidence: {answer.confidence:.2f} (tier: none)")
        return "\n".join(lines)
    headline = answer.normalized_text or answer.answer
    lines.append(f"{TIER_HEADS.get(answer.tier, 'Answer:')} {headline}")
    if answer.normalized_text and answer.answer != answer.normalized_text:
        lines.append(f"  (the article says “{answer.answer}”)")
    lines.append(f"  “{answer.quote}”")
    seen: set[str] = set()
    for c in answer.citations:
        if c.article_id in seen:
            continue
        seen.add(c.article_id)
        meta = ", ".join(x for x in (c.source, long_date(c.date), c.url) if x)
        lines.append(f"  [{len(seen)}] {c.title}" + (f" — {meta}" if meta else ""))
    lines.append(f"Confidence: {answer.confidence:.2f} (tier: {answer.tier})")
    return "\n".join(lines)


def long_date(iso: str | None) -> str | None:
    """An ISO date as "7 September 2023", the one format the bot uses too."""
    try:
        day = dt.date.fromisoformat(iso) if iso else None
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}" if day else None


def _article_summary(article: Article) -> dict[str, Any]:
    return article.model_dump(mode="json", exclude={"body"})


def _cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    corpus = _load(settings)
    if args.json:
        print(
            json.dumps([_article_summary(a) for a in corpus.articles], ensure_ascii=False, indent=2)
        )
        return 0
    if not corpus.articles:
        print(f"No articles in {settings.corpus_dir}; add .md, .txt or .html files there.")
    for a in corpus.articles:
        print(f"{a.id}  {a.date or 'undated'}  {a.title}")
    return 0


def _cmd_source(args: argparse.Namespace, settings: Settings) -> int:
    corpus = _load(settings)
    article = corpus.get(args.id)
    if article is None:
        raise QuestionError(f"no article with id {args.id!r}; `citebot sources` lists them")
    if args.json:
        print(article.model_dump_json(indent=2))
        return 0
    print(article.title)
    print(", ".join(x for x in (str(article.date or "undated"), article.source, article.url) if x))
    print()
    print(article.body)
    return 0


def _cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Write each file or page into the corpus, then index what was written alone."""
    given: list[str] = args.files
    urls = [x for x in given if x.startswith(("http://", "https://"))]
    files = [Path(x) for x in given if x not in urls]
    failed, written = _ingest_urls(urls, settings, force=args.force) if urls else (0, Written())
    corpus = None
    if files:
        failed_files, corpus, more = _ingest_files(files, settings, force=args.force)
        failed, written = failed + failed_files, written | more
    if written.files:
        # Index the new articles now, so the next question does not wait; the folder is
        # not scanned again: only the written files are read (`load_corpus(written=)`).
        _asker(settings, previous=corpus, written=written)
    return 1 if failed else 0


def _ingest_files(
    files: list[Path], settings: Settings, *, force: bool
) -> tuple[int, Corpus | None, Written]:
    """Convert raw files into the corpus: how many failed, the corpus they were checked
    against (its ids), and the files written."""
    from citebot.corpus.ingest import ingest_file

    root = settings.corpus_dir
    cache = settings.cache_dir if settings.use_cache else None
    # Its problems are reported once, by the update after the writing.
    corpus = load_corpus(root, cache_dir=cache) if root.is_dir() else None
    existing = {a.id: a.path for a in corpus.articles} if corpus is not None else {}
    iterator: Iterable[Path] = files
    if sys.stderr.isatty() and len(files) > 1:
        from tqdm import tqdm

        iterator = tqdm(files, desc="ingesting", unit="file")
    failed, written = 0, []
    for path in iterator:
        try:
            done = ingest_file(path, root, force=force, existing=existing)
        except CorpusError as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        except OSError as exc:
            failed += 1
            print(f"error: {path}: cannot be read ({exc.strerror})", file=sys.stderr)
            continue
        name = done.target.relative_to(root).as_posix()
        existing[done.article.id] = name
        written.append(name)
        print(f"{path} -> {done.target}")
        print(f"  title: {done.article.title}")
        print(f"  date:  {done.article.date or 'unknown'}")
        for note in done.notes:
            print(f"  - {note}")
    return failed, corpus, Written(tuple(written))


def _ingest_urls(urls: list[str], settings: Settings, *, force: bool) -> tuple[int, Written]:
    """Fetch each page into corpus/web/: the number that failed, and the files written."""
    from citebot.feeds.feeds import add_page
    from citebot.feeds.fetch import FetchError

    fetcher = _fetcher(settings)
    failed, written = 0, []
    for url in urls:
        try:
            target, _article = add_page(fetcher, settings.corpus_dir, url, force=force)
        except (FetchError, OSError) as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        written.append(target.relative_to(settings.corpus_dir).as_posix())
        print(f"{url} -> {target}")
    return failed, Written(tuple(written))


def _fetcher(settings: Settings) -> Any:
    from citebot.feeds.fetch import Fetcher, FetchPolicy

    return Fetcher(FetchPolicy(allow_private=settings.fetch_allow_private))


def _cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    from citebot.feeds.feeds import feed_states, poll_all, written_by

    if not settings.feeds:
        raise CitebotError(
            "no feeds configured; set CITEBOT_FEEDS to RSS/Atom URLs (comma-separated)"
        )
    if args.action == "status":
        for state in feed_states(settings.corpus_dir, settings.feeds):
            when = state.last_poll.isoformat() if state.last_poll else "never polled"
            error = f"  ({state.last_error})" if state.last_error else ""
            print(f"{state.url}  {when}  {state.articles} articles{error}")
        return 0
    results = poll_all(_fetcher(settings), settings.corpus_dir, settings.feeds)
    failed = 0
    for result in results:
        print(
            f"{result.feed}: {len(result.added)} new, {len(result.replaced)} replaced, "
            f"{result.unchanged} unchanged"
        )
        for failure in result.failures:
            failed += 1
            print(f"error: {failure}", file=sys.stderr)
    if any(r.added or r.replaced for r in results):
        _asker(settings, written=written_by(results))  # index what was written, alone
    return 1 if failed else 0


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    rest: list[str] = args.rest
    if not rest or rest[0] != "squad":
        raise QuestionError("usage: citebot eval squad FILE [--mode open|gold] [--limit N]")
    from citebot.evaluation.evaluate import main as eval_main

    return eval_main(rest[1:])


def _run_extension(args: argparse.Namespace, settings: Settings) -> int:
    entry: EntryPoint = args.entry
    try:  # imported only when its command runs: `citebot ask` never loads discord
        run: Callable[[Settings, list[str]], int] = entry.load()
    except (ImportError, AttributeError) as exc:
        raise CitebotError(
            f"the `{entry.name}` command is not available ({exc}); reinstall citebot "
            f"with its dependencies (pip install -e .)"
        ) from exc
    return int(run(settings, list(args.rest)))


if __name__ == "__main__":
    sys.exit(main())
