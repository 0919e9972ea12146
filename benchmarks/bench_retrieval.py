"""Retrieval benchmark: `retrieval.bm25.BM25Index` against bm25s and rank_bm25 on the same tokens.

Run from the repository root:

    .venv/bin/python benchmarks/bench_retrieval.py            # 10k, 100k and 1M passages
    .venv/bin/python benchmarks/bench_retrieval.py --quick    # 10k only
    .venv/bin/python benchmarks/bench_retrieval.py --sizes 10k,100k

Corpus: deterministic (seeded) synthetic passages of 20-80 tokens (normal around 45), words
drawn from a Zipf(s=1) distribution over 200,000 synthetic words.  Two fixed query sets of
1,000 queries with 3-6 tokens each:
  * "passage": tokens sampled from a random passage, so frequent words are frequent in queries
    too (no stopword removal: a pessimistic case for posting-list engines);
  * "vocab": tokens drawn uniformly from the words that occur in the corpus (mostly rare words).

Every (size, engine) runs in its own subprocess so that memory high-water marks and caches do
not leak between sizes or engines.  Memory columns:
  * "build peak traced": tracemalloc peak during BM25Index.build (numpy buffers included,
    the input corpus excluded), measured in a second, untimed build;
  * "build RSS delta": peak RSS during the build (VmHWM, reset just before it through
    /proc/self/clear_refs) minus the RSS just before it: the build's own footprint;
  * "process max RSS": ru_maxrss of the whole build process, corpus and generator included.
Retrieval is single-query latency of top-10 (warm, after 20 warm-up queries), ours from an
index loaded from disk with mmap.  bm25s uses method="bm25+" (same formula and idf as
rank_bm25's BM25Plus, but float32 scores and numpy backend -- numba is not installed) and is
given the same token lists.  rank_bm25 is BM25Plus.get_top_n; it scans every document per
query term in Python, so it is skipped above --rank-bm25-max-docs with an extrapolated
estimate, and limited to --rank-bm25-queries queries.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

VOCAB = 200_000
ZIPF_S = 1.0
SEED = 20240601
N_QUERIES = 1000
WARMUP = 20
K = 10
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}


# ----------------------------------------------------------------------- corpus


def make_words(rng: np.random.Generator) -> list[str]:
    """VOCAB distinct lowercase pseudo-words of 2-12 letters."""
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < VOCAB:
        length = int(np.clip(rng.normal(7, 2.5), 2, 12))
        w = "".join(letters[rng.integers(0, 26, length)])
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def make_corpus(n_docs: int) -> tuple[list[list[str]], list[str], np.ndarray]:
    """Passages (token lists), the word list and which word ids occur; deterministic."""
    rng = np.random.default_rng(SEED)
    words = make_words(rng)
    word_arr = np.array(words, dtype=object)
    cdf = np.cumsum(1.0 / np.arange(1, VOCAB + 1) ** ZIPF_S)
    cdf /= cdf[-1]
    used = np.zeros(VOCAB, dtype=bool)
    docs: list[list[str]] = []
    chunk = 50_000  # bounded temporaries: the generator's peak stays below the corpus's RSS
    for start in range(0, n_docs, chunk):
        m = min(chunk, n_docs - start)
        lengths = np.clip(rng.normal(45, 14, m).round(), 20, 80).astype(np.int64)
        ids = np.searchsorted(cdf, rng.random(int(lengths.sum())))
        used[ids] = True
        flat = word_arr[ids].tolist()
        ends = np.cumsum(lengths).tolist()
        docs.extend(flat[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True))
    return docs, words, used


def make_queries(docs: list[list[str]], words: list[str], used: np.ndarray) -> dict[str, Any]:
    """The two fixed query sets (see module docstring)."""
    rng = np.random.default_rng(SEED + 1)
    passage = []
    for _ in range(N_QUERIES):
        doc = docs[int(rng.integers(len(docs)))]
        m = int(rng.integers(3, 7))
        passage.append([doc[int(i)] for i in rng.choice(len(doc), m, replace=False)])
    pool = np.flatnonzero(used)
    vocab = [
        [words[int(i)] for i in rng.choice(pool, int(rng.integers(3, 7)))] for _ in range(N_QUERIES)
    ]
    return {"passage": passage, "vocab": vocab}


# ---------------------------------------------------------------------- helpers


def rss_mb() -> float:
    """Current resident set size."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def maxrss_mb() -> float:
    """High-water resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Restart the VmHWM high-water mark (Linux >= 4.0), so a peak measures one phase only."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # then peak_mb() is the whole process's peak: an upper bound


def peak_mb() -> float:
    """VmHWM: peak RSS since the last reset_peak()."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return maxrss_mb()


def latencies(fn: Any, queries: list[list[str]]) -> dict[str, float]:
    """p50/p99 in ms of fn(query) over the queries, after a warm-up."""
    for q in queries[:WARMUP]:
        fn(q)
    times = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1e3
    return {"p50": float(np.median(ms)), "p99": float(np.percentile(ms, 99)), "n": len(queries)}


def overlap(a: np.ndarray, b: list[list[int]]) -> float:
    """Mean |top-10 intersection| / 10 between two result lists."""
    return float(np.mean([len(set(x.tolist()) & set(y)) / K for x, y in zip(a, b, strict=False)]))


# ---------------------------------------------------------------------- workers


def worker_ours_build(n: int, work: Path, traced: bool) -> dict[str, Any]:
    """Build, measure memory, save; write the query sets for the other workers."""
    from citebot.retrieval.bm25 import BM25Index

    docs, words, used = make_corpus(n)
    queries = make_queries(docs, words, used)
    (work / "queries.json").write_text(json.dumps(queries))
    rss0 = rss_mb()
    reset_peak()
    t = time.perf_counter()
    index = BM25Index.build(docs)
    build_s = time.perf_counter() - t
    out: dict[str, Any] = {
        "docs": n,
        "tokens": int(sum(map(len, docs))),
        "vocab": len(index._terms),
        "postings": len(index._doc_ids),
        "build_s": build_s,
        "corpus_rss_mb": rss0,
        "build_rss_delta_mb": peak_mb() - rss0,
    }
    path = work / "index.bm25"
    t = time.perf_counter()
    index.save(path)
    out["save_s"] = time.perf_counter() - t
    out["disk_mb"] = path.stat().st_size / 2**20
    del index
    if traced:
        tracemalloc.start()
        BM25Index.build(docs)
        out["build_traced_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return out


def worker_ours_query(n: int, work: Path) -> dict[str, Any]:
    """Load from disk (mmap) in a fresh process, then time top-10 for both query sets."""
    from citebot.retrieval.bm25 import BM25Index

    queries = json.loads((work / "queries.json").read_text())
    t = time.perf_counter()
    index = BM25Index.load(work / "index.bm25", mmap=True)
    out: dict[str, Any] = {"load_s": time.perf_counter() - t}
    for name, qs in queries.items():
        out[name] = latencies(lambda q: index.top_k(q, K), qs)
        ids = [index.top_k(q, K)[0].tolist() for q in qs]
        (work / f"ours_{name}.json").write_text(json.dumps(ids))
    out["rss_after_queries_mb"] = rss_mb()
    return out


def worker_bm25s(n: int, work: Path) -> dict[str, Any]:
    """bm25s (method bm25+) on the same token lists."""
    os.environ.setdefault("DISABLE_TQDM", "1")
    import bm25s

    docs, _, _ = make_corpus(n)
    queries = json.loads((work / "queries.json").read_text())
    rss0 = rss_mb()
    reset_peak()
    t = time.perf_counter()
    retriever = bm25s.BM25(method="bm25+", k1=1.5, b=0.75, delta=1.0)
    retriever.index(docs, show_progress=False)
    out: dict[str, Any] = {
        "build_s": time.perf_counter() - t,
        "build_rss_delta_mb": peak_mb() - rss0,
    }

    def top(q: list[str]) -> np.ndarray:
        res = retriever.retrieve([q], k=K, show_progress=False, n_threads=0)
        return np.asarray(res.documents[0])

    for name, qs in queries.items():
        out[name] = latencies(top, qs)
        ours = json.loads((work / f"ours_{name}.json").read_text())
        out[name]["overlap_with_ours"] = overlap(np.array([top(q) for q in qs]), ours)
    return out


def worker_rank_bm25(n: int, work: Path, n_queries: int) -> dict[str, Any]:
    """rank_bm25.BM25Plus.get_top_n on the first n_queries passage queries."""
    from rank_bm25 import BM25Plus

    docs, _, _ = make_corpus(n)
    queries = json.loads((work / "queries.json").read_text())["passage"][:n_queries]
    rss0 = rss_mb()
    reset_peak()
    t = time.perf_counter()
    bm = BM25Plus(docs)
    out: dict[str, Any] = {
        "build_s": time.perf_counter() - t,
        "build_rss_delta_mb": peak_mb() - rss0,
    }
    ids = list(range(n))
    out["passage"] = latencies(lambda q: bm.get_top_n(q, ids, n=K), queries)
    ours = json.loads((work / "ours_passage.json").read_text())
    out["passage"]["overlap_with_ours"] = overlap(
        np.array([bm.get_top_n(q, ids, n=K) for q in queries]), ours
    )
    return out


# ----------------------------------------------------------------------- driver


def run_worker(kind: str, n: int, work: Path, *extra: str) -> dict[str, Any]:
    """Run one worker in a fresh interpreter and return its JSON result."""
    cmd = [sys.executable, __file__, "--worker", kind, "--n", str(n), "--work", str(work), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker {kind} at {n} docs failed")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_maxrss_mb"] = result.pop("_maxrss")
    return result


def bench_size(label: str, n: int, args: argparse.Namespace, base: Path) -> dict[str, Any]:
    """All engines at one corpus size."""
    work = base / label
    work.mkdir(parents=True, exist_ok=True)
    print(f"[{label}] building ours ...", file=sys.stderr, flush=True)
    traced = [] if args.no_tracemalloc else ["--traced"]
    res: dict[str, Any] = {"label": label, "ours_build": run_worker("ours-build", n, work, *traced)}
    print(f"[{label}] querying ours ...", file=sys.stderr, flush=True)
    res["ours"] = run_worker("ours-query", n, work)
    if not args.skip_bm25s:
        print(f"[{label}] bm25s ...", file=sys.stderr, flush=True)
        res["bm25s"] = run_worker("bm25s", n, work)
    if n <= args.rank_bm25_max_docs:
        nq = N_QUERIES if n <= 20_000 else args.rank_bm25_queries
        print(f"[{label}] rank_bm25 ({nq} queries) ...", file=sys.stderr, flush=True)
        res["rank_bm25"] = run_worker("rank_bm25", n, work, "--rank-queries", str(nq))
    (work / "index.bm25").unlink(missing_ok=True)
    return res


def fmt_lat(d: dict[str, Any] | None, key: str) -> str:
    """'p50 / p99' in ms, or a dash."""
    if not d or key not in d:
        return "-"
    x = d[key]
    return f"{x['p50']:.3f} / {x['p99']:.3f}"


def ratio(a: dict[str, Any], b: dict[str, Any] | None, key: str) -> str:
    """ours p50 / other p50."""
    if not b or key not in b:
        return "-"
    return f"{a[key]['p50'] / b[key]['p50']:.3f}"


def report(results: list[dict[str, Any]]) -> str:
    """Markdown tables of a run."""
    lines = [
        "### Build and load (ours)",
        "",
        "| passages | tokens | vocab | postings | build s | build peak traced MB "
        "| build RSS delta MB | process max RSS MB | index on disk MB | save s | load s (mmap) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b, o = r["ours_build"], r["ours"]
        traced = f"{b['build_traced_mb']:.0f}" if "build_traced_mb" in b else "-"
        lines.append(
            f"| {r['label']} | {b['tokens']:,} | {b['vocab']:,} | {b['postings']:,} "
            f"| {b['build_s']:.2f} | {traced} | {b['build_rss_delta_mb']:.0f} "
            f"| {b['process_maxrss_mb']:.0f} | {b['disk_mb']:.1f} | {b['save_s']:.2f} "
            f"| {o['load_s']:.3f} |"
        )
    lines += [
        "",
        "### Other engines' build",
        "",
        "| passages | bm25s build s | bm25s build RSS delta MB "
        "| rank_bm25 build s | rank_bm25 build RSS delta MB |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        s, rb = r.get("bm25s"), r.get("rank_bm25")
        lines.append(
            f"| {r['label']} | {s['build_s']:.2f} | {s['build_rss_delta_mb']:.0f} "
            if s
            else f"| {r['label']} | - | - "
        )
        lines[-1] += (
            f"| {rb['build_s']:.2f} | {rb['build_rss_delta_mb']:.0f} |" if rb else "| skipped | - |"
        )
    for key in ("passage", "vocab"):
        lines += [
            "",
            f"### Top-{K} latency, {key} queries (ms, p50 / p99)",
            "",
            "| passages | ours | bm25s | rank_bm25 (queries) | ours/bm25s p50 "
            "| ours/rank_bm25 p50 | top-10 overlap bm25s / rank_bm25 |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in results:
            o, s, rb = r["ours"], r.get("bm25s"), r.get("rank_bm25")
            if rb and key in rb:
                rank_col = f"{fmt_lat(rb, key)} ({rb[key]['n']})"
            elif key == "passage" and "rank_bm25_estimate_ms" in r:
                rank_col = f"skipped (est. ~{r['rank_bm25_estimate_ms']:.0f} ms/query)"
            else:
                rank_col = "-"
            ov_s = f"{s[key]['overlap_with_ours']:.3f}" if s else "-"
            ov_r = f"{rb[key]['overlap_with_ours']:.3f}" if rb and key in rb else "-"
            lines.append(
                f"| {r['label']} | {fmt_lat(o, key)} | {fmt_lat(s, key)} | {rank_col} "
                f"| {ratio(o, s, key)} | {ratio(o, rb, key)} | {ov_s} / {ov_r} |"
            )
    return "\n".join(lines)


def main() -> None:
    """Parse flags; either run one worker or drive the whole benchmark."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="10k,100k,1M", help=f"comma list of {', '.join(SIZES)}")
    p.add_argument("--quick", action="store_true", help="10k only")
    p.add_argument("--rank-bm25-max-docs", type=int, default=200_000)
    p.add_argument("--rank-bm25-queries", type=int, default=100, help="query budget above 20k docs")
    p.add_argument("--skip-bm25s", action="store_true")
    p.add_argument("--no-tracemalloc", action="store_true", help="skip the traced second build")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "out" / "retrieval.json")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--rank-queries", type=int, default=N_QUERIES, help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.worker:
        kinds = {
            "ours-build": lambda: worker_ours_build(args.n, args.work, args.traced),
            "ours-query": lambda: worker_ours_query(args.n, args.work),
            "bm25s": lambda: worker_bm25s(args.n, args.work),
            "rank_bm25": lambda: worker_rank_bm25(args.n, args.work, args.rank_queries),
        }
        out = kinds[args.worker]()
        out["_maxrss"] = maxrss_mb()
        print(json.dumps(out))
        return

    labels = ["10k"] if args.quick else [s.strip() for s in args.sizes.split(",")]
    unknown = [s for s in labels if s not in SIZES]
    if unknown:
        p.error(f"unknown size(s) {unknown}; choose from {list(SIZES)}")
    results: list[dict[str, Any]] = []
    per_doc_ms: float | None = None
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
        for label in labels:
            r = bench_size(label, SIZES[label], args, Path(tmp))
            if "rank_bm25" in r:
                per_doc_ms = r["rank_bm25"]["passage"]["p50"] / SIZES[label]
            elif per_doc_ms is not None:
                # rank_bm25's get_scores is a Python loop per term over all docs: linear in n.
                r["rank_bm25_estimate_ms"] = per_doc_ms * SIZES[label]
            results.append(r)
    table = report(results)
    print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    print(f"\n(raw results: {args.json})", file=sys.stderr)


if __name__ == "__main__":
    main()
