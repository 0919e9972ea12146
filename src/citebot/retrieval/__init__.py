"""Retrieval: BM25 over passages, the on-disk index, search and re-rank, incremental update."""
