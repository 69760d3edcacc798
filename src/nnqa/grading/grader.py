"""Grading: judge a typed answer against a card (or a teacher's reference) key point by key point.

A reference is split into key points (`keypoints`). The typed answer is encoded once with
the embedding model; its cosine to each key point says which points it is *about*. The
learned judge (`judge`, a cross-encoder fine-tuned on public grading and NLI data) then
reads the answer against the whole reference and against the points it is about, and says
for each: correct, partial, contradictory or irrelevant. One rule turns that evidence into
the verdict, the same in every face:

* a point is covered when the judge finds it said, partly covered when said in part,
  contradicted when the answer says otherwise about it, and missed otherwise;
* the score is the mean of the whole-reference credit (P(correct) + P(partial) / 2) and
  the weighted share of points covered (partly covered counts half);
* correct needs the score at `correct_at` and a covered point, and is never given when a
  point is contradicted; partial needs something (partly) covered; the rest is incorrect.

A reference that is a term, a name or a number is matched first after normalising case,
accents, punctuation, spacing and number formats; the judge decides the rest (a different
term of the same kind is contradictory). Generic guards run first: no answer, an answer
that only restates the question, a bag of the reference's own words.

Leaves out: scheduling (`nnqa.quiz`), storing (`nnqa.store`), measuring
(`benchmarks/bench_grading_quality.py`, `nnqa eval`).
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from dataclasses import dataclass, replace

import numpy as np

from ..decks.cards import Card
from ..text import NEGATIONS
from .guards import is_keyword_bag, is_non_answer, restates
from .judge import LABELS, Judge, JudgeError
from .keypoints import KeyPoint, key_points

__all__ = [
    "FEATURES",
    "Calibration",
    "Evidence",
    "Grade",
    "Grader",
    "clauses",
    "same_term",
    "recalibrate",
]

CORRECT, PARTIAL, CONTRADICTORY, IRRELEVANT = range(len(LABELS))
MAX_CLAUSES = 8  # clauses of the typed answer compared with the key points


@dataclass(frozen=True)
class Calibration:
    """The grader's numbers, fitted by training/fit_grader.py on tuning data only: SemEval-2013
    *training* answers to questions held out of the judge's training, and the tuning set
    tests/data/grading.jsonl; never on a test split or a blind set. `recalibrate` refits the
    two verdict cut-offs to one learner."""

    correct_at: float = 0.60  # score at or above: "correct" (never with a contradicted point)
    partial_at: float = 0.30  # score at or above: "partial"
    cos_floor: float = 0.30  # a point this similar to the answer is not said at all ...
    cos_full: float = 0.65  # ... and this similar is said in full (embedding cosine)
    covered_at: float = (
        0.50  # a point's cosine coverage (or judge P(correct)) from which it is covered
    )
    partly_at: float = 0.25  # a point's cosine coverage from which it is partly covered
    contradicted_at: float = 0.50  # judge P(contradictory) from which a point is contradicted
    about_cos: float = 0.30  # an answer this similar to a point is about it (embedding cosine)
    max_judged: int = 6  # key points the judge reads per answer, most similar first

    def verdict(self, score: float) -> str:
        if score >= self.correct_at:
            return "correct"
        return "partial" if score >= self.partial_at else "incorrect"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


CALIBRATION = Calibration()


@dataclass(frozen=True)
class Grade:
    """The verdict on one typed answer, with the points it covered, missed and contradicted.

    Every key point is in exactly one of `covered`, `partly` and `missed`; `contradicted`
    is the part of `missed` the answer said otherwise about.
    """

    verdict: str  # "correct" | "partial" | "incorrect"
    score: float  # in [0, 1]; higher for a better answer
    covered: tuple[str, ...]  # key points the answer made, quoted from the reference
    missed: tuple[str, ...]  # key points it did not make, quoted from the reference
    typed: str
    question: str  # the card's front or the teacher's question ('' when none)
    reference: str  # the card's answer (its back) or the teacher's reference
    notes: tuple[str, ...] = ()  # why: "you wrote X; the card says Y", "no answer given"
    card_id: str = ""
    where: str = ""  # source:line of the card
    partly: tuple[str, ...] = ()  # key points it made in part
    contradicted: tuple[str, ...] = ()  # key points it contradicted (also in `missed`)

    def __str__(self) -> str:
        lines = [f"{self.verdict.upper()} (score {self.score:.2f})"]
        lines += [f"  ! {n}" for n in self.notes]
        if self.covered:
            lines.append("What you got right:")
            lines += [f"  + {p}" for p in self.covered]
        if self.partly:
            lines.append("What you got partly right:")
            lines += [f"  ~ {p}" for p in self.partly]
        if self.contradicted:
            lines.append("What the card says otherwise:")
            lines += [f"  x {p}" for p in self.contradicted]
        missed = [p for p in self.missed if p not in self.contradicted]
        if missed and (self.covered or self.partly):  # else the answer below says it all
            lines.append("What you missed:")
            lines += [f"  - {p}" for p in missed]
        lines.append("The answer:" if not self.where else f"The card's answer ({self.where}):")
        lines += [f"  {ln}" for ln in self.reference.splitlines()]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "score": round(self.score, 4),
            "covered": list(self.covered),
            "partly": list(self.partly),
            "missed": list(self.missed),
            "contradicted": list(self.contradicted),
            "typed": self.typed,
            "question": self.question,
            "reference": self.reference,
            "notes": list(self.notes),
            "card_id": self.card_id,
            "where": self.where,
        }


# ---------------------------------------------------------------- the typed answer

_CLAUSE = re.compile(r"[.;!?\n]+|,\s+|\s+-+>?\s+|\s+(?:but|so|because|which|whereas|while)\s+")


def clauses(typed: str) -> list[str]:
    """The typed answer's clauses of two words or more, at most `MAX_CLAUSES`."""
    parts = [p.strip() for p in _CLAUSE.split(typed) if p and len(p.strip().split()) >= 2]
    return parts[:MAX_CLAUSES]


_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")
_NEGATION = frozenset(
    ["not", "no", "never", "neither", "nor", "isn't", "aren't", "doesn't", "don't", "wasn't", "n't"]
)
_LIST = frozenset(
    ["or", "and", "nor", "vs", "versus", "maybe"]
)  # a hedge or a list is not one term
_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "its",
        "it",
        "is",
        "it's",
        "called",
        "of",
        "about",
        "approximately",
        "around",
        "roughly",
    ]
)


def _normal(text: str) -> str:
    """Case, accents, punctuation and spacing folded: 'Cross-Entropy  Loss.' -> 'cross entropy loss'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"(?<=\d),(?=\d)", ".", text.casefold())  # 2,4 -> 2.4
    text = re.sub(r"[^\w.]+|(?<!\d)\.|\.(?!\d)", " ", text)
    return " ".join(text.split())


def _numbers(text: str) -> list[float]:
    return [float(n.replace(",", ".")) for n in _NUMBER.findall(text)]


def same_term(typed: str, reference: str) -> bool:
    """Whether a short answer names the reference's term, name or number.

    Normalised equality; the reference's own alias in brackets ("Rectified Linear Unit
    (ReLU)"); the term followed by at most two words naming its kind ("Adam optimiser",
    "2.4 years") with only filler before it ("the", "about"); the same number written
    another way. Never for an answer with a negation in it.

    >>> same_term("cross entropy", "Cross-entropy loss"), same_term("Manhattan distance", "Euclidean distance")
    (False, False)
    >>> same_term("relu", "ReLU"), same_term("2.40 years", "2.4")
    (True, True)
    """
    said = _normal(typed)
    words = said.split()
    if not words or NEGATIONS & set(words) or "n't" in typed:
        return False
    aliases = {_normal(reference)}
    if m := re.match(r"^(.*?)\s*\(([^()]+)\)\s*$", reference.strip()):
        aliases |= {_normal(m.group(1)), _normal(m.group(2))}
    aliases.discard("")
    for alias in aliases:
        if said == alias:
            return True
        nums = _numbers(alias)
        only_number = nums and not _NUMBER.sub("", alias).strip()
        if only_number and _numbers(said) == nums and len(words) <= 4:  # "2.40 years", "about 2.4"
            return True
        before, found, after = f" {said} ".partition(f" {alias} ")
        # the term, then at most its kind ("Adam optimizer", "2.4 years"); a word before it
        # other than filler makes another term ("Leaky ReLU", "Manhattan distance")
        kind = after.split()
        if (found and set(before.split()) <= _FILLER and len(kind) <= 2 and not _numbers(after)
                and not _LIST & set(kind)):  # fmt: skip
            return True
    return False


def _is_term(text: str) -> bool:
    """A reference that is a term, a name or a number (four words at most, no sentence)."""
    return len(text.split()) <= 4 and not re.search(r"[.!?;:]\s", text + " ")


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


# ---------------------------------------------------------------- the grader


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
            if (
                p is not None
                and p[CONTRADICTORY] >= cal.contradicted_at
                and p[CONTRADICTORY] == p.max()
            ):
                states[i] = "contradicted"
            elif ramp[i] >= cal.covered_at or (p is not None and p[CORRECT] >= cal.covered_at):
                states[i] = "covered"
            elif ramp[i] >= cal.partly_at:
                states[i] = "partly"
        if k > 1 and per and self.whole.argmax() == CONTRADICTORY and "contradicted" not in states:
            states[max(per, key=lambda i: per[i][CONTRADICTORY])] = "contradicted"
        if combiner is None:
            score = float(self.whole[CORRECT] + self.whole[PARTIAL] / 2)
        else:
            z = combiner @ self.features(cal)  # (3,): correct, partial, incorrect
            prob = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
            score = float(prob[0] + prob[1] / 2)
        verdict = cal.verdict(score)
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


class Grader:
    """Grades typed answers; key-point vectors are embedded once and cached by text hash.

    Args:
        embedder: the `Embedder` (the bundled MiniLM by default).
        judge: the learned `Judge` (the shipped one over the bundled model by default).
        max_chars: typed answers are cut to this length before grading.
        calibration: the verdict's numbers.

    >>> Grader().grade_text("The terminals are connected.", "they are not connected").verdict  # doctest: +SKIP
    'incorrect'
    """

    def __init__(self, embedder=None, max_chars: int = 5000, calibration: Calibration = CALIBRATION,
                 judge: Judge | None = None):  # fmt: skip
        if embedder is None:
            from ..search.embeddings import Embedder

            embedder = Embedder()
        self.embedder = embedder
        if judge is None:  # the judge was fine-tuned from the bundled model, whatever embeds
            from ..search.embeddings import bundled_model_path

            judge = Judge(bundled_model_path(), threads=getattr(embedder, "threads", 1))
        if judge.combiner is not None and judge.combiner_features != FEATURES:
            raise JudgeError(
                f"the judge's combiner reads {judge.combiner_features}, this grader gives {FEATURES}"
            )
        self.judge = judge
        self.max_chars = max_chars
        self.calibration = calibration
        self._vectors: dict[str, np.ndarray] = {}  # sha1(text) -> (dim,)
        self._points: dict[str, tuple[KeyPoint, ...]] = {}  # card id / ref hash -> points
        self._lock = threading.Lock()

    def _point_vectors(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if _key(t) not in self._vectors]
        if missing:
            vecs = self.embedder.encode(missing)
            with self._lock:
                for t, v in zip(missing, vecs, strict=True):
                    self._vectors[_key(t)] = v
        return np.stack([self._vectors[_key(t)] for t in texts])  # (k, dim)

    def points_for(self, reference: str | Card) -> tuple[KeyPoint, ...]:
        key = reference.id if isinstance(reference, Card) else _key(reference)
        if key not in self._points:
            self._points[key] = key_points(reference)
        return self._points[key]

    def warm(self, cards: list[Card]) -> None:
        """Embed every card's key points now, in one batch, and load the judge."""
        self._point_vectors([p.text for c in cards for p in self.points_for(c)])
        self.judge.probabilities([("", "warm", "up")])

    def with_calibration(self, **changes) -> Grader:
        """A grader sharing this one's models and caches, with other numbers."""
        other = Grader(
            self.embedder, self.max_chars, replace(self.calibration, **changes), self.judge
        )
        other._vectors, other._points = self._vectors, self._points
        return other

    def grade_card(self, card: Card, typed: str) -> Grade:
        """Grade a typed answer against a card: its front is the question, its back the answer.

        Raises:
            ValueError: the card has no answer text.
        """
        return self._grade(card, typed, card.front, card.back, card.plain_back, card.id, card.where)

    def grade_text(self, reference: str, typed: str, question: str | None = None) -> Grade:
        """Grade a typed answer against a teacher's reference answer (not a card).

        Raises:
            TypeError: reference or typed is not a string.
            ValueError: the reference is empty.
        """
        for name, v in (("reference", reference), ("typed", typed)):
            if not isinstance(v, str):
                raise TypeError(f"grade_text() takes {name} as a string, got {type(v).__name__}")
        return self._grade(reference, typed, question or "", reference, reference, "", "")

    def _grade(self, ref, typed, question, shown, whole_text, card_id, where) -> Grade:
        cal = self.calibration
        if not isinstance(typed, str):
            raise TypeError(f"the typed answer must be a string, got {type(typed).__name__}")
        typed = "".join(ch for ch in typed[: self.max_chars] if ch.isprintable() or ch in "\n\t")
        points = self.points_for(ref)
        texts = tuple(p.text for p in points)

        def done(score, verdict, states=None, notes=()):
            states = states or ["missed"] * len(points)
            pick = lambda s: tuple(t for t, st in zip(texts, states, strict=True) if st == s)  # noqa: E731
            covered, partly = pick("covered"), pick("partly")
            contradicted = pick("contradicted")
            missed = tuple(
                t for t, st in zip(texts, states, strict=True) if st in ("missed", "contradicted")
            )
            return Grade(verdict, round(float(score), 4), covered, missed, typed, question, shown,
                         tuple(notes), card_id, where, partly, contradicted)  # fmt: skip

        if is_non_answer(typed):
            return done(0.0, "incorrect", notes=("no answer given",))
        if restates(typed, question):
            return done(0.02, "incorrect", notes=("only repeats the question's words",))
        if is_keyword_bag(typed, f"{question} {shown}"):
            return done(
                0.05, "incorrect", notes=("lists words from the card without saying anything",)
            )
        if len(points) == 1 and _is_term(texts[0]) and same_term(typed, texts[0]):
            return done(1.0, "correct", ["covered"])

        evidence = self.evidence(points, typed.strip(), question, whole_text)
        score, verdict, states, notes = evidence.decide(cal, self.judge.combiner)
        return done(score, verdict, states, notes)

    def evidence(self, points, typed: str, question: str, whole_text: str) -> Evidence:
        """Run the embedding model once and the judge once (one batch) on an answer.

        The judge reads the whole reference and the `max_judged` points the answer is
        most similar to; points it is not about at all are not read (they are missed).
        """
        cal = self.calibration
        parts = [c for c in clauses(typed) if c != typed]
        units = [typed, *parts]
        answer = self.embedder.encode(units)  # (1 + u, dim): the whole, then clauses
        vecs = self._point_vectors([p.text for p in points] + [whole_text])  # (k + 1, dim)
        cos = vecs[:-1] @ answer.T  # (k, 1 + u)
        cos_whole = float(vecs[-1] @ answer[0])
        about = cos.max(axis=1)  # (k,)
        said = tuple(units[int(j)] for j in cos.argmax(axis=1))
        judged = [] if len(points) == 1 else [
            int(i) for i in np.argsort(-about)[: cal.max_judged] if about[i] >= cal.about_cos
        ]  # fmt: skip
        triples = [(question, whole_text, typed)] + [
            (question, points[i].text, typed) for i in judged
        ]
        probs = self.judge.probabilities(triples)  # (1 + j, 4)
        weights = np.array([p.weight for p in points])
        per = {i: probs[1 + n] for n, i in enumerate(judged)}
        return Evidence(
            tuple(p.text for p in points), weights, about, said, cos_whole, probs[0], per
        )


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
