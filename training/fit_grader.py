"""Fit the grader's combiner and cut-offs on tuning data only, never on a test or blind set.

    python training/fit_grader.py --data ../shared/data

The combiner is a logistic regression from what the two models say about an answer
(`grader.FEATURES`: the judge's probabilities for the whole reference, the embedding
cosine to it, how much of the key points the answer covers by cosine, the judge's best
and worst point) to correct / partial / incorrect. It is written into the judge's
judge.json ("combiner"), beside the weights it was fitted to. The two verdict cut-offs on
its score are then chosen on the same data and printed for `Calibration`.

Tuning data: SemEval-2013 *training* answers to the questions `grader_data.split_questions`
held out of the judge's training (one-sentence references, science), and
tests/data/grading.jsonl (typed answers to the neural-networks deck's long cards).
Wrong answers weigh twice: praising a wrong answer is the worst mistake a tutor makes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grader_data import LABEL5, read_jsonl, split_questions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TO3 = ("correct", "partial", "incorrect", "incorrect")
CLASSES = ("correct", "partial", "incorrect")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--dry-run", action="store_true", help="print, do not write judge.json")
    ap.add_argument("--C", type=float, default=1.0, help="inverse L2 strength of the combiner")
    ap.add_argument(
        "--wrong-weight", type=float, default=2.0, help="weight of a wrong answer in the fit"
    )
    ap.add_argument(
        "--penalty", type=float, default=2.0, help="cost of a wrong answer called correct"
    )
    args = ap.parse_args(argv)

    from sklearn.linear_model import LogisticRegression

    from nnqa import Tutor
    from nnqa.grading import CALIBRATION, FEATURES, find_card
    from nnqa.grading.grader import GUARD_NOTES
    from nnqa.grading.judge import JUDGE_DIR

    tutor = Tutor()
    grader = tutor.grader.with_calibration(about_cos=0.2)  # read every point
    # the questions the judge was not trained on (the share it held out, in its judge.json)
    share = grader.judge.meta.get("dev", {}).get("share", 0.08)
    _, dev_q = split_questions(args.data, random.Random(args.seed), share)
    rows = [
        r
        for r in read_jsonl(args.data / "semeval2013" / "train.jsonl")
        if r["question_id"] in dev_q
    ]
    items = []  # (evidence, gold, set name)
    for r in rows:
        ev = grader.evidence(grader.points_for(r["best_reference"]), r["student_answer"],
                             r["question"], r["best_reference"])  # fmt: skip
        items.append((ev, TO3[LABEL5[r["label5"]]], "semeval-dev"))
    for r in read_jsonl(ROOT / "tests" / "data" / "grading.jsonl"):
        card = find_card(tutor.cards, r["card"])
        if any(n in GUARD_NOTES for n in grader.grade_card(card, r["typed"]).notes):
            continue  # decided by a guard, whatever is fitted
        ev = grader.evidence(grader.points_for(card), r["typed"], card.front, card.plain_back)
        items.append((ev, r["verdict"], "nn-tuning"))

    cal = CALIBRATION
    x = np.stack([ev.features(cal) for ev, _, _ in items])  # (n, F)
    y = np.array([CLASSES.index(g) for _, g, _ in items])
    sets = np.array([s for *_, s in items])
    # each set counts the same, and wrong answers twice
    w = np.array(
        [(args.wrong_weight if g == "incorrect" else 1.0) / (sets == s).sum() for _, g, s in items]
    )
    w *= len(items) / w.sum()
    lr = LogisticRegression(C=args.C, max_iter=5000, fit_intercept=False)
    lr.fit(x, y, sample_weight=w)
    combiner = lr.coef_  # (3, F)

    def measure(c: object) -> dict:
        out = {}
        for name in ("semeval-dev", "nn-tuning"):
            sel = [(ev, g) for ev, g, s in items if s == name]
            got = [ev.decide(c, combiner)[1] for ev, _ in sel]
            gold = [g for _, g in sel]
            agree = float(np.mean([a == b for a, b in zip(got, gold, strict=True)]))
            bad = float(
                np.mean(
                    [a == "correct" for a, b in zip(got, gold, strict=True) if b == "incorrect"]
                )
            )
            out[name] = {"agreement": round(agree, 4), "wrong_called_correct": round(bad, 4)}
        return out

    best = None
    for c_at in np.arange(0.4, 0.86, 0.025):
        for p_at in np.arange(0.1, c_at - 0.05, 0.025):
            c = replace(cal, correct_at=round(float(c_at), 3), partial_at=round(float(p_at), 3))
            m = measure(c)
            obj = sum(v["agreement"] - args.penalty * v["wrong_called_correct"] for v in m.values())
            if best is None or obj > best[0] + 1e-9:
                best = (obj, c, m)
    print("fitted on", {s: int((sets == s).sum()) for s in ("semeval-dev", "nn-tuning")})
    print(
        "combiner",
        json.dumps(
            {f: [round(float(v), 3) for v in combiner[:, i]] for i, f in enumerate(FEATURES)}
        ),
    )
    print(
        "cut-offs",
        f"correct_at={best[1].correct_at} partial_at={best[1].partial_at}",
        json.dumps(best[2]),
    )
    if not args.dry_run:
        path = JUDGE_DIR / "judge.json"
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta["combiner"] = {
            "features": list(FEATURES),
            "classes": list(CLASSES),
            "weights": [[round(float(v), 6) for v in row] for row in combiner],
            "fitted_on": {s: int((sets == s).sum()) for s in ("semeval-dev", "nn-tuning")},
            "cut_offs": {"correct_at": best[1].correct_at, "partial_at": best[1].partial_at},
            "tuning": best[2],
        }
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
        print("wrote", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
