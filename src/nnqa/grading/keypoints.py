"""Key points: split a card (or a teacher's reference) into the things it says.

Owns the split: the sentences of the main definition (whole sentences, never cut inside
one), the bullets of each further section with a short label bullet joined to the bullet it
introduces, and each point's weight (the main definition above the details).
Leaves out: embedding and scoring the points (see `grading`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..decks.cards import Card

__all__ = ["KeyPoint", "key_points", "section_points", "CORE_WEIGHT"]

CORE_WEIGHT = 0.7  # share of the main definition in a card with further sections


@dataclass(frozen=True)
class KeyPoint:
    """One thing a reference says: its words quoted, its section, its weight in the score."""

    text: str  # quoted from the card (bullet marks removed)
    section: str  # '' for the main definition
    weight: float  # the key points of one reference sum to 1


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_BULLET = re.compile(r"^\s*[-*•]\s+")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(s.strip().split()) >= 2]


def _is_label(text: str) -> bool:
    """A short bullet that names what the next bullets explain ("Batch Normalization")."""
    return len(text.rstrip(":").split()) <= 3 and not text.endswith(".")


def section_points(lines: list[str]) -> list[str]:
    """Bullets of a detail section as key points; a label joins the bullet after it."""
    texts = [_BULLET.sub("", ln).strip() for ln in lines if ln.strip()]
    points: list[str] = []
    labels: set[str] = set()
    label = ""
    for i, t in enumerate(texts):
        nxt = texts[i + 1] if i + 1 < len(texts) else ""
        if _is_label(t) and nxt and not _is_label(nxt):
            label = t.rstrip(":")
            labels.add(label)
            continue
        if _is_label(t) and not nxt and t.rstrip(":") in labels:
            continue  # a trailing repeat of a label, left over from the export
        points.append(f"{label}: {t}" if label and not t.startswith(label) else t)
        label = ""
    return points


def _main_points(lines) -> list[str]:
    """The main definition's key points: its sentences, whole (never cut mid-sentence)."""
    sentences: list[str] = []
    for ln in lines:
        for sent in _sentences(_BULLET.sub("", ln).strip()):
            if sent.startswith("(") and sentences:
                sentences[-1] = f"{sentences[-1]} {sent}"  # an aside belongs to its sentence
            else:
                sentences.append(sent)
    return sentences


def key_points(reference: str | Card) -> tuple[KeyPoint, ...]:
    """Split a card (by its sections) or a reference text (by sentences) into key points.

    >>> [p.text for p in key_points("ReLU is max(0, x). It avoids vanishing gradients.")]
    ['ReLU is max(0, x).', 'It avoids vanishing gradients.']
    """
    if isinstance(reference, Card):
        groups = []
        for s in reference.sections:
            if s.heading:
                groups.append((s.heading, section_points(list(s.lines[1:]))))
            else:
                groups.append(("", _main_points(s.lines)))
    else:
        body = [_BULLET.sub("", ln).strip() for ln in reference.splitlines() if ln.strip()]
        groups = [("", _main_points(body))]
    groups = [(h, pts) for h, pts in groups if pts]
    if not groups:  # a term, a name or a number: the whole answer is the one point
        text = (reference.plain_back if isinstance(reference, Card) else reference).strip()
        if not text:
            name = (
                f"card {reference.front!r} ({reference.where})"
                if isinstance(reference, Card)
                else "the reference"
            )
            raise ValueError(f"{name} has no answer text to grade against")
        return (KeyPoint(" ".join(text.split()), "", 1.0),)
    main = [g for g in groups if g[0] == ""]
    details = [g for g in groups if g[0] != ""]
    shares = {}
    if main and details:
        shares[""] = CORE_WEIGHT
        for h, _ in details:
            shares[h] = (1 - CORE_WEIGHT) / len(details)
    else:
        for h, _ in groups:
            shares[h] = 1 / len(groups)
    return tuple(KeyPoint(p, h, shares[h] / len(pts)) for h, pts in groups for p in pts)
