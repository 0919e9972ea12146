"""Full-pipeline benchmark: generated articles -> citebot index -> cited answers, at scale.

Run from the repository root (one command, all sizes in one run):

    .venv/bin/python benchmarks/bench_answer.py                  # 10k, 100k and 1M passages
    .venv/bin/python benchmarks/bench_answer.py --sizes 10k,100k

Corpus: deterministic (seeded) news-like articles of 3-8 paragraphs. Words are drawn
from a Zipf(s=1) distribution whose top ranks are real English function words (the
tokenizer drops them, as in real text) followed by 60,000 pseudo-words; sentences
mix capitalised names, places, numbers ("4,120", "2.5 percent") and dates ("on 3 May
1998"), so the reader has candidates to weigh. Every paragraph has 40-70 words, which
makes it exactly one passage: "1M passages" is 1,000,000 paragraphs (~180k articles,
~47M words). Questions (300 per size) are built from generated sentences whose answer
is known: "When did <name> <verb> the <noun>?", "How many <noun> did the <noun> of
<place> <verb>?", "Who <verb>ed the <noun>?".

Each size runs in fresh subprocesses (so peak memory is per phase):
  * build: `Index.build` (split, tokenise, BM25) then `save_index`; peak RSS of the process
    (corpus included); pysbd-only splitting is timed on a sample and extrapolated;
  * serve: `load_index` from the cache (memory-mapped), then retrieval (top-10 of
    `Index.bm25_search`, the BM25 engine without the re-rank), full answers
    (`Asker.ask`: parse, retrieve, read, cite) on every question, cold: nothing of the
    corpus has been read before, the tokenizer's caches are emptied first and the warm-up
    questions are not timed; the same questions again (warm); then "index work" (the
    re-ranked search and the hits' sentences) cold as well, on a freshly loaded index
    with the tokenizer's caches emptied again; a CPU probe (`cpu_probe`) is timed just
    before and after the cold answers, since the host's speed varies from minute to minute;
  * update: edit one article and add one, `load_index(..., previous=index)`: the
    incremental path a bot reload takes; at <= 100k it is checked against a fresh build;
  * bm25s (method bm25+) and rank_bm25 (BM25Plus.get_top_n) on the same passage tokens
    (each passage's bag of terms, read back from our index) and the same query tokens.
rank_bm25 gets 50 queries at 100k and is skipped at 1M (linear extrapolation, "est.").
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# A worker answers with another tree's citebot when given its `src` (`--baseline`): the
# same measuring code then runs both trees.
SRC = Path(sys.argv[sys.argv.index("--src") + 1]) if "--src" in sys.argv else ROOT / "src"
sys.path.insert(0, str(SRC))

from citebot import Article, Corpus  # noqa: E402

try:
    from citebot.retrieval.index import BM25_B, BM25_DELTA, BM25_K1
except ImportError:  # a --baseline tree from before the package move (b1bd8a7 and older)
    from citebot.index import BM25_B, BM25_DELTA, BM25_K1

SEED = 20240607
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
N_QUESTIONS = 300
WARMUP = 10
K = 10
FUNCTION_WORDS = (
    "the of and to in a was for on that with by at from his as is he it said were had which an "
    "be has its have are also but not this they their after who been more than would about"
).split()
MONTHS = "January February March April May June July August September October November December"


# ----------------------------------------------------------------------- corpus


def _pseudo(rng: np.random.Generator, n: int, lo: int, hi: int, seen: set[str]) -> list[str]:
    """n distinct lowercase pseudo-words of lo..hi letters."""
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    out: list[str] = []
    while len(out) < n:
        w = "".join(letters[rng.integers(0, 26, int(rng.integers(lo, hi + 1)))])
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def make_corpus(n_passages: int) -> tuple[list[Article], list[dict[str, str]]]:
    """Articles with exactly `n_passages` paragraphs, and questions with their answers."""
    rng = np.random.default_rng(SEED)
    seen = set(FUNCTION_WORDS)
    words = FUNCTION_WORDS + sorted(_pseudo(rng, 60_000, 3, 11, seen), key=len)
    cdf = np.cumsum(1.0 / np.arange(1, len(words) + 1))
    cdf /= cdf[-1]
    first = [w.capitalize() for w in _pseudo(rng, 2_000, 3, 8, seen)]
    last = [w.capitalize() for w in _pseudo(rng, 10_000, 4, 10, seen)]
    places = [w.capitalize() for w in _pseudo(rng, 3_000, 4, 9, seen)]
    verbs = _pseudo(rng, 2_000, 3, 7, seen)
    nouns = words[200:5_000]  # mid-frequency words: specific enough to ask about
    months = MONTHS.split()
    function = set(FUNCTION_WORDS)
    qrng = np.random.default_rng(SEED + 1)
    ask_rate = 4 * N_QUESTIONS / (3 * n_passages)
    articles: list[Article] = []
    questions: list[dict[str, str]] = []
    made = 0
    while made < n_passages:
        paragraphs = []
        for _ in range(min(int(rng.integers(3, 9)), n_passages - made)):
            sentences: list[str] = []
            n_words = 0
            while n_words < 40:
                fill = [
                    words[i] for i in np.searchsorted(cdf, rng.random(int(rng.integers(6, 14))))
                ]
                if fill[-1] in function:  # sentences end on a content word, as news does
                    fill[-1] = nouns[rng.integers(len(nouns))]
                name = f"{first[rng.integers(2000)]} {last[rng.integers(10_000)]}"
                verb, noun = verbs[rng.integers(2000)], nouns[rng.integers(len(nouns))]
                kind = int(rng.integers(0, 4))
                if kind == 0:
                    day, month = rng.integers(1, 29), months[rng.integers(12)]
                    date = f"{day} {month} {rng.integers(1950, 2024)}"
                    s = f"{name} {verb}ed the {noun} {' '.join(fill)} on {date}."
                    q, a = f"When did {name} {verb} the {noun}?", date
                elif kind == 1:
                    place, number = places[rng.integers(3000)], f"{rng.integers(2, 5000):,}"
                    s = f"The {fill[0]} of {place} {verb}ed {number} {noun} {' '.join(fill[1:])}."
                    q, a = f"How many {noun} did the {fill[0]} of {place} {verb}?", number
                elif kind == 2:
                    s = f"{name} {verb}ed the {noun}, {' '.join(fill)}."
                    q, a = f"Who {verb}ed the {noun}?", name
                else:
                    rise = f"{rng.integers(1, 30)}.{rng.integers(1, 10)}"
                    s = f"{' '.join(fill).capitalize()} rose {rise} percent."
                    q = a = ""
                sentences.append(s)
                n_words += len(s.split())
                if q and len(questions) < N_QUESTIONS and qrng.random() < ask_rate:
                    questions.append(
                        {"question": q, "answer": a, "article": f"a{len(articles):07d}"}
                    )
            paragraphs.append(" ".join(sentences))
        made += len(paragraphs)
        title_words = (words[i] for i in np.searchsorted(cdf, rng.random(int(rng.integers(3, 7)))))
        articles.append(
            Article(
                id=f"a{len(articles):07d}",
                title=" ".join(w.capitalize() for w in title_words),
                body="\n\n".join(paragraphs),
            )
        )
    return articles, questions


# ---------------------------------------------------------------------- helpers


def rss_mb() -> float:
    """Current resident set size."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mb() -> float:
    """Peak RSS of this process (VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_probe() -> float:
    """ms for a fixed pure-Python workload (string, dict and list work, as the reader's),
    median of 5: how fast the machine runs Python at this moment. On a shared host it moves
    by a factor of 1.5 or more from minute to minute, and the answer times with it."""
    times = []
    for _ in range(5):
        t = time.perf_counter()
        seen: dict[str, int] = {}
        for i in range(50_000):
            key = str(i)
            seen[key] = seen.get(key[:-1], 0) + len(key.split("1"))
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def latencies(fn: Any, items: list[Any], *, cold: bool = False) -> dict[str, float]:
    """p50/p99 in ms of fn(item) over the items, after a warm-up on the first WARMUP.

    `cold`: the warm-up items are not timed again (they would be answered from caches).
    """
    for item in items[:WARMUP]:
        fn(item)
    times = []
    for item in items[WARMUP:] if cold else items:
        t = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1e3
    return {"p50": float(np.median(ms)), "p99": float(np.percentile(ms, 99)), "n": len(items)}


def load_work(work: Path) -> tuple[Corpus, list[dict[str, str]]]:
    """The generated corpus and questions the build worker saved."""
    with open(work / "corpus.pkl", "rb") as f:
        articles, questions = pickle.load(f)
    return Corpus(articles=tuple(Article(**a) for a in articles)), questions


def bags(work: Path) -> list[list[str]]:
    """Each passage's bag of index terms (term repeated tf times), read from our index file."""
    from citebot.retrieval.bm25 import BM25Index

    (path,) = (work / "cache").glob("index-*.bm25")
    bm = BM25Index.load(path)
    term_of = np.repeat(np.arange(len(bm._terms)), np.diff(bm._indptr))
    order = np.argsort(bm._doc_ids, kind="stable")
    docs = bm._doc_ids[order]
    terms, tf = term_of[order], np.asarray(bm._tf)[order]
    cuts = np.searchsorted(docs, np.arange(bm.n_docs + 1))
    names = bm._terms
    out = []
    for d in range(bm.n_docs):
        lo, hi = cuts[d], cuts[d + 1]
        out.append(
            [
                names[t]
                for t, f in zip(terms[lo:hi].tolist(), tf[lo:hi].tolist(), strict=True)
                for _ in range(f)
            ]
        )
    return out


def query_tokens(questions: list[dict[str, str]]) -> list[list[str]]:
    try:
        from citebot.text.tokenizer import tokenize
    except ImportError:  # a --baseline tree from before the package move
        from citebot.text import tokenize

    return [tokenize(q["question"]) for q in questions]


# ---------------------------------------------------------------------- workers


def worker_build(n: int, work: Path) -> dict[str, Any]:
    """Generate, build, save; estimate what pysbd alone would cost."""
    from citebot.corpus import passages
    from citebot.retrieval.cache import save_index
    from citebot.retrieval.index import Index

    t = time.perf_counter()
    articles, questions = make_corpus(n)
    out: dict[str, Any] = {"gen_s": time.perf_counter() - t, "articles": len(articles)}
    with open(work / "corpus.pkl", "wb") as f:
        # plain fields, not Article objects: a --baseline tree may keep Article elsewhere
        fields = [a.model_dump() for a in articles]
        pickle.dump((fields, questions), f, protocol=pickle.HIGHEST_PROTOCOL)
    corpus = Corpus(articles=tuple(articles))
    out["corpus_rss_mb"] = rss_mb()
    t = time.perf_counter()
    index = Index.build(corpus)
    out["build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    save_index(index, work / "cache")
    out["save_s"] = time.perf_counter() - t
    out["passages"] = len(index.passages)
    out["tokens"] = int(index.bm25._lengths.sum())
    out["disk_mb"] = sum(p.stat().st_size for p in (work / "cache").glob("index-*")) / 2**20
    out["build_peak_mb"] = peak_mb()
    sample = [a.body.split("\n\n")[0] for a in articles[:: max(1, len(articles) // 200)]]
    t = time.perf_counter()
    for text in sample:
        passages._segmenter().segment(text)
    out["pysbd_est_s"] = (time.perf_counter() - t) / len(sample) * n
    return out


def clear_text_caches() -> None:
    """Forget every word, term and stem the tokenizer has cached, as a fresh process has."""
    try:
        from citebot.text import tokenizer as text
    except ImportError:  # a --baseline tree from before the package move
        from citebot import text

    for value in vars(text).values():
        if hasattr(value, "cache_clear"):
            value.cache_clear()
    for name in ("_RUNS", "_TERMS"):  # the word runs' caches (plain dicts)
        cache = getattr(text, name, None)
        if isinstance(cache, dict):
            cache.clear()


def worker_serve(n: int, work: Path) -> dict[str, Any]:
    """Load from the cache in a fresh process; time retrieval and full answers.

    Full answers are timed cold, first: every cache of the reader is empty but the
    tokenizer's, which retrieval's query tokens filled and which is emptied. "Index
    work" comes last, cold again: on a freshly loaded index (no sentence made yet),
    with the tokenizer's caches emptied (else the re-rank would find every sentence's
    terms that the full answers computed).
    """
    import citebot
    from citebot import Asker, load_index  # exported by every tree, before and after the move

    corpus, questions = load_work(work)
    _ = corpus.version  # hashing the corpus is the corpus loader's cost, not the index's
    before = rss_mb()
    t = time.perf_counter()
    index = load_index(corpus, work / "cache")
    out: dict[str, Any] = {"load_s": time.perf_counter() - t, "index_rss_mb": rss_mb() - before}
    out["citebot"] = str(Path(citebot.__file__).parent)  # which tree answered
    # As the bot does after loading (bot/client.py `_freeze_heap`): the corpus and index
    # are left out of full garbage collections, which otherwise make the p99.
    gc.collect()
    gc.freeze()
    queries = query_tokens(questions)
    # The BM25 engine, compared with bm25s and rank-bm25 on the same tokens; the re-rank
    # that `Index.search` adds on top is part of "index work" below.
    out["retrieval"] = latencies(lambda q: index.bm25_search(q, K), queries)
    ours = [[h.passage.index for h in index.bm25_search(q, K)] for q in queries]
    (work / "ours.json").write_text(json.dumps(ours))
    asker = Asker(index)
    answers = []
    clear_text_caches()
    probe = cpu_probe()
    out["answer"] = latencies(
        lambda q: answers.append(asker.ask(q["question"])), questions, cold=True
    )
    out["probe_ms"] = [probe, cpu_probe()]  # just before and just after the cold answers
    right = sum(
        1
        for a, q in zip(answers, questions, strict=True)
        if a.answered and q["answer"] in (a.answer or "")
    )
    # Again: the reader caches per-sentence work, so this is the cost of repeated questions.
    out["answer_again"] = latencies(lambda q: asker.ask(q["question"]), questions)
    out["answered_pct"] = 100 * sum(a.answered for a in answers) / len(answers)
    out["correct_pct"] = 100 * right / len(answers)
    fresh = load_index(corpus, work / "cache")
    clear_text_caches()
    out["index_work"] = latencies(lambda q: index_work(fresh, q), queries, cold=True)
    out["serve_peak_mb"] = peak_mb()
    return out


def index_work(index: Any, query: list[str]) -> None:
    """What a question asks of the index: the reader's retrieval, then every sentence of
    the hits and their articles (the objects are made from the tables on access)."""
    for hit in index.search(query, 8):
        sentences = index.sentences[hit.passage.article_id]
        for i in range(hit.passage.first_sentence, hit.passage.last_sentence):
            _ = sentences[i].text
        _ = index.article(hit.passage.article_id).date
        _ = index.idf(query[0])


def worker_update(n: int, work: Path, verify: bool) -> dict[str, Any]:
    """Edit one article and add one; time the incremental reload; check it at small sizes."""
    from citebot.retrieval.cache import load_index
    from citebot.retrieval.index import Index

    corpus, questions = load_work(work)
    index = load_index(corpus, work / "cache")
    articles = list(corpus.articles)
    mid = len(articles) // 2
    edited = articles[mid].body.replace(" the ", " the renamed ", 1)
    articles[mid] = articles[mid].model_copy(update={"body": edited})
    articles.append(Article(id="zz-new", title="Late news", body=articles[0].body))
    changed = Corpus(articles=tuple(articles))
    _ = changed.version
    t = time.perf_counter()
    updated = load_index(changed, work / "cache", previous=index)
    out: dict[str, Any] = {"update_s": time.perf_counter() - t}
    if verify:
        # By place, not passage id: a delta numbers its passages after the main index's,
        # so passages tied on score may come in another order than in a build.
        def hits(index: Index, q: list[str]) -> list[tuple[float, str, int]]:
            return sorted(
                (-h.score, h.passage.article_id, h.passage.start) for h in index.search(q, K)
            )

        scratch = Index.build(changed)
        same = all(hits(updated, q) == hits(scratch, q) for q in query_tokens(questions))
        out["update_equals_build"] = same and updated.n_live == len(scratch.passages)
    return out


def worker_engine(n: int, work: Path, engine: str, n_queries: int) -> dict[str, Any]:
    """bm25s or rank_bm25 on our passages' bags of terms, with our query tokens."""
    docs = bags(work)
    queries = query_tokens(load_work(work)[1])[:n_queries]
    ours = json.loads((work / "ours.json").read_text())
    t = time.perf_counter()
    if engine == "bm25s":
        import os

        os.environ.setdefault("DISABLE_TQDM", "1")
        import bm25s

        retriever = bm25s.BM25(method="bm25+", k1=BM25_K1, b=BM25_B, delta=BM25_DELTA)
        retriever.index(docs, show_progress=False)

        def top(q: list[str]) -> list[int]:
            res = retriever.retrieve([q], k=K, show_progress=False, n_threads=0)
            return [int(i) for i in res.documents[0]]
    else:
        from rank_bm25 import BM25Plus

        bm = BM25Plus(docs, k1=BM25_K1, b=BM25_B, delta=BM25_DELTA)
        ids = list(range(len(docs)))

        def top(q: list[str]) -> list[int]:
            return list(bm.get_top_n(q, ids, n=K))

    out: dict[str, Any] = {"build_s": time.perf_counter() - t}
    out["retrieval"] = latencies(top, queries)
    out["overlap"] = float(
        np.mean([len(set(top(q)) & set(o)) / K for q, o in zip(queries, ours, strict=False)])
    )
    return out


# ----------------------------------------------------------------------- driver


def run_worker(
    kind: str, n: int, work: Path, *extra: str, src: Path | None = None
) -> dict[str, Any]:
    """Run one worker of this script in a fresh interpreter and return its JSON result.

    `src` is another tree's `src` to answer with (this script measures both trees).
    """
    script = ROOT / "benchmarks" / "bench_answer.py"
    cmd = [sys.executable, str(script), "--worker", kind, "--n", str(n), "--work", str(work)]
    cmd += [*extra, *(("--src", str(src)) if src else ())]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker {kind} at {n} passages failed")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def bench_size(label: str, n: int, base: Path, args: argparse.Namespace) -> dict[str, Any]:
    work = base / label
    work.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"label": label}
    for kind in ("build", "serve") if args.answers_only else ("build", "serve", "bm25s"):
        print(f"[{label}] {kind} ...", file=sys.stderr, flush=True)
        res[kind] = run_worker(kind, n, work)
    if args.baseline:
        # Alternate rounds, same index, same machine state: the fairest before/after.
        res["ab"] = []
        for r in range(args.rounds):
            print(f"[{label}] serve, baseline vs this tree, round {r + 1} ...", file=sys.stderr)
            res["ab"].append(
                {
                    "baseline": run_worker("serve", n, work, src=args.baseline / "src"),
                    "ours": run_worker("serve", n, work),
                }
            )
    if args.answers_only:
        return res
    if n <= args.rank_bm25_max:
        nq = N_QUESTIONS if n <= 20_000 else 50
        print(f"[{label}] rank_bm25 ({nq} queries) ...", file=sys.stderr, flush=True)
        res["rank_bm25"] = run_worker("rank_bm25", n, work, "--queries", str(nq))
    # Last: the update writes a second index version into the cache.
    print(f"[{label}] update ...", file=sys.stderr, flush=True)
    res["update"] = run_worker("update", n, work, *(("--verify",) if n <= 100_000 else ()))
    return res


def lat(d: dict[str, Any] | None) -> str:
    return f"{d['p50']:.2f} / {d['p99']:.2f}" if d else "-"


def probe(serve: dict[str, Any]) -> str:
    """The CPU probe just before and after a serve's cold answers (older results: "-")."""
    return "{:.0f} / {:.0f}".format(*serve["probe_ms"]) if "probe_ms" in serve else "-"


def ab_report(results: list[dict[str, Any]]) -> str:
    """Baseline against this tree: medians over the alternating rounds."""
    lines = [
        "| passages | rounds | full answer p50 ms: baseline / this tree | p99 ms "
        "| same questions again p50 ms | index work p50 ms "
        "| answered / right %: baseline | this tree | p50 of each round (baseline, this tree) "
        "| CPU probe ms of each round (baseline, this tree) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if not r.get("ab"):
            continue
        med = {
            side: {
                "p50": float(np.median([x[side]["answer"]["p50"] for x in r["ab"]])),
                "p99": float(np.median([x[side]["answer"]["p99"] for x in r["ab"]])),
                "again": float(np.median([x[side]["answer_again"]["p50"] for x in r["ab"]])),
                "index": float(np.median([x[side]["index_work"]["p50"] for x in r["ab"]])),
            }
            for side in ("baseline", "ours")
        }
        b, o = med["baseline"], med["ours"]
        last = r["ab"][-1]
        rounds = ", ".join(
            f"{x['baseline']['answer']['p50']:.1f}/{x['ours']['answer']['p50']:.1f}"
            for x in r["ab"]
        )
        probes = ", ".join(f"{probe(x['baseline'])}; {probe(x['ours'])}" for x in r["ab"])
        lines.append(
            f"| {r['label']} | {len(r['ab'])} | {b['p50']:.2f} / {o['p50']:.2f} "
            f"| {b['p99']:.2f} / {o['p99']:.2f} | {b['again']:.2f} / {o['again']:.2f} "
            f"| {b['index']:.2f} / {o['index']:.2f} "
            f"| {last['baseline']['answered_pct']:.0f} / {last['baseline']['correct_pct']:.0f} "
            f"| {last['ours']['answered_pct']:.0f} / {last['ours']['correct_pct']:.0f} | {rounds} "
            f"| {probes} |"
        )
    return "\n".join(lines)


def report(results: list[dict[str, Any]]) -> str:
    """Markdown tables of a run, with ratios to the other engines."""
    lines = [
        "| passages | articles | terms | build s | save s | update s (1 edit + 1 new) "
        "| load s | disk MB | build peak RSS MB | serve peak RSS MB (index) "
        "| index work p50 / p99 ms | full answer p50 / p99 ms | CPU probe ms "
        "| same questions again | answered / right % |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b, s, u = r["build"], r["serve"], r["update"]
        check = {True: " (= build)", False: " (DIFFERS)"}.get(u.get("update_equals_build"), "")
        lines.append(
            f"| {r['label']} | {b['articles']:,} | {b['tokens']:,} | {b['build_s']:.1f} "
            f"| {b['save_s']:.1f} | {u['update_s']:.1f}{check} | {s['load_s']:.2f} "
            f"| {b['disk_mb']:.0f} | {b['build_peak_mb']:.0f} "
            f"| {s['serve_peak_mb']:.0f} ({s['index_rss_mb']:.0f}) | {lat(s['index_work'])} "
            f"| {lat(s['answer'])} | {probe(s)} | {lat(s['answer_again'])} "
            f"| {s['answered_pct']:.0f} / {s['correct_pct']:.0f} |"
        )
    lines += [
        "",
        "| passages | retrieval top-10 p50 / p99 ms: ours | bm25s | rank_bm25 "
        "| ours/bm25s p50 | ours/rank_bm25 p50 | build s: bm25s / rank_bm25 | top-10 overlap "
        "| splitting with pysbd only, est. s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    per_doc: float | None = None
    for r in results:
        n = SIZES[r["label"]]
        o, s, rb = r["serve"]["retrieval"], r["bm25s"]["retrieval"], r.get("rank_bm25")
        if rb:
            per_doc = rb["retrieval"]["p50"] / n
            rank_col, rank_ratio = lat(rb["retrieval"]), f"{o['p50'] / rb['retrieval']['p50']:.4f}"
        elif per_doc is not None:
            rank_col, rank_ratio = (
                f"skipped (est. {per_doc * n:.0f})",
                f"{o['p50'] / (per_doc * n):.5f}",
            )
        else:
            rank_col, rank_ratio = "skipped", "-"
        rank_build = f"{rb['build_s']:.1f}" if rb else "-"
        overlap = f"{r['bm25s']['overlap']:.3f} / " + (f"{rb['overlap']:.3f}" if rb else "-")
        lines.append(
            f"| {r['label']} | {lat(o)} | {lat(s)} | {rank_col} | {o['p50'] / s['p50']:.3f} "
            f"| {rank_ratio} | {r['bm25s']['build_s']:.1f} / {rank_build} | {overlap} "
            f"| {r['build']['pysbd_est_s']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="10k,100k,1M", help=f"comma list of {', '.join(SIZES)}")
    p.add_argument("--rank-bm25-max", type=int, default=200_000)
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "out" / "answer.json")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--verify", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--queries", type=int, default=N_QUESTIONS, help=argparse.SUPPRESS)
    p.add_argument("--src", type=Path, help=argparse.SUPPRESS)  # read at import (SRC)
    p.add_argument(
        "--baseline",
        type=Path,
        help="another source tree (e.g. a `git archive` of an older commit): its citebot "
        "answers on the same index, measured by this script in rounds alternating with this "
        "tree's",
    )
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds for --baseline")
    p.add_argument(
        "--answers-only",
        action="store_true",
        help="build and serve only (no bm25s, rank_bm25 or update); prints the A/B table",
    )
    args = p.parse_args()
    if args.worker:
        workers = {
            "build": lambda: worker_build(args.n, args.work),
            "serve": lambda: worker_serve(args.n, args.work),
            "update": lambda: worker_update(args.n, args.work, args.verify),
            "bm25s": lambda: worker_engine(args.n, args.work, "bm25s", N_QUESTIONS),
            "rank_bm25": lambda: worker_engine(args.n, args.work, "rank_bm25", args.queries),
        }
        print(json.dumps(workers[args.worker]()))
        return
    labels = [s.strip() for s in args.sizes.split(",")]
    if unknown := [s for s in labels if s not in SIZES]:
        p.error(f"unknown size(s) {unknown}; choose from {list(SIZES)}")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-answer-") as tmp:
        for label in labels:
            results.append(bench_size(label, SIZES[label], Path(tmp), args))
    if not args.answers_only:
        print(report(results))
    if args.baseline:
        print(ab_report(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    print(f"\n(raw results: {args.json})", file=sys.stderr)


if __name__ == "__main__":
    main()
