"""Progress-file faults with a real SQLite file: locked by another process, damaged on disk.

(Crash safety, two writers at once and the backup before a migration are in test_quiz.py.)
"""

import hashlib
import sqlite3
import subprocess
import sys

import gradio as gr
import pytest

from nnqa.faces.web import Web
from nnqa.study.quiz import Quiz
from nnqa.study.store import Store, StoreBusy, StoreDamaged

DROPOUT = "What is dropout in neural networks?"
TYPED = "randomly switching off units while training so it doesn't overfit"

HOLD_EXCLUSIVE = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # hold the lock until the test closes our stdin
con.execute("ROLLBACK")
"""


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_locked_by_another_process_gives_store_busy_and_loses_nothing(tutor, tmp_path):
    path = tmp_path / "progress.sqlite3"
    quiz = Quiz("ana", tutor=tutor, store=Store(path, timeout=0.3))
    card = quiz.card(DROPOUT)
    first = quiz.answer(card.id, TYPED)
    web = Web(tutor)
    web._store = quiz.store
    holder = subprocess.Popen([sys.executable, "-c", HOLD_EXCLUSIVE, str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreBusy, match=r"progress\.sqlite3 is locked by another"):
            quiz.answer(card.id, TYPED)
        state = {"card": card.id}
        web.quiz_check("ana", TYPED, state)  # grading writes nothing: the rating does
        with pytest.raises(gr.Error, match="busy .* nothing was lost"):
            web.quiz_rate("ana", state, 3)
        assert [r.id for r in quiz.store.reviews("ana")] == [first.id]  # still readable
    finally:
        holder.stdin.close()
        holder.wait(10)
    web.quiz_rate("ana", state, 3)  # the lock is gone: the same rating goes through
    second = quiz.answer(card.id, TYPED)  # and reviews go on
    assert [r.rating for r in Store(path).reviews("ana")][1] == 3
    assert [r.id for r in Store(path).reviews("ana")][::2] == [first.id, second.id]
    assert Store(path).integrity() == "ok"


def _filled(path, n=40) -> None:
    from nnqa.study.store import LoggedReview

    store = Store(path)
    for i in range(n):
        store.record(LoggedReview(0, "ana", f"card{i}", "typed " * 40, "correct", 0.9,
                                  "correct", None, 3, "2025-01-01", "2025-01-05", None, "{}"))  # fmt: skip
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every review in the main file
    con.close()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "scribbled"])
def test_a_damaged_file_is_named_left_untouched_and_set_aside_only_on_request(
    tmp_path, damage, tutor
):
    path = tmp_path / "progress.sqlite3"
    _filled(path)
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a database, just bytes\n" * 500)
    else:  # a page in the middle overwritten
        page = 4096
        path.write_bytes(data[: 3 * page] + b"\xff" * page + data[4 * page :])
    before = _sha(path)
    with pytest.raises(StoreDamaged) as caught:
        Store(path)
    message = str(caught.value)
    assert str(path) in message and "damaged" in message and "set_aside" in message
    assert _sha(path) == before  # not repaired, not overwritten, not replaced

    with pytest.raises(gr.Error, match="progress file on this server is damaged"):  # no path
        _web_over(tutor, path).quiz_next("ana")

    aside = Store.set_aside(path)
    assert aside.name.startswith("progress.sqlite3.corrupt-") and _sha(aside) == before
    fresh = Store(path)
    assert fresh.integrity() == "ok" and fresh.reviews() == []


def _web_over(tutor, path) -> Web:
    """A Web whose progress store is the file at `path` (opened on first use)."""

    class At(Web):
        @property
        def store(self):
            return Store(path)

    return At(tutor)


def test_an_empty_file_is_a_new_store(tmp_path):
    path = tmp_path / "progress.sqlite3"
    path.write_bytes(b"")
    assert Store(path).reviews() == []
