"""Demos in a worker process under a time limit: same numbers, stopped when too slow."""

import io
import time

import pytest

from nnqa.demos import run_demo
from nnqa.demos.limits import DemoWorker, demo_timeout

# rnn_vs_lstm at its bounds trains for about a minute on 2 CPU cores: far past 0.5 s.
SLOW = {"max_length": 60, "lengths": 4, "hidden": 64, "steps": 500, "batch": 128}


@pytest.fixture(scope="module")
def worker():
    w = DemoWorker()
    yield w
    w.stop()


def test_worker_gives_the_same_numbers_as_in_process(worker):
    for name, params in [("perceptron", {"points": 40, "seed": 3}), ("backpropagation", {})]:
        limited = worker.run(name, 30, **params)
        local = run_demo(name, **params)
        assert limited.metrics == local.metrics and limited.params == local.params
        png = io.BytesIO()
        limited.figure.savefig(png, format="png")  # the Figure came back whole and renders
        assert png.getvalue()[:8] == b"\x89PNG\r\n\x1a\n" and limited.figure.axes


def test_a_run_past_its_limit_is_stopped_and_the_next_run_works(worker):
    worker.run("perceptron", 30, points=20)  # warm: the limit counts the run, not the start
    before = worker.pid
    t = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"'rnn_vs_lstm' ran past its 0.5 s limit"):
        worker.run("rnn_vs_lstm", 0.5, **SLOW)
    assert time.perf_counter() - t < 3
    assert worker.pid != before  # the slow worker was killed; a fresh one is starting
    assert worker.run("perceptron", 30, points=20).metrics["separable_accuracy"] == 1.0


def test_bad_parameters_never_reach_the_worker():
    w = DemoWorker()
    with pytest.raises(ValueError, match="steps must be between"):
        w.run("rnn_vs_lstm", 30, steps=10**9)
    with pytest.raises(ValueError, match="unknown demo"):
        w.run("os.system", 30)
    assert w.pid is None  # checked in this process: no worker was even started


def test_timeout_setting(monkeypatch):
    monkeypatch.delenv("NNQA_DEMO_TIMEOUT", raising=False)
    assert demo_timeout() == 60
    monkeypatch.setenv("NNQA_DEMO_TIMEOUT", "2.5")
    assert demo_timeout() == 2.5
    for bad in ("0", "-1", "soon", "inf", "nan"):
        monkeypatch.setenv("NNQA_DEMO_TIMEOUT", bad)
        with pytest.raises(ValueError, match="NNQA_DEMO_TIMEOUT must be a positive number"):
            demo_timeout()


def test_web_demo_endpoint_reports_the_time_limit(app_server, monkeypatch):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(app_server.url, verbose=False)
    client.predict("perceptron", {"points": 20}, api_name="/demo")  # start the app's worker
    monkeypatch.setenv("NNQA_DEMO_TIMEOUT", "0.5")
    with pytest.raises(AppError, match=r"ran past its 0.5 s limit"):
        client.predict("rnn_vs_lstm", SLOW, api_name="/demo")
    monkeypatch.delenv("NNQA_DEMO_TIMEOUT")
    _, result = client.predict("perceptron", {"points": 20}, api_name="/demo")
    assert result["metrics"]["separable_accuracy"] == 1.0
