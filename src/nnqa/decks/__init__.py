"""Decks: the flashcards as written, read from a knowledge folder.

Owns the `Card` and its `Section`s, parsing nnqa's own formats (`cards`), what a card says
(its subject, key points and the rows to index: `cardtext`), the deck library that loads,
reloads and looks up cards (`library`), the demo links kept beside a deck (`links`),
reading foreign decks (`imports`, `anki`, `delimited`, `records`, `mdcards`, `imported`;
written into the knowledge folder by `nnqa.add`), and which card of an edited deck
continues which (`identity`). Leaves out: embedding and searching (see `nnqa.search`), judging answers
(`nnqa.answering`, `nnqa.grading`).
"""
