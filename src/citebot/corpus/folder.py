"""Loading a corpus folder (`load_corpus`): from a scan of it, or from the files citebot wrote.

Two ways to learn what changed since the folder was last loaded, feeding one update:

* a scan (a start, `/reload`, `citebot ask`): every article file's stat data is
  compared with the previous load's (`snapshot.scan_files`, `snapshot.compare`); a
  person may have edited, added or deleted any file. At 1M passages stat-ing the 182k
  files takes 1.3-2.2 s;
* the writer's list (`citebot ingest`, `citebot feeds poll`, the bot's /add and feed
  poller): the files it wrote, replaced and removed (`snapshot.Written`) are stat-ed
  alone (`snapshot.restat`), so adding one article costs no scan. Files changed by hand
  meanwhile are left as they were loaded, until the next scan finds them.

Either way the result is the changed files with their stat data now (`Changes`), and
`_apply` parses them and puts each in its place in the previous load's path-ordered
lists: time proportional to the change (0.06 s for one file at 1M passages, where
matching every file's row against the previous load took 1.2 s). The stat data are
kept with the articles, and in the snapshot, so a later scan does not read the written
files again. Without a previous load, or for a large change, or when a changed file
takes an id that another file holds, the folder is read from a scan as a whole
(`_load_changed`), unchanged files' articles reused.
"""

from __future__ import annotations

import bisect
import functools
import logging
from collections.abc import Callable, Collection
from pathlib import Path, PurePosixPath

from citebot.corpus import articles as parsing
from citebot.corpus import snapshot as snap
from citebot.corpus.articles import Article, Corpus, Problem
from citebot.errors import CorpusError

log = logging.getLogger(__name__)

# Above this many changed files, putting each in its place in the previous load's lists
# (an insert into lists of 182k entries at 1M passages: ~0.5 ms) costs more than making
# them again from a scan (~1 s at 1M).
_SPLICE_MAX = 500


def load_corpus(
    directory: Path,
    *,
    progress: bool = False,
    previous: Corpus | None = None,
    cache_dir: Path | None = None,
    written: snap.Written | None = None,
    defer_save: Callable[[Callable[[], None]], None] | None = None,
) -> Corpus:
    """Load every article of a folder; files that fail are listed in `problems`, not raised.

    Only new files and files whose size or mtime changed are parsed: the others are
    taken from `previous` (a reload) or from the snapshot in `cache_dir`, which is
    rewritten when anything was parsed (`citebot.corpus.snapshot`). With `previous`,
    an article whose file now fails keeps its previous version, and its problem says
    so: a broken edit never removes an article.

    `written`: the files the caller itself wrote and removed since `previous` (or the
    snapshot) was loaded; only they are looked at, the folder is not scanned
    (see the module docstring). `defer_save` receives the writing of the snapshot
    instead of it being done here (a bot serves the new corpus first).
    """
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
    changes = _inside(written) if written is not None else None
    corpus, files = _load(directory, base, changes, progress)
    if changes is not None:
        corpus = _report_gone(directory, corpus, changes)
    if previous is not None and corpus.problems:
        corpus = _carry_over(corpus, previous)
    if previous is not None and changes is not None:
        corpus = _untouched_problems(corpus, previous, changes.paths)
    corpus._files, corpus._snapshot = files, snap.file_stat(snapshot)
    # A scan-based reload leaves a snapshot that is only out of date as it is: the next
    # start parses the files changed since, and writes it then (250 MB at 1M passages,
    # ~1 s). A writer's update writes it, so that no start reads those files again.
    if snapshot is not None and (
        stale or (files is not base and (previous is None or changes is not None))
    ):
        save = functools.partial(_save_snapshot, snapshot, files, corpus)
        save() if defer_save is None else defer_save(save)
    return corpus


def _load(
    directory: Path, base: snap.Files | None, written: snap.Written | None, progress: bool
) -> tuple[Corpus, snap.Files]:
    """The corpus and its files: `base` with the writer's files or the scan's changes
    applied; parsed whole from a scan when there is no base or the change is large."""
    now = None
    loaded = None
    if base is not None and written is not None:
        loaded = _apply(directory, base, snap.restat(directory, base, written.paths))
    elif base is not None:
        now = snap.scan_files(directory)
        if base.unchanged(now):  # the usual start: nothing to parse
            return Corpus.model_construct(articles=tuple(base.articles or ()), problems=()), base
        loaded = _apply(directory, base, snap.compare(base, now))
    if loaded is None:
        loaded = _load_changed(directory, now or snap.scan_files(directory), base, progress)
    return loaded


def _apply(
    directory: Path, base: snap.Files, changes: snap.Changes
) -> tuple[Corpus, snap.Files] | None:
    """`base` with the changed files parsed again and put in their place (removed ones
    dropped), in time proportional to the change; None when it is large
    (`_SPLICE_MAX`) or a changed file takes an id another file holds (then the whole
    folder's order decides which file keeps it: `_load_changed`)."""
    if base.articles is None or len(changes.stats) > _SPLICE_MAX:
        return None
    paths, sizes, mtimes = list(base.paths), list(base.sizes), list(base.mtimes)
    ctimes, articles = list(base.ctimes), list(base.articles)
    problems: list[Problem] = []
    added: list[Article] = []
    for rel in sorted(changes.stats, key=snap.path_order):
        at = bisect.bisect_left(paths, snap.path_order(rel), key=snap.path_order)
        if at < len(paths) and paths[at] == rel:
            del paths[at], sizes[at], mtimes[at], ctimes[at], articles[at]
        stat = changes.stats[rel]
        if stat is None:
            continue
        item = parsing.parse_file(directory / rel, rel)
        if isinstance(item, Problem):
            problems.append(item)
            continue
        paths.insert(at, rel)
        sizes.insert(at, stat[0])
        mtimes.insert(at, stat[1])
        ctimes.insert(at, stat[2])
        articles.insert(at, item)
        added.append(item)
    ids = [a.id for a in added]
    held = base.holders if added else {}
    # A file not parsed again that holds one of the new ids, or two new files sharing one.
    if len(set(ids)) < len(ids) or any(i in held and held[i] not in changes.stats for i in ids):
        return None
    files = snap.Files(paths, sizes, mtimes, ctimes, changes.scanned_ns, articles)
    return Corpus.model_construct(articles=tuple(articles), problems=tuple(problems)), files


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
    directory: Path, now: snap.Files, base: snap.Files | None, progress: bool
) -> tuple[Corpus, snap.Files]:
    """Parse the files `base` does not hold as they are now; the corpus and its files."""
    reused = snap.reusable(base, now) if base is not None else [None] * len(now.paths)
    # In path order: of two files with the same id, the first one's is kept.
    loaded: dict[str, Article | Problem | None] = dict(zip(now.paths, reused, strict=True))
    todo = [rel for rel, article in loaded.items() if article is None]
    for path in parsing.progress_bar([directory / rel for rel in todo], progress, "loading"):
        name = path.relative_to(directory).as_posix()
        loaded[name] = parsing.parse_file(path, name)
    corpus = parsing.assemble(loaded)
    return corpus, snap.loaded_files(corpus.articles, now)


def _report_gone(directory: Path, corpus: Corpus, written: snap.Written) -> Corpus:
    """A file written and then gone before it was read: said, not silently dropped."""
    removed = set(written.removed)
    gone = [
        Problem(path=name, reason="was written but is gone (deleted?); add it again")
        for name in sorted(set(written.files), key=snap.path_order)
        if name not in removed
        and snap.is_article_name(name.rpartition("/")[2])
        and not (directory / name).is_file()
    ]
    if not gone:
        return corpus
    return Corpus.model_construct(articles=corpus.articles, problems=(*corpus.problems, *gone))


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
