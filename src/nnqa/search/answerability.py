"""Answerability: a learned judgement of "does this card answer this question?".

Owns the features of one (question, candidate card) pair, read off what retrieval already
computed (dense row scores, BM25, the words the question and the card share, where the
score stands among questions that are not about the deck) and the small model over them
that orders the candidates and decides abstention. The model is fitted by
`training/train_answerability.py` on public question sets and decks of several subjects
(see `answerability_model/MODEL_CARD.md`); it holds no words of any subject.
Leaves out: finding the candidates (see `retrieval`) and what is shown when no card
answers (see `nnqa.answering.policy`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..text import stem, terms

__all__ = ["FEATURES", "MODEL_DIR", "Answerability", "AnswerabilityError", "DeckTerms"]

MODEL_DIR = Path(__file__).with_name("answerability_model")
FORMAT = 1

# One row of features per (question, candidate card); all are subject-free numbers.
FEATURES = (
    "dense",  # the card's best row cosine (a front, its answer, a section, a key point)
    "front",  # cosine of the question and the card's front (0 if the front was not hit)
    "lexical",  # the card's BM25 score over the best card's BM25 score in the deck, [0, 1]
    "gap",  # the best candidate's dense score minus this one's, >= 0
    "margin",  # the best dense score minus the second best (one value per question)
    "coverage",  # IDF-weighted share of the question's words the card uses, [0, 1]
    "known",  # IDF-weighted share of the question's words any card in the decks uses, [0, 1]
    "deck_z",  # dense score in standard deviations above off-deck questions' best scores
    "n_terms",  # log(1 + the question's meaningful words)
)


class AnswerabilityError(RuntimeError):
    """The answerability model's file is missing, damaged or of another format."""


def _stems(text: str) -> list[str]:
    return [stem(w) for w in terms(text)]


class DeckTerms:
    """The cards' words, for the coverage features: which words each card uses, and how rare.

    Args:
        texts: one text per card (what BM25 indexes), in card-position order.
    """

    def __init__(self, texts: list[str]):
        self.cards = [frozenset(_stems(t)) for t in texts]
        df = Counter(w for s in self.cards for w in s)
        n = len(texts)
        self.n = n
        self.df = df
        # a word no card uses gets the highest weight: it names what the decks lack
        self.unseen_idf = math.log((n + 1) / 0.5)

    def idf(self, word: str) -> float:
        return math.log((self.n + 1) / (self.df.get(word, 0) + 0.5))

    def shares(
        self, query: str, positions: list[int], acronyms: dict[str, str] | None = None
    ) -> tuple[float, list[float], int]:
        """(known, coverage per position, n_terms) for a question.

        known: IDF-weighted share of the question's words some card uses; coverage: the
        share each card at `positions` uses. Both are 0 when the question has no words.
        A long form the query rewrite added after an abbreviation ("ml (machine learning)",
        from `acronyms`) is not more words: it is another way for a card to use the
        abbreviation.

        >>> t = DeckTerms(["stochastic gradient descent", "dropout"])
        >>> t.shares("sgd (stochastic gradient descent)", [0, 1], {"sgd": "stochastic gradient descent"})
        (1.0, [1.0, 0.0], 1)
        """
        alts: dict[str, frozenset[str]] = {}

        def fold(m: re.Match) -> str:
            word, long = m.group(1), m.group(2)
            if acronyms and acronyms.get(word.lower(), "").lower() == long.lower():
                for w in _stems(word):
                    alts[w] = frozenset(_stems(long))
                return word
            return m.group(0)

        words = list(dict.fromkeys(_stems(_EXPANDED.sub(fold, query))))
        if not words:
            return 0.0, [0.0] * len(positions), 0

        def used(w: str, have) -> bool:
            # a long form counts when at least half its words are used ("stochastic
            # gradient descent" on a card about gradient descent)
            alt = alts.get(w, ())
            return w in have or (bool(alt) and 2 * sum(x in have for x in alt) >= len(alt))

        weights = {}
        for w in words:
            if w not in self.df and used(w, self.df):
                weights[w] = max(self.idf(x) for x in alts[w] if x in self.df)  # as its long form
            else:
                weights[w] = self.idf(w)
        total = sum(weights.values())
        known = sum(v for w, v in weights.items() if used(w, self.df)) / total
        cover = [
            sum(v for w, v in weights.items() if used(w, self.cards[p])) / total for p in positions
        ]
        return known, cover, len(words)


_EXPANDED = re.compile(r"([A-Za-z][\w-]*) \(([^()]*)\)")


@dataclass(frozen=True)
class Answerability:
    """A small network over `FEATURES`; `score` >= 0.5 means "this card answers it".

    One hidden layer of H rectified units, then a logistic output. The decision threshold
    is folded into the output bias when the model is fitted, so 0.5 is the cut whatever
    the deck. Scores are on [0, 1].
    """

    features: tuple[str, ...]
    mean: np.ndarray  # (F,) standardisation
    scale: np.ndarray  # (F,)
    w1: np.ndarray  # (F, H)
    b1: np.ndarray  # (H,)
    w2: np.ndarray  # (H,)
    b2: float
    bank: np.ndarray  # (B, dim) float32 unit vectors of off-deck questions
    bank_model: str  # the embedding model the bank vectors come from
    bank_texts: tuple[str, ...]  # to encode again with another model
    # a card whose `deck_z` is under this is never said to answer (its score is kept under
    # 0.5): it matches the question no better than off-deck questions match this deck,
    # whatever words they share. Fitted by the training script (see the model card).
    deck_z_floor: float = -math.inf

    @classmethod
    def load(cls, folder: Path = MODEL_DIR) -> Answerability:
        """Read `answerability.json` and `bank.npy` from `folder`.

        Raises:
            AnswerabilityError: a file is missing, damaged, of another format, or its
                features are not `FEATURES`.
        """
        path = Path(folder) / "answerability.json"
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
            bank_path = Path(folder) / spec["bank"]["file"]
            raw = bank_path.read_bytes()
            if hashlib.sha256(raw).hexdigest() != spec["bank"]["sha256"]:
                raise AnswerabilityError(f"{bank_path} is damaged (its checksum differs)")
            import io

            bank = np.load(io.BytesIO(raw)).astype(np.float32)
            if spec.get("format") != FORMAT or tuple(spec["features"]) != FEATURES:
                raise AnswerabilityError(f"{path} is for another version of nnqa")
            return cls(
                tuple(spec["features"]),
                np.asarray(spec["mean"], dtype=np.float64),
                np.asarray(spec["scale"], dtype=np.float64),
                np.asarray(spec["w1"], dtype=np.float64),
                np.asarray(spec["b1"], dtype=np.float64),
                np.asarray(spec["w2"], dtype=np.float64),
                float(spec["b2"]),
                bank,
                spec["bank"]["model"],
                tuple(spec["bank"]["texts"]),
                float(spec.get("deck_z_floor") or -math.inf),
            )
        except AnswerabilityError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise AnswerabilityError(f"cannot read the answerability model in {folder}: {e}") from e

    def score(self, x: np.ndarray) -> np.ndarray:
        """(k, F) features -> (k,) scores in [0, 1]; >= 0.5 answers."""
        x = np.asarray(x, dtype=np.float64)
        z = (x - self.mean) / self.scale  # (k, F)
        h = np.maximum(z @ self.w1 + self.b1, 0.0)  # (k, H)
        p = 1.0 / (1.0 + np.exp(-(h @ self.w2 + self.b2)))
        return below_floor(p, x[:, _DECK_Z] if len(x) else x, self.deck_z_floor)


_DECK_Z = FEATURES.index("deck_z")
BELOW = 0.499  # where a score under the floor is capped: under the cut, order kept


def below_floor(p: np.ndarray, deck_z: np.ndarray, floor: float) -> np.ndarray:
    """Scores `p` (k,) with those whose `deck_z` (k,) is under `floor` capped under 0.5.

    >>> below_floor(np.array([.9, .9, .3]), np.array([3., 1., 1.]), 1.5).tolist()
    [0.9, 0.499, 0.3]
    """
    if not len(p) or floor == -math.inf:
        return p
    return np.where(deck_z < floor, np.minimum(p, BELOW), p)


def features(
    dense: np.ndarray,
    front: np.ndarray,
    lexical: np.ndarray,
    coverage: list[float],
    known: float,
    n_terms: int,
    bank_stats: tuple[float, float],
) -> np.ndarray:
    """The (k, F) feature rows of k candidates, best-ranked first.

    Args:
        dense: (k,) best row cosine per candidate; front: (k,) front cosine (0 if unhit);
        lexical: (k,) BM25 over the deck's best BM25, [0, 1];
        coverage: k shares; known, n_terms: of the question (see `DeckTerms.shares`);
        bank_stats: (mean, std) of off-deck questions' best cosine in this deck.

    >>> features(np.array([.8, .6]), np.array([.7, .5]), np.array([1., .2]), [1., .5],
    ...          1., 2, (.3, .1)).round(2).tolist()[1]
    [0.6, 0.5, 0.2, 0.2, 0.2, 0.5, 1.0, 3.0, 1.1]
    """
    dense = np.asarray(dense, dtype=np.float64)
    k = len(dense)
    best = float(dense.max()) if k else 0.0
    second = float(np.sort(dense)[-2]) if k > 1 else 0.0
    mean, std = bank_stats
    cols = {
        "dense": dense,
        "front": np.asarray(front, dtype=np.float64),
        "lexical": np.asarray(lexical, dtype=np.float64),
        "gap": best - dense,
        "margin": np.full(k, best - second),
        "coverage": np.asarray(coverage, dtype=np.float64),
        "known": np.full(k, known),
        "deck_z": (dense - mean) / max(std, 1e-3),
        "n_terms": np.full(k, math.log1p(n_terms)),
    }
    return np.stack([cols[f] for f in FEATURES], axis=1) if k else np.zeros((0, len(FEATURES)))
