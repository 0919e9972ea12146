"""Searching with a delta against a full rebuild, on `bench_answer.py`'s questions.

Run from the repository root after `bench_startup.py` has written the corpus folder
and its cache (default: 100k passages, this tree's cache folder):

    .venv/bin/python benchmarks/check_delta.py --size 100k

The cached main index of the folder is loaded; then, for each change below, the corpus
changed in memory is indexed twice: with a delta (`retrieval.delta.next_index`, as a
reload does) and folded (`Index.updated`, equal to a full build). Each of the
benchmark's 300 questions is searched in both (BM25 top 10, and the re-ranked top 10
`Index.search`, the reader's input), and the hits compared by (article id, passage
offset): identical rankings, identical score lists (a ranking that differs with the same
ten scores differs inside a tie), mean top-10 overlap, largest score difference of a
passage found in both.
Changes: one article added; 1% of the articles changed (a third added, a third
replaced by an edited text, a third removed).
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from citebot.corpus.articles import Article, Corpus  # noqa: E402
from citebot.corpus.folder import load_corpus  # noqa: E402
from citebot.retrieval.cache import load_index  # noqa: E402
from citebot.retrieval.delta import next_index  # noqa: E402
from citebot.retrieval.index import Index  # noqa: E402
from citebot.text.tokenizer import tokenize  # noqa: E402


def edited(article: Article, new_id: str | None = None) -> Article:
    """The article with its paragraphs in reverse order (and another id if given)."""
    body = "\n\n".join(reversed(article.body.split("\n\n")))
    return article.model_copy(update={"body": body, "id": new_id or article.id, "path": None})


def changes(corpus: Corpus, share: float, seed: int) -> Corpus:
    """`corpus` with `share` of its articles added, replaced or removed (a third each);
    with share 0, one article added."""
    rng = random.Random(seed)
    articles = list(corpus.articles)
    count = max(1, round(share * len(articles) / 3)) if share else 0
    picked = rng.sample(range(len(articles)), 3 * count)
    removed = set(picked[:count])
    replaced = set(picked[count : 2 * count])
    out = [edited(a) if i in replaced else a for i, a in enumerate(articles) if i not in removed]
    donors = picked[2 * count :] or [0]
    out += [edited(articles[i], f"zz-added-{j}") for j, i in enumerate(donors)]
    return Corpus.model_construct(articles=tuple(out), problems=())


def compare(delta: Index, full: Index, questions: list[list[str]]) -> dict[str, Any]:
    """Top-10 agreement of the two indexes on the questions, for BM25 and the re-rank."""
    out: dict[str, Any] = {}
    for name in ("bm25_search", "search"):
        same = overlap = same_scores = 0
        diff = 0.0
        spent = [0.0, 0.0]
        for terms in questions:
            t0 = time.perf_counter()
            a = getattr(delta, name)(terms, 10)
            t1 = time.perf_counter()
            b = getattr(full, name)(terms, 10)
            spent[0] += t1 - t0
            spent[1] += time.perf_counter() - t1
            pa = [(h.passage.article_id, h.passage.start) for h in a]
            pb = [(h.passage.article_id, h.passage.start) for h in b]
            same += pa == pb
            same_scores += [h.score for h in a] == [h.score for h in b]
            overlap += len(set(pa) & set(pb))
            scores_b = {p: h.score for p, h in zip(pb, b, strict=True)}
            for p, h in zip(pa, a, strict=True):
                if p in scores_b:
                    diff = max(diff, abs(h.score - scores_b[p]))
        out[name] = {
            "delta_ms": round(1000 * spent[0] / len(questions), 2),
            "full_ms": round(1000 * spent[1] / len(questions), 2),
            "identical_rankings": f"{same}/{len(questions)}",
            # The ten scores equal, in order: rankings that differ differ inside ties.
            "identical_scores": f"{same_scores}/{len(questions)}",
            "mean_overlap": round(overlap / (10 * len(questions)), 4),
            "max_score_diff": diff,
        }
    return out


class _Unpickler(pickle.Unpickler):
    """Reads a corpus pickled by a tree from before the package move (`citebot.corpus`)."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "citebot.corpus" and name in ("Article", "Corpus"):
            module = "citebot.corpus.articles"
        return super().find_class(module, name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", default="100k")
    p.add_argument("--data", type=Path, default=Path("/tmp/citebot-bench-startup"))
    p.add_argument("--tag", default="this", help="the cache folder bench_startup.py used")
    args = p.parse_args()
    work = args.data / args.size
    with (work / "corpus.pkl").open("rb") as f:
        _, raw = _Unpickler(f).load()
    questions = [tokenize(q["question"]) for q in raw]
    cache = work / f"cache-{args.tag}"
    corpus = load_corpus(work / "corpus", cache_dir=cache)
    main_index = load_index(corpus, cache)
    results = []
    for label, share in (("+1 article", 0.0), ("1% changed", 0.01)):
        changed = changes(corpus, share, seed=16)
        t = time.perf_counter()
        with_delta = next_index(main_index, changed)
        delta_s = time.perf_counter() - t
        assert with_delta.segments is not None, "the change was folded: pick a smaller one"
        t = time.perf_counter()
        full = main_index.updated(changed)
        full_s = time.perf_counter() - t
        row = {"change": label, "delta_s": round(delta_s, 2), "rebuild_s": round(full_s, 2)}
        row |= compare(with_delta, full, questions)
        results.append(row)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
