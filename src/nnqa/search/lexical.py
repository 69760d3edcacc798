"""Lexical matching: BM25 over the cards' words, so exact terms (MSE, tanh, L2) count.

Owns one BM25 index (`bm25s`) over the cards' terms (see `nnqa.text.terms`), built once
per deck set; queries reuse its vocabulary and never build their own.
Leaves out: how BM25 is mixed with the dense score (see `retrieval`).
"""

from __future__ import annotations

import numpy as np

from ..text import terms

__all__ = ["Lexical"]


class Lexical:
    """A BM25 index over one text per card; `scores(query)` is (n_cards,) float32."""

    def __init__(self, texts: list[str]):
        import bm25s

        self.n = len(texts)
        self.retriever = bm25s.BM25()
        corpus = [terms(t) or ["\x00"] for t in texts]
        self.retriever.index(corpus, show_progress=False)
        self.vocab = set(self.retriever.vocab_dict)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every card for the query; zeros when no query word is in the decks."""
        q = [w for w in terms(query) if w in self.vocab]
        if not q or not self.n:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(q), dtype=np.float32)
