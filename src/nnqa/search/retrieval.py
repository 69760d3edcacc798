"""Retrieval: from a question to ranked cards, each with the section that answers best.

`rank_cards` is a pure function over arrays and row metadata: a card's score is its best
row (front, whole answer, a section or a key point), plus a BM25 share; the quoted
section is the best-scoring section when it beats the card's front and whole-answer rows,
else the main part. `Retriever` puts the pieces together over a deck library: rewrite the
question, encode it, search the index, add BM25, follow the question's aspect.
Leaves out: whether the best card is good enough to quote (see `nnqa.answering.policy`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["CardScore", "Retriever", "rank_cards"]

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


class Retriever:
    """Ranks a deck library's cards for a question: dense rows plus a BM25 share.

    Owns the index, the BM25 index and the vocabulary over the library's current version
    (each built on first use, rebuilt after a reload). Thread-safe: rank from many threads.

    Args:
        library: the cards (a `nnqa.decks.library.DeckLibrary`).
        embedder: encodes questions and index rows.
        index_dir: the index folder (loaded, or rebuilt if stale, on first use).
        progress: called as progress(embedded, to_embed) while the index is (re)built.
    """

    def __init__(self, library, embedder, index_dir: Path, progress=None):
        self.library, self.embedder, self.index_dir = library, embedder, Path(index_dir)
        self.progress = progress
        self.index_status = None
        self._lock = threading.Lock()
        self._version = -1
        self._reset()

    def _reset(self) -> None:
        self._index = self._lexical = self._vocab = None
        self._deck_rows: dict[str, np.ndarray] = {}  # deck -> its sorted row ids
        self._version = self.library.version

    def _current(self) -> None:
        """Forget what was built over an older version of the decks."""
        if self._version != self.library.version:
            with self._lock:
                if self._version != self.library.version:
                    self._reset()

    @property
    def cards(self):
        return self.library.cards

    @property
    def index(self):
        """The FAISS index over the cards, loaded (or rebuilt if stale) on first use."""
        self._current()
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index, self.index_status = self._load_index()
        return self._index

    def rebuild(self, force: bool = True):
        """Rebuild the index now (vectors of unchanged text are reused); returns IndexStatus."""
        self._current()
        with self._lock:
            self._index, self.index_status = self._load_index(force=force)
            self._deck_rows = {}
        return self.index_status

    def _load_index(self, force: bool = False):
        from .index import load_or_build

        # rows are embedded by sentence-transformers itself, the reference ONNX is checked on
        encode = getattr(self.embedder, "encode_reference", self.embedder.encode)
        return load_or_build(
            self.library.cards,
            self.index_dir,
            self.embedder.model_id,
            encode,
            force=force,
            decks=self.library.manifest(),
            progress=self.progress,
        )

    @property
    def lexical(self):
        """The BM25 index over the cards, built on first use."""
        self._current()
        if self._lexical is None:
            from ..decks.cardtext import lexical_text, subjects_of
            from .lexical import Lexical

            with self._lock:
                if self._lexical is None:
                    cards = self.library.cards
                    subjects = subjects_of(cards)
                    self._lexical = Lexical([lexical_text(c, subjects) for c in cards])
        return self._lexical

    @property
    def vocab(self):
        """The decks' words, for typo correction and acronyms (see `query.Vocabulary`)."""
        self._current()
        if self._vocab is None:
            from .embeddings import model_words
            from .query import Vocabulary

            cards = self.library.cards
            texts = [c.front for c in cards] + [c.back for c in cards]
            self._vocab = Vocabulary(texts, model_words(self.embedder))
        return self._vocab

    def deck_rows(self, deck: str) -> np.ndarray:
        """The sorted index row ids (int64) of one deck's cards, computed once per deck."""
        index = self.index
        if deck not in self._deck_rows:
            ids = self.library.positions(deck)
            rows = [i for i, r in enumerate(index.rows) if r["card"] in ids]
            self._deck_rows[deck] = np.asarray(rows, dtype=np.int64)
        return self._deck_rows[deck]

    def rank(self, text: str, k: int = 4, card_pos=None, deck: str | None = None):
        """Every card hit for a cleaned question, best first (`CardScore`s), no cut-offs.

        Dense scores over fronts, answers, sections and key points, plus a BM25 share;
        the section quoted follows the question's aspect (cause, fix, effect, steps)
        when the card has a section on it. With `deck`, only that deck's rows are searched
        (so a small deck in a large index is searched as deeply as on its own).
        """
        from .query import aspect_of

        query = self.vocab.rewrite(text)
        qvec = self.embedder.encode([query])  # (1, dim)
        index = self.index
        cards = self.library.cards
        subset = self.deck_rows(deck) if deck is not None else None
        n_rows = len(index) if subset is None else len(subset)
        depth = n_rows if n_rows <= 4096 else max(256, 32 * k)
        scores, ids = index.search(qvec, depth, subset=subset)
        lexical = self.lexical.scores(query)  # (n_cards,)
        if card_pos is not None and len(card_pos) < len(cards):
            # scale BM25 by the best card that can be quoted, not by another deck's best
            keep = np.zeros(len(lexical), dtype=bool)
            keep[list(card_pos.values())] = True
            lexical = np.where(keep, lexical, 0.0)
        ranked = rank_cards(scores[0], ids[0], index.rows, card_pos or self.library.by_id, lexical)
        aspect = aspect_of(text)
        if aspect is None:
            return ranked
        out = []
        for cs in ranked:
            secs = cards[cs.card].sections
            match = [i for i, s in enumerate(secs) if i > 0 and aspect_of(s.heading) == aspect]
            out.append(CardScore(cs.card, cs.score, match[0]) if match else cs)
        return out
