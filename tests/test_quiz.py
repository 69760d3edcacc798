"""Quiz and progress store with the real model and a real SQLite file in a temp folder."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from nnqa.render import counts_markdown
from nnqa.study import store as store_mod
from nnqa.study.quiz import Quiz, rating_for, run_terminal_quiz
from nnqa.study.store import Store

ROOT = Path(__file__).resolve().parents[1]
DROPOUT = "What is dropout in neural networks?"
RELU = "What is ReLU?"

WORKER = r"""
import sys
from nnqa.study.quiz import Quiz
from nnqa.study.store import Store
learner, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
quiz = Quiz(learner, store=Store(path))
card = quiz.card("What is dropout in neural networks?")
for i in range(n):
    r = quiz.answer(card.id, "randomly switching off units while training so it doesn't overfit")
    print(r.id, flush=True)
"""


class Clock:
    def __init__(self):
        self.now = datetime(2025, 1, 1, 12, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


def worker(learner, path, n):
    env = {**__import__("os").environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, learner, str(path), str(n)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def test_rating_mapping():
    assert [
        rating_for(v, s)
        for v, s in [("incorrect", 0.1), ("partial", 0.4), ("correct", 0.8), ("correct", 0.95)]
    ] == [1, 2, 3, 4]


def test_new_cards_in_deck_order_then_failed_before_passed(tutor, tmp_path):
    clock = Clock()
    quiz = Quiz("ana", tutor=tutor, store=Store(tmp_path / "p.sqlite3"), clock=clock)
    assert quiz.next_card() is tutor.cards[0]
    relu, dropout = quiz.card(RELU), quiz.card(DROPOUT)
    passed = quiz.answer(relu.id, relu.back)  # the card's own answer, word for word
    failed = quiz.answer(dropout.id, "idk")
    assert passed.verdict == "correct" and failed.verdict == "incorrect"
    assert failed.due < passed.due
    clock.now += timedelta(days=60)  # both due now
    assert quiz.next_card() is dropout
    stats = quiz.stats()
    assert stats.reviewed == 2 and stats.due == 2 and stats.retention == 0.5
    assert stats.per_card[0][0] == DROPOUT and "retention 50%" in str(stats)


def test_adopting_a_guest_moves_only_cards_the_learner_has_not_reviewed(tutor, tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    guest = Quiz("guest-1", tutor=tutor, store=store, clock=Clock())
    ana = Quiz("ana", tutor=tutor, store=store, clock=Clock())
    relu, dropout = guest.card(RELU), guest.card(DROPOUT)
    guest.answer(relu.id, "idk")
    guest.answer(dropout.id, dropout.back)
    ana.answer(relu.id, relu.back)  # ana has her own schedule for ReLU: never merged
    assert store.adopt("guest-1", "ana") == 1
    assert {r.card_id for r in store.reviews("ana")} == {relu.id, dropout.id}
    assert [r.card_id for r in store.reviews("guest-1")] == [relu.id]
    assert store.schedule("ana")[relu.id]["last_verdict"] == "correct"  # hers, kept
    assert store.adopt("ana", "ana") == 0


def test_override_changes_rating_and_is_logged(tutor, tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    quiz = Quiz("ana", tutor=tutor, store=store, clock=Clock())
    card = quiz.card(DROPOUT)
    review = quiz.answer(card.id, card.back)
    assert review.rating in (3, 4)
    wrong = quiz.override(review.id, correct=False)
    assert wrong.rating == 1 and wrong.verdict == "incorrect" and wrong.due < review.due
    right = quiz.override(review.id, correct=True)
    assert right.rating == 3 and "overruled" in str(right)
    logged = store.review(review.id)
    assert (logged.machine_verdict, logged.override, logged.verdict, logged.rating) == (
        review.grade.verdict,
        "correct",
        "correct",
        3,
    )
    assert store.schedule("ana")[card.id]["due"] == right.due.isoformat()
    with pytest.raises(KeyError):
        Quiz("bo", tutor=tutor, store=store).override(review.id, True)


def test_terminal_quiz_reads_answers_and_overrides(tutor, tmp_path):
    import io

    quiz = Quiz("ana", tutor=tutor, store=Store(tmp_path / "p.sqlite3"), clock=Clock())
    out = io.StringIO()
    done = run_terminal_quiz(
        "ana",
        input=io.StringIO("subset of ML using neural nets\n\n:right\nidk\n\n:q\n"),
        output=out,
        quiz=quiz,
    )
    text = out.getvalue()
    assert (
        done == 2
        and "Q: What is deep learning" in text
        and "overruled" in text
        and "due again" in text
    )
    assert [r.override for r in quiz.store.reviews("ana")] == ["correct", None]


def test_review_log_survives_sigkill(tmp_path):
    path = tmp_path / "p.sqlite3"
    proc = worker("ana", path, 10_000)
    ids = []
    deadline = time.time() + 60
    while len(ids) < 15 and time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        ids.append(int(line))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(ids) >= 15, proc.stderr.read()
    store = Store(path)
    assert store.integrity() == "ok"
    rows = store.reviews("ana")
    assert {r.id for r in rows} >= set(ids)  # every acknowledged review is there
    for r in rows:  # and every stored one is whole
        assert r.verdict and r.machine_verdict and r.rating in (1, 2, 3, 4)
        assert json.loads(r.card_after)["due"] == r.due
    assert store.schedule("ana").popitem()[1]["last_review"] == rows[-1].id


def test_two_processes_reviewing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "p.sqlite3"
    Store(path)
    procs = [worker(name, path, 25) for name in ("ana", "bo")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    store = Store(path)
    assert store.integrity() == "ok"
    assert len(store.reviews("ana")) == 25 and len(store.reviews("bo")) == 25
    assert len({r.id for r in store.reviews()}) == 50


def test_locked_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "p.sqlite3"
    Store(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(store_mod.StoreBusy, match="locked by another nnqa process"):
            Store(path, timeout=0.2)._write(lambda con: None)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_migration_backs_up_first(tmp_path, monkeypatch):
    path = tmp_path / "p.sqlite3"
    Store(path)
    now = store_mod.SCHEMA_VERSION
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", now + 1)
    monkeypatch.setattr(
        store_mod,
        "_MIGRATIONS",
        store_mod._MIGRATIONS + ("ALTER TABLE reviews ADD COLUMN note TEXT",),
    )
    migrated = Store(path)
    assert migrated.version == now + 1
    backup = tmp_path / f"p.sqlite3.v{now}.bak"
    assert sqlite3.connect(backup).execute("PRAGMA user_version").fetchone()[0] == now
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", now)
    with pytest.raises(RuntimeError, match="newer nnqa"):
        Store(path)


def test_default_store_lives_in_data_dir(tmp_path):
    assert Store().path == tmp_path / "data" / "progress.sqlite3"


def test_undo_takes_back_the_latest_review_and_its_schedule(tutor, tmp_path):
    clock = Clock()
    quiz = Quiz("ana", tutor=tutor, store=Store(tmp_path / "p.sqlite3"), clock=clock)
    card = quiz.card(DROPOUT)
    first = quiz.answer(card.id, "randomly switching off units while training")
    before = dict(quiz.store.schedule("ana")[card.id])
    clock.now += timedelta(days=3)
    second = quiz.answer(card.id, "no idea")
    with pytest.raises(KeyError, match="latest"):
        quiz.undo(first.id)  # only a card's latest review can be taken back
    quiz.undo(second.id)
    assert [r.id for r in quiz.store.reviews("ana")] == [first.id]
    assert dict(quiz.store.schedule("ana")[card.id]) == before
    quiz.undo(first.id)  # the card is new again
    assert quiz.store.reviews("ana") == [] and card.id not in quiz.store.schedule("ana")
    with pytest.raises(KeyError, match="not 'bo'"):
        other = quiz.answer(card.id, "no idea")
        Quiz("bo", tutor=tutor, store=quiz.store).undo(other.id)


def test_terminal_quiz_empty_line_records_nothing_and_undo_takes_back(tutor, tmp_path):
    import io

    quiz = Quiz("ana", tutor=tutor, store=Store(tmp_path / "p.sqlite3"), clock=Clock())
    out = io.StringIO()
    done = run_terminal_quiz(
        "ana", input=io.StringIO("\n:idk\n\n:undo\nsubset of ML using neural nets\n\n:q\n"),
        output=out, quiz=quiz,
    )  # fmt: skip
    text = out.getvalue()
    assert "Type your answer and press Enter; :idk" in text  # the empty line: a prompt
    assert "Took back the review of" in text
    [r] = quiz.store.reviews("ana")  # the :idk review was undone; the typed one stays
    assert r.typed == "subset of ML using neural nets" and done == 1
    assert text.count("Q: What is deep learning") == 3  # the same card until it is answered


# ---------------------------------------------------------------- the review screen (issue 15)


@pytest.mark.parametrize("reviews_before", [0, 1])
def test_preview_intervals_grow_from_again_to_easy_and_record_nothing(
    tutor, tmp_path, reviews_before
):
    clock = Clock()
    store = Store(tmp_path / "p.sqlite3")
    quiz = Quiz("ana", tutor=tutor, store=store, clock=clock)
    card = quiz.card(DROPOUT)
    for _ in range(reviews_before):  # a card in review, not a new one
        quiz.answer(card.id, card.back)
        clock.now += timedelta(days=30)
    n = len(store.reviews("ana"))
    due = quiz.preview(card.id)
    assert sorted(due) == [1, 2, 3, 4]
    assert clock.now < due[1] < due[2] < due[3] < due[4]
    checked = quiz.check(card.id, "no idea")
    assert checked.due == due and checked.suggested == 1
    assert len(store.reviews("ana")) == n  # neither records a review


def test_commit_records_one_review_with_the_pressed_rating_due_as_previewed(tutor, tmp_path):
    clock = Clock()
    store = Store(tmp_path / "p.sqlite3")
    quiz = Quiz("ana", tutor=tutor, store=store, clock=clock)
    card = quiz.card(DROPOUT)
    checked = quiz.check(card.id, "no idea")  # the grader says Again
    clock.now += timedelta(seconds=20)  # the learner thinks, then presses Good
    review = quiz.commit(checked, 3)
    [logged] = store.reviews("ana")
    assert logged.id == review.id and logged.rating == 3 == review.rating
    assert review.due == checked.due[3]
    assert store.schedule("ana")[card.id]["due"] == checked.due[3].isoformat()
    assert logged.machine_verdict == "incorrect" and logged.override == "correct"
    with pytest.raises(ValueError, match="reviewed since it was checked"):
        quiz.commit(checked, 4)  # one review per showing
    with pytest.raises(ValueError, match="a rating is 1"):
        quiz.commit(quiz.check(card.id, "x"), 5)
    assert len(store.reviews("ana")) == 1
    # answer() is still check + commit with the grader's rating
    relu = quiz.card(RELU)
    r = quiz.answer(relu.id, relu.back)
    assert r.rating == rating_for(r.grade.verdict, r.grade.score) and r.override is None


def test_counts_new_learning_due_and_done_for_now(tutor, tmp_path):
    clock = Clock()
    cards = [tutor.card(DROPOUT), tutor.card(RELU)]
    quiz = Quiz("ana", grader=tutor.grader, cards=cards, store=Store(tmp_path / "p.sqlite3"),
                clock=clock)  # fmt: skip
    assert (quiz.counts().new, quiz.counts().learning, quiz.counts().due) == (2, 0, 0)
    quiz.commit(quiz.check(cards[0].id, "no idea"), 1)  # Again: back in a minute, learning
    quiz.commit(quiz.check(cards[1].id, cards[1].back), 4)  # Easy: days away, in review
    c = quiz.counts()
    assert (c.new, c.learning, c.due) == (0, 0, 0) and c.done and c.next_due is not None
    assert quiz.next_card() is None
    assert counts_markdown(c, clock.now).startswith("🎉 **Done for now**")
    assert "next card comes back in 1m." in counts_markdown(c, clock.now)
    clock.now += timedelta(minutes=2)
    c = quiz.counts()
    assert (c.new, c.learning, c.due) == (0, 1, 0) and not c.done
    clock.now += timedelta(days=60)
    c = quiz.counts()
    assert (c.learning, c.due) == (1, 1) and str(c) == "0 new · 1 learning · 1 due"


def test_terminal_quiz_shows_each_rating_s_interval_and_records_the_one_chosen(tutor, tmp_path):
    import io

    quiz = Quiz("ana", tutor=tutor, store=Store(tmp_path / "p.sqlite3"), clock=Clock())
    out = io.StringIO()
    n = len(tutor.cards)
    done = run_terminal_quiz(
        "ana", input=io.StringIO("idk\n7\n4\nidk\n:q\n"), output=out, quiz=quiz
    )  # "7" is no rating: asked again; then Easy; the second answer is never rated
    text = out.getvalue()
    assert f"{n} new · 0 learning · 0 due\nQ: " in text
    assert "[1 Again 1m] · 2 Hard 6m · 3 Good 10m · 4 Easy " in text  # Again suggested
    assert "Press 1 Again, 2 Hard, 3 Good or 4 Easy, or Enter for Again." in text
    assert "Rated Easy; due again in " in text and "nothing recorded for this card" in text
    assert done == 1 and [r.rating for r in quiz.store.reviews("ana")] == [4]
