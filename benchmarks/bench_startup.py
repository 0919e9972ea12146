"""Start-up, reload and one-article update times on a corpus folder of files, and build memory.

Run from the repository root:

    .venv/bin/python benchmarks/bench_startup.py                 # 100k and 1M passages
    .venv/bin/python benchmarks/bench_startup.py --sizes 100k --src /tmp/before/src
    .venv/bin/python benchmarks/bench_startup.py --sizes 1M --skip-build --keep-cache

The corpus is `bench_answer.py`'s (same seed, same articles), written as Markdown files
with YAML front matter (`citebot ingest`'s format) under `--data` (kept between runs, so
that a before/after comparison reads the same files). Each phase runs in a fresh process
with the citebot of `--src` (default: this tree's), and its own cache folder per tree:

  * build: `bench_answer.py`'s build worker (generate, `Index.build`, `save_index`): its
    peak RSS (VmHWM, corpus included) is the "build peak" the memory budget is about;
  * first ask: `citebot ask` with an empty cache (reads every file, builds, saves);
  * ask: `citebot ask` again, corpus unchanged: the start-up a user waits for (wall time
    of the whole process, interpreter start included; median of 3);
  * reload: in one process, load the corpus and index (from the cache), then time what
    the bot's `/reload` does (`load_corpus(previous=, cache_dir=, defer_save=)`,
    `load_index(previous=, defer_save=)`) with nothing changed, and again after one new
    article file is written (the article's text differs on every run); the caches are
    written after each, timed apart ("then saved in"), as the bot writes them after
    serving the new index; the files are then removed;
  * +1 article, writer's list: then one more article written and handed over as a
    writer (ingest, a feed poll, /add) hands it (`load_corpus(written=)`): no scan;
  * ask after adding: `citebot ask` in a new process with that one new file present.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
QUESTION = "When did the park open?"
NEW_ARTICLE = """---
id: zz-late-news
title: Late news from the harbour
date: 2026-12-05
---

The harbour authority opened a third ferry terminal on Friday, officials said.

The terminal serves {passengers:,} passengers a day.
"""


def new_article() -> str:
    """The added article, different on every run: an index of the corpus with it that an
    earlier run left in a kept cache (`--keep-cache`) must not be found instead of updated."""
    return NEW_ARTICLE.format(passengers=time.time_ns() % 1_000_000)


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall seconds and stdout of a command; its failure stops the benchmark."""
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"failed: {' '.join(cmd[:4])} ...")
    return wall, proc.stdout


def write_corpus(work: Path, src: Path) -> Path:
    """The build worker's articles as corpus files (once; reused by later runs)."""
    folder = work / "corpus"
    done = work / "corpus.done"
    if done.exists():
        return folder
    code = (
        f"import sys, pickle; sys.path.insert(0, {str(src)!r});"
        "from pathlib import Path; from citebot.corpus.ingest import to_corpus_file;"
        f"arts, _ = pickle.load(open({str(work / 'corpus.pkl')!r}, 'rb'));"
        f"root = Path({str(folder)!r});"
        "[(root / a.id[:5]).mkdir(parents=True, exist_ok=True) for a in arts[::1000]];"
        "[(root / a.id[:5] / (a.id + '.md')).write_text(to_corpus_file(a)) for a in arts]"
    )
    run([sys.executable, "-c", code])
    done.touch()
    return folder


def ask(src: Path, corpus: Path, cache: Path) -> float:
    """Wall seconds of one `citebot ask` process."""
    env = {
        **os.environ,
        "CITEBOT_CORPUS_DIR": str(corpus),
        "CITEBOT_CACHE_DIR": str(cache),
        "PYTHONPATH": str(src),
    }
    code = "import sys; from citebot.cli import main; sys.exit(main(sys.argv[1:]))"
    wall, _ = run([sys.executable, "-c", code, "ask", QUESTION], env)
    return wall


def worker_reload(src: Path, corpus: Path, cache: Path, added: str) -> dict[str, Any]:
    """Load, then time as the bot reloads: the unchanged folder, one added article found
    by the scan, and one added article handed over by its writer (no scan)."""
    sys.path.insert(0, str(src))
    import inspect

    from citebot import load_corpus
    from citebot.retrieval.cache import load_index

    writer = "written" in inspect.signature(load_corpus).parameters  # older trees: no
    out: dict[str, Any] = {}

    def reload(previous: tuple[Any, Any], what: str, **written: Any) -> tuple[Any, Any]:
        """A reload as `CitebotBot._load_asker` does it; the caches written after it."""
        saves: list[Any] = []
        deferred = {"defer_save": saves.append} if writer else {}
        t = time.perf_counter()
        c = load_corpus(corpus, previous=previous[0], cache_dir=cache, **deferred, **written)
        out[f"{what}_folder_s"] = time.perf_counter() - t
        i = load_index(c, cache, previous=previous[1], **deferred)
        out[f"{what}_s"] = time.perf_counter() - t
        t = time.perf_counter()
        for save in saves:
            save()
        out[f"{what}_save_s"] = time.perf_counter() - t
        return c, i

    t = time.perf_counter()
    first = load_corpus(corpus, cache_dir=cache)
    state = (first, load_index(first, cache))
    out["load_s"] = time.perf_counter() - t
    state = reload(state, "reload")
    new = corpus / "zz-late-news.md"
    new.write_text(added)
    try:
        state = reload(state, "update")
        out["update_articles"] = len(state[0].articles)
        if writer:
            from citebot.corpus.snapshot import Written

            more = corpus / "zz-later-news.md"
            more.write_text(added.replace("zz-late-news", "zz-later-news"))
            state = reload(state, "written", written=Written((more.name,)))
            out["written_articles"] = len(state[0].articles)
    finally:
        new.unlink()
        (corpus / "zz-later-news.md").unlink(missing_ok=True)
    return out


def bench(label: str, args: argparse.Namespace) -> dict[str, Any]:
    n = SIZES[label]
    work = args.data / label
    work.mkdir(parents=True, exist_ok=True)
    src: Path = args.src.resolve()
    res: dict[str, Any] = {"label": label, "src": str(src)}
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_answer.py"), "--worker", "build"]
    if not args.skip_build:
        print(f"[{label}] build ...", file=sys.stderr, flush=True)
        _, out = run([*cmd, "--n", str(n), "--work", str(work), "--src", str(src)])
        res["build"] = json.loads(out.strip().splitlines()[-1])
    corpus = write_corpus(work, src)
    cache = work / f"cache-{args.tag}"
    if args.keep_cache and any(cache.glob("index-*.bm25")):
        res["first_ask_s"] = None
    else:
        for old in cache.glob("*"):
            old.unlink()
        print(f"[{label}] first ask ...", file=sys.stderr, flush=True)
        res["first_ask_s"] = ask(src, corpus, cache)
    print(f"[{label}] ask x3 ...", file=sys.stderr, flush=True)
    res["ask_s"] = [ask(src, corpus, cache) for _ in range(3)]
    print(f"[{label}] reload ...", file=sys.stderr, flush=True)
    added = new_article()
    code = (
        f"import sys, json; sys.path.insert(0, {str(ROOT / 'benchmarks')!r});"
        "from bench_startup import worker_reload; from pathlib import Path;"
        f"print(json.dumps(worker_reload(Path({str(src)!r}), Path({str(corpus)!r}),"
        f" Path({str(cache)!r}), {added!r})))"
    )
    _, out = run([sys.executable, "-c", code])
    res["reload"] = json.loads(out.strip().splitlines()[-1])
    new = corpus / "zz-late-news.md"
    new.write_text(added)
    try:
        print(f"[{label}] ask after adding one article ...", file=sys.stderr, flush=True)
        res["ask_after_add_s"] = ask(src, corpus, cache)
    finally:
        new.unlink()
    return res


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "| passages | build s | build peak RSS MiB | first ask s (empty cache) "
        "| ask s (unchanged; median of 3) | reload s (unchanged) | reload s (+1 article) "
        "| +1 article, writer's list s | ask s (+1 article) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b = r.get("build") or {}
        build = f"{b['build_s']:.1f}" if b else "-"
        peak = f"{b['build_peak_mb']:.0f}" if b else "-"
        first = "-" if r["first_ask_s"] is None else f"{r['first_ask_s']:.2f}"
        lines.append(
            f"| {r['label']} | {build} | {peak} | {first} "
            f"| {statistics.median(r['ask_s']):.2f} | {r['reload']['reload_s']:.2f} "
            f"| {_with_folder(r['reload'], 'update')} | {_with_folder(r['reload'], 'written')} "
            f"| {r['ask_after_add_s']:.2f} |"
        )
    return "\n".join(lines)


def _with_folder(reload: dict[str, Any], what: str) -> str:
    """A reload's seconds, of them the folder's (the rest is the index's), and the caches
    written after it (the bot serves the new index meanwhile)."""
    if f"{what}_s" not in reload:
        return "-"
    parts = [f"folder {reload[f'{what}_folder_s']:.2f}"]
    if f"{what}_save_s" in reload:
        parts.append(f"then saved in {reload[f'{what}_save_s']:.2f}")
    return f"{reload[f'{what}_s']:.2f} ({', '.join(parts)})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="100k,1M", help=f"comma list of {', '.join(SIZES)}")
    p.add_argument("--src", type=Path, default=ROOT / "src", help="the citebot tree to measure")
    p.add_argument("--tag", default="this", help="names this tree's cache folder")
    p.add_argument("--data", type=Path, default=Path("/tmp/citebot-bench-startup"))
    p.add_argument("--skip-build", action="store_true", help="reuse the generated corpus")
    p.add_argument(
        "--keep-cache",
        action="store_true",
        help="start from the index this tree's cache folder holds (no empty-cache ask)",
    )
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "out" / "startup.json")
    args = p.parse_args()
    results = [bench(s.strip(), args) for s in args.sizes.split(",")]
    print(report(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
