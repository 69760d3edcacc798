"""Lexical matching: BM25 over the cards' words, so exact terms (MSE, tanh, L2) count.

Owns tokenising (lower-case words, stop words out, plural 's' off) and one BM25 index
(`bm25s`) built once per deck set; queries reuse its vocabulary and never build their own.
Leaves out: how BM25 is mixed with the dense score (see `retrieval`).
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["Lexical", "tokens"]

_TOKEN = re.compile(r"[a-z0-9]+")
STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "not",
        "no",
        "what",
        "whats",
        "which",
        "who",
        "whom",
        "how",
        "why",
        "when",
        "where",
        "does",
        "do",
        "did",
        "doing",
        "done",
        "can",
        "could",
        "should",
        "would",
        "will",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "their",
        "them",
        "they",
        "i",
        "me",
        "my",
        "you",
        "your",
        "we",
        "our",
        "as",
        "into",
        "about",
        "than",
        "then",
        "so",
        "if",
        "but",
        "also",
        "just",
        "like",
        "use",
        "used",
        "using",
        "get",
        "gets",
        "tell",
        "explain",
        "mean",
        "means",
        "meaning",
        "define",
        "definition",
        "describe",
        "please",
        "vs",
        "versus",
        "between",
        "some",
        "any",
    ]
)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens without stop words, plural 's' removed.

    >>> tokens("What are Vanishing Gradients in RNNs?")
    ['vanishing', 'gradient', 'rnn']
    """
    out = []
    for w in _TOKEN.findall(text.lower()):
        if w in STOP:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


class Lexical:
    """A BM25 index over one text per card; `scores(query)` is (n_cards,) float32."""

    def __init__(self, texts: list[str]):
        import bm25s

        self.n = len(texts)
        self.retriever = bm25s.BM25()
        corpus = [tokens(t) or ["\x00"] for t in texts]
        self.retriever.index(corpus, show_progress=False)
        self.vocab = set(self.retriever.vocab_dict)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every card for the query; zeros when no query word is in the decks."""
        q = [w for w in tokens(query) if w in self.vocab]
        if not q or not self.n:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(q), dtype=np.float32)
