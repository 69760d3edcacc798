"""Every report at once: retrieval, grading, conversations and intents, on the labelled
sets, on the held-out ones and on the blind grading sets of other decks (never tuned on).

Each file is named explicitly; a set whose file is missing is left out of the reports.
`nnqa eval` and `python -m nnqa.eval` print these. Leaves out: the measuring itself (one
module per report).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DATA", "all_reports"]

DATA = Path("tests/data")  # the labelled sets, relative to the working folder


def all_reports(
    tutor,
    questions: str | Path = DATA / "questions.jsonl",
    grading: str | Path = DATA / "grading.jsonl",
    conversations: str | Path = DATA / "conversations.jsonl",
    intents: str | Path = DATA / "intents.jsonl",
    heldout: str | Path = DATA / "heldout",
    blind: str | Path = DATA / "blind",
) -> dict:
    """Report name -> report (each with `__str__` and `to_dict`), over the tutor's decks.

    Raises:
        FileNotFoundError: the questions file is missing (the other sets are optional).
    """
    from ..conversation.chat import recognizer_for
    from .conversations import conversation_report
    from .grading import blind_grading_report, grading_report
    from .intents import intent_report
    from .retrieval import retrieval_report

    heldout = Path(heldout)
    runs = {
        "grading": lambda: grading_report(grading, tutor.grader, tutor.cards),
        "conversations": lambda: conversation_report(tutor, conversations),
        "intents": lambda: intent_report(recognizer_for(tutor), intents),
        "retrieval, held-out": lambda: retrieval_report(tutor, heldout / "questions.jsonl"),
        "grading, held-out": lambda: grading_report(
            heldout / "grading.jsonl", tutor.grader, tutor.cards
        ),
        "conversations, held-out": lambda: conversation_report(
            tutor, heldout / "conversations.jsonl"
        ),
    }
    for path in sorted(Path(blind).glob("grading_*.jsonl")):  # any deck, graded on its reference
        runs[f"grading, blind ({path.stem.removeprefix('grading_')})"] = lambda p=path: (
            blind_grading_report(p, tutor.grader)
        )
    reports = {"retrieval": retrieval_report(tutor, questions)}
    for name, run in runs.items():
        try:
            reports[name] = run()
        except FileNotFoundError:
            continue
    return reports
