"""Grading: judge a typed answer against a card or a teacher's reference.

Owns the verdict (correct / partial / incorrect), the key points a reference is split
into, and which of them an answer covers, misses or contradicts. Leaves out scheduling
(`nnqa.quiz`), storing reviews (`nnqa.store`) and measuring the grader (evaluation code).
"""

from .grader import (
    CALIBRATION,
    Calibration,
    Grade,
    Grader,
    clauses,
    combine,
    find_card,
    is_keyword_bag,
    steps_named,
)
from .guards import content_words, is_non_answer, key_words, restates
from .keypoints import CORE_WEIGHT, KeyPoint, key_points, paraphrases

__all__ = [
    "CALIBRATION",
    "CORE_WEIGHT",
    "Calibration",
    "Grade",
    "Grader",
    "KeyPoint",
    "clauses",
    "combine",
    "content_words",
    "find_card",
    "is_keyword_bag",
    "is_non_answer",
    "key_points",
    "key_words",
    "paraphrases",
    "restates",
    "steps_named",
]
