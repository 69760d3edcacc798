"""Card identity across edits: which card of a new deck version is an old card, edited.

A card's id is a hash of its deck, front and answer (see `cards.card_id`) unless its file
gives one (``<!-- id: ... -->``, kept from an Anki guid), so fixing a typo makes a new id.
`match_moved` pairs the ids that vanished with the cards that appeared, by how alike their
fronts and answers read, so a learner's history can follow the card (see
`nnqa.study.store.Store.follow`). Pure: texts in, pairs out. Leaves out: storing anything.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..text import normalise

__all__ = ["KnownCard", "match_moved", "MIN_ALIKE", "MIN_SIDE"]

MIN_ALIKE = 0.8  # mean likeness of front and answer for an edited card to be the same card
MIN_SIDE = 0.5  # and each side at least this alike (a new answer to the same front is not)
MARGIN = 0.05  # the best match must beat the next one by this much, else nothing moves


@dataclass(frozen=True)
class KnownCard:
    """A card as it read when last seen: its id and text."""

    id: str
    deck: str
    front: str
    back: str


def _alike(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalise(a), normalise(b), autojunk=False).ratio()


def match_moved(gone: list[KnownCard], new: list[KnownCard]) -> dict[str, str]:
    """Old id -> new id for each vanished card that one new card plainly continues.

    A pair needs the same deck, fronts and answers alike on average (`MIN_ALIKE`) and each
    at least `MIN_SIDE`, and a clear lead over the next candidate on either side; each new
    card continues at most one old card. Anything in doubt stays unmatched (a new card).

    >>> old = [KnownCard("c-1", "D", "What is ReLU?", "max(0, x) for an inptu x")]
    >>> new = [KnownCard("c-2", "D", "What is ReLU?", "max(0, x) for an input x"),
    ...        KnownCard("c-3", "D", "What is a GRU?", "a gated recurrent unit")]
    >>> match_moved(old, new)
    {'c-1': 'c-2'}
    """
    by_deck: dict[str, list[KnownCard]] = {}
    for c in new:
        by_deck.setdefault(c.deck, []).append(c)
    scored: list[tuple[float, str, str]] = []  # (score, old id, new id)
    for old in gone:
        ranked = []
        for cand in by_deck.get(old.deck, ()):
            f = _alike(old.front, cand.front)
            if f < MIN_SIDE:
                continue
            b = _alike(old.back, cand.back)
            if b >= MIN_SIDE and (f + b) / 2 >= MIN_ALIKE:
                ranked.append(((f + b) / 2, cand.id))
        ranked.sort(reverse=True)
        if ranked and (len(ranked) == 1 or ranked[0][0] - ranked[1][0] >= MARGIN):
            scored.append((ranked[0][0], old.id, ranked[0][1]))
    moves: dict[str, str] = {}
    taken: set[str] = set()
    for _score, old_id, new_id in sorted(scored, reverse=True):
        if new_id in taken:  # two old cards read like this one: the closer keeps it
            continue
        taken.add(new_id)
        moves[old_id] = new_id
    return moves
