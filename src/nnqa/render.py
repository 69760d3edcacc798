"""Rendering: one renderer per result type, as plain text and as Markdown.

Owns how an answer, a grade, a scheduled review, a learner's progress, a demo's result and
a deck read, for the CLI (plain text: each result's `__str__` calls in here), the chat and
the web app (Markdown). Card text is data, possibly from an imported deck: in Markdown
every character of it is escaped, so no markup or script from a card reaches a page.
Pure functions over the result objects (read by their attributes; nothing is imported
from the layers that make them). Leaves out: layout (see `nnqa.faces.webapp`).
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from .text import BULLET, strip_bullet

__all__ = [
    "RATING_NAMES",
    "answer_markdown",
    "answer_text",
    "checked_markdown",
    "checked_text",
    "counts_markdown",
    "deck_markdown",
    "demo_markdown",
    "due_phrase",
    "escape_md",
    "grade_markdown",
    "interval_phrase",
    "rating_label",
    "ratings_text",
    "markdown_text",
    "number",
    "quote_md",
    "review_markdown",
    "review_text",
    "stats_markdown",
    "unescape_md",
]

RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}  # FSRS ratings
VERDICTS = {"correct": "✅ Correct", "partial": "🟡 Partly right", "incorrect": "❌ Not yet"}
# Markdown marks that act anywhere in a line (< > & go to HTML entities instead). "(", ")",
# "!" and "." act only after a "]" or at a line's start, so they stay as written and a copied
# quote reads as the card does ("(tanH)", not "\\(tanH\\)").
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")
_MD_LINE_START = re.compile(  # a heading, a list item, a rule or an underline at a line's start
    r"^(\s*)(?:([#+=-])(?=[\s#+=-]|$)|(\d+)([.)])(?=\s|$))", re.M
)
_MD_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~$])")

# ---------------------------------------------------------------- small pieces


def _is_label(text: str) -> bool:
    """A short label line ("Activation Functions", "Weight Initialization:"), not a sentence."""
    words = text.split()
    return 0 < len(words) <= 4 and not text.endswith((".", "!", "?", ";", ","))


def outline(section) -> list[tuple[str, str]]:
    """A section's lines as a reader should see them: `[(kind, text)]`, kind "heading"
    (a sub-heading), "item" (a bullet) or "text".

    The line that repeats the section's own heading is dropped (the heading is shown
    above the quote); a label followed by a long line (8+ words) is a sub-heading; a
    final label that repeats an earlier line of the section (a flattened export's stray
    heading) is dropped. The words are the card's; only their layout changes.

    >>> from nnqa.decks.cards import Section
    >>> sec = Section("Solutions", ("- Solutions:", "- Weight Initialization",
    ...     "- Initialize weights with a variance that keeps each output in range.",
    ...     "- Weight Initialization"), 1)
    >>> outline(sec)
    [('heading', 'Weight Initialization'), ('item', 'Initialize weights with a variance that keeps each output in range.')]
    """
    lines = [(bool(BULLET.match(x)), strip_bullet(x)) for x in section.lines if x.strip()]
    head = section.heading.strip().rstrip(":").lower()
    if head and lines and lines[0][1].rstrip(":").strip().lower() == head:
        lines = lines[1:]
    if len(lines) > 1 and _is_label(lines[-1][1]):
        last = lines[-1][1].rstrip(":").lower()
        if any(t.rstrip(":").lower() == last for _, t in lines[:-1]):
            lines = lines[:-1]
    out = []
    for i, (bullet, text) in enumerate(lines):
        nxt = lines[i + 1][1] if i + 1 < len(lines) else ""
        if _is_label(text) and len(nxt.split()) >= 8:
            out.append(("heading", text.rstrip(":").strip()))
        else:
            out.append(("item" if bullet else "text", text))
    return out


def escape_md(text: str) -> str:
    """Text as Markdown that renders exactly as written: HTML and Markdown marks escaped.

    >>> escape_md("<b>1*2</b> (tanH)"), escape_md("- a\\n2. b")
    ('&lt;b&gt;1\\\\*2&lt;/b&gt; (tanH)', '\\\\- a\\n2\\\\. b')
    """
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_LINE_START.sub(lambda m: m[1] + ("\\" + m[2] if m[2] else m[3] + "\\" + m[4]), text)
    return html.escape(text, quote=False)


def unescape_md(text: str) -> str:
    """Markdown written here back to plain text: marks and escapes removed.

    >>> unescape_md(escape_md("f(x) = max(0, x) <b>")) == "f(x) = max(0, x) <b>"
    True
    """
    return html.unescape(_MD_ESCAPED.sub(r"\1", text.replace("**", "")))


_MD_LINE_MARKS = re.compile(r"^(?:#{1,6}\s+|>\s?)", re.M)  # a heading's #s, a quote's >
_MD_EMPHASIS = re.compile(r"(?<![\\\w])(\*\*|\*|_)(?=\S)(.+?)(?<=\S)(?<!\\)\1(?!\w)")


def markdown_text(text: str) -> str:
    r"""Markdown written here as plain text for a terminal: no #, >, **, _ marks or escapes.

    >>> markdown_text("### **Quiz:** f\\(x\\) a\\_b _Type your answer_")
    'Quiz: f(x) a_b Type your answer'
    """
    plain = _MD_EMPHASIS.sub(r"\2", _MD_LINE_MARKS.sub("", text))
    return html.unescape(_MD_ESCAPED.sub(r"\1", plain))


def outline_md(section) -> str:
    """A quoted section as Markdown: sub-headings bold, bullets a list, in a quote block.

    See `outline` for what is laid out; the words are the card's.
    """
    out = []
    for kind, text in outline(section):
        if kind == "heading":
            out.append("> **" + escape_md(text) + "**")
        else:
            out.append(("> - " if kind == "item" else "> ") + escape_md(text))
    return "\n".join(out) or quote_md(section.text)


def outline_text(section) -> str:
    """A quoted section as plain text: sub-headings on their own line, bullets indented."""
    out = []
    for kind, text in outline(section):
        if kind == "heading":
            out.append(text + ":")
        else:
            out.append(("  - " if kind == "item" else "") + text)
    return "\n".join(out) or section.text


def quote_md(text: str) -> str:
    """A card's lines, verbatim, as a Markdown quote: its ``- `` bullets stay a list."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if BULLET.match(line):
            out.append("> - " + escape_md(strip_bullet(line)))
        else:
            out.append("> " + escape_md(line.strip()))
    return "\n".join(out) or "> (empty)"


def number(value: Any) -> str:
    """A measured value for reading: 4 significant digits, long lists cut in the middle,
    "none" for a value that never happened (a run that never diverged).

    >>> number(0.123456), number(list(range(10))), number(None)
    ('0.1235', '[0, 1, 2, 3, … 8, 9] (10 values)', 'none')
    """
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        if len(value) > 8:
            head = ", ".join(number(v) for v in value[:4])
            tail = ", ".join(number(v) for v in value[-2:])
            return f"[{head}, … {tail}] ({len(value)} values)"
        return "[" + ", ".join(number(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {number(v)}" for k, v in value.items())
    return str(value)


def due_phrase(due: datetime, now: datetime) -> str:
    """When a card is due again, said as a person would: "now", "in 5 min", "in 3 days (...)".

    >>> from datetime import timedelta
    >>> t = datetime(2025, 1, 1)
    >>> due_phrase(t + timedelta(minutes=10), t), due_phrase(t + timedelta(days=3), t)
    ('in 10 min', 'in 3 days (2025-01-04)')
    """
    secs = (due - now).total_seconds()
    if secs < 90:
        return "now"
    if secs < 3600 * 1.5:
        return f"in {round(secs / 60)} min"
    if secs < 86400 * 1.5:
        return f"in {round(secs / 3600)} h"
    return f"in {round(secs / 86400)} days ({due:%Y-%m-%d})"


def interval_phrase(due: datetime, now: datetime) -> str:
    """How far away a due date is, as Anki prints it on a rating button: "1m", "10m", "3h",
    "4d", "2mo", "1.5y".

    >>> from datetime import timedelta
    >>> t = datetime(2025, 1, 1)
    >>> [interval_phrase(t + d, t) for d in (timedelta(seconds=20), timedelta(minutes=5.5),
    ...     timedelta(hours=3), timedelta(days=4), timedelta(days=75), timedelta(days=550))]
    ['<1m', '6m', '3h', '4d', '2.5mo', '1.5y']
    """
    secs = (due - now).total_seconds()
    days = secs / 86400
    if secs < 60:
        return "<1m"
    if secs < 3600:
        return f"{round(secs / 60)}m"
    if days < 1:
        return f"{round(secs / 3600)}h"
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30:.1f}".removesuffix(".0") + "mo"
    return f"{days / 365:.1f}".removesuffix(".0") + "y"


def rating_label(rating: int, due: datetime, now: datetime) -> str:
    """A rating button's label: the rating's key, name and next interval ("3 · Good · 10m")."""
    return f"{rating} · {RATING_NAMES[rating]} · {interval_phrase(due, now)}"


def counts_markdown(counts, now: datetime | None = None) -> str:
    """The session's numbers above the card, or "done for now" when nothing is left."""
    if counts.done:
        later = ""
        if counts.next_due is not None and now is not None:
            later = f" The next card comes back in {interval_phrase(counts.next_due, now)}."
        return f"🎉 **Done for now**: nothing is due and no new card is left.{later}"
    return f"**{counts.new}** new · **{counts.learning}** learning · **{counts.due}** due"


def source_md(card, score: float | None = None) -> str:
    """Where a card comes from (file:line, deck), and how well it matched."""
    parts = [f"📄 {escape_md(card.where)}", escape_md(card.deck)]
    if score is not None:
        parts.append(f"match {score:.2f}")
    return "*" + " · ".join(parts) + "*"


def _title(hit) -> str:
    return hit.card.front + (f" — {hit.section.heading}" if hit.section.heading else "")


# ---------------------------------------------------------------- answers


def answer_text(answer) -> str:
    """An `Answer` as plain text: the quote, its source and score, related cards, demos."""
    if answer.abstained:
        lines = [answer.message]
        if answer.hits:
            lines.append("Related reading (these cards do not answer it):")
            lines += [f"  - {h.card.front}  ({h.card.deck}, {h.card.where})" for h in answer.hits]
        lines += [f"  - {s}" for s in answer.suggestions]
        return "\n".join(lines)
    h = answer.hits[0]
    lines = [
        _title(h),
        "",
        outline_text(h.section),
        "",
        f"  — {h.card.where}  ({h.card.deck}, score {h.score:.2f})",
    ]
    if answer.related:
        lines += ["", "Related:"] + [
            f"  - {r.card.front}" + (f"  ({r.card.deck})" if r.card.deck != h.card.deck else "")
            for r in answer.related
        ]
    if answer.demos:
        lines += ["", "Demo: " + ", ".join(f"nnqa demo {d}" for d in answer.demos)]
    return "\n".join(lines)


def answer_markdown(answer) -> str:
    """An `Answer` as Markdown: the card (and section) as a heading, the quote, its source."""
    if answer.abstained:
        lines = [escape_md(answer.message)]
        if answer.hits:
            lines += ["", "**Related reading** (these cards do not answer it):"]
            lines += [f"- {escape_md(h.card.front)} — *{escape_md(h.card.where)}*"
                      for h in answer.hits]  # fmt: skip
        lines += [f"- {escape_md(s)}" for s in answer.suggestions]
        return "\n".join(lines)
    h = answer.hits[0]
    lines = [
        f"### {escape_md(_title(h))}",
        "",
        outline_md(h.section),
        "",
        source_md(h.card, h.score),
    ]
    if answer.related:
        lines += ["", "**Related:** " + " · ".join(escape_md(r.card.front) for r in answer.related)]
    return "\n".join(lines)


# ---------------------------------------------------------------- grades and reviews


def grade_markdown(grade, due: str = "", overruled: str = "", rating: int | None = None) -> str:
    """A `Grade` as Markdown: verdict and score, the points covered, partly covered,
    contradicted and missed, the card's answer, and
    (for a scheduled review) when it is due again."""
    verdict = overruled or grade.verdict
    lines = [f"### {VERDICTS.get(verdict, escape_md(verdict))} · score {grade.score:.2f}"]
    if overruled:
        lines.append(f"*You overruled the grader's verdict ({escape_md(grade.verdict)}).*")
    lines += [f"> ⚠ {escape_md(n)}" for n in grade.notes]
    if grade.covered:
        lines += ["", "**What you got right**"] + [f"- {escape_md(p)}" for p in grade.covered]
    if grade.partly:
        lines += ["", "**What you got partly right**"] + [f"- {escape_md(p)}" for p in grade.partly]
    if grade.contradicted:
        lines += ["", "**What the card says otherwise**"]
        lines += [f"- {escape_md(p)}" for p in grade.contradicted]
    missed = [p for p in grade.missed if p not in grade.contradicted]
    if missed:
        lines += ["", "**What you missed**"] + [f"- {escape_md(p)}" for p in missed]
    where = f" *({escape_md(grade.where)})*" if grade.where else ""
    lines += ["", f"**The card's answer**{where}", "", quote_md(grade.reference)]
    if due:
        rated = f" (rated {RATING_NAMES[rating]})" if rating else ""
        lines += ["", f"🗓 Due again **{escape_md(due)}**{rated}."]
    return "\n".join(lines)


def checked_markdown(checked) -> str:
    """A checked, not yet recorded answer: the grade, and the rating the grader suggests."""
    name = RATING_NAMES[checked.suggested]
    return grade_markdown(checked.grade) + (
        f"\n\n**How well did you remember it?** The grader suggests **{name}**: press a "
        "button below, or the keys **1**–**4**."
    )


def ratings_text(checked) -> str:
    """The four ratings of a checked answer with their next intervals, the grader's choice
    in brackets: "1 Again 1m · [2 Hard 6m] · 3 Good 10m · 4 Easy 8d"."""
    parts = []
    for r, name in RATING_NAMES.items():
        part = f"{r} {name} {interval_phrase(checked.due[r], checked.at)}"
        parts.append(f"[{part}]" if r == checked.suggested else part)
    return " · ".join(parts)


def checked_text(checked) -> str:
    """A checked, not yet recorded answer as plain text: the grade, then the ratings."""
    return f"{checked.grade}\n{ratings_text(checked)}"


def review_text(review) -> str:
    """A scheduled `Review` as plain text: the grade, then the rating and when it is due."""
    head = str(review.grade)
    if review.override:
        head = (
            f"{review.verdict.upper()} (you overruled the grader's {review.machine_verdict})\n"
            + head.split("\n", 1)[-1]
        )
    due = due_phrase(review.due, review.reviewed_at)
    return f"{head}\nRated {RATING_NAMES[review.rating]}; due again {due}."


def review_markdown(review) -> str:
    """A scheduled `Review` as Markdown (see `grade_markdown`)."""
    due = due_phrase(review.due, review.reviewed_at)
    return grade_markdown(review.grade, due, review.override or "", review.rating)


def stats_markdown(stats) -> str:
    """A learner's progress: due, new, reviews, retention, and the weakest cards."""
    ret = "–" if stats.retention is None else f"{stats.retention:.0%}"
    lines = [
        f"**{escape_md(stats.learner)}** · {stats.cards} cards",
        "",
        f"- **{stats.due}** due now",
        f"- **{stats.new}** not seen yet",
        f"- **{stats.reviewed}** reviews done",
        f"- **{ret}** retention",
    ]
    weak = [t for t in stats.per_card if t[2] < 1.0][:3]
    if weak:
        lines += ["", "**To practise:**"]
        lines += [f"- {escape_md(f)} ({r:.0%} of {n})" for f, n, r in weak]
    return "\n".join(lines)


# ---------------------------------------------------------------- demos and decks


def demo_markdown(
    result, series: bool = True, rows: int = 100, waited: float | None = None
) -> tuple[str, str, str]:
    """A demo result as (its text, its metrics as a table, where and how long it ran).

    `series=False` leaves out list-valued metrics and `rows` caps the table (for the chat);
    `waited` is the whole time from asking to the result (queue included), shown beside
    the demo's own compute time when it is longer.
    """
    text = f"### {escape_md(result.title)}\n\n{escape_md(result.text)}"
    scalars = {k: v for k, v in result.metrics.items() if not isinstance(v, (list, tuple, dict))}
    lists = {k: v for k, v in result.metrics.items() if series and k not in scalars}
    # names read as words ("final loss no fix"), so a narrow screen wraps them between words
    table = [f"| {escape_md(k.replace('_', ' '))} | {escape_md(number(v))} |"
             for k, v in scalars.items()][:rows]  # fmt: skip
    metrics = "\n".join(["| measured | value |", "|---|---:|", *table]) if table else ""
    if lists:
        metrics += "\n\n" + "\n".join(f"- **{escape_md(k.replace('_', ' '))}**: {escape_md(number(v))}"
                                        for k, v in lists.items())  # fmt: skip
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    run = f"Ran on **{escape_md(result.device)}** in **{result.seconds:.2f} s**"
    if waited is not None and waited >= result.seconds + 0.05:
        run += f" ({waited:.2f} s from asking to the result, the wait included)"
    run += f" · {escape_md(params)}"
    return text, metrics, run


def deck_markdown(cards, query: str = "", demos_for=None) -> str:
    """The cards whose front or answer holds every word of `query`, with source and demos."""
    words = query.lower().split()
    shown = [c for c in cards if all(w in f"{c.front}\n{c.back}".lower() for w in words)]
    lines = [f"*{len(shown)} of {len(cards)} cards*"]
    for c in shown:
        lines += ["", "---", "", f"#### {escape_md(c.front)}", source_md(c)]
        names = demos_for(c) if demos_for else ()
        if names:
            lines.append("▶ Demos: " + ", ".join(f"**{escape_md(n)}**" for n in names))
        lines += ["", quote_md(c.back)]
    if not shown:
        lines += ["", f"No card mentions {escape_md(query)!s}."]
    return "\n".join(lines)
