"""The tutor: a thin façade over the deck library, the retriever and the answer policy.

Owns putting the pieces together behind `ask()`, `grade()` and `grade_text()`, and the one
lazily created default tutor. Thread-safe: one `Tutor` serves many concurrent calls (the
model and index are read-only; a deck reload waits for answers in flight).
Leaves out: loading and looking up cards (`nnqa.decks.library`), ranking
(`nnqa.search.retrieval`), quoting or abstaining (`nnqa.answering.policy`), reading a
question in a conversation (`nnqa.answering.followup`) and grading (`nnqa.grading`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .answering import policy
from .answering.answer import GUIDE, Answer
from .decks.cards import Card
from .decks.library import DeckLibrary
from .errors import InputError
from .search.embeddings import Embedder
from .search.query import clean, is_small_talk
from .search.retrieval import CardScore, Retriever
from .settings import Settings

__all__ = ["Tutor", "default_tutor", "ask", "grade", "grade_text"]


class Tutor:
    """Answers questions by quoting the cards of every deck in a knowledge folder.

    Args:
        knowledge: folder of deck files (default `./knowledge`, or NNQA_KNOWLEDGE).
        index: folder for the FAISS index (default `./index`, or NNQA_INDEX).
        model: sentence-transformers name or folder (default: the bundled MiniLM).
        settings: every other setting (default: `Settings.from_env()`).
        embedder: a loaded model to share (default: one for `model`).
        progress: called as progress(embedded, to_embed) while the index is (re)built.
    Raises:
        FileNotFoundError: the knowledge folder does not exist.
        DeckError: a deck file is malformed (the message names the file and line).

    >>> t = Tutor()                                          # doctest: +SKIP
    >>> t.ask("what causes vanishing gradients").hits[0].card.front   # doctest: +SKIP
    'Vanishing Gradient'
    """

    def __init__(
        self,
        knowledge: str | Path | None = None,
        index: str | Path | None = None,
        model: str | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        progress: Callable[[int, int], None] | None = None,
    ):
        given = {"knowledge": knowledge, "index": index}
        paths = {k: Path(v) for k, v in given.items() if v is not None}
        extra = {"model": model} if model is not None else {}
        s = self.settings = replace(settings or Settings.from_env(), **paths, **extra)
        self.embedder = embedder or Embedder.from_settings(s)
        self.library = DeckLibrary(s.knowledge, s.recheck_seconds, s.reload_wait_seconds)
        self.retriever = Retriever(self.library, self.embedder, s.index, progress)
        self._grader = None
        self._lock = threading.Lock()

    # -- the decks -------------------------------------------------------------------
    @property
    def cards(self) -> list[Card]:
        return self.library.cards

    @property
    def decks(self) -> list[str]:
        return self.library.decks

    def card(self, key: str) -> Card:
        """A card by id, or by its front: exact, case-insensitive, or close enough.

        Raises:
            TypeError: key is not a string.
            KeyError: no card matches unambiguously; the message lists the closest fronts.
        """
        return self.library.card(key)

    def demos_for(self, card: Card) -> tuple[str, ...]:
        """The demos linked to a card (see `nnqa.decks.links`)."""
        return self.library.demos_for(card)

    def examples(self, n: int = 3) -> tuple[str, ...]:
        """Example questions from the decks: their shortest question-like fronts."""
        return self.library.examples(n)

    def refresh(self) -> bool:
        """Reload the decks if a file changed (looks at most every `recheck_seconds`).

        Raises:
            DeckError: the edited deck is malformed; nnqa keeps saying so until it is fixed.
        """
        return self.library.refresh()

    def reading(self):
        """A context in which the cards and index are not swapped by a reload."""
        return self.library.reading()

    def reload(self, index: bool = True):
        """Read the knowledge folder again (after a deck was added or removed).

        Returns the `IndexStatus` of updating the index (only new cards are embedded),
        or None with `index=False` (the index then updates on next use).
        """
        self.library.load()
        return self.rebuild(force=False) if index else None

    def warm(self, grading: bool = False) -> None:
        """Load now what the first answer needs (the model, the index, BM25, the vocabulary;
        with `grading`, the answer judge too), so that a face can say it is loading.

        Raises:
            DeckError: a deck is malformed (as `ask()` would).
        """
        self.embedder.load()
        self.retriever.index, self.retriever.lexical, self.retriever.vocab  # noqa: B018
        if grading:
            self.grader.judge.probabilities([("", "warm", "up")])

    # -- the index -------------------------------------------------------------------
    @property
    def index(self):
        """The FAISS index over the cards, loaded (or rebuilt if stale) on first use."""
        return self.retriever.index

    @property
    def index_status(self):
        return self.retriever.index_status

    @property
    def progress(self):
        return self.retriever.progress

    @progress.setter
    def progress(self, fn) -> None:
        self.retriever.progress = fn

    def rebuild(self, force: bool = True):
        """Rebuild the index now (vectors of unchanged text are reused); returns IndexStatus."""
        return self.retriever.rebuild(force=force)

    # -- asking ----------------------------------------------------------------------
    def rank(self, text: str, k: int = 4, card_pos=None, deck: str | None = None):
        """Every card hit for a cleaned question, best first; see `Retriever.rank`."""
        return self.retriever.rank(text, k, card_pos, deck)

    def ask(
        self,
        question: str,
        k: int = 4,
        deck: str | None = None,
        history: list[str] | None = None,
    ) -> Answer:
        """Answer a question by quoting the best-matching card, or abstain.

        Args:
            question: what the learner typed; cut to `settings.max_question_chars`.
            k: how many cards to return (the quoted one plus related ones).
            deck: restrict to the cards of one deck (by deck name).
            history: the learner's earlier messages in this conversation, oldest first; a
                question that leans on them ("what causes it?") is answered about the
                conversation's topic (see `nnqa.answering.followup`).
        Returns:
            An `Answer`; `abstained` is True when no card is relevant enough.
        Raises:
            TypeError: question (or a history message) is not a string.
            ValueError: k is not a positive integer, or the deck is unknown.
        """
        if not isinstance(question, str):
            raise TypeError(f"ask() takes the question as a string, got {type(question).__name__}")
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise InputError(f"k must be a positive whole number, got {k!r}")
        self.refresh()
        with self.reading():  # the decks are not swapped while this question is answered
            text = clean(question, self.settings.max_question_chars)
            chatter = is_small_talk(text)
            if chatter and history:
                from .answering.followup import is_chatter

                chatter = is_chatter(text)  # "how does it work?" is about the topic
            if not text or chatter:
                return Answer(question, (), True, GUIDE, self.examples())
            card_pos = self.library.positions(deck)
            if history:
                from .answering.followup import follow, topic_of

                topic = topic_of(self.retriever, history, card_pos)
                _, ranked = follow(self.retriever, text, topic, card_pos)
                return self.quote(question, ranked, k)
            from .answering.followup import own_words, points_back

            ranked = self.rank(text, k, card_pos, deck=deck)
            subjectless = points_back(text) and not own_words(text)
            return self.quote(question, ranked, k, subjectless)

    def quote(
        self, question: str, ranked: list[CardScore], k: int = 4, subjectless: bool = False
    ) -> Answer:
        """Turn ranked cards into an `Answer`; see `nnqa.answering.policy.quote`."""
        return policy.quote(question, ranked, self.cards, k, self.demos_for, subjectless)

    # -- grading ---------------------------------------------------------------------
    @property
    def grader(self):
        """The answer grader sharing this tutor's model (key-point vectors cached once)."""
        if self._grader is None:
            from .grading import Grader

            with self._lock:
                if self._grader is None:
                    self._grader = Grader(self.embedder, max_chars=self.settings.max_answer_chars)
        return self._grader

    def grade(self, card: str | Card, typed: str, section: str | None = None):
        """Grade a typed answer to a card (a `Card`, or its front, close enough, or its id),
        or to one section of it (see `Grader.grade_card`).

        Raises:
            KeyError: no card is named so; the message lists the closest fronts.
            ValueError: the card has no section of that name.

        >>> Tutor().grade("What is dropout?", "randomly switching off units").verdict  # doctest: +SKIP
        'correct'
        """
        card = card if isinstance(card, Card) else self.card(card)
        return self.grader.grade_card(card, typed, section)

    def grade_text(self, reference: str, typed: str, question: str | None = None):
        """Grade a typed answer against a teacher's own reference answer; same grader."""
        return self.grader.grade_text(reference, typed, question)


_default: Tutor | None = None
_default_lock = threading.Lock()


def default_tutor() -> Tutor:
    """The tutor over ./knowledge and ./index (or NNQA_* settings), created once."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Tutor()
    return _default


def ask(
    question: str, k: int = 4, deck: str | None = None, history: list[str] | None = None
) -> Answer:
    """Answer a question from the default tutor's decks; see `Tutor.ask`.

    >>> a = ask("what causes vanishing gradients")      # doctest: +SKIP
    >>> a.hits[0].card.front, a.hits[0].section.heading  # doctest: +SKIP
    ('Vanishing Gradient', 'What causes them?')
    """
    return default_tutor().ask(question, k=k, deck=deck, history=history)


def grade(card: str, typed: str, section: str | None = None):
    """Grade a typed answer to a card (or one section) of the default tutor's decks; see
    `Tutor.grade`.

    >>> grade("What is dropout in neural networks?", "randomly switching off units")  # doctest: +SKIP
    """
    return default_tutor().grade(card, typed, section)


def grade_text(reference: str, typed: str, question: str | None = None):
    """Grade a typed answer against a reference with the default tutor's grader."""
    return default_tutor().grade_text(reference, typed, question)
