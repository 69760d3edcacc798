"""Faults: a process killed mid-rebuild leaves an index that is whole or detected as torn."""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nnqa import Tutor
from nnqa.search.index import _read

ROOT = Path(__file__).resolve().parents[1]

REBUILD_FOREVER = """
import sys
from nnqa.decks.cards import load_decks
from nnqa.search.index import load_or_build

def no_encoding(texts):
    raise SystemExit("every vector should be reused")

cards = load_decks(sys.argv[1])
print("ready", flush=True)
while True:
    load_or_build(cards, sys.argv[2], "sentence-transformers/all-MiniLM-L6-v2", no_encoding,
                  force=True)
"""


def test_sigkill_during_index_rebuilds_never_leaves_a_torn_index(workdir, tmp_path, embedder):
    shutil.copytree(workdir / "knowledge", tmp_path / "knowledge")
    shutil.copytree(workdir / "index", tmp_path / "index")
    rng = random.Random(7)
    for _ in range(4):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                REBUILD_FOREVER,
                str(tmp_path / "knowledge"),
                str(tmp_path / "index"),
            ],
            stdout=subprocess.PIPE,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        try:
            _read(tmp_path / "index")  # whole: every file matches the manifest's hashes
        except ValueError as e:  # torn: noticed, and the next start rebuilds
            assert "does not match" in str(e) or "count" in str(e)
        t = Tutor(knowledge=tmp_path / "knowledge", index=tmp_path / "index", embedder=embedder)
        a = t.ask("what causes vanishing gradients")
        assert a.hits[0].card.front == "Vanishing Gradient"
        assert a.hits[0].section.heading == "What causes them?"
    t.rebuild()  # the next write sweeps temp files that killed writers left behind
    _read(tmp_path / "index")
    assert not list((tmp_path / "index").glob(".*.tmp"))


def test_a_deck_edited_while_serving_is_answered_from_at_once(tmp_path, embedder, monkeypatch):
    from nnqa import DeckError, Settings

    now = Settings.from_env(recheck_seconds=0.0)  # look for edits before every question
    k = tmp_path / "knowledge"
    k.mkdir()
    deck = k / "notes.md"
    deck.write_text("# Notes\n## What is a GRU?\nA gated recurrent unit.\n")
    t = Tutor(knowledge=k, index=tmp_path / "index", settings=now, embedder=embedder)
    assert t.ask("what is a GRU").hits[0].card.back == "A gated recurrent unit."

    deck.write_text("# Notes\n## What is a GRU?\nA recurrent cell with update and reset gates.\n")
    a = t.ask("what is a GRU")  # never the stale answer
    assert a.hits[0].card.back == "A recurrent cell with update and reset gates."
    assert t.index_status.rebuilt and t.index_status.embedded == 1  # only the changed text

    deck.write_text("# Notes\nstray text before any card\n")
    with pytest.raises(DeckError, match=r"notes.md:2"):
        t.ask("what is a GRU")
    (k / "more.md").write_text("# More\n## What is Adam?\nAn optimiser with adaptive steps.\n")
    deck.unlink()
    a = t.ask("what is adam")
    assert a.hits[0].card.deck == "More" and all(c.deck == "More" for c in t.cards)


def test_reloads_while_threads_ask_never_mix_two_versions(tmp_path, embedder, monkeypatch):
    """Every answer comes whole from one version of the decks, never half from each."""
    import threading

    from nnqa import Settings

    now = Settings.from_env(recheck_seconds=0.0)  # look for edits before every question
    k = tmp_path / "knowledge"
    k.mkdir()
    v1 = "# D\n## What is a GRU?\nA gated recurrent unit.\n## What is Adam?\nAn optimiser.\n"
    v2 = "# D\n## What is Adam?\nAdaptive moments.\n## What is a GRU?\nGates, no cell.\n"
    (k / "d.md").write_text(v1)
    t = Tutor(knowledge=k, index=tmp_path / "index", settings=now, embedder=embedder)
    t.ask("what is a GRU")
    (k / "other.md").write_text("# O\n## What is a GRU?\nGates, no cell.\n")  # warm v2's text
    t.ask("what is a GRU")
    (k / "other.md").unlink()
    answers, errors, stop = [], [], threading.Event()

    def asker():
        while not stop.is_set():
            try:
                a = t.ask("what is a GRU")
                h = a.hits[0]
                answers.append((h.card.front, h.quote, h.card.back))
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

    threads = [threading.Thread(target=asker) for _ in range(3)]
    for th in threads:
        th.start()
    for i in range(6):
        # saved as editors save (a temporary file renamed into place): a reader never sees
        # the truncated file an in-place write leaves for a moment (a race in the test)
        (k / ".d.md.tmp").write_text(v2 if i % 2 == 0 else v1)  # hidden: not a deck
        (k / ".d.md.tmp").replace(k / "d.md")
        time.sleep(0.3)
    stop.set()
    for th in threads:
        th.join(30)
    assert not errors, errors
    assert answers and {b for _, _, b in answers} <= {"A gated recurrent unit.", "Gates, no cell."}
    assert all(f == "What is a GRU?" and q == b for f, q, b in answers)
