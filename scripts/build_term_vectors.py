"""Learn the re-ranker's term vectors (`citebot.retrieval.vectors`) from a SQuAD file.

    .venv/bin/python scripts/build_term_vectors.py ../shared/data/squad-train-v1.1.json

Every paragraph of the file is one document of index terms (`content_terms`: stemmed,
stop words dropped); `vectors.learn` turns their co-occurrences into one unit vector per
term, written to `--out` (the shipped file by default). About 15 s and 1.7 GB of memory
for SQuAD v1.1 train (18,896 paragraphs, 16,413 terms used 5 times or more). After
writing new vectors, fit the re-ranker again (scripts/train_reranker.py): its weights
were fitted with the old ones.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from citebot.retrieval.vectors import DIMS, MIN_COUNT, TERMS_FILE, WINDOW, learn
from citebot.text.tokenizer import content_terms


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="SQuAD JSON to learn from (v1.1 train)")
    parser.add_argument("--out", type=Path, default=TERMS_FILE)
    parser.add_argument("--dims", type=int, default=DIMS)
    parser.add_argument("--min-count", type=int, default=MIN_COUNT)
    parser.add_argument("--window", type=int, default=WINDOW)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data = json.loads(args.file.read_text("utf-8"))["data"]
    documents = [content_terms(p["context"]) for a in data for p in a["paragraphs"]]
    vectors = learn(documents, args.dims, args.min_count, args.window)
    vectors.meta["learned_from"] = f"{args.file.name}, {len(documents)} paragraphs"
    vectors.meta["written_by"] = "scripts/build_term_vectors.py"
    vectors.save(args.out)
    print(
        f"wrote {args.out}: {len(vectors.terms)} terms x {args.dims} dims "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
