"""The `citebot` command line: ask, batch, sources, source, ingest, extension commands."""

from __future__ import annotations

import io
import json
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from citebot import cli
from citebot.cli import COMMAND_GROUP, main
from citebot.settings import Settings
from tests.conftest import SHIPPED


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every CLI test gets its own cache folder and no .env from the developer's checkout."""
    monkeypatch.setenv("CITEBOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CITEBOT_CORPUS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_prints_question_tier_headline_quote_and_one_line_per_article(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Text output: the question, the tier's words with the resolved value, the quote, each
    article once, then the confidence and the tier the headline's words announced."""
    question = "When did the Hong Kong Science Park open a branch in Shenzhen?"
    code, out, _ = run(capsys, "ask", question)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Q: {question}"
    assert lines[-1].startswith("Confidence: 0.")
    lead = {"(tier: answer)": "Answer: ", "(tier: possible)": "Possible answer — check the quote: "}
    tier = lines[-1][lines[-1].index("(") :]
    assert lines[1] == f"{lead[tier]}Thursday, 7 September 2023"
    assert "on Thursday, marking the latest effort" in out
    sources = [line for line in lines if line.startswith("  [")]
    assert sources == [
        "  [1] Hong Kong Science Park opens branch in Shenzhen as neighbouring cities move "
        "forward with collaboration on tech hub — 7 September 2023"
    ]
    code, out, _ = run(capsys, "ask", "How many companies are in the Shenzhen park?")
    assert out.splitlines()[1] == "Answer: 16" and out.endswith("(tier: answer)\n")


def test_ask_says_how_it_read_a_misspelt_question(capsys: pytest.CaptureFixture[str]) -> None:
    """The words read as the articles write them follow the question, in text and JSON."""
    question = "How many compnaies are in the Shenzhen park?"
    code, out, _ = run(capsys, "ask", question)
    assert code == 0
    assert out.splitlines()[:3] == [
        f"Q: {question}",
        "  (read “compnaies” as “companies”)",
        "Answer: 16",
    ]
    code, out, _ = run(capsys, "ask", question, "--json")
    answer = json.loads(out)
    assert answer["read_as"] == {"compnaies": "companies"} and answer["question"] == question


def test_ask_text_of_an_abstention_says_which_words_nothing_mentions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No answer: the articles don't say, the unknown words, tier none."""
    code, out, _ = run(capsys, "ask", "Who won the world cup in Tokyo?")
    assert code == 0
    assert "No answer: the articles don't say. Nothing in them mentions cup, Tokyo." in out
    assert out.splitlines()[-1].endswith("(tier: none)")


def test_ask_json_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the contract; --source restricts to one article."""
    code, out, _ = run(
        capsys, "ask", "Who is Zhu Jiang?", "--json", "--source", "hksp-shenzhen-branch-2023"
    )
    data = json.loads(out)
    assert (
        code == 0
        and data["answered"]
        and data["citations"][0]["article_id"] == ("hksp-shenzhen-branch-2023")
    )
    assert data["tier"] in ("answer", "possible")


def test_bad_questions_exit_2_with_a_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown source, an empty or over-long question: exit 2 and a clear message."""
    code, _, err = run(capsys, "ask", "Who?", "--source", "../../etc/passwd")
    assert code == 2 and "no article with id" in err
    code, _, err = run(capsys, "ask", "   ")
    assert code == 2 and "empty" in err
    code, _, err = run(capsys, "ask", "why " * 400)
    assert code == 2 and "keep it under" in err


def test_batch_answers_in_order(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--batch reads plain and JSON lines (file or stdin) and prints one JSON answer each, in order."""
    batch = tmp_path / "q.txt"
    batch.write_text(
        "Who is Zhu Jiang?\n\n"
        '{"question": "Who is Peter Mok?", "source": "hksp-shenzhen-branch-2023"}\n'
        "   \n"
        '{"question": "When did it open?", "source": "no-such-article"}\n',
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "ask", "--batch", str(batch), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [d["question"] for d in lines] == [
        "Who is Zhu Jiang?",
        "Who is Peter Mok?",
        "When did it open?",
    ]
    assert lines[1]["answered"] and "error" in lines[2]
    monkeypatch.setattr("sys.stdin", io.StringIO("Who is Zhu Jiang?\n"))
    code, out, _ = run(capsys, "ask", "--batch", "-", "--json")
    assert json.loads(out)["answered"]


def test_sources_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    """sources lists every article; source shows one with its body; --json parses."""
    code, out, _ = run(capsys, "sources")
    assert code == 0 and "seoul-mayor-hk-shenzhen-visit-2019  2019-01-29" in out
    code, out, _ = run(capsys, "sources", "--json")
    assert {a["id"] for a in json.loads(out)} == {
        "seoul-mayor-hk-shenzhen-visit-2019",
        "hksp-shenzhen-branch-2023",
    }
    code, out, _ = run(capsys, "source", "hksp-shenzhen-branch-2023", "--json")
    assert json.loads(out)["body"].startswith("The Hong Kong Science Park opened")
    code, _, err = run(capsys, "source", "nope")
    assert code == 2 and "no article" in err


def test_corpus_dir_from_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CITEBOT_CORPUS_DIR chooses the corpus; a broken file there is a warning, not a stop."""
    corpus = tmp_path / "mine"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Bridge\n\nThe bridge opened on Tuesday.\n")
    (corpus / "b.md").write_bytes(b"\xff\xfe\x00bad")
    monkeypatch.setenv("CITEBOT_CORPUS_DIR", str(corpus))
    code, out, err = run(capsys, "sources")
    assert code == 0 and out.startswith("a ") and "skipped b.md" in err


def test_ingest_seeds_infers_metadata_and_never_overwrites(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """ingest turns the raw seed shapes into corpus files, reports what it inferred, and
    refuses to replace an existing article without --force."""
    seeds = SHIPPED.parent.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("shared/seeds is not beside this checkout")
    target = tmp_path / "corpus"
    raw = sorted(seeds.glob("*.txt"))
    code, out, _ = run(capsys, "ingest", *map(str, raw), "--corpus", str(target))
    assert code == 0
    assert "date:  2023-09-07" in out and "date:  2019-01-29" in out
    assert "date from the dateline" in out
    hksp = (target / "hksp-shenzhen-branch-2023.md").read_text(encoding="utf-8")
    assert "title: Hong Kong Science Park opens branch in Shenzhen" in hksp
    seoul = (target / "seoul-mayor-hk-shenzhen-visit-2019.md").read_text(encoding="utf-8")
    assert "Go to Main Content" not in seoul and "•" not in seoul
    before = hksp
    code, _, err = run(capsys, "ingest", str(raw[0]), "--corpus", str(target))
    assert code == 1 and "already exists" in err
    assert (target / "hksp-shenzhen-branch-2023.md").read_text(encoding="utf-8") == before
    code, _, _ = run(capsys, "ingest", str(raw[0]), "--corpus", str(target), "--force")
    assert code == 0
    # What ingest wrote loads back as a corpus.
    code, out, _ = run(capsys, "sources", "--corpus", str(target))
    assert out.count("\n") == 2


def test_ingest_reports_an_unreadable_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A binary file given to ingest is reported by name; nothing is written."""
    bad = tmp_path / "photo.txt"
    bad.write_bytes(b"\x89PNG\x00\x00")
    code, _, err = run(capsys, "ingest", str(bad), "--corpus", str(tmp_path / "c"))
    assert code == 1 and "photo.txt" in err and "binary" in err
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())


def test_shipped_corpus_is_untouched_by_tests() -> None:
    """Sanity: the tests above never wrote into the shipped corpus folder."""
    assert sorted(p.name for p in SHIPPED.iterdir()) == [
        "README.md",
        "hksp-shenzhen-branch-2023.md",
        "seoul-mayor-hk-shenzhen-visit-2019.md",
    ]


RECEIVED: list[Path | str] = []


def record_corpus(settings: Settings, argv: list[str]) -> int:
    """An extension command for the tests: remembers the corpus folder and arguments given."""
    RECEIVED.append(settings.corpus_dir)
    RECEIVED.extend(argv)
    return 7


def with_extensions(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    """Pretend installed packages declare these `citebot.commands` entry points."""
    entries = {n: EntryPoint(n, v, COMMAND_GROUP) for n, v in values.items()}
    monkeypatch.setattr(cli, "_extension_commands", lambda: entries)


def test_extension_commands_run_with_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An entry point of `citebot.commands` becomes a command: it gets the settings
    (with --corpus applied) and its own arguments, and its return value is the exit code."""
    with_extensions(monkeypatch, hello="tests.test_cli:record_corpus")
    RECEIVED.clear()
    assert main(["hello", "--corpus", str(tmp_path), "world", "--loud"]) == 7
    assert [tmp_path, "world", "--loud"] == RECEIVED


def test_a_broken_extension_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    """An extension whose module cannot be imported: exit code 2 and one sentence."""
    with pytest.MonkeyPatch.context() as mp:
        with_extensions(mp, broken="no_such_module_anywhere:run")
        code, _, err = run(capsys, "broken")
    assert code == 2
    assert err.startswith("citebot: the `broken` command is not available (")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_an_extension_cannot_replace_a_built_in_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An entry point named like a built-in command leaves the built-in in place."""
    with_extensions(monkeypatch, sources="tests.test_cli:record_corpus")
    RECEIVED.clear()
    code, out, _ = run(capsys, "sources")
    assert code == 0 and RECEIVED == [] and "hksp-shenzhen-branch-2023" in out


def test_the_bot_command_is_declared_as_an_extension() -> None:
    """The installed package declares `citebot bot` as the Discord adapter's entry point."""
    assert cli._extension_commands()["bot"].value == "bot.__main__:run"


def test_answer_confidence_setting_moves_the_answer_tier(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CITEBOT_ANSWER_CONFIDENCE=0 makes every answer a headline; 1 makes it a possible one."""
    question = "How many companies are in the Shenzhen park?"
    monkeypatch.setenv("CITEBOT_ANSWER_CONFIDENCE", "1")
    _, unsure, _ = run(capsys, "ask", question, "--json")
    monkeypatch.setenv("CITEBOT_ANSWER_CONFIDENCE", "0")
    _, sure, _ = run(capsys, "ask", "When did the Science Park open in Shenzhen?", "--json")
    assert json.loads(unsure)["tier"] == "possible" and json.loads(sure)["tier"] == "answer"
    monkeypatch.setenv("CITEBOT_ANSWER_CONFIDENCE", "2")
    code, _, err = run(capsys, "ask", question)
    assert code == 2 and "answer_confidence" in err
