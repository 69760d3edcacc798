"""The tutor: decks + model + index behind `ask()`, and the lazily created default tutor.

Owns putting the pieces together: parse the decks, load or rebuild the index, encode a
question, rank cards, pick the section to quote, and decide when to abstain. Thread-safe:
one `Tutor` serves many concurrent `ask()` calls (the model and index are read-only).
Leaves out: parsing (`cards`), vectors on disk (`index`), scoring (`retrieval`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from .answer import GUIDE, Answer, Hit
from .cards import Card, deck_files, find_card, load_decks
from .embeddings import Embedder
from .query import Vocabulary, aspect_of, clean, is_small_talk
from .retrieval import ABSTAIN_BELOW, RELATED_MARGIN, RELATED_MIN, CardScore, rank_cards
from .settings import Settings

__all__ = ["Tutor", "default_tutor", "ask", "grade", "grade_text"]

log = logging.getLogger("nnqa.tutor")
RECHECK_SECONDS = 1.0  # how often ask() looks for edited decks


class Tutor:
    """Answers questions by quoting the cards of every deck in a knowledge folder.

    Args:
        knowledge: folder of deck files (default `./knowledge`, or NNQA_KNOWLEDGE).
        index: folder for the FAISS index (default `./index`, or NNQA_INDEX).
        model: sentence-transformers name or folder (default: the bundled MiniLM).
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
        self.settings = replace(settings or Settings.from_env(), **paths, **extra)
        self.embedder = embedder or Embedder(self.settings.model, threads=self.settings.threads)
        self._grader = None
        self._index = None
        self.progress = progress
        self.index_status = None
        self._lock = threading.Lock()
        self._swap = _ReadSwap()
        self._read_decks()

    def _read_decks(self) -> None:
        """Parse every deck, then swap the new cards in at once (nothing changes on error)."""
        signature = self._deck_signature()
        cards: list[Card] = load_decks(self.settings.knowledge)
        vocab = Vocabulary(
            [c.front for c in cards] + [c.back for c in cards], _model_words(self.embedder)
        )
        by_deck: dict[str, dict[str, int]] = {}  # deck -> {card id: position}, decks in order
        for i, c in enumerate(cards):
            by_deck.setdefault(c.deck, {})[c.id] = i
        self.cards, self._by_id, self.vocab = cards, {c.id: i for i, c in enumerate(cards)}, vocab
        self._by_deck = by_deck
        self._lexical = None
        self._deck_rows: dict[str, np.ndarray] = {}  # deck -> its sorted row ids
        self.__dict__.pop("_chat_intents", None)  # the chat's recognizer knows the old fronts
        self._signature, self._checked = signature, time.monotonic()

    def _deck_signature(self) -> tuple:
        """Names, sizes and modification times of the deck files: cheap to take, and it
        changes when a deck is edited, added or removed."""
        try:
            files = deck_files(self.settings.knowledge)
        except FileNotFoundError:
            return ()
        return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)

    def refresh(self) -> bool:
        """Reload the decks if a file in the knowledge folder changed since the last look.

        Looks at most once every `RECHECK_SECONDS` (a few `stat` calls), so `ask()` can call
        it on every question: an edited deck is answered from, never a stale copy of it.
        Returns True when it reloaded (the index then updates on next use, embedding only
        new or changed text).

        Raises:
            DeckError: the edited deck is malformed; nnqa keeps saying so until it is fixed.
        """
        now = time.monotonic()
        if now - self._checked < RECHECK_SECONDS:
            return False
        self._checked = now
        if self._deck_signature() == self._signature:
            return False
        log.warning("nnqa: the decks in %s changed; reloading", self.settings.knowledge)
        with self._swap.swapping() as ok:
            if not ok:  # answers in flight for too long, or called from inside one: later
                self._checked = 0.0
                return False
            self.reload(index=False)
        return True

    def reading(self):
        """A context in which the cards, vocabulary and index are not swapped by a reload.

        `ask()` holds it; so does the chat for a message (rank and quote in one state).
        """
        return self._swap.reading()

    def reload(self, index: bool = True):
        """Read the knowledge folder again (after a deck was added or removed).

        Returns the `IndexStatus` of updating the index (only new cards are embedded),
        or None with `index=False` (the index then updates on next use).
        """
        with self._lock:
            self._read_decks()
            self._index = None
        return self.rebuild(force=False) if index else None

    # -- the index -------------------------------------------------------------------
    @property
    def index(self):
        """The FAISS index over the cards, loaded (or rebuilt if stale) on first use."""
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index, self.index_status = self._load_index()
        return self._index

    def _decks_manifest(self) -> list[dict]:
        import hashlib

        by_source: dict[str, list[Card]] = {}
        for c in self.cards:
            by_source.setdefault(c.source, []).append(c)
        out = []
        for p in deck_files(self.settings.knowledge):
            source = f"{self.settings.knowledge.name}/{p.name}"
            cards = by_source.get(source, [])
            out.append(
                {
                    "source": source,
                    "deck": cards[0].deck if cards else "",
                    "decks": list(
                        dict.fromkeys(c.deck for c in cards)
                    ),  # an .apkg may hold several
                    "cards": len(cards),
                    "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                }
            )
        return out

    def deck_rows(self, deck: str) -> np.ndarray:
        """The sorted index row ids (int64) of one deck's cards, computed once per deck."""
        index = self.index
        if deck not in self._deck_rows:
            ids = self._by_deck.get(deck, {})
            rows = [i for i, r in enumerate(index.rows) if r["card"] in ids]
            self._deck_rows[deck] = np.asarray(rows, dtype=np.int64)
        return self._deck_rows[deck]

    def _load_index(self, force: bool = False):
        from .index import load_or_build

        return load_or_build(
            self.cards,
            self.settings.index,
            self.embedder.model_id,
            self.embedder.encode,
            force=force,
            decks=self._decks_manifest(),
            progress=self.progress,
        )

    def rebuild(self, force: bool = True):
        """Rebuild the index now (vectors of unchanged text are reused); returns IndexStatus."""
        with self._lock:
            self._index, self.index_status = self._load_index(force=force)
            self._deck_rows = {}
        return self.index_status

    # -- cards -----------------------------------------------------------------------
    @property
    def decks(self) -> list[str]:
        return list(self._by_deck)

    def card(self, key: str) -> Card:
        """Find a card by id, or by its front: exact, case-insensitive, or close enough.

        Raises:
            TypeError: key is not a string.
            KeyError: no card matches unambiguously; the message lists the closest fronts.
        """
        if not isinstance(key, str):
            raise TypeError(
                f"a card is named by its front or id (a string), got {type(key).__name__}"
            )
        return find_card(self.cards, key)

    @property
    def grader(self):
        """The answer grader sharing this tutor's model (key-point vectors cached once)."""
        if self._grader is None:
            from .grading import Grader

            with self._lock:
                if self._grader is None:
                    self._grader = Grader(self.embedder, max_chars=self.settings.max_answer_chars)
        return self._grader

    def examples(self, n: int = 3) -> tuple[str, ...]:
        """Example questions from the deck: its shortest question-like fronts."""
        qs = [c.front for c in self.cards if c.front.endswith("?")] or [c.front for c in self.cards]
        return tuple(sorted(qs, key=len)[:n])

    # -- asking ----------------------------------------------------------------------
    @property
    def lexical(self):
        """The BM25 index over the cards, built on first use."""
        if self._lexical is None:
            from .lexical import Lexical

            with self._lock:
                if self._lexical is None:
                    from .index import lexical_text, subjects_of

                    subjects = subjects_of(self.cards)
                    self._lexical = Lexical([lexical_text(c, subjects) for c in self.cards])
        return self._lexical

    def rank(
        self,
        text: str,
        k: int = 4,
        card_pos: dict[str, int] | None = None,
        deck: str | None = None,
    ):
        """Every card hit for a cleaned question, best first (`CardScore`s), no cut-offs.

        Dense scores over fronts, answers, sections and key points, plus a BM25 share;
        the section quoted follows the question's aspect (cause, fix, effect, steps)
        when the card has a section on it. With `deck`, only that deck's rows are searched
        (so a small deck in a large index is searched as deeply as on its own).
        """
        query = self.vocab.rewrite(text)
        qvec = self.embedder.encode([query])  # (1, dim)
        index = self.index
        subset = self.deck_rows(deck) if deck is not None else None
        n_rows = len(index) if subset is None else len(subset)
        depth = n_rows if n_rows <= 4096 else max(256, 32 * k)
        scores, ids = index.search(qvec, depth, subset=subset)
        lexical = self.lexical.scores(query)  # (n_cards,)
        if card_pos is not None and len(card_pos) < len(self.cards):
            # scale BM25 by the best card that can be quoted, not by another deck's best
            keep = np.zeros(len(lexical), dtype=bool)
            keep[list(card_pos.values())] = True
            lexical = np.where(keep, lexical, 0.0)
        ranked = rank_cards(scores[0], ids[0], index.rows, card_pos or self._by_id, lexical)
        aspect = aspect_of(text)
        if aspect is None:
            return ranked
        out = []
        for cs in ranked:
            secs = self.cards[cs.card].sections
            match = [i for i, s in enumerate(secs) if i > 0 and aspect_of(s.heading) == aspect]
            out.append(CardScore(cs.card, cs.score, match[0]) if match else cs)
        return out

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
                conversation's topic (see `followup`).
        Returns:
            An `Answer`; `abstained` is True when no card is relevant enough.
        Raises:
            TypeError: question (or a history message) is not a string.
            ValueError: k is not a positive integer, or the deck is unknown.
        """
        if not isinstance(question, str):
            raise TypeError(f"ask() takes the question as a string, got {type(question).__name__}")
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be a positive whole number, got {k!r}")
        self.refresh()
        with self.reading():  # the decks are not swapped while this question is answered
            text = clean(question, self.settings.max_question_chars)
            chatter = is_small_talk(text)
            if chatter and history:
                from .followup import is_chatter

                chatter = is_chatter(text)  # "how does it work?" is about the topic
            if not text or chatter:
                return Answer(question, (), True, GUIDE, self.examples())

            if deck is not None and deck not in self._by_deck:
                raise ValueError(f"no deck named {deck!r}; decks: {', '.join(self.decks)}")
            card_pos = self._by_id if deck is None else self._by_deck[deck]
            if history:
                from .followup import follow, topic_of

                _, ranked = follow(self, text, topic_of(self, history, card_pos), card_pos)
            else:
                ranked = self.rank(text, k, card_pos, deck=deck)
            return self.quote(question, ranked, k)

    def quote(self, question: str, ranked: list[CardScore], k: int = 4) -> Answer:
        """Turn ranked cards into an `Answer`: quote the best and add related ones, or abstain.

        `ranked` comes from `rank` (or `followup.follow`, which ranks in a conversation).
        """
        if not ranked:
            return Answer(question, (), True, "The deck has no cards to answer from.")

        hits = []
        top = ranked[0].score
        abstained = top < ABSTAIN_BELOW
        for r, cs in enumerate(ranked[: (3 if abstained else k)]):
            if (
                r > 0
                and not abstained
                and (cs.score < RELATED_MIN or top - cs.score > RELATED_MARGIN)
            ):
                break
            card = self.cards[cs.card]
            score = min(1.0, max(0.0, cs.score))  # dense cosine plus the lexical share, in [0, 1]
            hits.append(Hit(card, score, card.sections[cs.section], rank=r + 1))
        if abstained:
            msg = (
                "The deck has no card on that. The closest cards are below; ask about one of them."
            )
            return Answer(question, tuple(hits), True, msg)
        return Answer(question, tuple(hits), False, demos=_demos_for(hits[0].card.front))


class _ReadSwap:
    """Many readers at once; a swap waits until none is reading (and no new one starts).

    Readers never wait for each other; a swap gives up after `timeout` seconds, or at once
    when its own thread is reading, so a reload can never deadlock or stall an answer.
    """

    def __init__(self, timeout: float = 5.0):
        self._cond = threading.Condition()
        self._readers: dict[int, int] = {}  # thread id -> nesting depth
        self._swapping = False
        self.timeout = timeout

    @contextlib.contextmanager
    def reading(self):
        me = threading.get_ident()
        with self._cond:
            while self._swapping and me not in self._readers:
                self._cond.wait()
            self._readers[me] = self._readers.get(me, 0) + 1
        try:
            yield
        finally:
            with self._cond:
                self._readers[me] -= 1
                if not self._readers[me]:
                    del self._readers[me]
                self._cond.notify_all()

    @contextlib.contextmanager
    def swapping(self):
        with self._cond:
            if threading.get_ident() in self._readers:
                yield False
                return
            self._swapping = True
            try:
                ok = self._cond.wait_for(lambda: not self._readers, timeout=self.timeout)
                yield ok
            finally:
                self._swapping = False
                self._cond.notify_all()


def _model_words(embedder: Embedder) -> list[str]:
    """Whole words of the model's tokenizer vocabulary (real words are never 'corrected')."""
    vocab = Path(embedder.load_from) / "vocab.txt"
    try:
        return [w for w in vocab.read_text(encoding="utf-8").split() if not w.startswith("##")]
    except OSError:
        return []


def _demos_for(front: str) -> tuple[str, ...]:
    try:
        from .demos import demos_for_card
    except ImportError:  # demos not installed in this build
        return ()
    return tuple(demos_for_card(front))


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


def grade(card: str, typed: str):
    """Grade a typed answer to the default tutor's card named by `card` (front or id).

    Raises:
        KeyError: no card is named so; the message lists the closest fronts.

    >>> grade("What is dropout in neural networks?", "randomly switching off units").verdict  # doctest: +SKIP
    'correct'
    """
    tutor = default_tutor()
    return tutor.grader.grade_card(tutor.card(card), typed)


def grade_text(reference: str, typed: str, question: str | None = None):
    """Grade a typed answer against a teacher's own reference answer; same grader, same fields."""
    return default_tutor().grader.grade_text(reference, typed, question)
