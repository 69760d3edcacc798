"""Benchmark: grade() median latency against a floor of its own model forwards.

The floor is the two forwards grade() cannot avoid: one embedding of the answer and its
clauses, and one judge (cross-encoder) batch over the same pairs grade() sends it (the whole
reference and the key points the answer is about). Target: grade() <= 1.5x the floor, and
<= 150 ms, measured in the same run on one torch thread.

    HF_HUB_OFFLINE=1 PYTHONPATH=src python benchmarks/bench_grade.py
"""

import statistics
import time
from pathlib import Path

from nnqa.decks.cards import load_decks
from nnqa.grading import Grader, find_card
from nnqa.search.embeddings import Embedder

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = [
    (
        "What is dropout in neural networks?",
        "randomly switching off units while training so it doesn't overfit",
    ),
    (
        "Vanishing Gradient",
        "gradients shrink towards zero during backprop in deep networks, caused by sigmoid/tanh, fix with relu",
    ),
    (
        "What is ReLU?",
        "relu is max(0,x), an activation function, doesnt have vanishing gradient like sigmoid",
    ),
    (
        "What is a long short-term memory (LSTM)?",
        "a kind of rnn with memory cells so it can learn long term dependencies",
    ),
]


def median_ms(fn, n: int) -> float:
    times = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main(rounds: int = 60) -> None:
    cards = load_decks(ROOT / "knowledge")
    embedder = Embedder()
    grader = Grader(embedder)
    grader.warm(cards)
    from nnqa.grading.grader import clauses

    def pairs(i):
        front, typed = ANSWERS[i % len(ANSWERS)]
        card = find_card(cards, front)
        typed = f"{typed} {i}"
        ev = grader.evidence(grader.points_for(card), typed, card.front, card.plain_back)
        judged = [card.plain_back] + [ev.points[j] for j in ev.per]
        return typed, [(card.front, text, typed) for text in judged]

    plans = [pairs(i) for i in range(rounds)]

    def floor(i):
        typed, triples = plans[i]
        embedder.encode([typed, *[c for c in clauses(typed) if c != typed]])  # (1 + u, 384)
        return grader.judge.probabilities(triples)  # (1 + j, 4)

    def grade(i):
        front, typed = ANSWERS[i % len(ANSWERS)]
        # a new answer each time (no answer cache hit): what a learner types is new
        return grader.grade_card(find_card(cards, front), f"{typed} {i}")

    floor(0), grade(0)  # warm both paths
    f_times, g_times = [], []
    for i in range(rounds):  # interleaved, so both see the same machine load
        f_times.append(median_ms(lambda _, i=i: floor(i), 1))
        g_times.append(median_ms(lambda _, i=i: grade(i), 1))
    f, g = statistics.median(f_times), statistics.median(g_times)
    print(f"floor (encode the answer + one judge batch): {f:.1f} ms median")
    print(f"grade():                                     {g:.1f} ms median (target <= 150 ms)")
    print(f"ratio grade/floor: {g / f:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
