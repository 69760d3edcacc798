"""The answer policy: quote the best card, add related ones, or abstain.

Owns the thresholds that decide whether a ranking answers the question and which other
cards are close enough to offer. Pure: ranked cards in, an `Answer` out.
Leaves out: ranking (see `nnqa.search.retrieval`) and rendering (see `nnqa.render`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..decks.cards import Card
from ..search.retrieval import CardScore
from .answer import Answer, Hit

__all__ = ["ABSTAIN_BELOW", "RELATED_MIN", "RELATED_MARGIN", "quote"]

# Calibrated on tests/data/questions.jsonl (see `python -m nnqa.eval`): below this score
# the best card does not answer the question and nnqa abstains.
ABSTAIN_BELOW = 0.45
# Related cards must be at least this similar, and within this margin of the best.
RELATED_MIN = 0.35
RELATED_MARGIN = 0.20
ABSTAINED = "The deck has no card on that. The closest cards are below; ask about one of them."


def answers(ranked: Sequence[CardScore]) -> bool:
    """Whether the best-ranked card is good enough to quote."""
    return bool(ranked) and ranked[0].score >= ABSTAIN_BELOW


def quote(
    question: str,
    ranked: Sequence[CardScore],
    cards: Sequence[Card],
    k: int = 4,
    demos_for: Callable[[Card], tuple[str, ...]] = lambda card: (),
) -> Answer:
    """Turn ranked cards into an `Answer`: quote the best and add related ones, or abstain.

    Args:
        question: as the learner typed it.
        ranked: from `Retriever.rank` (or `followup.follow`, which ranks in a conversation).
        cards: the cards the ranking's positions refer to.
        k: at most this many hits (3 closest cards when abstaining).
        demos_for: the demos linked to a card, offered with the quoted one.
    """
    if not ranked:
        return Answer(question, (), True, "The deck has no cards to answer from.")
    hits = []
    top = ranked[0].score
    abstained = not answers(ranked)
    for r, cs in enumerate(ranked[: (3 if abstained else k)]):
        if r > 0 and not abstained and (cs.score < RELATED_MIN or top - cs.score > RELATED_MARGIN):
            break
        card = cards[cs.card]
        score = min(1.0, max(0.0, cs.score))  # dense cosine plus the lexical share, in [0, 1]
        hits.append(Hit(card, score, card.sections[cs.section], rank=r + 1))
    if abstained:
        return Answer(question, tuple(hits), True, ABSTAINED)
    return Answer(question, tuple(hits), False, demos=demos_for(hits[0].card))
