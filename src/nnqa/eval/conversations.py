"""Conversation eval: turn accuracy of `ask(message, history=...)` on labelled conversations.

Owns reading `tests/data/conversations.jsonl` (one conversation a line: `{"turns": [...]}`,
each turn `{"message", "cards", "section"?, "kind"?}`; `cards` lists the fronts that are
right, empty when nnqa should abstain) and scoring each turn with the learner's earlier
messages as history. A turn is right when the quoted card is one of `cards` (or nnqa
abstains on a turn with none) and, when `section` is given, that section is quoted.
Leaves out: the chat's intents (quiz, demo, more), tested in tests/test_chat.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .labelled import load_jsonl

__all__ = ["ConversationReport", "conversation_report"]


@dataclass
class ConversationReport:
    conversations: int
    turns: int
    accuracy: float  # share of turns answered right (card, and section where labelled)
    followup_accuracy: float  # the same over every turn after the first
    by_kind: dict = field(default_factory=dict)  # kind -> (right, turns)
    misses: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"conversations: {self.conversations}, turns: {self.turns}",
            f"turn accuracy:      {self.accuracy:6.1%}",
            f"after first turn:   {self.followup_accuracy:6.1%}",
        ]
        for kind, (ok, n) in sorted(self.by_kind.items()):
            lines.append(f"  {kind:<14} {ok:>3}/{n:<3} {ok / max(n, 1):6.1%}")
        if self.misses:
            lines += ["misses:"] + [f"  {m}" for m in self.misses]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _turn_right(answer, turn: dict) -> tuple[bool, str]:
    want = turn.get("cards") or []
    if not want:
        if answer.abstained:
            return True, ""
        return False, f"answered {answer.hits[0].card.front!r}, want an abstention"
    if answer.abstained:
        return False, "abstained"
    hit = answer.hits[0]
    if hit.card.front not in want:
        return False, f"quoted {hit.card.front!r}"
    if "section" in turn and hit.section.heading != turn["section"]:
        return False, f"quoted section {hit.section.heading!r}, want {turn['section']!r}"
    return True, ""


def conversation_report(tutor, path: str | Path) -> ConversationReport:
    """Play every labelled conversation through `tutor.ask(message, history=earlier)`."""
    convs = load_jsonl(path)
    right = right_later = n = n_later = 0
    by_kind: dict[str, list[int]] = {}
    misses = []
    for ci, conv in enumerate(convs, 1):
        history: list[str] = []
        for ti, turn in enumerate(conv["turns"]):
            answer = tutor.ask(turn["message"], history=history)
            ok, why = _turn_right(answer, turn)
            kind = turn.get("kind") or ("first" if ti == 0 else "later")
            counts = by_kind.setdefault(kind, [0, 0])
            counts[0] += ok
            counts[1] += 1
            n += 1
            right += ok
            if ti:
                n_later += 1
                right_later += ok
            if not ok:
                said = " / ".join(history[-3:])
                misses.append(f"#{ci}.{ti + 1} {turn['message']!r} after [{said}]: {why}")
            history.append(turn["message"])
    return ConversationReport(
        len(convs),
        n,
        right / max(n, 1),
        right_later / max(n_later, 1),
        {k: tuple(v) for k, v in by_kind.items()},
        misses,
    )
