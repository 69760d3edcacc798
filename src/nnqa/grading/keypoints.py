"""Key points: split a card (or a teacher's reference) into the things it says.

Owns the split: the sentences of the main definition (a long one cut into phrases, a
phrase that only names the kind marked `genus`), the bullets of each further section with
a short label bullet joined to the bullet it introduces, each point's weight (the main
definition above the details), and paraphrases of formulas ("max(0, x)" in words).
Leaves out: embedding and scoring the points (see `grading`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..decks.cards import Card

__all__ = ["KeyPoint", "key_points", "paraphrases", "CORE_WEIGHT"]

CORE_WEIGHT = 0.7  # share of the main definition in a card with further sections


@dataclass(frozen=True)
class KeyPoint:
    """One thing a reference says: its words quoted, its section, its weight in the score."""

    text: str  # quoted from the card (bullet marks removed)
    section: str  # '' for the main definition
    weight: float  # the key points of one reference sum to 1
    genus: bool = False  # "X is a type of Y": names the kind only, counts little
    paraphrases: tuple[str, ...] = ()  # the same point in other words (a formula said aloud)


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_BULLET = re.compile(r"^\s*[-*•]\s+")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(s.strip().split()) >= 2]


_PHRASE = re.compile(
    r",\s+|\s+[–—-]\s+|\s+\((?=like|e\.g|such|i\.e)|\s+(?=(?:that|where|which|using|by|enabling|preventing|"
    r"introducing|making|without|to extract|to update|to minimize|consisting|defined as)\b)"
)
_GENUS = re.compile(
    r"\b(?:type|kind|subset|form|class) of\b|\b(?:is|are) (?:a|an|the)\b|"
    r"\b(?:algorithm|technique|function|process)$",
    re.IGNORECASE,
)


def _names_kind(phrase: str) -> bool:
    """Whether a definition's first phrase only says what kind of thing it is."""
    return bool(_GENUS.search(phrase)) or len(phrase.split()) <= 4


def _phrases(sentence: str) -> list[str]:
    """A definition sentence cut at its clause joints; tiny pieces stay with the one before."""
    out: list[str] = []
    sentence = re.sub(
        r"^(?:in that sense|in other words|in short)\s*,?\s*", "", sentence, flags=re.I
    )
    # a comma inside brackets is part of a formula or a list, not a clause joint: max(0, x)
    sentence = re.sub(r"\([^()]*\)", lambda m: m.group().replace(", ", ","), sentence)
    for piece in _PHRASE.split(sentence):
        piece = piece.strip(" ,")
        if piece.endswith(")") and piece.count(")") > piece.count("("):
            piece = piece[:-1]  # the close of a "(like ...)" aside cut at its open
        if not piece:
            continue
        if out and len(piece.split()) < 4:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def _is_label(text: str) -> bool:
    """A short bullet that names what the next bullets explain ("Batch Normalization")."""
    return len(text.rstrip(":").split()) <= 3 and not text.endswith(".")


def _section_points(lines: list[str]) -> list[str]:
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
    """The main definition's key points: its sentences, a lone sentence cut into phrases."""
    sentences: list[str] = []
    for ln in lines:
        for sent in _sentences(_BULLET.sub("", ln).strip()):
            if sent.startswith("(") and sentences:
                sentences[-1] = f"{sentences[-1]} {sent}"  # an aside belongs to its sentence
            else:
                sentences.append(sent)
    if len(sentences) <= 2:
        return [p for sent in sentences for p in _phrases(sent)]
    return sentences


# a formula and how a learner says it in words; a point with one gets the words as a
# paraphrase (its coverage is the best over its texts)
_FORMULA_WORDS = (
    (re.compile(r"max\s*\(\s*0\s*,\s*\w+\s*\)", re.I),
     "outputs the input if it is positive, otherwise zero"),
    (re.compile(r"min\s*\(\s*0\s*,\s*\w+\s*\)", re.I),
     "outputs the input if it is negative, otherwise zero"),
    (re.compile(r"1\s*/\s*\(\s*1\s*\+\s*e\s*\^?\s*\(?-\s*\w+\)?\s*\)", re.I),
     "squashes the input into a value between 0 and 1"),
)  # fmt: skip


def paraphrases(text: str) -> tuple[str, ...]:
    """The formulas of a key point said in words, one paraphrase per formula found.

    >>> paraphrases("defined as f(x) = max(0,x)")
    ('outputs the input if it is positive, otherwise zero',)
    """
    return tuple(words for pattern, words in _FORMULA_WORDS if pattern.search(text))


def key_points(reference: str | Card) -> tuple[KeyPoint, ...]:
    """Split a card (by its sections) or a reference text (by sentences) into key points.

    >>> [p.text for p in key_points("ReLU is max(0, x). It avoids vanishing gradients.")]
    ['ReLU is max(0, x).', 'It avoids vanishing gradients.']
    """
    if isinstance(reference, Card):
        groups = []
        for s in reference.sections:
            if s.heading:
                groups.append((s.heading, _section_points(list(s.lines[1:]))))
            else:
                groups.append(("", _main_points(s.lines)))
    else:
        body = [_BULLET.sub("", ln).strip() for ln in reference.splitlines() if ln.strip()]
        groups = [("", _main_points(body))]
    groups = [(h, pts) for h, pts in groups if pts]
    if not groups:
        return (KeyPoint(str(reference).strip(), "", 1.0),)
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
    return tuple(
        KeyPoint(p, h, shares[h] / len(pts), genus=(h == "" and i == 0 and len(pts) > 1
                                                     and _names_kind(p)), paraphrases=paraphrases(p))
        for h, pts in groups
        for i, p in enumerate(pts)
    )  # fmt: skip
