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
from dataclasses import dataclass, field, replace
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
# How many of the best dense + BM25 candidates the answerability model orders, and how
# many cards a ranking keeps in all (a large deck's 200 further hits are never shown).
JUDGED = 8
KEPT = 32


@dataclass(frozen=True)
class CardScore:
    card: int  # position of the card in the tutor's card list
    score: float
    section: int  # which section to quote (0 = the main part)
    # what the score was made from, for the answerability features
    dense: float = field(default=0.0, repr=False, compare=False)  # best row, less discounts
    front: float = field(default=0.0, repr=False, compare=False)  # the front row's cosine
    lexical: float = field(default=0.0, repr=False, compare=False)  # BM25 / best BM25


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
    front: dict[int, float] = {}
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
        if row["kind"] == "front":
            front[pos] = max(front.get(pos, -1.0), s)
        if row["kind"] == "front" or (row["kind"] == "section" and row["section"] == 0):
            best_plain[pos] = max(best_plain.get(pos, -1.0), s)
    lex_scale = 0.0
    if lexical is not None and len(lexical) and float(lexical.max()) > 0:
        lex_scale = LEXICAL_WEIGHT / float(lexical.max())
    out = []
    for pos, s in best.items():
        sec_score, sec = best_sec.get(pos, (-1.0, 0))
        section = sec if sec > 0 and sec_score > best_plain.get(pos, -1.0) - SECTION_MARGIN else 0
        dense = s
        lex = float(lexical[pos]) * lex_scale / LEXICAL_WEIGHT if lex_scale else 0.0
        s += LEXICAL_WEIGHT * lex
        out.append(CardScore(pos, round(float(s), 6), section, dense, front.get(pos, 0.0), lex))
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
        self._bank_stats: dict[str, tuple[float, float]] = {}  # deck ("" = all) -> stats
        self._terms = None
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
            self._bank_stats = {}
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
            from .answerability import DeckTerms
            from .lexical import Lexical

            with self._lock:
                if self._lexical is None:
                    cards = self.library.cards
                    subjects = subjects_of(cards)
                    texts = [lexical_text(c, subjects) for c in cards]
                    self._terms = DeckTerms(texts)
                    self._lexical = Lexical(texts)
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
            self._vocab = Vocabulary(texts, model_words(self.embedder), self.library.glossary)
        return self._vocab

    def deck_rows(self, deck: str) -> np.ndarray:
        """The sorted index row ids (int64) of one deck's cards, computed once per deck."""
        index = self.index
        if deck not in self._deck_rows:
            ids = self.library.positions(deck)
            rows = [i for i, r in enumerate(index.rows) if r["card"] in ids]
            self._deck_rows[deck] = np.asarray(rows, dtype=np.int64)
        return self._deck_rows[deck]

    def candidates(self, text: str, k: int = 4, card_pos=None, deck: str | None = None):
        """`(query, ranked)`: the rewritten question and every card hit, by dense + BM25.

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
            return query, ranked
        out = []
        for cs in ranked:
            secs = cards[cs.card].sections
            match = [i for i, s in enumerate(secs) if i > 0 and aspect_of(s.heading) == aspect]
            out.append(replace(cs, section=match[0]) if match else cs)
        return query, out

    def rank(self, text: str, k: int = 4, card_pos=None, deck: str | None = None):
        """The `KEPT` best cards for a cleaned question, best first (`CardScore`s).

        The `JUDGED` best candidates of `candidates` are ordered by the answerability
        model (see `answerability`): their `score` is its judgement, >= 0.5 when the card
        answers the question. Cards further down keep their order, scored below them.
        """
        query, ranked = self.candidates(text, k, card_pos, deck)
        if not ranked:
            return ranked
        top, rest = ranked[:JUDGED], ranked[JUDGED:]
        p = self.answerability.score(self.features(query, top, card_pos, deck))  # (len(top),)
        judged = [_rescored(cs, float(s)) for cs, s in zip(top, p, strict=True)]
        judged.sort(key=lambda c: -c.score)  # stable: equal scores keep the dense order
        if rest:  # further cards keep their order below the judged ones, up to KEPT in all
            low, ref = judged[-1].score, max(top[-1].score, 1e-6)
            judged += [
                _rescored(cs, low * max(cs.score, 0.0) / ref) for cs in rest[: KEPT - JUDGED]
            ]
        return judged

    # -- answerability -------------------------------------------------------------------
    @property
    def answerability(self):
        """The answerability model (`answerability.Answerability`), loaded once per process."""
        return _answerability()

    def features(self, query: str, top: list[CardScore], card_pos=None, deck=None) -> np.ndarray:
        """The (len(top), F) answerability features of the best candidates for `query`."""
        from .answerability import features

        self.lexical  # noqa: B018  (builds the deck terms with BM25)
        positions = [cs.card for cs in top]
        known, coverage, n_terms = self._terms.shares(query, positions, self.vocab.acronyms)
        return features(
            np.array([cs.dense for cs in top]),
            np.array([cs.front for cs in top]),
            np.array([cs.lexical for cs in top]),
            coverage,
            known,
            n_terms,
            self.bank_stats(card_pos, deck),
        )

    def bank_stats(self, card_pos=None, deck: str | None = None) -> tuple[float, float]:
        """(mean, std) of the best row cosine of off-deck questions within the searched deck.

        How high a question that is not about this deck scores here: a deck of one
        subject's long cards scores everything higher than a deck of short ones.
        """
        if deck is None and card_pos is not None and card_pos is not self.library.by_id:
            deck = next((d for d, pos in self.library.by_deck.items() if pos is card_pos), None)
        key = deck or ""
        stats = self._bank_stats.get(key)
        if stats is None:
            model = self.answerability
            bank = model.bank
            if model.bank_model != self.embedder.model_id:
                bank = self.embedder.encode(list(model.bank_texts))
            subset = self.deck_rows(deck) if deck is not None else None
            scores, _ = self.index.search(bank, 1, subset=subset)  # (B, 1)
            best = scores[:, 0]
            stats = (float(best.mean()), float(best.std()))
            self._bank_stats[key] = stats
        return stats


def _rescored(cs: CardScore, score: float) -> CardScore:
    # the constructor, not dataclasses.replace: this runs for every hit of every question
    return CardScore(cs.card, round(score, 6), cs.section, cs.dense, cs.front, cs.lexical)


_MODEL = None
_MODEL_LOCK = threading.Lock()


def _answerability():
    global _MODEL
    if _MODEL is None:
        from .answerability import Answerability

        with _MODEL_LOCK:
            if _MODEL is None:
                _MODEL = Answerability.load()
    return _MODEL
