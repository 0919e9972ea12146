"""Every Answer survives storage: JSON out and back in unchanged, with only finite numbers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from citebot.cite import Answer, Citation
from citebot.evaluation.squad import load_squad
from citebot.pipeline import Asker, read_index
from citebot.reader.question import parse_question
from citebot.retrieval.index import Index
from citebot.text.tokenizer import words

DATA = Path(__file__).parent / "data"
QUESTIONS = DATA / "reply-questions.txt"
SQUAD_SLICE = DATA / "squad-slice.json"  # the first 304 questions of SQuAD 2.0 dev


def fixed_questions() -> list[str]:
    return [line.strip() for line in QUESTIONS.read_text("utf-8").splitlines() if line.strip()]


def assert_round_trips(answer: Answer) -> None:
    """`answer` has only finite numbers and reads back from its JSON equal to itself."""
    assert math.isfinite(answer.confidence)
    assert all(math.isfinite(c.score) for c in answer.citations)
    assert all(math.isfinite(w) for w in answer.evidence.values())
    assert Answer.model_validate_json(answer.model_dump_json()) == answer


@pytest.fixture(scope="module")
def squad_asker() -> tuple[Asker, list[str]]:
    """An Asker over the SQuAD slice as one corpus (open mode), and its questions."""
    squad = load_squad(SQUAD_SLICE)
    return Asker(Index.build(squad.corpus())), [q.text for q in squad.questions]


def test_every_answer_over_the_shipped_corpus_round_trips(shipped_asker: Asker) -> None:
    """The fixed question set, including questions whose runners-up the gate rules out."""
    for question in fixed_questions():
        assert_round_trips(shipped_asker.ask(question))


def test_every_answer_over_a_squad_slice_round_trips(
    squad_asker: tuple[Asker, list[str]],
) -> None:
    """304 SQuAD 2.0 questions (half unanswerable) over their articles: no answer breaks."""
    asker, questions = squad_asker
    assert len(questions) >= 300
    for question in questions:
        assert_round_trips(asker.ask(question))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_questions_made_of_corpus_words_round_trip(
    shipped_asker: Asker, data: st.DataObject
) -> None:
    """Any question built from a question word and words of the articles gives a storable Answer."""
    vocabulary = sorted(
        {
            article.body[w.start : w.end]
            for article in shipped_asker.corpus.articles
            for w in words(article.body)
            if not w.is_stop  # a question of stop words alone is refused, rightly
        }
    )
    wh = data.draw(st.sampled_from(["who", "what", "when", "where", "how many", "which"]))
    rest = data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=8))
    assert_round_trips(shipped_asker.ask(" ".join([wh, *rest]) + "?"))


def test_a_non_finite_number_is_refused_at_the_model() -> None:
    """An Answer or Citation with inf or NaN cannot be built, so it can never be stored."""
    citation = Citation(
        n=1, article_id="a", title="A", date=None, source=None, url=None,
        quote="q", start=0, end=1, score=1.0,
    )  # fmt: skip
    with pytest.raises(ValidationError):
        citation.model_validate({**citation.model_dump(), "score": -math.inf})
    with pytest.raises(ValidationError):
        Answer(question="q", answered=False, answer=None, confidence=math.nan)
    with pytest.raises(ValidationError):
        Answer(question="q", answered=False, answer=None, evidence={"park": math.inf})


def test_an_answer_stored_before_tiers_reads_with_the_tier_it_had() -> None:
    """Older rows have no "tier": an answered one reads as "answer", an abstention as "none"."""
    old = Answer(question="q", answered=True, answer="x").model_dump(exclude={"tier"})
    assert Answer.model_validate(old).tier == "answer"
    assert Answer.model_validate({**old, "answered": False}).tier == "none"


def test_a_ruled_out_candidate_is_never_cited(shipped_asker: Asker) -> None:
    """Sentences the gate ruled out (score -inf) or the span model never scored are not sources."""
    seen_ruled_out = 0
    for question in fixed_questions():
        reading = read_index(shipped_asker.index, parse_question(question))
        ruled_out = {
            (s.article_id, s.sentence.start)
            for s in reading.ranked
            if s.span is None or not math.isfinite(s.score)
        }
        seen_ruled_out += bool(ruled_out)
        answer = shipped_asker.ask(question)
        cited = {(c.article_id, c.start) for c in answer.citations}
        assert not cited & ruled_out, question
    assert seen_ruled_out  # the set does hold questions with ruled-out sentences
