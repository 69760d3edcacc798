"""Progress as numbers and as a picture, from a real store holding a simulated learner's log."""

import os
import sqlite3
import struct
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from simulated_learner import START, simulate

from nnqa.faces import cli
from nnqa.study import progress as progress_mod
from nnqa.study.progress import PLOT_DPI, PLOT_SIZE, progress, save_progress_png
from nnqa.study.store import Store

NOW = START + timedelta(days=40, hours=3)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("progress") / "p.sqlite3")
    simulate(s, "ana", cards=30, days=40)
    return s


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_forecast_counts_match_the_schedule_table(store):
    p = progress(store, "ana", now=NOW)
    today = NOW.date()
    rows = (
        sqlite3.connect(store.path)
        .execute("SELECT due FROM schedule WHERE learner = 'ana'")
        .fetchall()
    )  # straight from the table, not through the store
    want = Counter(max(datetime.fromisoformat(d).date(), today) for (d,) in rows)
    assert [d for d, _ in p.forecast] == [
        (today + timedelta(days=i)).isoformat() for i in range(30)
    ]
    assert dict((date.fromisoformat(d), n) for d, n in p.forecast if n) == {
        d: n for d, n in want.items() if d < today + timedelta(days=30)
    }
    assert p.forecast[0][1] > 0 and sum(n for _, n in p.forecast) > p.forecast[0][1]
    # only the current cards count when they are given
    assert progress(store, "ana", now=NOW, cards=[]).forecast[0][1] == 0


def test_reviews_per_day_retention_and_histories_add_up(store):
    p = progress(store, "ana", now=NOW)
    log = store.reviews("ana")
    assert sum(n for _, n, _ in p.per_day) == len(log) == sum(n for _, n, _ in p.retention)
    per_day = Counter(datetime.fromisoformat(r.reviewed_at).date().isoformat() for r in log)
    assert {d: n for d, n, _ in p.per_day} == per_day
    first_week = [r for r in log if datetime.fromisoformat(r.reviewed_at).date() < date(2025, 1, 6)]
    week, n, share = p.retention[0]  # 2025-01-01 is a Wednesday: its week starts on the 30th
    assert week == "2024-12-30" and n == len(first_week)
    assert share == sum(r.rating != 1 for r in first_week) / n
    assert min(s for _, _, s in p.retention) > 0 and max(s for _, _, s in p.retention) <= 1
    assert sum(len(c.reviews) for c in p.cards) == len(log)
    busiest = p.cards[0]
    assert [rating for _, rating in busiest.reviews] == [
        r.rating for r in log if r.card_id == busiest.card_id
    ]
    assert "reviews on" in str(p) and p.to_dict()["forecast"][0]["day"] == NOW.date().isoformat()


def test_plot_is_a_png_of_the_expected_size_written_atomically(store, tmp_path, monkeypatch):
    p = progress(store, "ana", now=NOW)
    out = save_progress_png(p, tmp_path / "progress.png", desired_retention=0.9)
    assert png_size(out.read_bytes()) == (PLOT_SIZE[0] * PLOT_DPI, PLOT_SIZE[1] * PLOT_DPI)
    assert os.listdir(tmp_path) == ["progress.png"]  # no temp file left behind
    # a write that fails before the rename leaves the old picture whole and no temp file
    before = out.read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("nnqa.files.os.replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_progress_png(progress(Store(tmp_path / "empty.sqlite3"), "bo"), out)
    assert out.read_bytes() == before
    assert sorted(f for f in os.listdir(tmp_path) if "progress" in f) == ["progress.png"]


def test_an_empty_log_still_draws(tmp_path):
    p = progress(Store(tmp_path / "p.sqlite3"), "nobody", now=NOW)
    assert p.per_day == () and sum(n for _, n in p.forecast) == 0
    assert png_size(progress_mod.progress_png(p)) == (1200, 900)


def test_stats_command_writes_the_plot(workdir, tmp_path, capsys):
    out = tmp_path / "me.png"
    simulate(Store(), "ana", cards=5, days=10)  # NNQA_DATA_DIR, where the command looks
    base = ["--knowledge", str(workdir / "knowledge"), "--index", str(workdir / "index")]
    assert cli.main([*base, "stats", "--learner", "ana", "--plot", str(out)]) == 0
    assert png_size(out.read_bytes()) == (1200, 900)
    assert f"wrote {out}" in capsys.readouterr().err
