"""Retrieval: from row scores to ranked cards, each with the section that answers best.

Pure functions over arrays and row metadata: no model, no disk. A card's score is its
best row (front, whole answer, or a section); the quoted section is the best-scoring
section when it beats the card's front and whole-answer rows, else the main part.
Leaves out: encoding the question (see `tutor`) and rendering (see `answer`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CardScore", "rank_cards"]

# Calibrated on tests/data/questions.jsonl (see `nnqa eval` and benchmarks/calibrate.py):
# below this cosine the best card does not answer the question and nnqa abstains.
ABSTAIN_BELOW = 0.45
# Related cards must be at least this similar, and within this margin of the best.
RELATED_MIN = 0.35
RELATED_MARGIN = 0.20
# A key point (one sentence or bullet) is a narrower target than a front or a section;
# it is discounted so long cards with many points do not win on volume.
POINT_DISCOUNT = 0.10
# A point labelled with another card's subject ("Dropout: ..." inside "Exploding Gradient")
# is about that card's topic: a question on it should land on that card.
ASIDE_DISCOUNT = 0.20
# BM25's share of a card's score, scaled so the best lexical match adds this much.
LEXICAL_WEIGHT = 0.15
# A non-main section is quoted when its best row is within this of the card's main part.
SECTION_MARGIN = 0.05


@dataclass(frozen=True)
class CardScore:
    card: int  # position of the card in the tutor's card list
    score: float
    section: int  # which section to quote (0 = the main part)


def rank_cards(
    scores: np.ndarray,
    ids: np.ndarray,
    rows: list[dict],
    card_pos: dict[str, int],
    lexical: np.ndarray | None = None,
) -> list[CardScore]:
    """Aggregate row hits into cards, best first.

    Args:
        scores: (k,) cosine of the question to each hit row, descending.
        ids: (k,) row ids (FAISS ids; -1 means no hit).
        rows: row metadata; rows[i] = {"card": id, "kind": ..., "section": j}.
        card_pos: card id -> position in the card list (cards not in it are skipped,
            which is how a deck filter applies).
        lexical: optional (n_cards,) BM25 scores by card position; added, scaled to
            [0, LEXICAL_WEIGHT], to each card's dense score so exact terms (MSE, tanh) count.
    Returns:
        One `CardScore` per card hit, best first.

    >>> rows = [{"card": "a", "kind": "front", "section": -1},
    ...         {"card": "a", "kind": "section", "section": 1},
    ...         {"card": "b", "kind": "front", "section": -1}]
    >>> rank_cards(np.array([.9, .7, .5]), np.array([1, 0, 2]), rows, {"a": 0, "b": 1})
    [CardScore(card=0, score=0.9, section=1), CardScore(card=1, score=0.5, section=0)]
    """
    best: dict[int, float] = {}
    best_plain: dict[int, float] = {}  # best front/whole-answer row per card
    best_sec: dict[int, tuple[float, int]] = {}
    for s, i in zip(scores.tolist(), ids.tolist(), strict=True):
        if i < 0:
            continue
        row = rows[i]
        pos = card_pos.get(row["card"])
        if pos is None:
            continue
        if row["kind"] == "point":
            s -= POINT_DISCOUNT
        elif row["kind"] == "aside":
            s -= ASIDE_DISCOUNT
        best[pos] = max(best.get(pos, -1.0), s)
        sectional = row["kind"] in ("section", "point", "aside") and row["section"] > 0
        if sectional and s > best_sec.get(pos, (-1.0, 0))[0]:
            best_sec[pos] = (s, row["section"])
        if row["kind"] == "front" or (row["kind"] == "section" and row["section"] == 0):
            best_plain[pos] = max(best_plain.get(pos, -1.0), s)
    lex_scale = 0.0
    if lexical is not None and len(lexical) and float(lexical.max()) > 0:
        lex_scale = LEXICAL_WEIGHT / float(lexical.max())
    out = []
    for pos, s in best.items():
        sec_score, sec = best_sec.get(pos, (-1.0, 0))
        section = sec if sec > 0 and sec_score > best_plain.get(pos, -1.0) - SECTION_MARGIN else 0
        if lex_scale:
            s += lex_scale * float(lexical[pos])
        out.append(CardScore(pos, round(float(s), 6), section))
    out.sort(key=lambda c: (-c.score, c.card))
    return out
