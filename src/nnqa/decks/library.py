"""The deck library: every card of a knowledge folder, reloaded when a file changes.

Owns loading the decks and their demo links, swapping a new version in at once (nothing
changes on error), noticing edited files, letting readers work on one version while a
reload waits (`reading`), and looking cards up by id, front or deck. Thread-safe: many
readers, one swap. Leaves out: the index over the cards (see `nnqa.search`) and what a
card says (see `cardtext`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from pathlib import Path

from ..errors import InputError
from .cards import Card, deck_files, find_card, load_decks
from .glossary import glossaries
from .links import demo_links

__all__ = ["DeckLibrary"]

log = logging.getLogger("nnqa.decks")


class DeckLibrary:
    """The cards of every deck in a folder, in deck-file order, one version at a time.

    Args:
        folder: the knowledge folder.
        recheck_seconds: `refresh` looks at the files at most this often.
        wait_seconds: a reload waits at most this long for answers in flight.
    Raises:
        FileNotFoundError: the folder does not exist.
        DeckError: a deck file is malformed (the message names the file and line).

    >>> lib = DeckLibrary("knowledge")                  # doctest: +SKIP
    >>> lib.card("what is relu").front                  # doctest: +SKIP
    'What is ReLU?'
    """

    def __init__(self, folder: str | Path, recheck_seconds: float = 1.0, wait_seconds=5.0):
        self.folder = Path(folder)
        self.recheck_seconds = recheck_seconds
        self.version = 0  # goes up by one at each load; caches over the cards key on it
        self._swap = _ReadSwap(wait_seconds)
        self._lock = threading.Lock()  # one load at a time
        self.load()

    def load(self) -> None:
        """Parse every deck, its links and glossary, then swap the new version in at once."""
        with self._lock:
            self._load()

    def _load(self) -> None:
        signature = self._stat_files()
        cards: list[Card] = load_decks(self.folder)
        links = demo_links(self.folder, cards)
        glossary = glossaries(self.folder)
        by_deck: dict[str, dict[str, int]] = {}  # deck -> {card id: position}, decks in order
        for i, c in enumerate(cards):
            by_deck.setdefault(c.deck, {})[c.id] = i
        self.cards, self.by_id = cards, {c.id: i for i, c in enumerate(cards)}
        self.by_deck, self.links, self.glossary = by_deck, links, glossary
        self._signature, self._checked = signature, time.monotonic()
        self.version += 1

    def _stat_files(self) -> tuple:
        """Names, sizes and modification times of the folder's files (decks and links):
        cheap to take, and it changes when a file is edited, added or removed."""
        try:
            files = sorted(p for p in self.folder.iterdir() if p.is_file())
        except FileNotFoundError:
            return ()
        return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)

    def refresh(self) -> bool:
        """Reload if a file in the folder changed since the last look; True when it did.

        Looks at most once every `recheck_seconds` (a few `stat` calls), so it can run before
        every question. Waits for readers to finish; gives up (and tries again next time)
        after `wait_seconds`, or at once when called from inside `reading`.

        Raises:
            DeckError: the edited deck is malformed; it keeps saying so until it is fixed.
        """
        now = time.monotonic()
        if now - self._checked < self.recheck_seconds:
            return False
        self._checked = now
        if self._stat_files() == self._signature:
            return False
        log.warning("nnqa: the decks in %s changed; reloading", self.folder)
        with self._swap.swapping() as ok:
            if not ok:  # answers in flight for too long, or called from inside one: later
                self._checked = 0.0
                return False
            self.load()
        return True

    def reading(self):
        """A context in which the cards are not swapped by a reload (nests, never blocks a
        reader)."""
        return self._swap.reading()

    # -- lookup ----------------------------------------------------------------------
    @property
    def decks(self) -> list[str]:
        return list(self.by_deck)

    def card(self, key: str) -> Card:
        """A card by id, or by its front: exact, case-insensitive, or close enough.

        Raises:
            TypeError: key is not a string.
            KeyError: no card matches unambiguously; the message lists the closest fronts.
        """
        if not isinstance(key, str):
            raise TypeError(
                f"a card is named by its front or id (a string), got {type(key).__name__}"
            )
        return find_card(self.cards, key)

    def positions(self, deck: str | None = None) -> dict[str, int]:
        """Card id -> position, of every card or of one deck's (with its sub-decks).

        Raises:
            ValueError: no deck has this name.
        """
        if deck is None:
            return self.by_id
        # a parent deck covers its children ("Nets" holds "Nets::Vision"), as in Anki
        family = [d for d in self.by_deck if d == deck or d.startswith(f"{deck}::")]
        if not family:
            raise InputError(f"no deck named {deck!r}; decks: {', '.join(self.decks)}")
        if family == [deck]:
            return self.by_deck[deck]
        return {cid: i for d in family for cid, i in self.by_deck[d].items()}

    def demos_for(self, card: Card) -> tuple[str, ...]:
        """The demos linked to a card (see `links`), most direct first."""
        return self.links.get(card.id, ())

    def cards_for_demo(self, name: str) -> list[Card]:
        """The cards a demo is linked to, in deck order."""
        return [c for c in self.cards if name in self.links.get(c.id, ())]

    def examples(self, n: int = 3) -> tuple[str, ...]:
        """Example questions: the shortest question-like fronts."""
        qs = [c.front for c in self.cards if c.front.endswith("?")] or [c.front for c in self.cards]
        return tuple(sorted(qs, key=len)[:n])

    def manifest(self) -> list[dict]:
        """Per deck file: source, deck names, card count and sha256 (for the index manifest)."""
        by_source: dict[str, list[Card]] = {}
        for c in self.cards:
            by_source.setdefault(c.source, []).append(c)
        out = []
        for p in deck_files(self.folder):
            source = f"{self.folder.name}/{p.name}"
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
