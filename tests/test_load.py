"""Load: 8 learners asking and grading at once get every answer, each as if asked alone.

A small run of `benchmarks/bench_load.py` against the session's test app.
"""

import importlib.util
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_load", ROOT / "benchmarks" / "bench_load.py")
bench_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_load)


def test_eight_learners_at_once_get_the_answers_they_get_alone(app_server):
    items = bench_load.workload()
    items = random.Random(7).sample(items, 16)  # a mix of /ask and /grade
    assert {api for api, _ in items} == {"/ask", "/grade"}
    expected = bench_load.baseline(app_server.url, items)
    run = bench_load.run_learners(app_server.url, items, expected, learners=8, seconds=5,
                                  max_requests=40)  # fmt: skip
    res = bench_load.summary(run, learners=8)
    assert res["errors"] == 0, res["error_samples"]
    assert res["mismatches"] == 0, res["mismatch_samples"]
    assert res["lost"] == 0 and res["answered"] == res["sent"] > 8
