"""Loading a corpus folder again: from a scan of it, or from the files citebot wrote.

Two ways to learn what changed since the folder was last loaded, feeding one update:

* a scan (a start, `/reload`, `citebot ask`): every article file's stat data is
  compared with the previous load's (`snapshot.scan_files`); a person may have edited,
  added or deleted any file. At 1M passages stat-ing the 182k files is 1.3-2.2 s;
* the writer's list (`citebot ingest`, `citebot feeds poll`, the bot's /add and feed
  poller): the files it wrote, replaced and removed (`snapshot.Written`) are stat-ed
  alone (`snapshot.restat`), so adding one article costs no scan. Files changed by hand
  meanwhile are left as they were loaded, until the next scan finds them.

Either way, only the files whose stat data differ (or that are new) are parsed; the
others' articles are reused from the previous load or the snapshot, whose stat data are
updated, so a later scan does not read the written files again.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection
from pathlib import Path, PurePosixPath

from citebot.corpus import articles as parsing
from citebot.corpus import snapshot as snap
from citebot.corpus.articles import Article, Corpus, Problem
from citebot.errors import CorpusError

log = logging.getLogger(__name__)


def load_folder(
    directory: Path,
    *,
    progress: bool = False,
    previous: Corpus | None = None,
    cache_dir: Path | None = None,
    written: snap.Written | None = None,
    defer_save: Callable[[Callable[[], None]], None] | None = None,
) -> Corpus:
    """`articles.load_corpus` (see there); `written` skips the scan (module docstring)."""
    if not directory.is_dir():
        raise CorpusError(str(directory), "no such folder; set CITEBOT_CORPUS_DIR or --corpus")
    snapshot = snap.snapshot_path(cache_dir, directory) if cache_dir is not None else None
    # A snapshot changed since the previous load (damaged, deleted) is written again.
    stale = snapshot is not None and snap.file_stat(snapshot) is None
    base: snap.Files | None = None
    if previous is not None and previous._files is not None:
        base = previous._files
        stale = stale or snap.file_stat(snapshot) != previous._snapshot
    elif snapshot is not None:
        base = snap.load_snapshot(snapshot)
    # Without a previous load to start from, the writer's list is not enough: scan.
    changes = _inside(written) if written is not None and base is not None else None
    names = changes.paths if changes is not None else None
    if names is None or base is None:
        now = snap.scan_files(directory)
    else:
        now = snap.restat(directory, base, names)
    if base is not None and not names and base.unchanged(now):  # the usual start
        corpus = Corpus.model_construct(articles=tuple(base.articles or ()), problems=())
        files = base
    else:
        corpus, files = _load_changed(directory, now, base, progress, changes)
    if previous is not None and corpus.problems:
        corpus = _carry_over(corpus, previous)
    if previous is not None and names is not None:
        corpus = _untouched_problems(corpus, previous, names)
    corpus._files, corpus._snapshot = files, snap.file_stat(snapshot)
    # A scan-based reload leaves a snapshot that is only out of date as it is: the next
    # start parses the files changed since, and writes it then (250 MB at 1M passages,
    # ~1 s). A writer's update writes it, so that no start reads those files again.
    if snapshot is not None and (stale or (files is not base and (previous is None or names))):
        save = functools.partial(_save_snapshot, snapshot, files, corpus)
        save() if defer_save is None else defer_save(save)
    return corpus


def _save_snapshot(path: Path, files: snap.Files, corpus: Corpus) -> None:
    """Write the snapshot, and remember its stat data: the next reload must not take the
    snapshot for one changed behind its back (and write it again)."""
    snap.save_snapshot(path, files)
    corpus._snapshot = snap.file_stat(path)


def _inside(written: snap.Written) -> snap.Written:
    """The writer's paths that name a file inside the corpus folder (others are logged and
    ignored: a writer only writes inside it)."""

    def keep(names: tuple[str, ...]) -> tuple[str, ...]:
        kept = []
        for name in names:
            path = PurePosixPath(name)
            if path.is_absolute() or ".." in path.parts or not path.parts:
                log.warning("ignoring %r: not a path inside the corpus folder", name)
                continue
            kept.append(str(path))
        return tuple(kept)

    return snap.Written(keep(written.files), keep(written.removed))


def _load_changed(
    directory: Path,
    now: snap.Files,
    base: snap.Files | None,
    progress: bool,
    written: snap.Written | None,
) -> tuple[Corpus, snap.Files]:
    """Parse the files `base` does not hold as they are now, and the `written` ones
    whatever their stat data say; the corpus and its files."""
    reused = snap.reusable(base, now) if base is not None else [None] * len(now.paths)
    # In path order: of two files with the same id, the first one's is kept.
    loaded: dict[str, Article | Problem | None] = dict(zip(now.paths, reused, strict=True))
    fresh = written.paths if written is not None else frozenset()
    todo = [rel for rel, article in loaded.items() if article is None or rel in fresh]
    for path in parsing.progress_bar([directory / rel for rel in todo], progress, "loading"):
        name = path.relative_to(directory).as_posix()
        loaded[name] = parsing.parse_file(path, name)
    corpus = parsing.assemble(loaded)
    if written is not None:
        # A file written and then gone before it was read: said, not silently dropped.
        gone = sorted(
            set(written.files) - set(written.removed) - set(loaded),
            key=snap.path_order,
        )
        problems = [
            Problem(path=name, reason="was written but is gone (deleted?); add it again")
            for name in gone
            if snap.is_article_name(name.rpartition("/")[2])
        ]
        if problems:
            problems = [*corpus.problems, *problems]
            corpus = Corpus.model_construct(articles=corpus.articles, problems=tuple(problems))
    return corpus, snap.loaded_files(corpus.articles, now)


def _carry_over(corpus: Corpus, previous: Corpus) -> Corpus:
    """Keep the previous version of articles whose files failed to load this time."""
    by_path = {a.path: a for a in previous.articles if a.path}
    loaded = {a.id for a in corpus.articles}
    articles = list(corpus.articles)
    problems = []
    for problem in corpus.problems:
        old = by_path.get(problem.path)
        if old is not None and old.id not in loaded:
            articles.append(old)
            loaded.add(old.id)
            problem = Problem(
                path=problem.path, reason=f"{problem.reason} (still serving its previous version)"
            )
        problems.append(problem)
    articles.sort(key=lambda a: snap.path_order(a.path or a.id))
    return Corpus.model_construct(articles=tuple(articles), problems=tuple(problems))


def _untouched_problems(corpus: Corpus, previous: Corpus, names: Collection[str]) -> Corpus:
    """A writer's update: the previous load's problems with files it did not touch stay
    (those files were not read again), and so do the articles kept for them."""
    kept = [p for p in previous.problems if p.path not in names]
    if not kept:
        return corpus
    paths = {p.path for p in kept}
    loaded = {a.id for a in corpus.articles}
    held = [a for a in previous.articles if a.path in paths and a.id not in loaded]
    articles = sorted([*corpus.articles, *held], key=lambda a: snap.path_order(a.path or a.id))
    problems = (*corpus.problems, *kept)
    return Corpus.model_construct(articles=tuple(articles), problems=problems)
