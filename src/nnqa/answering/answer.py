"""Answers: the `Hit` and `Answer` a learner reads, rendered as text and as JSON.

Owns what an answer holds (the quoted card, where it came from, related cards, whether
nnqa abstained) as data. Leaves out: finding the cards (see `nnqa.search`), deciding
what to quote (see `policy`) and how it reads (see `nnqa.render`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..decks.cards import Card, Section
from ..render import answer_text

__all__ = ["Hit", "Answer", "GUIDE"]

GUIDE = (
    "I answer questions by quoting the flashcards in your decks, and I can quiz you and "
    "run demos. Try one of these:"
)


@dataclass(frozen=True)
class Hit:
    """One retrieved card: its score, and the section of its answer that is quoted."""

    card: Card
    score: float  # relevance in [0, 1]: cosine to the card's best part plus a BM25 share
    section: Section  # the part of the answer that answers the question
    rank: int = 1

    @property
    def quote(self) -> str:
        """The quoted part of the card, verbatim from the deck file."""
        return self.section.text

    @property
    def whole_card(self) -> bool:
        return len(self.card.sections) == 1

    def to_dict(self) -> dict:
        return {
            "rank": self.rank,
            "score": round(float(self.score), 4),
            "card_id": self.card.id,
            "front": self.card.front,
            "deck": self.card.deck,
            "source": self.card.where,
            "section": self.section.heading,
            "quote": self.quote,
            "back": self.card.back,
        }


@dataclass(frozen=True)
class Answer:
    """What `ask()` returns: ranked hits, or an abstention with suggestions.

    `hits[0]` is the quoted card unless `abstained`; when abstained, `hits` holds the
    closest cards as suggestions (possibly none, for a greeting).
    """

    query: str
    hits: tuple[Hit, ...]
    abstained: bool
    message: str = ""  # why nnqa abstained, or the guide
    suggestions: tuple[str, ...] = ()  # example questions offered with the guide
    demos: tuple[str, ...] = field(default=())  # demo names for the quoted card

    @property
    def best(self) -> Hit | None:
        return None if self.abstained or not self.hits else self.hits[0]

    @property
    def related(self) -> tuple[Hit, ...]:
        return self.hits[1:] if not self.abstained else ()

    def __str__(self) -> str:
        return answer_text(self)

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "abstained": self.abstained,
            "message": self.message,
            "hits": [h.to_dict() for h in self.hits],
            "suggestions": list(self.suggestions),
            "demos": list(self.demos),
            "text": str(self),
        }
