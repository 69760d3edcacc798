"""Retrieval eval: measure answers against a labelled question set.

Owns reading `tests/data/questions.jsonl` style files and computing top-1/top-3 accuracy,
section accuracy, abstention on unanswerable questions and false abstention on answerable
ones. Leaves out: grading and conversation evals (their own modules add reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..search.query import clean
from .labelled import load_jsonl

__all__ = ["RetrievalReport", "retrieval_report"]


@dataclass
class RetrievalReport:
    answerable: int
    unanswerable: int
    top1: float  # best-ranked card is one of the labelled cards
    top3: float  # a labelled card is among the three best-ranked
    section: float  # right section quoted, over questions labelled with a section
    abstention: float  # unanswerable questions that abstained
    false_abstention: float  # answerable questions that abstained
    misses: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"questions: {self.answerable} answerable, {self.unanswerable} unanswerable",
            f"top-1 accuracy:     {self.top1:6.1%}",
            f"top-3 accuracy:     {self.top3:6.1%}",
            f"section accuracy:   {self.section:6.1%}",
            f"abstention:         {self.abstention:6.1%}  (unanswerable that abstained)",
            f"false abstention:   {self.false_abstention:6.1%}  (answerable that abstained)",
        ]
        if self.misses:
            lines += ["misses:"] + [f"  {m}" for m in self.misses]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def retrieval_report(tutor, path: str | Path) -> RetrievalReport:
    """Run every question of a labelled file through `tutor` and score the results."""
    items = load_jsonl(path)
    top1 = top3 = sec_ok = sec_n = abst = false_abst = n_ans = n_un = 0
    misses = []
    for it in items:
        q, want = it["question"], set(it.get("cards", []))
        answer = tutor.ask(q)
        ranked = tutor.rank(clean(q))
        fronts = [tutor.cards[c.card].front for c in ranked[:3]]
        if not want:
            n_un += 1
            abst += answer.abstained
            if not answer.abstained:
                misses.append(f"answered {q!r} with {answer.hits[0].card.front!r}")
            continue
        n_ans += 1
        ok1 = bool(fronts) and fronts[0] in want
        top1 += ok1
        top3 += bool(want & set(fronts))
        false_abst += answer.abstained
        if not ok1:
            misses.append(f"top-1 for {q!r} was {fronts[0] if fronts else None!r}")
        if answer.abstained:
            misses.append(f"abstained on {q!r} (score {ranked[0].score:.2f})")
        if "section" in it and answer.hits and answer.hits[0].card.front == it["cards"][0]:
            sec_n += 1
            got = answer.hits[0].section.heading if answer.hits else None
            sec_ok += got == it["section"]
            if got != it["section"]:
                misses.append(f"section for {q!r} was {got!r}, want {it['section']!r}")
    return RetrievalReport(
        n_ans,
        n_un,
        top1 / max(n_ans, 1),
        top3 / max(n_ans, 1),
        sec_ok / max(sec_n, 1),
        abst / max(n_un, 1),
        false_abst / max(n_ans, 1),
        misses,
    )
