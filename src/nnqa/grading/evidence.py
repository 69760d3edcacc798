"""Evidence: what the embedding model and the judge said about one answer, and the one
rule that turns it into a verdict and a state per key point.

Owns `FEATURES` (the combiner's inputs), `Evidence.decide` (the verdict rule the module
docstring of `grader` states). Leaves out: running the models (`grader`), the numbers
(`calibration`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibration import Calibration
from .judge import LABELS

__all__ = ["FEATURES", "Evidence"]

CORRECT, PARTIAL, CONTRADICTORY, IRRELEVANT = range(len(LABELS))


FEATURES = (
    "bias", "whole_correct", "whole_partial", "whole_contradictory", "whole_irrelevant",
    "cos_whole", "coverage", "best_coverage", "best_point_correct", "worst_point_contradictory",
    "several_points",
)  # fmt: skip


@dataclass(frozen=True)
class Evidence:
    """What the two models said about one answer, before any cut-off is applied.

    `decide` turns it into a verdict and per-point states; tuning reuses it.
    """

    points: tuple[str, ...]  # (k,) the key points' texts
    weights: np.ndarray  # (k,) the key points' weights
    about: np.ndarray  # (k,) best cosine between each point and the answer or a clause
    said: tuple[str, ...]  # (k,) the clause of the answer closest to each point
    cos_whole: float  # cosine between the answer and the whole reference
    whole: np.ndarray  # (4,) judge probabilities for the whole reference
    per: dict  # point index -> (4,) judge probabilities, for the points the judge read
    verbatim: tuple[bool, ...] = ()  # (k,) the answer holds the point word for word
    closest: frozenset = frozenset()  # points that are the best match of some answer clause

    def coverage(self, cal: Calibration) -> np.ndarray:
        """(k,) how fully each point is said, from the embedding cosine ramped to [0, 1]."""
        return np.clip((self.about - cal.cos_floor) / (cal.cos_full - cal.cos_floor), 0.0, 1.0)

    def features(self, cal: Calibration) -> np.ndarray:
        """(len(FEATURES),) the combiner's inputs, in `FEATURES` order."""
        ramp = self.coverage(cal)
        per = list(self.per.values()) or [self.whole]
        return np.array([
            1.0, *self.whole, self.cos_whole, float(self.weights @ ramp / self.weights.sum()),
            float(ramp.max()), max(p[CORRECT] for p in per), max(p[CONTRADICTORY] for p in per),
            float(len(self.points) > 1),
        ])  # fmt: skip

    def decide(self, cal: Calibration, combiner: np.ndarray | None = None):
        """(score, verdict, one state per point, notes); states: covered | partly |
        contradicted | missed. `combiner` is (3, len(FEATURES)), from the judge's folder."""
        k = len(self.points)
        ramp = self.coverage(cal)
        states, notes = ["missed"] * k, []
        per = {0: self.whole} if k == 1 else self.per
        for i in range(k):
            p = per.get(i)
            if k > 1 and self.about[i] < cal.about_cos:
                continue
            # a point is contradicted only where the answer talks about that very point, and
            # (on a card of several points) where the whole answer reads against the card too
            talks_about = k == 1 or (
                i in self.closest
                and self.about[i] >= cal.contradicts_cos
                and self.whole[CONTRADICTORY] >= self.whole[CORRECT]
            )
            if (
                p is not None
                and talks_about
                and p[CONTRADICTORY] >= cal.contradicted_at
                and p[CONTRADICTORY] == p.max()
            ):
                states[i] = "contradicted"
                continue
            # similar words are not agreement: where the judge read the point, it must lean
            # to correct rather than contradictory for the cosine to count
            agrees = p is None or p[CORRECT] >= p[CONTRADICTORY]
            if (ramp[i] >= cal.covered_at and agrees) or (
                p is not None and p[CORRECT] >= cal.covered_at
            ):
                states[i] = "covered"
            elif ramp[i] >= cal.partly_at and agrees:
                states[i] = "partly"
        copied = [i for i, v in enumerate(self.verbatim) if v]
        for i in copied:  # said word for word: covered, whatever the judge thinks
            states[i] = "covered"
        if k > 1 and per and self.whole.argmax() == CONTRADICTORY and "contradicted" not in states:
            i = max(per, key=lambda i: per[i][CONTRADICTORY])
            if i not in copied and i in self.closest and self.about[i] >= cal.contradicts_cos:
                states[i] = "contradicted"
        if combiner is None:
            score = float(self.whole[CORRECT] + self.whole[PARTIAL] / 2)
        else:
            z = combiner @ self.features(cal)  # (3,): correct, partial, incorrect
            e = np.exp(z - z.max())
            prob = e / e.sum()
            score = float(prob[0] + prob[1] / 2)
        if copied and len(copied) == k:  # the whole reference, word for word
            score = 1.0
        verdict = cal.verdict(score)
        if copied and verdict == "incorrect" and "contradicted" not in states:
            verdict = "partial"  # part of the card, word for word
        # the evidence shown follows the verdict, and the verdict never outruns the evidence
        said = [i for i in np.argsort(-self.about) if states[i] != "contradicted"]
        if "contradicted" in states and verdict == "correct":
            verdict = "partial"
        if verdict == "correct" and "covered" not in states and said:
            states[said[0]] = "covered"  # the point the answer is most about
        if verdict == "partial" and not {"covered", "partly"} & set(states):
            if said:
                states[said[0]] = "partly"
            else:
                verdict = "incorrect"
        if verdict == "incorrect":
            states = [st if st == "contradicted" else "missed" for st in states]
        for i, st in enumerate(states):
            if st == "contradicted":
                notes.append(f"you wrote “{self.said[i]}”; the card says “{self.points[i]}”")
        return score, verdict, states, notes
