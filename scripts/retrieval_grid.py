"""Retrieval-only recall on a SQuAD file: seconds per configuration, not minutes.

For each configuration the SQuAD corpus is indexed once per article part (all,
train, heldout: the two halves of the articles sorted by title, each its own corpus)
and every answerable question's passages are retrieved exactly as the reader
retrieves them (`citebot.pipeline.retrieve`: the question's terms, top 8; the query
here also repeats the main verb, which only the "repeats count" variant counts). A
question's rank is that of the first passage *starting* in its
gold paragraph (`citebot.evaluation.evaluate.paragraph_rank`), so recall@1/@5 here equal the
eval's open-mode retrieval numbers when the configuration is the shipped one.

    .venv/bin/python scripts/retrieval_grid.py /work/shared/data/squad-dev-v2.0.json
    .venv/bin/python scripts/retrieval_grid.py FILE --only "shipped;shipped + k1=1.2" --parts train
    # SQuAD v1.1 dev, all 48 articles the corpus, recall of split_report.py's splits:
    # "dev" (the 35 articles v2.0 dev shares) and "test" (the 13 others: report only)
    .venv/bin/python scripts/retrieval_grid.py ../shared/data/squad-dev-v1.1.json \
        --only "shipped;shipped + weights=hand" --parts dev,test

A configuration is named by its changes to the shipped one (see `config`); each
patches the pieces it changes for the duration of its run only.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from citebot.corpus import passages as passages_mod
from citebot.errors import QuestionError
from citebot.evaluation.crossfit import article_folds
from citebot.evaluation.evaluate import ParagraphMap
from citebot.evaluation.squad import SquadSet, load_squad
from citebot.pipeline import _clean_question
from citebot.reader.question import Question, parse_question
from citebot.retrieval import index as index_mod
from citebot.retrieval import rerank as rerank_mod
from citebot.retrieval.features import FEATURES
from citebot.retrieval.index import Index

DEPTH = 20  # ranks kept per question: recall@1, @5, @20


@dataclass
class Config:
    """One experiment: index-time patches and a query-time search function."""

    name: str
    patches: dict[str, Any] = field(default_factory=dict)  # "module.attr" -> value
    bm25: dict[str, float] = field(default_factory=dict)  # k1 / b / delta
    query: Callable[[Question], list[str]] | None = None
    search: Callable[[Index, Question, list[str], int], list[int]] | None = None


def default_query(q: Question) -> list[str]:
    """The reader's query (`answer.collect`)."""
    return list(q.terms) + [t for t, w in q.weights.items() if w > 1]


@contextlib.contextmanager
def patched(config: Config) -> Iterator[None]:
    modules = {"index": index_mod, "passages": passages_mod, "rerank": rerank_mod}
    saved: list[tuple[Any, str, Any]] = []
    for dotted, value in config.patches.items():
        mod_name, attr = dotted.split(".")
        mod = modules[mod_name]
        saved.append((mod, attr, getattr(mod, attr)))
        setattr(mod, attr, value)
    bm25_saved = None
    if config.bm25:
        from citebot.retrieval import bm25 as bm25_mod

        original = bm25_mod.BM25Index.from_ids.__func__  # type: ignore[attr-defined]

        def from_ids(cls: Any, *args: Any, **kwargs: Any) -> Any:
            return original(cls, *args, **(kwargs | config.bm25))

        bm25_saved = bm25_mod.BM25Index.from_ids
        bm25_mod.BM25Index.from_ids = classmethod(from_ids)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        for mod, attr, value in reversed(saved):
            setattr(mod, attr, value)
        if bm25_saved is not None:
            from citebot.retrieval import bm25 as bm25_mod

            bm25_mod.BM25Index.from_ids = bm25_saved  # type: ignore[method-assign]


def ranks(squad: SquadSet, config: Config) -> tuple[list[int | None], float, float]:
    """Rank (1-based, None beyond DEPTH) of every answerable question; build and ask seconds."""
    with patched(config):  # index-time and query-time patches alike
        return _ranks(squad, config)


def _ranks(squad: SquadSet, config: Config) -> tuple[list[int | None], float, float]:
    started = time.perf_counter()
    index = Index.build(squad.corpus())
    built = time.perf_counter() - started
    pmap = ParagraphMap(squad, "open")
    starts = [pmap.locate(p.article_id, p.start) for p in index.passages]
    out: list[int | None] = []
    started = time.perf_counter()
    for q in squad.questions:
        if not q.answerable:
            continue
        try:
            parsed = parse_question(_clean_question(q.text, 500))
        except QuestionError:
            out.append(None)
            continue
        if not parsed.terms:
            out.append(None)
            continue
        query = (config.query or default_query)(parsed)
        if config.search is not None:
            ids = config.search(index, parsed, query, DEPTH)
        else:
            ids = [h.passage.index for h in index.search(query, DEPTH)]
        target = (q.article, q.paragraph)
        out.append(next((r for r, i in enumerate(ids, 1) if starts[i] == target), None))
    return out, built, time.perf_counter() - started


def recall(rs: Sequence[int | None], k: int) -> float:
    return 100 * sum(1 for r in rs if r is not None and r <= k) / len(rs)


def _bounds(max_words: int, min_words: int) -> Callable[..., Any]:
    original = passages_mod.passage_bounds

    def bounds(body: str, spans: Any) -> Any:
        return original(body, spans, max_words=max_words, min_words=min_words)

    return bounds


def _window_bounds(max_words: int, min_words: int) -> Callable[..., Any]:
    """Like passage_bounds, but a passage that runs into later paragraphs is followed by
    one starting at the next paragraph: every paragraph starts a passage."""

    def bounds(body: str, spans: Any) -> Any:
        lengths = [len(body[start:end].split()) for start, end, _ in spans]
        out = []
        i, n = 0, len(spans)
        while i < n:
            j, words = i, 0
            broke_at_paragraph = False
            while j < n:
                if j > i and spans[j][2] != spans[j - 1][2] and words >= min_words:
                    broke_at_paragraph = True
                    break
                if j > i and words + lengths[j] > max_words:
                    break
                words += lengths[j]
                j += 1
            out.append((i, j))
            if j >= n:
                break
            nxt = i + 1
            while nxt < j and spans[nxt][2] == spans[i][2]:
                nxt += 1
            # A passage that ran into a later paragraph is followed by one starting there.
            overlap = j if broke_at_paragraph or j - i == 1 else j - 1
            i = min(nxt, overlap) if nxt < j else overlap
        return out

    return bounds


def _title_times(times: int) -> type:
    from citebot.retrieval.terms import TermIds

    class Titled(TermIds):
        def add(self, article: Any, spans: Any, bounds: Any) -> None:
            title = self._ids(article.title, 0, len(article.title)) * times
            body = article.body
            buffer = self._buffer
            for first, last in bounds:
                before = len(buffer)
                buffer += title
                buffer += self._ids(body, spans[first][0], spans[last - 1][1])
                self._lengths.append(len(buffer) - before)
            if len(buffer) > 1 << 20:
                self._flush()

    return Titled


def _no_frame(q: Question) -> list[str]:
    """The reader's query without the words that frame the question ("year", "name")."""
    return [t for t in q.terms if q.weights.get(t, 1.0) > 0] + [
        t for t, w in q.weights.items() if w > 1
    ]


def _repeats(index: Index, q: Question, query: list[str], k: int) -> list[int]:
    """`Index.search`, but BM25 counting a repeated query term each time (as before v4)."""
    unique = list(dict.fromkeys(query))
    hits = index.bm25_search(query, max(k, rerank_mod.RERANK_DEPTH))
    depth = rerank_mod.RERANK_DEPTH
    return [h.passage.index for h in (index_mod.rerank(index, unique, hits[:depth]) + hits[depth:])]


def _bm25_only(index: Index, q: Question, query: list[str], k: int) -> list[int]:
    """The search before v4: BM25 over the query as given (repeats count), no re-ranking."""
    return [h.passage.index for h in index.bm25_search(query, k)]


def _weights(source: str) -> Callable[[], rerank_mod.Reranker]:
    """The re-ranker's weights loader, replaced: "hand" (the weights before the learned
    re-ranker) or a weights JSON's path."""
    if source != "hand":
        model = rerank_mod.load_reranker(Path(source))
        return lambda: model
    weights = np.zeros(len(FEATURES))
    weights[[FEATURES.index(f) for f in ("bm25", "sentence", "pairs")]] = (1.0, 0.25, 0.25)
    hand = rerank_mod.Reranker(weights, {"source": "hand"})
    return lambda: hand


_COMPONENT = re.compile(
    r"(?P<param>k1|b)=(?P<value>[0-9.]+)"
    r"|(?P<kind>passages|window) max(?P<max>\d+),min(?P<min>\d+)"
    r"|title x(?P<title>\d+)"
    r"|rerank depth=(?P<depth>\d+)"
    r"|weights=(?P<weights>\S+)"
    r"|(?P<flag>rerank off|repeats count|no frame words|v3 search)"
)


def config(name: str) -> Config:
    """A configuration from its name: "shipped", or changes to it joined by " + ".

    Changes: "k1=0.9", "b=0.5", "passages max120,min40", "window max150,min40" (every
    paragraph starts a passage), "title x2", "rerank off", "rerank depth=30",
    "weights=hand" (the hand-weighted re-ranker before the learned one: 0.25 x
    sentence + 0.25 x pairs), "weights=PATH" (a weights JSON of
    scripts/train_reranker.py), "repeats count" (BM25 counts the reader's doubled
    verb twice), "no frame words" (dropped from the query), "v3 search" (BM25 over
    the query as given, no re-ranking). "v3" is the whole configuration before v4.
    """
    conf = Config(name)
    v3 = ["passages max120,min40", "k1=1.5", "v3 search"]
    parts = [p for part in name.split(" + ") for p in (v3 if part == "v3" else [part])]
    for part in parts:
        if part == "shipped":
            continue
        m = _COMPONENT.fullmatch(part)
        if m is None:
            raise SystemExit(f"unknown configuration part {part!r}")
        if m["param"]:
            conf.bm25[m["param"]] = float(m["value"])
        elif m["kind"]:
            make = _bounds if m["kind"] == "passages" else _window_bounds
            conf.patches["index.passage_bounds"] = make(int(m["max"]), int(m["min"]))
        elif m["title"]:
            conf.patches["index.TermIds"] = _title_times(int(m["title"]))
        elif m["depth"]:
            conf.patches["index.RERANK_DEPTH"] = int(m["depth"])
        elif m["weights"]:
            conf.patches["rerank.load_reranker"] = _weights(m["weights"])
        elif m["flag"] == "rerank off":
            conf.patches["index.RERANK_DEPTH"] = 0
        elif m["flag"] == "repeats count":
            conf.search = _repeats
        elif m["flag"] == "no frame words":
            conf.query = _no_frame
        else:
            conf.search = _bm25_only
    return conf


# The configurations measured for tracker issue 4 (the default run).
DEFAULT_RUN = (
    "v3",
    "v3 + k1=0.9",
    "v3 + k1=1.2",
    "v3 + k1=2.0",
    "v3 + b=0.5",
    "v3 + b=0.9",
    "v3 + b=1.0",
    "v3 + passages max60,min20",
    "v3 + passages max120,min20",
    "v3 + passages max120,min0",
    "v3 + passages max200,min40",
    "v3 + passages max200,min20",
    "v3 + window max120,min40",
    "v3 + window max150,min40",
    "v3 + title x0",
    "v3 + title x2",
    "v3 + no frame words",
    "shipped + v3 search",
    "shipped + rerank off",
    "shipped + rerank off + k1=1.5",
    "shipped + repeats count",
    "shipped + k1=1.2",
    "shipped + k1=0.6",
    "shipped + b=0.5",
    "shipped + passages max120,min20",
    "shipped + passages max150,min20",
    "shipped + passages max120,min40",
    "shipped + window max200,min40",
    "shipped + title x2",
    "shipped + no frame words",
    "shipped + rerank depth=10",
    "shipped + rerank depth=50",
    "shipped + weights=hand",
    "shipped",
)


def split_articles(squad: SquadSet, part: str) -> SquadSet:
    """One half of the articles (sorted by title, every other one), or "all" of them.

    The retrieval settings were chosen on the "train" half and checked on "heldout".
    """
    if part == "all":
        return squad
    halves = article_folds([a.title for a in squad.articles], 2)
    keep = [i for i, f in enumerate(halves) if f == ("train", "heldout").index(part)]
    renumber = {old: new for new, old in enumerate(keep)}
    questions = tuple(
        dataclasses.replace(q, article=renumber[q.article])
        for q in squad.questions
        if q.article in renumber
    )
    return SquadSet(squad.version, tuple(squad.articles[i] for i in keep), questions)


def split_masks(squad: SquadSet, file: Path) -> dict[str, list[bool]]:
    """For each answerable question of SQuAD v1.1 dev, whether it is in the "test" split
    (the 13 articles v2.0 dev lacks, read only to report) or the "dev" split (the other
    35): the articles `split_report.py` reports, with v2.0 dev beside `file`."""
    from split_report import test_titles  # a sibling script

    test = test_titles(file.parent)
    in_test = [a.title.replace(" ", "_") in test for a in squad.articles]
    answerable = [in_test[q.article] for q in squad.questions if q.answerable]
    return {"test": answerable, "dev": [not t for t in answerable]}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--only", help="semicolon-separated configuration names")
    parser.add_argument(
        "--parts",
        default="all,train,heldout",
        help='article parts, comma-separated; on v1.1 dev also "test" and "dev": the '
        "questions of split_report.py's splits, all 48 articles the corpus",
    )
    args = parser.parse_args(argv)
    squad = load_squad(args.file)
    wanted = args.parts.split(",")
    splits = split_masks(squad, args.file) if {"test", "dev"} & set(wanted) else {}
    corpora = {p: split_articles(squad, p) for p in wanted if p not in splits}
    if splits:
        corpora.setdefault("all", squad)
    names = args.only.split(";") if args.only else list(DEFAULT_RUN)
    print(f"{'config':<28}" + "".join(f"{p:>22}" for p in wanted) + "   build  ask")
    for name in names:
        conf = config(name)
        found: dict[str, list[int | None]] = {}
        build_s = ask_s = 0.0
        for part, corpus in corpora.items():
            found[part], b, a = ranks(corpus, conf)
            build_s, ask_s = build_s + b, ask_s + a
        cells = []
        for part in wanted:
            rs = found["all"] if part in splits else found[part]
            if part in splits:
                rs = [r for r, keep in zip(rs, splits[part], strict=True) if keep]
            cells.append(f"{recall(rs, 1):6.2f} {recall(rs, 5):6.2f} {recall(rs, 20):6.2f}")
        print(f"{name:<28}" + "".join(f"{c:>22}" for c in cells) + f"  {build_s:5.1f} {ask_s:5.1f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
