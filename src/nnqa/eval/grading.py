"""Grading eval: three-way agreement of the grader with human verdicts.

Reads labelled typed answers (JSON lines: ``card``, ``typed``, ``verdict``, ``kind``;
``kind`` names the trap for trap items, e.g. "trap-opposite"), grades each, and reports
agreement overall, on traps, per kind, and a confusion matrix. Items are split into
"calib" and "holdout" by a stable hash of the typed text (one in three held out).

Leaves out: fitting the grader's thresholds (see `nnqa.grading.Calibration`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..decks.cards import find_card
from ..grading import Grader

__all__ = ["LabelledAnswer", "GradingReport", "load_labelled", "grading_report"]

VERDICTS = ("correct", "partial", "incorrect")


@dataclass(frozen=True)
class LabelledAnswer:
    """A typed answer to a card with a person's verdict."""

    card: str  # front or id
    typed: str
    verdict: str
    kind: str = ""  # "correct", "partial", "incorrect" or "trap-..."

    @property
    def split(self) -> str:
        h = int(hashlib.sha1(f"{self.card}\x1f{self.typed}".encode()).hexdigest(), 16)
        return "holdout" if h % 3 == 0 else "calib"


@dataclass(frozen=True)
class GradingReport:
    """Agreement of machine and human verdicts on a set of typed answers."""

    n: int
    agreement: float
    trap_n: int
    trap_agreement: float
    by_kind: dict  # kind -> (n, agreement)
    confusion: dict  # human verdict -> {machine verdict: count}
    mistakes: tuple  # (card, typed, human, machine, score), for reading
    split: str = "all"

    def __str__(self) -> str:
        lines = [
            f"grading agreement ({self.split}, n={self.n}): {self.agreement:.1%}; "
            f"traps (n={self.trap_n}): {self.trap_agreement:.1%}",
            "confusion (rows: human, columns: machine):",
            "             " + "".join(f"{v:>11}" for v in VERDICTS),
        ]
        for h in VERDICTS:
            row = self.confusion.get(h, {})
            lines.append(f"  {h:>10} " + "".join(f"{row.get(m, 0):>11}" for m in VERDICTS))
        lines.append(
            "by kind: " + ", ".join(f"{k} {a:.0%} ({n})" for k, (n, a) in self.by_kind.items())
        )
        for card, typed, human, machine, score in self.mistakes:
            lines.append(f"  x {human}->{machine} {score:.2f}  [{card[:28]}] {typed[:70]!r}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "split": self.split,
            "n": self.n,
            "agreement": self.agreement,
            "trap_n": self.trap_n,
            "trap_agreement": self.trap_agreement,
            "by_kind": {k: {"n": n, "agreement": a} for k, (n, a) in self.by_kind.items()},
            "confusion": self.confusion,
            "mistakes": [list(m) for m in self.mistakes],
        }


def _rows(path: str | Path) -> list[dict]:
    """The rows of a JSON-lines file of labelled answers, each verdict checked."""
    out = []
    for no, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["verdict"] not in VERDICTS:
            raise ValueError(f"{path}:{no}: verdict must be one of {VERDICTS}")
        out.append(row)
    return out


def load_labelled(path: str | Path) -> list[LabelledAnswer]:
    """Read a JSON-lines file of labelled typed answers."""
    return [
        LabelledAnswer(r["card"], r["typed"], r["verdict"], r.get("kind", "")) for r in _rows(path)
    ]


def _scored(items, grader: Grader, cards):
    return [(it, grader.grade_card(find_card(cards, it.card), it.typed)) for it in items]


def _report(pairs, split: str) -> GradingReport:
    confusion = {h: dict.fromkeys(VERDICTS, 0) for h in VERDICTS}
    kinds: dict[str, list[bool]] = {}
    mistakes = []
    for it, g in pairs:
        confusion[it.verdict][g.verdict] += 1
        ok = it.verdict == g.verdict
        kinds.setdefault(it.kind or it.verdict, []).append(ok)
        if not ok:
            mistakes.append((it.card, it.typed, it.verdict, g.verdict, g.score))
    n = len(pairs)
    agree = sum(confusion[v][v] for v in VERDICTS)
    traps = [ok for k, oks in kinds.items() if k.startswith("trap") for ok in oks]
    return GradingReport(
        n=n,
        agreement=agree / n if n else 0.0,
        trap_n=len(traps),
        trap_agreement=sum(traps) / len(traps) if traps else 0.0,
        by_kind={k: (len(v), sum(v) / len(v)) for k, v in sorted(kinds.items())},
        confusion=confusion,
        mistakes=tuple(mistakes),
        split=split,
    )


def grading_report(path: str | Path, grader: Grader, cards, split: str = "all") -> GradingReport:
    """Grade every labelled answer (or one split) and compare with the human verdicts.

    >>> t = Tutor()                                                                  # doctest: +SKIP
    >>> print(grading_report("tests/data/grading.jsonl", t.grader, t.cards))          # doctest: +SKIP
    grading agreement (all, n=82): ...
    """
    items = [it for it in load_labelled(path) if split in ("all", it.split)]
    return _report(_scored(items, grader, cards), split)


def blind_grading_report(path: str | Path, grader: Grader) -> GradingReport:
    """Grade a blind set (JSON lines: ``front``, ``reference``, ``typed``, ``verdict``,
    ``kind``) against each row's own reference, so any deck's answers can be measured.

    The report's traps are the wrong answers (every kind but correct and partial), and
    `wrong_called_correct` among its `by_kind` is what a tutor must keep near zero.
    """
    pairs = []
    for row in _rows(path):
        kind = row.get("kind", "")
        kind = kind if kind in ("correct", "partial") else f"trap-{kind or 'wrong'}"
        item = LabelledAnswer(row["front"], row["typed"], row["verdict"], kind)
        pairs.append((item, grader.grade_text(row["reference"], row["typed"], row["front"])))
    return _report(pairs, Path(path).stem)
