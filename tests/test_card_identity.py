"""A card keeps its history when its deck is edited, and the store keeps time in UTC.

Real deck files, the real grader and a real SQLite progress file in a temp folder."""

from datetime import datetime, timedelta, timezone

import genanki
import pytest

from nnqa.decks.cards import load_deck
from nnqa.decks.imports import read_deck_file, to_markdown
from nnqa.study.quiz import Quiz
from nnqa.study.store import ReviewOutOfOrder, Store

DECK = """# Activations

## What is ReLU?
max(0, x): zero for negative inputs, the input itself otherwise.

## What is the sigmoid?
A squashing function into (0, 1), used for probabilities.

## What is a tensor?
An n-dimensional array of numbers.
"""


class Clock:
    def __init__(self, tz=timezone.utc):
        self.now = datetime(2025, 3, 1, 9, tzinfo=tz)

    def __call__(self):
        return self.now


def quiz_over(path, store, grader, clock):
    return Quiz("ana", store=store, grader=grader, cards=load_deck(path), clock=clock)


def test_fixing_a_typo_in_a_reviewed_card_keeps_its_schedule(tmp_path, grader):
    deck = tmp_path / "knowledge" / "acts.md"
    deck.parent.mkdir()
    deck.write_text(DECK)
    store, clock = Store(tmp_path / "p.sqlite3"), Clock()
    quiz = quiz_over(deck, store, grader, clock)
    relu = quiz.card("What is ReLU?")
    sigmoid = quiz.card("What is the sigmoid?")
    quiz.answer(relu.id, "max(0, x), zero for negative inputs")
    quiz.answer(sigmoid.id, "it squashes into (0, 1)")
    before = store.schedule("ana")
    assert set(before) == {relu.id, sigmoid.id}

    # the learner fixes typos: one in an answer, one in a front
    deck.write_text(
        DECK.replace("the input itself otherwise", "and the input itself otherwise").replace(
            "What is the sigmoid?", "What is the sigmoid function?"
        )
    )
    clock.now += timedelta(minutes=5)
    quiz = quiz_over(deck, store, grader, clock)
    new_relu, new_sigmoid = quiz.card("What is ReLU?"), quiz.card("What is the sigmoid function?")
    assert new_relu.id != relu.id and new_sigmoid.id != sigmoid.id  # ids are content hashes
    after = store.schedule("ana")
    assert set(after) == {new_relu.id, new_sigmoid.id}
    for old, new in ((relu, new_relu), (sigmoid, new_sigmoid)):
        assert (after[new.id]["fsrs"], after[new.id]["due"]) == (
            before[old.id]["fsrs"],
            before[old.id]["due"],
        )
    assert [r.card_id for r in store.reviews("ana")] == [new_relu.id, new_sigmoid.id]
    # so the edited cards are not offered as new: only the untouched one is
    assert quiz.stats().new == 1


def test_a_card_rewritten_to_say_something_else_starts_afresh(tmp_path, grader):
    deck = tmp_path / "acts.md"
    deck.write_text(DECK)
    store, clock = Store(tmp_path / "p.sqlite3"), Clock()
    quiz = quiz_over(deck, store, grader, clock)
    quiz.answer(quiz.card("What is a tensor?").id, "an array")
    deck.write_text(DECK.replace("An n-dimensional array of numbers.", "A GPU kernel launch."))
    quiz = quiz_over(deck, store, grader, clock)
    new = quiz.card("What is a tensor?")
    assert new.id not in store.schedule("ana")  # not the same card: no history moved


def test_an_anki_note_keeps_its_id_through_an_edit_and_a_reimport(tmp_path):
    model = genanki.BASIC_MODEL

    def package(answer):
        deck = genanki.Deck(7, "Nets")
        deck.add_note(genanki.Note(model=model, fields=["What is ReLU?", answer], guid="k2#Vx9"))
        path = tmp_path / "nets.apkg"
        genanki.Package(deck).write_to_file(str(path))
        md = tmp_path / "nets.md"
        md.write_text(to_markdown(read_deck_file(path)))
        return load_deck(md)[0]

    first = package("max(0, x)")
    second = package("A rectifier: max(0, x), cheap and non-saturating for x > 0.")
    assert first.id == second.id and first.back != second.back


def test_times_are_stored_in_utc_whatever_the_clock_zone(tmp_path, grader):
    deck = tmp_path / "acts.md"
    deck.write_text(DECK)
    store = Store(tmp_path / "p.sqlite3")
    clock = Clock(tz=timezone(timedelta(hours=-5)))  # 09:00 in UTC-5 is 14:00 UTC
    quiz = quiz_over(deck, store, grader, clock)
    review = quiz.answer(quiz.card("What is ReLU?").id, "max(0, x)")
    (logged,) = store.reviews("ana")
    assert logged.reviewed_at == "2025-03-01T14:00:00+00:00"
    assert logged.due.endswith("+00:00") and review.due.utcoffset() == timedelta(0)


def test_a_review_older_than_the_cards_last_is_refused_and_nothing_written(tmp_path, grader):
    deck = tmp_path / "acts.md"
    deck.write_text(DECK)
    store, clock = Store(tmp_path / "p.sqlite3"), Clock()
    quiz = quiz_over(deck, store, grader, clock)
    relu = quiz.card("What is ReLU?")
    quiz.answer(relu.id, "max(0, x)")
    schedule = dict(store.schedule("ana")[relu.id])
    clock.now -= timedelta(hours=1)
    with pytest.raises(ReviewOutOfOrder, match="is older than its last review"):
        quiz.answer(relu.id, "max(0, x)")
    assert len(store.reviews("ana")) == 1 and dict(store.schedule("ana")[relu.id]) == schedule
    quiz.answer(quiz.card("What is a tensor?").id, "an array")  # another card: its own clock
