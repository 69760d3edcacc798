"""Benchmark: ask() against its floors, in the same run on the same machine.

* warm: median `Tutor.ask()` against the floor "the same model encodes the query, plus one
  FAISS search over the same index" (target: within 1.3x);
* cold: a fresh `python -c "from nnqa import ask; ask('what is relu')"` against a fresh
  process that loads the same model and encodes one sentence (target: within 1.5x).

Interleaved rounds, so load from other processes hits both sides alike.

    HF_HUB_OFFLINE=1 python benchmarks/bench_ask.py [--rounds 200] [--cold 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "what causes vanishing gradients",
    "how do I fix exploding gradients",
    "what is relu",
    "preceptron",
    "explain backprop step by step",
    "LSTM",
    "what is a random forest",
    "how does dropout prevent overfitting",
]

COLD_ASK = "from nnqa import ask; ask('what is relu')"
COLD_FLOOR = (
    "import torch; torch.set_num_threads(1); "
    "from sentence_transformers import SentenceTransformer; "
    "from nnqa.search.embeddings import bundled_model_path; "
    "SentenceTransformer(str(bundled_model_path()), device='cpu').encode(['what is relu'])"
)


def warm(rounds: int) -> dict:
    from nnqa import Tutor

    tutor = Tutor(knowledge=ROOT / "knowledge", index=ROOT / "index")
    index = tutor.index
    for q in QUESTIONS:  # warm up both paths (model, tokenizer caches, BM25, typo memo)
        tutor.ask(q)
        index.search(tutor.embedder.encode([q]), len(index))

    ask_ms, floor_ms = interleaved(tutor, QUESTIONS, rounds)
    return {"ask_ms": ask_ms, "floor_ms": floor_ms, "ratio": ask_ms / floor_ms, "target": 1.3}


def interleaved(tutor, questions: list[str], rounds: int, embedded: dict | None = None):
    """(median ms of `tutor.ask(q)`, median ms of its floor) over `rounds` interleaved rounds.

    The floor is one encode of the question (or of `embedded[q]`, the text ask() embeds
    after rewriting) plus one FAISS search over the whole index; both sides take turns, so
    load from other processes hits them alike.
    """
    index = tutor.index
    t_ask, t_floor = [], []
    for i in range(rounds):
        q = questions[i % len(questions)]
        text = embedded[q] if embedded else q
        t0 = time.perf_counter()
        index.search(tutor.embedder.encode([text]), len(index))
        t1 = time.perf_counter()
        tutor.ask(q)
        t2 = time.perf_counter()
        t_floor.append((t1 - t0) * 1000)
        t_ask.append((t2 - t1) * 1000)
    return statistics.median(t_ask), statistics.median(t_floor)


def cold(runs: int) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NNQA_THREADS": "1"}

    def once(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True
        )
        return time.perf_counter() - t0

    once(COLD_FLOOR)  # page cache warm for both
    a, f = [], []
    for _ in range(runs):
        f.append(once(COLD_FLOOR))
        a.append(once(COLD_ASK))
    ask_s, floor_s = statistics.median(a), statistics.median(f)
    return {"ask_s": ask_s, "floor_s": floor_s, "ratio": ask_s / floor_s, "target": 1.5}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--cold", type=int, default=5)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    res = {"warm": warm(args.rounds), "cold": cold(args.cold) if args.cold else None}
    if args.json:
        print(json.dumps(res, indent=2))
        return
    w = res["warm"]
    print(
        f"warm ask() median {w['ask_ms']:.1f} ms vs floor (encode + FAISS search) "
        f"{w['floor_ms']:.1f} ms: {w['ratio']:.2f}x (target <= {w['target']}x)"
    )
    if c := res["cold"]:
        print(
            f"cold ask() {c['ask_s']:.2f} s vs floor (load model + encode one) "
            f"{c['floor_s']:.2f} s: {c['ratio']:.2f}x (target <= {c['target']}x)"
        )


if __name__ == "__main__":
    main()
