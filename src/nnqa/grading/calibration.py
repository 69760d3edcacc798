"""The grader's numbers: the verdict's cut-offs and the coverage ramp, and refitting the
cut-offs to one learner from their overrules.

Owns `Calibration` (fitted by training/fit_grader.py on tuning data) and `recalibrate`.
Leaves out: where the numbers are used (`evidence`, `grader`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

__all__ = ["CALIBRATION", "Calibration", "recalibrate"]


@dataclass(frozen=True)
class Calibration:
    """The grader's numbers, fitted by training/fit_grader.py on tuning data only: SemEval-2013
    *training* answers to questions held out of the judge's training, and the tuning set
    tests/data/grading.jsonl; never on a test split or a blind set. `recalibrate` refits the
    two verdict cut-offs to one learner."""

    correct_at: float = 0.675  # score at or above: "correct" (never with a contradicted point)
    partial_at: float = 0.40  # score at or above: "partial"
    cos_floor: float = 0.30  # a point this similar to the answer is not said at all ...
    cos_full: float = 0.65  # ... and this similar is said in full (embedding cosine)
    covered_at: float = (
        0.50  # a point's cosine coverage (or judge P(correct)) from which it is covered
    )
    partly_at: float = 0.25  # a point's cosine coverage from which it is partly covered
    contradicted_at: float = 0.50  # judge P(contradictory) from which a point is contradicted
    about_cos: float = 0.30  # an answer this similar to a point is about it (embedding cosine)
    contradicts_cos: float = 0.50  # ... and this similar (its best match) can contradict it
    max_judged: int = 6  # key points the judge reads per answer, most similar first

    def verdict(self, score: float) -> str:
        if score >= self.correct_at:
            return "correct"
        return "partial" if score >= self.partial_at else "incorrect"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


CALIBRATION = Calibration()


def recalibrate(
    cal: Calibration, reviews: list[tuple[float, str, bool]], least: int = 20
) -> Calibration:
    """Refit `correct_at` and `partial_at` to one learner's reviews once they overruled enough.

    Args:
        cal: the current numbers.
        reviews: (score the grader gave, verdict that stood, whether the learner overruled
            it with "I was right / I was wrong"), one per review.
        least: below this many overrules the numbers are returned unchanged.
    Returns:
        The numbers with the two cut-offs that disagree with the fewest standing verdicts
        (ties: the ones closest to `cal`), each moved at most 0.2. A learner's "I was
        right" counts as correct, "I was wrong" as incorrect; partial stands for itself.

    >>> recalibrate(CALIBRATION, [(0.55, "correct", True)] * 30).correct_at
    0.55
    """
    if sum(1 for *_, overruled in reviews if overruled) < least:
        return cal
    scores = np.array([s for s, *_ in reviews])
    wanted = np.array([v for _, v, _ in reviews])

    def disagreements(c: float, p: float) -> int:
        got = np.where(scores >= c, "correct", np.where(scores >= p, "partial", "incorrect"))
        return int((got != wanted).sum())

    grid = np.round(np.arange(0.05, 0.96, 0.025), 3)
    best = min(
        ((c, p) for c in grid for p in grid if p < c
         and abs(c - cal.correct_at) <= 0.2 + 1e-9 and abs(p - cal.partial_at) <= 0.2 + 1e-9),
        key=lambda cp: (disagreements(*cp), abs(cp[0] - cal.correct_at) + abs(cp[1] - cal.partial_at)),
    )  # fmt: skip
    return replace(cal, correct_at=float(best[0]), partial_at=float(best[1]))
