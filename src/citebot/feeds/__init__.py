"""News from the web: safe fetching (`fetch`), a page -> an article (`pages`), feed polling
and the per-feed state kept beside the articles in the corpus (`feeds`)."""
