"""FSRS as Anki offers it: review durations, desired retention, and a learner's own parameters
fitted with fsrs' Optimizer on a simulated learner, all in real SQLite files."""

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from fsrs import Optimizer
from fsrs.scheduler import DEFAULT_PARAMETERS
from simulated_learner import TRUE_PARAMETERS, simulate

from nnqa.errors import InputError
from nnqa.faces import cli
from nnqa.settings import Settings
from nnqa.study import store as store_mod
from nnqa.study.optimise import NotEnoughReviews, log_loss, optimise, review_logs
from nnqa.study.quiz import Quiz
from nnqa.study.store import Store

DROPOUT = "What is dropout in neural networks?"


class Clock:
    def __init__(self):
        self.now = datetime(2025, 1, 1, 12, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


# ---------------------------------------------------------------- durations


def test_durations_are_stored_and_read_back(grader, cards, tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    clock = Clock()
    quiz = Quiz("ana", grader=grader, cards=cards, store=store, clock=clock)
    card = quiz.card(DROPOUT)
    quiz.answer(card.id, card.back, duration_ms=4321)
    clock.now += timedelta(days=1)
    quiz.answer(card.id, "idk")  # the old signature: no duration
    assert [r.duration_ms for r in Store(store.path).reviews("ana")] == [4321, None]
    with pytest.raises(InputError, match="milliseconds"):
        quiz.answer(card.id, "idk", duration_ms=-5)
    assert len(store.reviews("ana")) == 2  # the refused one wrote nothing


def test_a_version_2_file_migrates_and_keeps_old_reviews_without_duration(tmp_path):
    path = tmp_path / "p.sqlite3"
    con = sqlite3.connect(path)
    for migration in store_mod._MIGRATIONS[:2]:  # the file as schema 2 wrote it
        con.executescript(migration)
    con.execute(
        "INSERT INTO reviews (learner, card_id, typed, verdict, score, machine_verdict, rating,"
        " reviewed_at, due, card_after) VALUES ('ana', 'c1', 'x', 'correct', 0.9, 'correct', 3,"
        " '2025-01-01T00:00:00+00:00', '2025-01-02T00:00:00+00:00', '{}')"
    )
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()
    store = Store(path)
    assert store.version == store_mod.SCHEMA_VERSION >= 4
    assert (tmp_path / "p.sqlite3.v2.bak").exists()
    (old,) = store.reviews("ana")
    assert old.duration_ms is None and old.verdict == "correct"
    assert store.parameters("ana") is None


# ---------------------------------------------------------------- desired retention


def test_desired_retention_setting_and_bounds(monkeypatch):
    assert Settings().desired_retention == 0.9
    monkeypatch.setenv("NNQA_DESIRED_RETENTION", "0.85")
    assert Settings.from_env().desired_retention == 0.85
    for bad in ("0.99", "0.5", "ninety"):
        monkeypatch.setenv("NNQA_DESIRED_RETENTION", bad)
        with pytest.raises(InputError, match=r"NNQA_DESIRED_RETENTION must be .*0\.7 to 0\.97"):
            Settings.from_env()


def test_higher_retention_gives_a_shorter_interval(grader, cards, tmp_path, monkeypatch):
    store = Store(tmp_path / "p.sqlite3")
    intervals = []
    for r in (0.8, 0.9, 0.95):
        clock = Clock()
        quiz = Quiz(f"l{r}", grader=grader, cards=cards, store=store, clock=clock,
                    desired_retention=r)  # fmt: skip
        card = quiz.card(DROPOUT)
        quiz.answer(card.id, card.back)
        clock.now += timedelta(days=1)  # out of the learning steps: the next is a real interval
        review = quiz.answer(card.id, card.back)
        intervals.append(review.due - clock.now)
    assert intervals[0] > intervals[1] > intervals[2] > timedelta(days=1)
    # the setting is the default: a Quiz without the argument reads NNQA_DESIRED_RETENTION
    monkeypatch.setenv("NNQA_DESIRED_RETENTION", "0.8")
    quiz = Quiz("l-env", grader=grader, cards=cards, store=store)
    assert quiz.desired_retention == quiz.scheduler.desired_retention == 0.8
    with pytest.raises(InputError, match="desired_retention"):
        Quiz("l-bad", grader=grader, cards=cards, store=store, desired_retention=0.99)
    # a learner's own retention beats the setting, for that learner only; None forgets it
    store.set_desired_retention("l-own", 0.95)
    assert Quiz("l-own", grader=grader, cards=cards, store=store).desired_retention == 0.95
    assert Quiz("l-env", grader=grader, cards=cards, store=store).desired_retention == 0.8
    with pytest.raises(InputError, match="desired retention must be"):
        store.set_desired_retention("l-own", 1.5)
    store.set_desired_retention("l-own", None)
    assert Quiz("l-own", grader=grader, cards=cards, store=store).desired_retention == 0.8


# ---------------------------------------------------------------- personal parameters


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A simulated learner's 946 reviews in a store, and one fit of their parameters."""
    import torch

    torch.set_num_threads(1)
    store = Store(tmp_path_factory.mktemp("fsrs") / "p.sqlite3")
    simulate(store, "ana")
    return store, optimise(store, "ana", now=datetime(2025, 4, 1, tzinfo=timezone.utc))


def test_log_loss_is_the_one_fsrs_optimises(fitted):
    store, _ = fitted
    logs = review_logs(store.reviews("ana"))
    ours, counted = log_loss(logs)
    assert counted > 512  # enough for fsrs to fit at all
    reference = getattr(Optimizer(logs), "_compute_batch_loss", None)
    if reference is None:
        pytest.skip("this fsrs has no _compute_batch_loss to compare with")
    for params in (DEFAULT_PARAMETERS, TRUE_PARAMETERS):
        assert log_loss(logs, params)[0] == pytest.approx(
            reference(parameters=list(params)), abs=1e-9
        )
    # the true parameters explain the learner better than the defaults: the test is fair
    assert log_loss(logs, TRUE_PARAMETERS)[0] < ours


def test_optimiser_lowers_the_log_loss_and_keeps_the_parameters(fitted, grader, cards):
    store, result = fitted
    assert result.kept and result.reviews == len(store.reviews("ana")) >= 400
    assert result.loss_after < result.loss_before - 0.01
    logs = review_logs(store.reviews("ana"))
    assert result.loss_before == pytest.approx(log_loss(logs)[0])
    assert result.loss_after == pytest.approx(log_loss(logs, result.parameters)[0])
    kept = store.parameters("ana")
    assert kept.parameters == result.parameters != tuple(DEFAULT_PARAMETERS)
    assert (kept.loss_before, kept.loss_after) == (result.loss_before, result.loss_after)
    assert store.parameters("bo") is None  # one learner's fit is theirs only
    text = str(result)
    assert "log loss with the default parameters: " in text and "kept" in text
    assert json.loads(json.dumps(result.to_dict()))["kept"] is True
    # every later Quiz of this learner schedules with them; others keep the defaults
    assert Quiz("ana", grader=grader, cards=cards, store=store).scheduler.parameters == (
        result.parameters
    )
    bo = Quiz("bo", grader=grader, cards=cards, store=store)
    assert bo.scheduler.parameters == tuple(DEFAULT_PARAMETERS)


def test_optimiser_refuses_below_the_minimum(tmp_path, capsys):
    store = Store()  # NNQA_DATA_DIR: the temp folder, where `nnqa optimise` looks too
    n = simulate(store, "ana", cards=3, days=5)
    with pytest.raises(NotEnoughReviews, match=f"has {n} reviews; .* at least 400"):
        optimise(store, "ana")
    assert store.parameters("ana") is None
    assert cli.main(["optimise", "--learner", "ana"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at least 400" in err


def test_a_fit_that_does_not_lower_the_loss_is_not_kept(tmp_path, capsys):
    store = Store()
    simulate(store, "ana", cards=12, days=20)  # too few days apart for fsrs to fit
    assert cli.main(["optimise", "--learner", "ana", "--min-reviews", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kept"] is False and out["counted"] < 512
    assert out["loss_after"] == out["loss_before"]
    assert store.parameters("ana") is None
    assert cli.main(["optimise", "--learner", "ana", "--min-reviews", "20"]) == 0
    text = capsys.readouterr().out
    assert "not kept" in text and "log loss with the fitted parameters:" in text
