"""The corpus: articles read from their files, split into sentences and passages, and ingested."""
