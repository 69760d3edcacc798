"""The grade: one verdict on one typed answer, with the key points it covered, partly
covered, missed and contradicted, rendered as plain text (`str`) and as JSON (`to_dict`).

Leaves out: how it is decided (`grader`, `evidence`); Markdown (`nnqa.render`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Grade"]


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
