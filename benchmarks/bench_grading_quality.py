"""Grading quality on data nobody on the team wrote: SemEval-2013 Task 7 test splits and the
blind sets in tests/data/blind/, beside plain MiniLM cosine as a floor.

    python benchmarks/bench_grading_quality.py --data ../shared/data [--limit 400] [--json out.json]

SemEval labels map to nnqa's verdicts as the issue sets them: correct -> correct;
partially_correct_incomplete -> partial; contradictory, irrelevant, non_domain -> incorrect.
Reported per split: 3-class accuracy, 2-way accuracy (correct vs the rest), the share of
contradictory answers graded correct, of correct answers graded incorrect, and the official
3-way macro-F1 (correct / contradictory / incorrect: a graded answer counts as contradictory
when the grader names a contradicted point). The floor is MiniLM cosine between answer and
reference with two cut-offs fitted on the SemEval training split.

The blind sets were written by a helper who saw only the decks; their labels were fixed
before the first run and are never tuned on (tests/data/blind/README.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("test-unseen-answers", "test-unseen-questions", "test-unseen-domains")
TO3 = {"correct": "correct", "partially_correct_incomplete": "partial", "contradictory": "incorrect",
       "irrelevant": "incorrect", "non_domain": "incorrect"}  # fmt: skip
BLIND = ("grading_programming", "grading_geology", "grading_nn")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def macro_f1(gold: list[str], pred: list[str]) -> float:
    f1s = []
    for label in sorted(set(gold)):
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, pred, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(f1s))


def summary(gold5: list[str] | None, gold3: list[str], pred: list[str], contra: list[bool]) -> dict:
    n = len(gold3)
    out = {
        "n": n,
        "acc3": float(np.mean([g == p for g, p in zip(gold3, pred, strict=True)])),
        "acc2": float(
            np.mean(
                [(g == "correct") == (p == "correct") for g, p in zip(gold3, pred, strict=True)]
            )
        ),
        "correct_called_incorrect": _share(gold3, pred, "correct", "incorrect"),
        "wrong_called_correct": _share(gold3, pred, "incorrect", "correct"),
    }
    if gold5 is not None:
        out["contradictory_called_correct"] = _share(gold5, pred, "contradictory", "correct")
        official = [
            "correct"
            if g == "correct"
            else "contradictory"
            if g == "contradictory"
            else "incorrect"
            for g in gold5
        ]
        mine = [
            "correct" if p == "correct" else "contradictory" if c else "incorrect"
            for p, c in zip(pred, contra, strict=True)
        ]
        out["official_3way_macro_f1"] = macro_f1(official, mine)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def _share(gold, pred, g_label, p_label) -> float:
    sel = [p for g, p in zip(gold, pred, strict=True) if g == g_label]
    return float(np.mean([p == p_label for p in sel])) if sel else 0.0


def cosine_floor(embedder, train: list[dict]):
    """MiniLM cosine with two cut-offs fitted on the training split (the plain baseline)."""
    ref = embedder.encode([r["best_reference"] for r in train])
    ans = embedder.encode([r["student_answer"] for r in train])
    cos = (ref * ans).sum(1)
    gold = [TO3[r["label5"]] for r in train]
    best = (0.0, 0.0, 0.0)
    for c in np.arange(0.3, 0.95, 0.02):
        for p in np.arange(0.1, c, 0.02):
            pred = np.where(cos >= c, "correct", np.where(cos >= p, "partial", "incorrect"))
            acc = float(np.mean(pred == np.array(gold)))
            if acc > best[0]:
                best = (acc, c, p)
    _, c_at, p_at = best

    def grade(refs, answers):
        cos = (embedder.encode(refs) * embedder.encode(answers)).sum(1)
        return list(np.where(cos >= c_at, "correct", np.where(cos >= p_at, "partial", "incorrect")))

    return grade


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--limit", type=int, default=0, help="answers per SemEval split (0: all)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--no-floor", action="store_true")
    args = ap.parse_args(argv)

    from nnqa.grading import Grader
    from nnqa.search.embeddings import Embedder

    embedder = Embedder(threads=1)
    grader = Grader(embedder)
    floor = None if args.no_floor else cosine_floor(
        embedder, read_jsonl(args.data / "semeval2013" / "train.jsonl"))  # fmt: skip
    results: dict = {"semeval": {}, "blind": {}}
    seconds = []
    for split in SPLITS:
        rows = read_jsonl(args.data / "semeval2013" / f"{split}.jsonl")
        if args.limit:
            rows = rows[:: max(1, len(rows) // args.limit)][: args.limit]
        pred, contra = [], []
        for r in rows:
            t = time.perf_counter()
            g = grader.grade_text(r["best_reference"], r["student_answer"], r["question"])
            seconds.append(time.perf_counter() - t)
            pred.append(g.verdict)
            contra.append(bool(g.contradicted))
        gold5 = [r["label5"] for r in rows]
        gold3 = [TO3[x] for x in gold5]
        res = {"nnqa": summary(gold5, gold3, pred, contra)}
        if floor:
            fp = floor([r["best_reference"] for r in rows], [r["student_answer"] for r in rows])
            res["cosine"] = summary(gold5, gold3, fp, [False] * len(fp))
        results["semeval"][split] = res
        print(split, json.dumps(res), flush=True)
    for name in BLIND:
        path = ROOT / "tests" / "data" / "blind" / f"{name}.jsonl"
        rows = read_jsonl(path)
        pred = [grader.grade_text(r["reference"], r["typed"], r["front"]).verdict for r in rows]
        gold = [r["verdict"] for r in rows]
        res = {"nnqa": summary(None, gold, pred, [False] * len(pred))}
        misses = Counter(r["kind"] for r, p in zip(rows, pred, strict=True) if p != r["verdict"])
        res["nnqa"]["misses_by_kind"] = dict(misses)
        if floor:
            res["cosine"] = summary(
                None,
                gold,
                floor([r["reference"] for r in rows], [r["typed"] for r in rows]),
                [False] * len(rows),
            )
        results["blind"][name] = res
        print(name, json.dumps(res), flush=True)
    results["grade_seconds_median"] = round(float(np.median(seconds)), 4) if seconds else None
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
