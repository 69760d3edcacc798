"""Benchmark: a cold `nnqa ask` through ONNX Runtime against importing sentence-transformers.

In one run, interleaved round by round so load from other processes hits every side alike,
each a fresh process timed from start to exit (median of `--rounds`):

* floor: `python -c "import sentence_transformers"`, what any answer through
  sentence-transformers pays before it starts (target: ONNX cold ask <= 0.25x of it);
* `nnqa ask "what causes vanishing gradients"` through ONNX Runtime (the default) and with
  NNQA_ONNX=0 (sentence-transformers and torch), with each process's peak memory
  (target: <= 300 MB for ONNX);
* warm: median `Tutor.ask()` in this process against its floor, one ONNX encode of the
  text ask() embeds (the question after typo and acronym rewriting) plus one FAISS search
  over the same index (target: <= 1.1x).

The export is made first in a temp cache (its time is reported: a first run pays it once).

    HF_HUB_OFFLINE=1 python benchmarks/bench_cold.py [--rounds 7] [--warm 300] [--json docs/bench_cold.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ask import QUESTIONS as WARM_QUESTIONS  # noqa: E402  the same mix as bench_ask
from bench_ask import interleaved  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "what causes vanishing gradients"
TARGETS = {"cold_vs_import": 0.25, "peak_mb": 300, "warm_vs_floor": 1.1}


def run(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """(seconds from start to exit, peak resident memory in MB, stdout) of a fresh process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} failed: {err.read().decode()[-2000:]}")
        out.seek(0)
        return seconds, usage.ru_maxrss / 1024, out.read().decode()  # ru_maxrss: KB on Linux


def cold(rounds: int, cache: str) -> dict:
    base = {**os.environ, "HF_HUB_OFFLINE": "1", "NNQA_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false", "NNQA_CACHE_DIR": cache,
            "PYTHONPATH": str(ROOT / "src")}  # fmt: skip
    onnx, st = {**base, "NNQA_ONNX": "1"}, {**base, "NNQA_ONNX": "0"}
    ask = [sys.executable, "-m", "nnqa", "ask", QUESTION]
    imp = [sys.executable, "-c", "import sentence_transformers"]

    first, _, _ = run(ask, onnx)  # makes the export; warms the page cache for the rest
    run(ask, st)
    times: dict[str, list[float]] = {"import": [], "onnx": [], "st": [], "python": []}
    peaks: dict[str, list[float]] = {"onnx": [], "st": []}
    answers = set()
    for _ in range(rounds):
        times["import"].append(run(imp, base)[0])
        for name, env in (("onnx", onnx), ("st", st)):
            s, peak, out = run(ask, env)
            times[name].append(s)
            peaks[name].append(peak)
            answers.add(out)
        times["python"].append(run([sys.executable, "-c", "pass"], base)[0])
    assert len(answers) == 1, "ONNX and sentence-transformers answered differently"
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "first_run_with_export_s": round(first, 3),
        "import_sentence_transformers_s": round(med["import"], 3),
        "ask_onnx_s": round(med["onnx"], 3),
        "ask_sentence_transformers_s": round(med["st"], 3),
        "python_start_s": round(med["python"], 3),
        "ratio_onnx_vs_import": round(med["onnx"] / med["import"], 3),
        "ratio_onnx_vs_sentence_transformers": round(med["onnx"] / med["st"], 3),
        "peak_mb_onnx": round(max(peaks["onnx"]), 1),
        "peak_mb_sentence_transformers": round(max(peaks["st"]), 1),
        "runs": {k: [round(x, 3) for x in v] for k, v in times.items()},
    }


def warm(rounds: int, cache: str) -> dict:
    os.environ["NNQA_CACHE_DIR"] = cache
    from nnqa import Tutor

    tutor = Tutor(knowledge=ROOT / "knowledge", index=ROOT / "index")
    index = tutor.index
    for q in WARM_QUESTIONS:  # warm up both paths (session, tokenizer, BM25, typo memo)
        tutor.ask(q)
        index.search(tutor.embedder.encode([q]), len(index))
    assert tutor.embedder.backend == "onnxruntime", tutor.embedder.backend
    # the floor encodes the text ask() embeds: the question after typo and acronym rewriting
    # ("what is relu" -> "what is relu (rectified linear unit)"); ONNX time grows with length
    embedded = {q: tutor.retriever.vocab.rewrite(q) for q in WARM_QUESTIONS}
    ask_ms, floor_ms = interleaved(tutor, WARM_QUESTIONS, rounds, embedded)
    return {"ask_ms": round(ask_ms, 3), "floor_ms": round(floor_ms, 3),
            "ratio": round(ask_ms / floor_ms, 3)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="cold processes of each kind (>= 5)")
    ap.add_argument("--warm", type=int, default=300, help="warm ask() rounds")
    ap.add_argument("--json", type=Path, help="also write the results here (docs/bench_cold.json)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nnqa-bench-cache-") as cache:
        c = cold(max(5, args.rounds), cache)
        w = warm(args.warm, cache)
    res = {
        "format": 1,
        "meta": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "rounds": max(5, args.rounds),
            "question": QUESTION,
        },
        "targets": TARGETS,
        "cold": c,
        "warm": w,
    }
    rows = [
        ("python -c pass", c["python_start_s"], ""),
        ('python -c "import sentence_transformers" (floor)',
         c["import_sentence_transformers_s"], ""),
        ("nnqa ask, sentence-transformers (NNQA_ONNX=0)", c["ask_sentence_transformers_s"],
         f"peak {c['peak_mb_sentence_transformers']:.0f} MB"),
        ("nnqa ask, ONNX Runtime", c["ask_onnx_s"],
         f"peak {c['peak_mb_onnx']:.0f} MB, {c['ratio_onnx_vs_import']:.2f}x the import "
         f"(target <= {TARGETS['cold_vs_import']}x, <= {TARGETS['peak_mb']} MB)"),
        ("first nnqa ask ever (makes the ONNX export)", c["first_run_with_export_s"], "once"),
    ]  # fmt: skip
    print(f"{'cold, median of ' + str(res['meta']['rounds']) + ' fresh processes':52s} seconds")
    for what, seconds, note in rows:
        print(f"{what:52s} {seconds:7.3f}   {note}")
    print(f"warm ask() median {w['ask_ms']:.2f} ms vs floor (ONNX encode + FAISS search) "
          f"{w['floor_ms']:.2f} ms: {w['ratio']:.2f}x (target <= {TARGETS['warm_vs_floor']}x)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    assert c["ratio_onnx_vs_import"] <= TARGETS["cold_vs_import"], c["ratio_onnx_vs_import"]
    assert c["peak_mb_onnx"] <= TARGETS["peak_mb"], c["peak_mb_onnx"]
    assert w["ratio"] <= TARGETS["warm_vs_floor"], w["ratio"]


if __name__ == "__main__":
    main()
