"""One base exception for the library; "no answer" is a value, never an exception."""

from __future__ import annotations


class CitebotError(Exception):
    """Base of every error citebot raises on purpose; its message says what to do."""


class CorpusError(CitebotError):
    """An article file cannot be read or parsed; names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class QuestionError(CitebotError):
    """A question cannot be asked as given (empty, too long, unknown source id)."""


class UnknownSourceError(QuestionError):
    """The article id given to restrict a question is not in the corpus."""

    def __init__(self, article_id: str, known: list[str]) -> None:
        shown = ", ".join(known[:10]) + (" ..." if len(known) > 10 else "")
        super().__init__(
            f"no article with id {article_id!r}; use `citebot sources` to list them"
            + (f" (known: {shown})" if known else "")
        )
        self.article_id = article_id
