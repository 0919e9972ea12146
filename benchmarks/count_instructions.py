"""Instructions per cold question, counted by valgrind: a wall-clock-free before/after.

Wall time on this shared host moves by 1.5x from minute to minute (benchmarks/README.md),
so speed changes are judged in instructions, which valgrind counts the same on every run.
For each source tree given (this one by default), in turn:

  * `bench_answer.py`'s build worker makes the generated corpus and its index with that
    tree, outside valgrind (`--work DIR/<name>`; kept and reused when present);
  * under `setarch -R valgrind --tool=callgrind` (OPENBLAS_NUM_THREADS=1, PYTHONHASHSEED=0),
    a worker loads the index, answers `WARMUP` questions (imports, the network's weights
    and numpy's first calls are not a question's cost), empties the tokenizer's caches
    (as `bench_answer.py` does before its cold answers), then answers the next
    `--questions` questions, each asked for the first time;
  * the worker calls `os.getppid()` just before those questions and after every
    `CHUNK` of them, and `--dump-before=getppid` makes callgrind write its counts at
    each call: the dumps after the first hold the questions' instructions only, so
    loading and warm-up are subtracted exactly, and one run also gives the count of
    its first `--first` questions (to compare with shorter runs of other trees).

    .venv/bin/python benchmarks/count_instructions.py --work /tmp/count
    .venv/bin/python benchmarks/count_instructions.py --work /tmp/count \\
        --src /tmp/before/src --src src --jobs 2

(`--src`: a tree's `src`, e.g. from `git archive <commit> | tar -x -C /tmp/before`.)
A tree takes about 2 minutes with 10 questions, 4 with 30 and 12 with 100 (~75M
instructions a question, most of them the neural reader's numpy work, plus ~3G for
loading and warm-up); the corpus size hardly matters, since a question's cost is per
question, not per passage.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "bench_answer.py"
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1M": 1_000_000}
WARMUP = 10
CHUNK = 10  # questions per dump: a run also gives the count of its first 10, 20, ...


def worker(work: Path, n_questions: int) -> None:
    """Load, warm up, then answer `n_questions` cold questions between two `getppid` calls."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    # bench_answer puts the `--src` tree first on sys.path when imported (as here).
    import bench_answer

    from citebot import Asker, load_index

    corpus, questions = bench_answer.load_work(work)
    if len(questions) < WARMUP + n_questions:
        raise SystemExit(f"only {len(questions)} questions; ask for fewer with --questions")
    asker = Asker(load_index(corpus, work / "cache"))
    gc.collect()
    gc.freeze()  # as the bot does after loading (bot/client.py)
    for q in questions[:WARMUP]:
        asker.ask(q["question"])
    bench_answer.clear_text_caches()
    os.getppid()  # callgrind dumps here: everything before is loading and warm-up
    for i, q in enumerate(questions[WARMUP : WARMUP + n_questions], 1):
        asker.ask(q["question"])
        if i % CHUNK == 0 or i == n_questions:
            os.getppid()  # ... and here: each dump between holds cold questions only


def _total(path: Path) -> int:
    match = re.search(r"^totals: (\d+)", path.read_text(), re.M)
    if match is None:
        raise SystemExit(f"{path}: no totals line; did callgrind finish?")
    return int(match.group(1))


def count(src: Path, work: Path, n: int, n_questions: int) -> list[int]:
    """The instructions of each `CHUNK` of cold questions for the tree `src` (its index
    built in `work`), in order."""
    if not (work / "corpus.pkl").exists():
        work.mkdir(parents=True, exist_ok=True)
        build = [sys.executable, str(BENCH), "--worker", "build", "--n", str(n)]
        build += ["--work", str(work), "--src", str(src)]
        subprocess.run(build, check=True, capture_output=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory(prefix="callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = ["setarch", "-R", "valgrind", "--tool=callgrind", "--dump-before=getppid"]
        cmd += [f"--callgrind-out-file={out}", sys.executable, str(Path(__file__).resolve())]
        cmd += ["--worker", "--work", str(work), "--questions", str(n_questions)]
        cmd += ["--src", str(src)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-4000:])
            raise SystemExit(f"the valgrind run of {src} failed")
        dumps = sorted(Path(tmp).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
        chunks = -(-n_questions // CHUNK)
        if len(dumps) != 1 + chunks:
            raise SystemExit(f"expected {1 + chunks} dumps at getppid, found {len(dumps)} ({src})")
        return [_total(dump) for dump in dumps[1:]]  # the first is loading and warm-up


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--src", type=Path, action="append", help="a tree's src (repeatable)")
    p.add_argument("--work", type=Path, required=True, help="where each tree's index is kept")
    p.add_argument("--size", default="10k", choices=list(SIZES))
    p.add_argument("--questions", type=int, default=100)
    p.add_argument(
        "--first", type=int, default=30, help="also report the first N questions (a multiple of 10)"
    )
    p.add_argument("--jobs", type=int, default=1, help="trees counted at once")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.work, args.questions)
        return
    trees = [s.resolve() for s in args.src or [ROOT / "src"]]
    for tree in trees:
        if not (tree / "citebot").is_dir():
            p.error(f"{tree} holds no citebot package; pass a tree's src directory")

    def one(tree: Path) -> list[int]:
        # One index per tree: an older tree may not read this tree's index format.
        name = re.sub(r"[^\w.-]+", "_", str(tree).strip("/"))
        return count(tree, args.work / args.size / name, SIZES[args.size], args.questions)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        totals = list(pool.map(one, trees))
    first = min(args.first, args.questions)
    print(
        f"instructions per cold question, {args.size} passages: "
        f"all {args.questions} questions | the first {first}"
    )
    for tree, chunks in zip(trees, totals, strict=True):
        head = sum(chunks[: -(-first // CHUNK)]) / min(first, args.questions)
        print(f"{sum(chunks) / args.questions / 1e6:8.2f}M | {head / 1e6:8.2f}M  {tree}")


if __name__ == "__main__":
    main()
