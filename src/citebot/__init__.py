"""citebot: extractive, cited answers from a corpus of news articles.

The pipeline, in data-flow order: corpus -> passages -> index -> answer -> cite.
`Asker` ties them together; the CLI and the Discord bot both use it.
"""

from citebot.cite import Answer, Citation
from citebot.corpus.articles import Article, Corpus
from citebot.corpus.folder import load_corpus
from citebot.errors import CitebotError, CorpusError, QuestionError, UnknownSourceError
from citebot.pipeline import Asker
from citebot.retrieval.cache import load_index
from citebot.retrieval.index import Index

__all__ = [
    "Answer",
    "Article",
    "Asker",
    "Citation",
    "CitebotError",
    "Corpus",
    "CorpusError",
    "Index",
    "QuestionError",
    "UnknownSourceError",
    "load_corpus",
    "load_index",
]
__version__ = "0.1.0"
