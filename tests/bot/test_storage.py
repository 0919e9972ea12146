"""The SQLite file: written, read back, reopened, durable, private when asked, migrated."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.storage import SCHEMA_VERSION, Storage, StorageError
from citebot.cite import Answer, Citation
from tests.bot.support import rows

ROOT = Path(__file__).resolve().parents[2]


def answered(question: str = "when did the Hetao park open?") -> Answer:
    citation = Citation(
        n=1,
        article_id="hksp-shenzhen-branch-2023",
        title="Hong Kong Science Park opens branch in Shenzhen",
        date="2023-09-07",
        source=None,
        url=None,
        quote="The park opened on Thursday.",
        start=0,
        end=28,
        score=1.4,
    )
    return Answer(
        question=question,
        answered=True,
        answer="on Thursday",
        quote=citation.quote,
        confidence=0.79,
        citations=[citation],
        answer_start=16,
        answer_end=27,
        evidence={"open": 1.47},
        corpus_version="abc",
    )


def abstained(question: str) -> Answer:
    return Answer(question=question, answered=False, answer=None, message="nothing mentions it")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's database lives (a folder that does not exist yet)."""
    return tmp_path / "nested" / "citebot.sqlite3"


def test_answer_is_written_read_back_and_survives_reopening(db_path: Path) -> None:
    """A stored answer comes back whole, from the same and from a reopened connection."""
    storage = Storage.open(db_path)
    stored = storage.record_answer(answered(), via="slash", log_question=True, guild_id=5)
    assert storage.get_answer(stored.id) == stored
    storage.close()

    reopened = Storage.open(db_path)
    again = reopened.get_answer(stored.id)
    assert again is not None and again.answer == answered()
    assert again.question_logged
    assert reopened.get_answer(stored.id + 1) is None
    reopened.close()
    assert rows(
        db_path, "SELECT question, answered, answer, article_id, via, guild_id FROM answers"
    ) == [
        ("when did the Hetao park open?", 1, "on Thursday", "hksp-shenzhen-branch-2023", "slash", 5)
    ]


def test_durability_settings_and_schema_version(db_path: Path) -> None:
    """WAL journal, synchronous=FULL, and the schema version in user_version."""
    storage = Storage.open(db_path)
    assert storage.pragma("journal_mode") == "wal"
    assert storage.pragma("synchronous") == 2  # FULL
    assert storage.pragma("user_version") == SCHEMA_VERSION
    storage.close()
    assert rows(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_an_acknowledged_write_survives_a_crash(db_path: Path) -> None:
    """A process killed right after record_answer/record_feedback return loses neither."""
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from bot.storage import Storage
        from tests.bot.test_storage import answered
        storage = Storage.open(Path({str(db_path)!r}))
        stored = storage.record_answer(answered(), via="mention", log_question=True)
        storage.record_feedback(stored.id, 99, 1)
        os._exit(0)  # no close(), no atexit, no flush: as abrupt as a crash
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert rows(db_path, "SELECT via FROM answers") == [("mention",)]
    assert rows(db_path, "SELECT user_id, vote FROM feedback") == [(99, 1)]


def test_unlogged_questions_keep_only_a_hash_that_still_counts_repeats(db_path: Path) -> None:
    """With log_questions off the text is not stored, yet /stats counts the same question twice."""
    storage = Storage.open(db_path)
    storage.record_answer(abstained("Who won in Tokyo?"), via="slash", log_question=False)
    storage.record_answer(abstained("who  won in TOKYO?"), via="auto", log_question=False)
    storage.record_answer(abstained("what is BM25?"), via="slash", log_question=True)
    storage.record_answer(answered(), via="slash", log_question=True)
    stats = storage.stats()
    storage.close()

    assert (stats.asked, stats.answered, stats.abstained) == (4, 1, 3)
    top = stats.top_unanswered
    assert [(u.question, u.count) for u in top] == [(None, 2), ("what is BM25?", 1)]
    everything = " ".join(str(r) for r in rows(db_path, "SELECT * FROM answers"))
    assert "Tokyo" not in everything and "TOKYO" not in everything


def test_feedback_one_vote_per_user_and_unknown_answers_refused(db_path: Path) -> None:
    """A user's second vote replaces the first; a vote on a missing answer writes nothing."""
    storage = Storage.open(db_path)
    stored = storage.record_answer(answered(), via="slash", log_question=True)
    assert storage.record_feedback(stored.id, 1, 1)
    assert storage.record_feedback(stored.id, 2, 1)
    assert storage.record_feedback(stored.id, 1, -1)
    assert not storage.record_feedback(stored.id + 100, 1, 1)
    assert storage.feedback_for(stored.id) == [(1, -1), (2, 1)]
    stats = storage.stats()
    assert (stats.helpful, stats.unhelpful) == (1, 1)
    with pytest.raises(ValueError, match="vote must be 1 or -1"):
        storage.record_feedback(stored.id, 1, 0)
    storage.close()


def test_a_newer_or_foreign_database_is_refused_with_a_sentence(tmp_path: Path) -> None:
    """A schema from a newer citebot, or a file that is not SQLite, is a StorageError."""
    newer = tmp_path / "newer.sqlite3"
    with sqlite3.connect(newer) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="newer citebot"):
        Storage.open(newer)

    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="not a citebot database"):
        Storage.open(garbage)
