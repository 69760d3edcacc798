"""Intent eval: accuracy of the chat's intent recognizer on labelled phrasings.

Owns reading `tests/data/intents.jsonl` style files (`{"message", "intent", "in_quiz"?}`)
and scoring `IntentRecognizer.recognise` on them, per intent. Leaves out: the recognizer
(see `nnqa.conversation.intents`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .labelled import load_jsonl

__all__ = ["IntentReport", "intent_report"]


def intent_report(recognizer, path) -> IntentReport:
    """Accuracy of `recognise` on labelled phrasings (`{"message", "intent", "in_quiz"?}`)."""
    items = load_jsonl(path)
    ok, misses, per = 0, [], {}
    for it in items:
        got = recognizer.recognise(it["message"], in_quiz=bool(it.get("in_quiz"))).name
        right = got == it["intent"]
        ok += right
        c = per.setdefault(it["intent"], [0, 0])
        c[0] += right
        c[1] += 1
        if not right:
            misses.append(f"{it['message']!r}: {got}, want {it['intent']}")
    return IntentReport(len(items), ok / max(len(items), 1), {k: tuple(v) for k, v in per.items()},
                        misses)  # fmt: skip


@dataclass
class IntentReport:
    phrasings: int
    accuracy: float
    by_intent: dict
    misses: list

    def __str__(self) -> str:
        lines = [f"phrasings: {self.phrasings}", f"intent accuracy:    {self.accuracy:6.1%}"]
        for k, (ok, n) in sorted(self.by_intent.items()):
            lines.append(f"  {k:<10} {ok:>3}/{n:<3}")
        if self.misses:
            lines += ["misses:"] + [f"  {m}" for m in self.misses]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return dict(self.__dict__)
