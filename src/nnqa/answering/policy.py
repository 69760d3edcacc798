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

# A ranking's scores are the answerability model's (see `nnqa.search.answerability`),
# fitted so that below 0.5 the card does not answer the question: nnqa abstains.
ABSTAIN_BELOW = 0.5
# Related cards are offered by likeness, not by answering: their best row's cosine must
# be at least this, and within this margin of the quoted card's.
RELATED_MIN = 0.35
RELATED_MARGIN = 0.20
ABSTAINED = "No card on that: no card in the deck answers this question."
NO_SUBJECT = (
    'Which topic do you mean? The question names none ("it", "that"), and this is the'
    " start of the conversation: ask about a topic first."
)


def answers(ranked: Sequence[CardScore]) -> bool:
    """Whether the best-ranked card is good enough to quote."""
    return bool(ranked) and ranked[0].score >= ABSTAIN_BELOW


def quote(
    question: str,
    ranked: Sequence[CardScore],
    cards: Sequence[Card],
    k: int = 4,
    demos_for: Callable[[Card], tuple[str, ...]] = lambda card: (),
    subjectless: bool = False,
) -> Answer:
    """Turn ranked cards into an `Answer`: quote the best and add related ones, or abstain.

    Args:
        question: as the learner typed it.
        ranked: from `Retriever.rank` (or `followup.follow`, which ranks in a conversation).
        cards: the cards the ranking's positions refer to.
        k: at most this many hits (3 closest cards when abstaining).
        demos_for: the demos linked to a card, offered with the quoted one.
        subjectless: the question points back ("what causes it?") with nothing to point
            at: no card is quoted as its answer, whatever the scores.
    """
    if not ranked:
        return Answer(question, (), True, "The deck has no cards to answer from.")
    hits = []
    top = ranked[0].dense
    abstained = subjectless or not answers(ranked)
    for r, cs in enumerate(ranked[: (3 if abstained else k)]):
        if r > 0 and not abstained and (cs.dense < RELATED_MIN or top - cs.dense > RELATED_MARGIN):
            continue
        card = cards[cs.card]
        score = min(1.0, max(0.0, cs.score))  # the answerability model's, in [0, 1]
        hits.append(Hit(card, score, card.sections[cs.section], rank=r + 1))
    if abstained:
        return Answer(question, tuple(hits), True, NO_SUBJECT if subjectless else ABSTAINED)
    return Answer(question, tuple(hits), False, demos=demos_for(hits[0].card))
