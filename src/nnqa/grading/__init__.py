"""Grading: judge a typed answer against a card or a teacher's reference.

Owns the verdict (correct / partial / incorrect), the key points a reference is split
into, which of them an answer covers, misses or contradicts (`grader`), and the learned
judge that reads an answer against a reference (`judge`, weights in `judge_model/`).
Leaves out scheduling (`nnqa.quiz`), storing reviews (`nnqa.store`) and measuring the
grader (`nnqa eval`, `benchmarks/bench_grading_quality.py`).
"""

from ..decks.cards import find_card
from .calibration import CALIBRATION, Calibration, recalibrate
from .evidence import FEATURES, Evidence
from .grade import Grade
from .grader import Grader, clauses
from .guards import content_words, is_keyword_bag, is_non_answer, restates
from .judge import LABELS, Judge, JudgeError
from .keypoints import CORE_WEIGHT, KeyPoint, key_points
from .terms import same_term

__all__ = [
    "CALIBRATION",
    "CORE_WEIGHT",
    "FEATURES",
    "Evidence",
    "LABELS",
    "Calibration",
    "Grade",
    "Grader",
    "Judge",
    "JudgeError",
    "KeyPoint",
    "clauses",
    "content_words",
    "find_card",
    "is_keyword_bag",
    "is_non_answer",
    "key_points",
    "recalibrate",
    "restates",
    "same_term",
]
