"""Shared fixtures: the real bundled model and a real FAISS index, built once per session.

Every test runs with HF_HUB_OFFLINE=1, one torch thread, and its learner data in a temp
folder, so no test touches the user's files or the network.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("NNQA_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")
# ONNX exports (90 MB, ~10 s to make) go to one temp folder per session, shared with the CLI
# subprocesses, never to the user's cache; a folder given in NNQA_CACHE_DIR is used as is
_CACHE = None if os.environ.get("NNQA_CACHE_DIR") else tempfile.mkdtemp(prefix="nnqa-cache-")
if _CACHE:
    os.environ["NNQA_CACHE_DIR"] = _CACHE


@pytest.fixture(scope="session", autouse=True)
def _session_cache():
    yield os.environ["NNQA_CACHE_DIR"]
    if _CACHE:
        shutil.rmtree(_CACHE, ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated_user_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("NNQA_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def embedder():
    from nnqa.search.embeddings import Embedder

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


# ---------------------------------------------------------------- the web app, launched once

# A deck from an untrusted import: markup and script in its front, back and deck title.
HOSTILE_DECK = """# Imported <script>window.__pwned = "deck"</script> Deck

## <script>window.__pwned = "front"</script>What is a hostile flashcard?
A hostile flashcard hides <img src=x onerror="window.__pwned='back'"> markup in its answer,
like <svg onload="window.__pwned='svg'"></svg> and [a link](javascript:window.__pwned='link').
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, embedder):
    """The real app on 127.0.0.1 over the shipped deck plus a hostile one, data in a temp dir."""
    from types import SimpleNamespace

    from nnqa import Settings, Tutor
    from nnqa.faces.webapp import build_app, launch_options

    d = tmp_path_factory.mktemp("app")
    shutil.copytree(ROOT / "knowledge", d / "knowledge")
    shutil.copytree(ROOT / "index", d / "index")
    (d / "knowledge" / "imported.md").write_text(HOSTILE_DECK, encoding="utf-8")
    settings = Settings.from_env(knowledge=d / "knowledge", index=d / "index", data_dir=d / "data")
    tutor = Tutor(settings=settings, embedder=embedder)
    tutor.ask("what is a neural network")  # the index (with the new deck) is built here
    demo = build_app(tutor, warm=False)
    port = _free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        **launch_options(),
    )
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", tutor=tutor, demo=demo, dir=d)
    demo.close()
