"""Shared fixtures: the real model once per session, every user path in a temp folder."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NNQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NNQA_KNOWLEDGE", str(ROOT / "knowledge"))


@pytest.fixture(scope="session")
def cards():
    from nnqa.cards import load_decks

    return load_decks(ROOT / "knowledge")


@pytest.fixture(scope="session")
def embedder():
    from nnqa.embeddings import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def grader(embedder, cards):
    from nnqa.grading import Grader

    g = Grader(embedder)
    g.warm(cards)
    return g


class Deck:
    """A tutor-shaped holder (cards + embedder) for Quiz, sharing the session's model."""

    def __init__(self, cards, embedder):
        self.cards, self.embedder = cards, embedder


@pytest.fixture(scope="session")
def tutor(cards, embedder):
    return Deck(cards, embedder)
