"""Grading: judge a typed answer against a card (or a teacher's reference) key point by key point.

A reference is split into key points (`keypoints`). The typed answer is encoded once with
the embedding model; its cosine to each key point says which points it is *about*. The
learned judge (`judge`, a cross-encoder fine-tuned on public grading and NLI data) then
reads the answer against the whole reference and against the points it is about, and says
for each: correct, partial, contradictory or irrelevant. One rule turns that evidence into
the verdict, the same in every face:

* a point is contradicted when the judge reads it as contradicted by the answer; covered
  when the answer's cosine coverage of it (or the judge's P(correct)) is high; partly
  covered when the coverage is middling; missed otherwise;
* the score is P(correct) + P(partial) / 2 from a small logistic combiner over both models'
  outputs (`evidence.FEATURES`, fitted on tuning data by training/fit_grader.py);
* the verdict follows the score's cut-offs, then the evidence: never correct with a point
  contradicted; a correct answer covers at least the point it is most about, a partial one
  partly covers it; an incorrect one is credited with nothing.

A reference that is a term, a name or a number is matched first after normalising case,
accents, punctuation, spacing and number formats; the judge decides the rest (a different
term of the same kind is contradictory). Generic guards run first: no answer, an answer
that only restates the question, a bag of the reference's own words.

Leaves out: scheduling (`nnqa.study.quiz`), storing (`nnqa.study.store`), measuring
(`benchmarks/bench_grading_quality.py`, `nnqa eval`).
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import replace

import numpy as np

from ..decks.cards import Card
from ..errors import InputError
from .calibration import CALIBRATION, Calibration
from .evidence import FEATURES, Evidence
from .grade import Grade
from .guards import is_keyword_bag, is_non_answer, restates
from .judge import Judge, JudgeError
from .keypoints import KeyPoint, key_points, section_points
from .terms import is_term, same_term, says_verbatim

__all__ = ["Grader", "clauses"]

MAX_CLAUSES = 8  # clauses of the typed answer compared with the key points
# the notes of the guards, which decide a verdict before any model runs
NO_ANSWER = "no answer given"
RESTATES = "only repeats the question's words"
KEYWORD_BAG = "lists words from the card without saying anything"
GUARD_NOTES = (NO_ANSWER, RESTATES, KEYWORD_BAG)
MAX_CACHED = 50_000  # key-point vectors and splits kept (about 80 MB of vectors at most)


# ---------------------------------------------------------------- the typed answer

_CLAUSE = re.compile(r"[.;!?\n]+|,\s+|\s+-+>?\s+|\s+(?:but|so|because|which|whereas|while)\s+")


def clauses(typed: str) -> list[str]:
    """The typed answer's clauses of two words or more, at most `MAX_CLAUSES`."""
    parts = [p.strip() for p in _CLAUSE.split(typed) if p and len(p.strip().split()) >= 2]
    return parts[:MAX_CLAUSES]


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


# ---------------------------------------------------------------- the grader


# ---------------------------------------------------------------- the grader


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
        if calibration is CALIBRATION and judge.cut_offs:  # fitted with the combiner
            calibration = replace(calibration, **judge.cut_offs)
        self.max_chars = max_chars
        self.calibration = calibration
        self._vectors: dict[str, np.ndarray] = {}  # sha1(text) -> (dim,)
        self._points: dict[str, tuple[KeyPoint, ...]] = {}  # card id / ref hash -> points
        self._lock = threading.Lock()

    def _point_vectors(self, texts: list[str]) -> np.ndarray:
        keys = [_key(t) for t in texts]
        have = {k: self._vectors[k] for k in keys if k in self._vectors}
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in have}
        if missing:
            vecs = self.embedder.encode(list(missing.values()))
            have.update(zip(missing, vecs, strict=True))
            with self._lock:
                if len(self._vectors) > MAX_CACHED:  # teachers' references come and go
                    self._vectors.clear()
                self._vectors.update(zip(missing, vecs, strict=True))
        return np.stack([have[k] for k in keys])  # (k, dim)

    def points_for(self, reference: str | Card) -> tuple[KeyPoint, ...]:
        key = reference.id if isinstance(reference, Card) else _key(reference)
        points = self._points.get(key)
        if points is None:
            points = key_points(reference)
            if len(self._points) > MAX_CACHED:
                self._points.clear()
            self._points[key] = points
        return points

    def warm(self, cards: list[Card]) -> None:
        """Embed every card's key points now, in one batch, and load the judge."""
        self._point_vectors(
            [t for c in cards for t in [c.plain_back] + [p.text for p in self.points_for(c)]]
        )
        self.judge.probabilities([("", "warm", "up")])

    def with_calibration(self, **changes) -> Grader:
        """A grader sharing this one's models and caches, with other numbers."""
        other = Grader(
            self.embedder, self.max_chars, replace(self.calibration, **changes), self.judge
        )
        other._vectors, other._points = self._vectors, self._points
        return other

    def grade_card(self, card: Card, typed: str, section: str | None = None) -> Grade:
        """Grade a typed answer against a card: its front is the question, its back the answer.

        Args:
            section: grade against one section only, named by its heading ("Solutions",
                case and a trailing ":" or "?" ignored; "" is the main part), so a long
                card can be quizzed a part at a time; the question becomes "front: heading".
        Raises:
            ValueError: the card has no answer text, or no section of that name (the
                message lists the card's sections).
        """
        if section is None:
            return self._grade(card, typed, card.front, card.back, card.plain_back, card.id,
                               card.where)  # fmt: skip
        name = lambda heading: heading.strip().rstrip(":?").casefold()  # noqa: E731
        part = next((s for s in card.sections if name(s.heading) == name(section)), None)
        if part is None or not part.plain.strip():
            names = ", ".join(repr(s.heading) for s in card.sections)
            raise InputError(
                f"card {card.front!r} has no section {section!r}; its sections: {names}"
            )
        # a detail section's bullets, each label joined to the bullet it introduces
        body = "\n".join(section_points(list(part.lines[1:]))) if part.heading else part.plain
        question = f"{card.front}: {part.heading}" if part.heading else card.front
        where = f"{card.source}:{part.line}"
        return self._grade(body, typed, question, part.text, body, card.id, where)

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
            return done(0.0, "incorrect", notes=(NO_ANSWER,))
        # the term itself before the guards: "Cross Entropy Loss" names it, it is no bag of words
        if len(points) == 1 and is_term(texts[0]) and same_term(typed, texts[0]):
            return done(1.0, "correct", ["covered"])
        if restates(typed, question):
            return done(0.02, "incorrect", notes=(RESTATES,))
        if is_keyword_bag(typed, f"{question} {shown}"):
            return done(0.05, "incorrect", notes=(KEYWORD_BAG,))

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
        verbatim = tuple(says_verbatim(typed, p.text) for p in points)
        closest = frozenset(int(i) for i in cos.argmax(axis=0))  # each unit's best point
        return Evidence(tuple(p.text for p in points), weights, about, said, cos_whole, probs[0],
                        per, verbatim, closest)  # fmt: skip
