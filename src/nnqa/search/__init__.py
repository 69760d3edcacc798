"""Search: from a question's text to ranked cards, each with the section that answers best.

Owns the embedding model (`embeddings`), the FAISS index on disk (`index`), BM25
(`lexical`), cleaning and rewriting a question (`query`), and ranking (`retrieval`).
Leaves out: what a card says (see `nnqa.decks`) and what to do with a ranking: quote,
abstain, follow a conversation (see `nnqa.answering`).
"""
