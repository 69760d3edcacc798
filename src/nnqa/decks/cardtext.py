"""Card text: what a card says, read from its words: subject, sections, key points, rows.

The one place that interprets a card's text, used by parsing (section headings), the index
(rows to embed), BM25 (the words to match), the follow-ups and the intents (the subject a
pronoun stands for). Pure functions over strings and cards; no model, no disk.
Leaves out: parsing files (see `cards`) and the grader's own split of a reference into key
points with paraphrases (see `nnqa.grading.keypoints`).

Row kinds (one vector each, see `rows_for`):
    front    the card's front
    card     the front and the whole answer
    section  the front, a section's heading and its text (cards with 2+ sections)
    point    one key point (a bullet or sentence of 4+ words; cards with 2+ points)
    aside    a key point labelled with another card's subject ("Dropout: ...")
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..text import strip_bullet

if TYPE_CHECKING:
    from .cards import Card, Section

__all__ = [
    "Row",
    "all_rows",
    "group_sections",
    "is_aside",
    "is_section_heading",
    "key_points",
    "lexical_text",
    "rows_for",
    "subject_key",
    "subject_of",
]

# ---------------------------------------------------------------- sections

_HOW_WHY = re.compile(r"^(how|why|what|when|which)\b", re.IGNORECASE)


def is_section_heading(text: str) -> bool:
    """Whether a flattened bullet opens a top-level section of its card.

    The plain export lost indentation, so headings are recognised by shape: a short question
    ("What causes them?"), a single word with a colon ("Effects:", "Steps:"), or a short
    "How to ..." phrase ("How to fix"). Two-word labels with a colon ("Weight
    Initialization:") are sub-headings and stay inside their section.
    """
    words = text.split()
    if not words or len(words) > 6:
        return False
    if text.endswith("?"):
        return True
    if text.endswith(":") and len(words) == 1:
        return True
    return bool(_HOW_WHY.match(text)) and len(words) <= 5 and not text.endswith(".")


def group_sections(lines: list[tuple[int, str]]) -> list[tuple[str, list[tuple[int, str]]]]:
    """Group (line number, verbatim line) bullets into (heading, lines) by recovered headings.

    >>> [h for h, _ in group_sections([(1, "- a b c"), (2, "- Effects:"), (3, "- d e")])]
    ['', 'Effects']
    """
    sections: list[tuple[str, list[tuple[int, str]]]] = [("", [])]
    for no, raw in lines:
        text = strip_bullet(raw)
        if is_section_heading(text) and (sections[-1][1] or sections[-1][0]):
            sections.append((text.rstrip(":").strip(), [(no, raw)]))
        else:
            sections[-1][1].append((no, raw))
    return [(h, body) for h, body in sections if body]


# ---------------------------------------------------------------- subject

_QUESTION_HEAD = re.compile(
    r"^(?:what|who|how)\s+(?:is|are|does|do)\s+(?:an?\s+|the\s+)?|^(?:explain|describe|define)\s+",
    re.IGNORECASE,
)
# "... in detail", "... in neural networks": a trailing "in" phrase of 1-3 words names the
# field or the depth asked for, not the subject
_QUESTION_TAIL = re.compile(r"(?<=\w)\s+in\s+(?:\S+\s+){0,2}\S+$", re.IGNORECASE)


def subject_of(front: str) -> str:
    """What a card is about, as a noun phrase to put in place of "it".

    >>> subject_of("What is a long short-term memory (LSTM)?")
    'long short-term memory (LSTM)'
    >>> subject_of("Explain backpropagation in detail"), subject_of("Vanishing Gradient")
    ('backpropagation', 'Vanishing Gradient')
    """
    s = front.strip().rstrip("?.! ")
    s = _QUESTION_TAIL.sub("", _QUESTION_HEAD.sub("", s))
    return s.split(",")[0].strip() or front


def subject_key(front: str) -> str:
    """The subject for comparing with labels: lower case, no parenthesis.

    >>> subject_key("What is a convolutional neural network (CNN)?")
    'convolutional neural network'
    """
    return re.sub(r"\s*\([^)]*\)", "", subject_of(front)).strip().lower()


def subjects_of(cards: list[Card]) -> frozenset[str]:
    return frozenset(subject_key(c.front) for c in cards)


# ---------------------------------------------------------------- key points

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def key_points(section: Section) -> list[str]:
    """A section's key points: each bullet or sentence with 4+ words, bullet marks dropped.

    Short bullets ("Effects:", "Poor Performance") are labels, not points, and are skipped.
    """
    out = []
    for line in section.lines:
        for sent in _SENTENCE.split(strip_bullet(line)):
            if len(sent.split()) >= 4:
                out.append(sent.strip())
    return out


def is_aside(point: str, own: str, subjects: frozenset[str]) -> bool:
    """Whether a point is labelled with another card's subject ("Dropout: ...")."""
    label = point.split(":", 1)[0].strip().lower() if ":" in point[:40] else ""
    return bool(label) and label != own and label in subjects


# ---------------------------------------------------------------- rows to index


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Row:
    """One vector of the index: which card, which part of it, and the text embedded."""

    card: str  # card id
    kind: str  # "front" | "card" | "section" | "point" | "aside"
    section: int  # index into card.sections; -1 for front and card rows
    text: str

    @property
    def hash(self) -> str:
        return text_hash(self.text)


def rows_for(card: Card, subjects: frozenset[str] = frozenset()) -> list[Row]:
    """The rows embedded for one card: its front, its whole answer, sections and points.

    A one-section card gets no separate section row (it would repeat the whole answer).
    A key point labelled with another card's subject ("Dropout: randomly dropping units..."
    inside "Exploding Gradient") is kind "aside": it is about that other card's topic, so
    ranking counts it for less (see `nnqa.search.retrieval`). `subjects` come from
    `subjects_of`.

    >>> from nnqa.decks.cards import parse_text_deck
    >>> c = parse_text_deck("D\\nWhat is ReLU?\\nmax(0, x)\\n", "d.txt")[0]
    >>> [(r.kind, r.text) for r in rows_for(c)]
    [('front', 'What is ReLU?'), ('card', 'What is ReLU? max(0, x)')]
    """
    rows = [
        Row(card.id, "front", -1, card.front),
        Row(card.id, "card", -1, f"{card.front} {card.plain_back}"),
    ]
    if len(card.sections) > 1:
        for i, s in enumerate(card.sections):
            label = f"{card.front}: {s.heading}" if s.heading else card.front
            rows.append(Row(card.id, "section", i, f"{label}. {s.plain}"))
    points = [(i, p) for i, s in enumerate(card.sections) for p in key_points(s)]
    if len(points) > 1:
        own = subject_key(card.front)
        for i, p in points:
            kind = "aside" if is_aside(p, own, subjects) else "point"
            rows.append(Row(card.id, kind, i, p))
    return rows


def all_rows(cards: list[Card]) -> list[Row]:
    """Every card's rows, in card order: row *i* is FAISS id *i*."""
    subjects = subjects_of(cards)
    return [r for c in cards for r in rows_for(c, subjects)]


def lexical_text(card: Card, subjects: frozenset[str] = frozenset()) -> str:
    """The words BM25 indexes for a card: its front and answer, less its asides."""
    own = subject_key(card.front)
    kept = [
        line
        for s in card.sections
        for line in (re.sub(r"^\s*[-*•#]+\s+", "", x).strip() for x in s.lines)
        if not is_aside(line, own, subjects)
    ]
    return " ".join([card.front, *kept])
