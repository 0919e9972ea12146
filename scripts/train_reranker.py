"""Fit the retrieval re-ranker's weights (`citebot.retrieval.rerank`) on a SQuAD file.

The file's articles are indexed as their own corpus; each answerable question is
searched as the reader searches (its terms, BM25's best RERANK_DEPTH passages), every
passage gets its `retrieval.features.FEATURES`, and a passage is right when it starts
in the question's paragraph (`evaluation.evaluate.paragraph_rank`'s rule). A linear
score is fitted listwise: the softmax over a question's passages should put its mass
on the right ones (questions with no right passage among them teach nothing). Fitting
is Newton's method with an L2 penalty, deterministic; the weights are then divided by
BM25's so that it weighs 1, and written as JSON.

    .venv/bin/python scripts/train_reranker.py /work/shared/data/squad-train-v1.1.json \\
        --cache build/rerank-train.npz --out src/citebot/retrieval/rerank_weights.json
    # choosing: recall@1 on each half of SQuAD 2.0 dev for several settings
    .venv/bin/python scripts/train_reranker.py /work/shared/data/squad-train-v1.1.json \\
        --cache build/rerank-train.npz --choose /work/shared/data/squad-dev-v2.0.json \\
        --choose-cache build/rerank-dev2.npz --l2 0,0.001,0.01 --drop none,window,run

Feature extraction is most of the time (about 2 ms a question); `--cache` keeps it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from citebot.errors import QuestionError
from citebot.evaluation.crossfit import article_folds
from citebot.evaluation.evaluate import ParagraphMap
from citebot.evaluation.squad import SquadSet, load_squad
from citebot.pipeline import _clean_question
from citebot.reader.question import parse_question
from citebot.retrieval.features import FEATURES, passage_features
from citebot.retrieval.index import Index
from citebot.retrieval.rerank import RERANK_DEPTH

Array = npt.NDArray[np.float64]


@dataclass
class Lists:
    """Every question's re-ranked list: features (question, rank, feature), which ranks
    hold a passage, which are right, and each question's article."""

    x: Array
    valid: npt.NDArray[np.bool_]
    right: npt.NDArray[np.bool_]
    article: npt.NDArray[np.int64]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path, x=self.x, valid=self.valid, right=self.right, article=self.article,
            features=np.array(FEATURES),
        )  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> Lists | None:
        """The lists cached in `path`, or None when it is absent or for other features."""
        if not path.exists():
            return None
        data = np.load(path)
        if tuple(data["features"].tolist()) != FEATURES:
            return None
        return cls(data["x"], data["valid"], data["right"], data["article"])

    def subset(self, keep: npt.NDArray[np.bool_]) -> Lists:
        return Lists(self.x[keep], self.valid[keep], self.right[keep], self.article[keep])


def lists_of(squad: SquadSet, limit: int | None = None) -> Lists:
    """The re-ranked lists of `squad`'s answerable questions (the first `limit` of them)."""
    index = Index.build(squad.corpus())
    pmap = ParagraphMap(squad, "open")
    starts = [pmap.locate(p.article_id, p.start) for p in index.passages]
    questions = [q for q in squad.questions if q.answerable][:limit]
    n, depth = len(questions), RERANK_DEPTH
    x = np.zeros((n, depth, len(FEATURES)))
    valid = np.zeros((n, depth), dtype=bool)
    right = np.zeros((n, depth), dtype=bool)
    for row, q in enumerate(questions):
        try:
            terms = parse_question(_clean_question(q.text, 500)).terms
        except QuestionError:
            continue  # the bot refuses it: nothing retrieved
        unique = list(dict.fromkeys(terms))
        hits = index.bm25_search(unique, depth)
        if not hits:
            continue
        ids = [h.passage.index for h in hits]
        x[row, : len(ids)] = passage_features(index, unique, ids, [h.bm25 for h in hits])
        valid[row, : len(ids)] = True
        right[row, : len(ids)] = [starts[i] == (q.article, q.paragraph) for i in ids]
    article = np.array([q.article for q in questions], dtype=np.int64)
    return Lists(x, valid, right, article)


def cached_lists(path: Path, cache: Path | None, limit: int | None) -> Lists:
    lists = Lists.load(cache) if cache is not None and limit is None else None
    if lists is None:
        started = time.perf_counter()
        lists = lists_of(load_squad(path), limit)
        print(f"{path.name}: {len(lists.x)} questions in {time.perf_counter() - started:.0f} s")
        if cache is not None and limit is None:
            lists.save(cache)
    return lists


def fit(lists: Lists, l2: float, keep: npt.NDArray[np.bool_], steps: int = 50) -> Array:
    """Listwise softmax weights over the kept features (zero elsewhere), by Newton steps.

    The loss of a question is -log(the softmax mass on its right passages), plus
    `l2 / 2 * |w|^2`; its gradient is E_p[x] - E_q[x] (p the softmax over all passages,
    q over the right ones). The curvature used is Cov_p[x], the Hessian of the log-sum
    over all passages (the right-passage term only lowers it), and each step is halved
    until the loss falls; a few dozen steps converge where Adam needed thousands.
    """
    useful = (lists.right & lists.valid).any(axis=1)
    x, valid, right = lists.x[useful][:, :, keep], lists.valid[useful], lists.right[useful]
    n, f = len(x), x.shape[2]
    w = np.zeros(f)
    w[0] = 1.0  # start from BM25's order (feature 0 is bm25)
    current = _loss(x, valid, right, w, l2)
    for _ in range(steps):
        s = np.where(valid, x @ w, -np.inf)
        p, q = _softmax(s), _softmax(np.where(right, s, -np.inf))
        mean = np.einsum("qd,qdf->qf", p, x)
        grad = (mean - np.einsum("qd,qdf->qf", q, x)).sum(axis=0) / n + l2 * w
        centred = x - mean[:, None, :]
        hessian = np.einsum("qd,qdf,qdg->fg", p, centred, centred) / n
        step = np.linalg.solve(hessian + (l2 + 1e-9) * np.eye(f), grad)
        for _ in range(30):  # halve until the loss falls
            trial = _loss(x, valid, right, w - step, l2)
            if trial <= current:
                break
            step /= 2
        else:
            break  # no step lowers it: converged
        w, gain, current = w - step, current - trial, trial
        if gain < 1e-9:
            break
    full = np.zeros(len(FEATURES))
    full[keep] = w
    return full


def _loss(
    x: Array, valid: npt.NDArray[np.bool_], right: npt.NDArray[np.bool_], w: Array, l2: float
) -> float:
    """Mean -log(softmax mass on the right passages), plus the L2 penalty."""
    s = np.where(valid, x @ w, -np.inf)
    return float((_logsumexp(s) - _logsumexp(np.where(right, s, -np.inf))).mean()) + (
        l2 / 2 * float(w @ w)
    )


def _logsumexp(s: Array) -> Array:
    top = s.max(axis=1)
    return np.asarray(np.log(np.exp(s - top[:, None]).sum(axis=1)) + top, dtype=np.float64)


def _softmax(s: Array) -> Array:
    top = s.max(axis=1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(top), top, 0.0))
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


def recall_at_1(lists: Lists, w: Array) -> float:
    """Share (%) of questions whose first passage after re-ranking is right (ties: BM25's)."""
    s = np.where(lists.valid, lists.x @ w, -np.inf)
    first = s.argmax(axis=1)
    hit = lists.right[np.arange(len(s)), first] & lists.valid.any(axis=1)
    return 100 * float(hit.mean()) if len(s) else 0.0


def normalised(w: Array) -> Array:
    """`w` scaled so BM25's weight is 1 (the order is unchanged); refused if BM25's <= 0."""
    if w[0] <= 0:
        raise SystemExit(f"the fit gave BM25 a weight of {w[0]:.3g}; nothing to scale by")
    return w / w[0]


def choose(
    train: Lists, dev: Lists, dev_titles: list[str], l2s: list[float], drops: list[str]
) -> None:
    """recall@1 on all of `dev` and on each half of its articles (sorted by title)."""
    halves = np.array(article_folds(dev_titles, 2))[dev.article]
    parts = {"all": dev, "train": dev.subset(halves == 0), "heldout": dev.subset(halves == 1)}
    base = np.zeros(len(FEATURES))
    base[0] = 1.0
    print(f"{'setting':<32}" + "".join(f"{p:>9}" for p in parts))
    print(f"{'BM25 alone':<32}" + "".join(f"{recall_at_1(d, base):9.2f}" for d in parts.values()))
    for drop in drops:
        keep = np.array([f not in drop.split("+") for f in FEATURES])
        for l2 in l2s:
            w = fit(train, l2, keep)
            name = f"drop {drop}, l2={l2:g}"
            print(f"{name:<32}" + "".join(f"{recall_at_1(d, w):9.2f}" for d in parts.values()))
            sys.stdout.flush()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="SQuAD JSON to fit on (v1.1 train)")
    parser.add_argument("--out", type=Path, help="where to write the weights JSON")
    parser.add_argument("--cache", type=Path, help="npz keeping the file's features")
    parser.add_argument("--limit", type=int, help="only the first N answerable questions")
    parser.add_argument("--l2", default="0", help="L2 penalty (comma-separated to --choose)")
    parser.add_argument("--drop", default="none", help="features left out, a+b (comma: several)")
    parser.add_argument("--choose", type=Path, help="SQuAD file to compare settings on")
    parser.add_argument("--choose-cache", type=Path)
    args = parser.parse_args(argv)
    train = cached_lists(args.file, args.cache, args.limit)
    l2s = [float(v) for v in args.l2.split(",")]
    drops = args.drop.split(",")
    if args.choose is not None:
        dev = cached_lists(args.choose, args.choose_cache, None)
        titles = [a.title for a in load_squad(args.choose).articles]
        choose(train, dev, titles, l2s, drops)
    if args.out is not None:
        keep = np.array([f not in drops[0].split("+") for f in FEATURES])
        w = normalised(fit(train, l2s[0], keep))
        meta = {
            "features": list(FEATURES),
            "weights": [round(float(v), 6) for v in w],
            "trained_on": args.file.name,
            "questions": len(train.x),
            "depth": RERANK_DEPTH,
            "l2": l2s[0],
            "dropped": drops[0],
            "train_recall_at_1": round(recall_at_1(train, w), 2),
            "written_by": "scripts/train_reranker.py",
        }
        args.out.write_text(json.dumps(meta, indent=1) + "\n", "utf-8")
        print(
            f"wrote {args.out}: "
            + ", ".join(f"{f}={v:.3f}" for f, v in zip(FEATURES, w, strict=True))
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
