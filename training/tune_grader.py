"""Fit the grader's cut-offs (`Calibration`) on tuning data only, never on a test or blind set.

    python training/tune_grader.py --data ../shared/data

Tuning data: SemEval-2013 *training* answers to the questions `grader_data.split_questions`
held out of the judge's training (one-sentence references, any subject), and
tests/data/grading.jsonl (typed answers to the neural-networks deck's long cards). The two
models run once per answer (`Grader.evidence`); the grid then only re-applies cut-offs.
The objective is 3-way agreement averaged over the two sets, with wrong answers graded
correct counted twice: praising a wrong answer is the worst mistake a tutor makes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grader_data import LABEL5, read_jsonl, split_questions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TO3 = ("correct", "partial", "incorrect", "incorrect")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)

    from nnqa import Tutor
    from nnqa.grading import CALIBRATION, find_card

    tutor = Tutor()
    grader = tutor.grader.with_calibration(about_cos=0.2)  # read every point the grid may use
    _, dev_q = split_questions(args.data, random.Random(args.seed))
    semeval = [
        r
        for r in read_jsonl(args.data / "semeval2013" / "train.jsonl")
        if r["question_id"] in dev_q
    ]
    sets = {"semeval-dev": [], "nn-tuning": []}
    for r in semeval:
        points = grader.points_for(r["best_reference"])
        ev = grader.evidence(points, r["student_answer"], r["question"], r["best_reference"])
        sets["semeval-dev"].append((ev, TO3[LABEL5[r["label5"]]]))
    for r in read_jsonl(ROOT / "tests" / "data" / "grading.jsonl"):
        card = find_card(tutor.cards, r["card"])
        if grader._grade(card, r["typed"], card.front, card.back, card.plain_back, "", "").notes[:1] in (
            ("no answer given",), ("only repeats the question's words",),
            ("lists words from the card without saying anything",),
        ):  # fmt: skip
            continue  # decided by a guard, whatever the cut-offs
        ev = grader.evidence(grader.points_for(card), r["typed"], card.front, card.plain_back)
        sets["nn-tuning"].append((ev, r["verdict"]))

    def measure(cal):
        out = {}
        for name, items in sets.items():
            agree = wrong_ok = 0
            for ev, gold in items:
                score, states, _ = ev.decide(cal)
                v = cal.verdict(
                    score, "covered" in states, "partly" in states, "contradicted" in states
                )
                agree += v == gold
                wrong_ok += gold == "incorrect" and v == "correct"
            out[name] = (agree / len(items), wrong_ok / len(items))
        return out

    def objective(m):
        return sum(a - w for a, w in m.values()) / len(m)

    grid = itertools.product(
        (0.45, 0.5, 0.55, 0.6, 0.65, 0.7),  # correct_at
        (0.1, 0.2, 0.3),  # partial_at
        (0.4, 0.5, 0.6),  # covered_at
        (0.4, 0.5, 0.6),  # partly_at
        (0.4, 0.5),  # contradicted_at
        (0.2, 0.3, 0.4),  # about_cos
    )
    best = None
    for c, p, cov, pa, con, ab in grid:
        cal = replace(CALIBRATION, correct_at=c, partial_at=p, covered_at=cov, partly_at=pa,
                      contradicted_at=con, about_cos=ab)  # fmt: skip
        m = measure(cal)
        if best is None or objective(m) > best[0] + 1e-9:
            best = (objective(m), cal, m)
    print("default", json.dumps(measure(CALIBRATION)))
    print("best", json.dumps(best[2]), best[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
