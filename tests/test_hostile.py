"""Hostile input: any question or file gives an answer or a clear refusal, never a crash."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citebot.corpus.folder import load_corpus
from citebot.errors import QuestionError
from citebot.pipeline import Asker

NASTY = [
    "",
    " ",
    "???",
    "!!!",
    "@everyone",
    "<@&123456789>",
    "<@123> who?",
    "```py\nprint(1)\n```",
    "'; DROP TABLE questions; --",
    "../../etc/passwd",
    "C:\\Windows\\system32",
    "\u202eevil\u202c",
    "\u200f\u200e",
    "\x00\x01\x1b[31m",
    "🙂" * 50,
    "when " * 2000,
    "深圳" * 300,
    "a" * 10_000,
    "**bold** __under__ ~~strike~~ ||spoiler|| > quote",
    "null",
    "None",
    "{}",
    "[]",
]
questions = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=700),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
)


def check(asker: Asker, question: str) -> None:
    try:
        answer = asker.ask(question)
    except QuestionError as exc:
        refusal = str(exc)
    else:
        refusal = None
    if refusal is not None:
        assert len(refusal) > 10  # a refusal says why
        return
    assert 0.0 <= answer.confidence <= 1.0
    for c in answer.citations:
        body = asker.corpus.get(c.article_id).body  # type: ignore[union-attr]
        assert body[c.start : c.end] == c.quote
    if answer.answered:
        assert answer.answer and answer.quote and answer.answer in answer.quote


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(question=questions)
def test_any_question_is_answered_or_refused(shipped_asker: Asker, question: str) -> None:
    """Any Unicode question yields a valid Answer or a QuestionError with a message."""
    check(shipped_asker, question)


def test_named_nasty_questions(shipped_asker: Asker) -> None:
    """Each hand-picked hostile question is answered or refused, never raised through."""
    for question in NASTY:
        check(shipped_asker, question)


files = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"---\n---\n",
            b"---\n: :\n---\nx",
            b"---\ntitle: !!python/object/apply:os.system ['x']\n---\nx",
            b"---\ndate: 2023-02-30\n---\nx",
            b"<html><script>alert(1)</script></html>",
            b"<html><body>" + b"<div>" * 5000 + b"deep" + b"</div>" * 5000 + b"</body></html>",
            ("x" * 200_000).encode(),
            "caf\xe9".encode("cp1252"),
            "\ufeffBOM title\nbody".encode(),
        ]
    ),
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=files, suffix=st.sampled_from([".md", ".txt", ".html"]))
def test_any_file_loads_or_is_reported(tmp_path_factory, data: bytes, suffix: str) -> None:  # type: ignore[no-untyped-def]
    """Any bytes in a corpus file: it loads or is reported; the good file loads; nothing is modified."""
    folder: Path = tmp_path_factory.mktemp("corpus")
    good = folder / "good.md"
    good.write_text("# Good\n\nThe bridge opened on Tuesday.\n", encoding="utf-8")
    odd = folder / f"odd{suffix}"
    odd.write_bytes(data)
    corpus = load_corpus(folder)
    assert "good" in corpus.ids
    assert len(corpus.articles) + len(corpus.problems) == 2
    for problem in corpus.problems:
        assert problem.path == odd.name and problem.reason
    assert odd.read_bytes() == data
    # The corpus must also index and answer.
    from citebot.retrieval.index import Index

    asker = Asker(Index.build(corpus))
    check(asker, "When did the bridge open?")
