"""Shared fixtures: the real bundled model and a real FAISS index, built once per session.

Every test runs with HF_HUB_OFFLINE=1, one torch thread, and its learner data in a temp
folder, so no test touches the user's files or the network.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("NNQA_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _isolated_user_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("NNQA_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def embedder():
    from nnqa.embeddings import Embedder

    e = Embedder(threads=1)
    e.encode(["warm up"])
    return e


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    """A copy of the shipped knowledge/ and index/ folders in a temp folder."""
    d = tmp_path_factory.mktemp("nnqa")
    shutil.copytree(ROOT / "knowledge", d / "knowledge")
    shutil.copytree(ROOT / "index", d / "index")
    return d


@pytest.fixture(scope="session")
def tutor(workdir, embedder):
    from nnqa import Tutor

    return Tutor(knowledge=workdir / "knowledge", index=workdir / "index", embedder=embedder)


@pytest.fixture(autouse=True)
def _knowledge(monkeypatch):
    monkeypatch.setenv("NNQA_KNOWLEDGE", str(ROOT / "knowledge"))


@pytest.fixture(scope="session")
def cards(tutor):
    return tutor.cards


@pytest.fixture(scope="session")
def grader(embedder, cards):
    from nnqa.grading import Grader

    g = Grader(embedder)
    g.warm(cards)
    return g
