"""How the answer judge reads minimal edits of sentences it never trained on (diagnostic).

    python training/experiments/judge_contrast_probe.py [JUDGE_DIR ...]

References: the first sentence (6-35 words) of 300 answers from ../shared/data/qa
(StackFAQ, MedQuAD, CMU QA; none of them is used to train the judge or to fit the grader).
Each is judged against itself and against generic English edits of itself
(`grader_data`: negation, two terms traded, an opposite word, a changed number). Prints,
per kind of answer, the share the judge reads as correct and as contradictory (argmax of
its four labels, fp32 on torch). An unchanged sentence should read correct; every edit
contradictory.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from grader_data import negate, read_jsonl, swap_number, swap_opposite, swap_terms  # noqa: E402

from nnqa.grading.judge import JUDGE_DIR, Judge  # noqa: E402
from nnqa.search.embeddings import bundled_model_path  # noqa: E402

DATA = HERE.parents[2] / "shared" / "data" / "qa"
KINDS = ("same", "negation", "swap", "opposite", "number")


def items(n: int = 300, seed: int = 7) -> list[tuple[str, str, str, str]]:
    rng = random.Random(seed)
    refs = []
    for name in ("stackfaq", "medquad", "cmu_qa"):
        for r in read_jsonl(DATA / f"{name}.jsonl"):
            first = re.split(r"(?<=[.!?])\s+", r["answer"].strip())[0]
            if 6 <= len(first.split()) <= 35 and not first.startswith("Key Points"):
                refs.append((r["question"], first))
    rng.shuffle(refs)
    out = []
    edits = {
        "negation": negate,
        "swap": lambda t: swap_terms(t, rng),
        "opposite": lambda t: swap_opposite(t, rng),
        "number": lambda t: swap_number(t, rng),
    }
    for q, ref in refs[:n]:
        out.append((q, ref, ref, "same"))
        for kind, edit in edits.items():
            if (e := edit(ref)) and e != ref:
                out.append((q, ref, e, kind))
    return out


def main(argv: list[str]) -> int:
    probe = items()
    print({k: sum(1 for *_, x in probe if x == k) for k in KINDS})
    for folder in argv or [str(JUDGE_DIR)]:
        judge = Judge(bundled_model_path(), Path(folder))
        judge.meta["int8"] = False
        judge.torch_int8 = False
        probs = np.concatenate(
            [
                judge.probabilities([(q, r, a) for q, r, a, _ in probe[i : i + 32]])
                for i in range(0, len(probe), 32)
            ]
        )
        kinds, top = np.array([k for *_, k in probe]), probs.argmax(1)
        row = {
            k: f"correct {np.mean(top[kinds == k] == 0):.2f} contradictory {np.mean(top[kinds == k] == 2):.2f}"
            for k in KINDS
        }
        print(folder, row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
