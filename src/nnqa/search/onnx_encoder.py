"""Sentence vectors from an ONNX export, with ONNX Runtime and `tokenizers`: no torch.

Runs what `onnx_export` wrote: the tokenizer sentence-transformers uses (truncated to the
model's `max_seq_length`, padded to the longest text of a batch), the transformer as an ONNX
graph, then mean pooling over real tokens and L2 normalisation, as sentence-transformers'
`Pooling(mean)` and `Normalize` modules compute them. Importing this module costs nothing;
loading an export imports onnxruntime and tokenizers (about 0.1 s) and maps the graph
(about 0.15 s for MiniLM).
Leaves out: making and checking exports (`onnx_export`) and choosing between ONNX Runtime
and sentence-transformers (`embeddings`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["OnnxEncoder", "mean_pool", "EXPORT_FORMAT"]

EXPORT_FORMAT = 1  # export.json's format version (onnx_export writes it, this reads it)


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Unit mean of each text's real tokens, as sentence-transformers pools and normalises.

    Args:
        hidden: (n, seq, dim) token vectors.
        mask: (n, seq) 1 for a real token, 0 for padding.
    Returns:
        (n, dim) float32 rows of length 1 (a zero row stays zero).

    >>> h = np.array([[[3.0, 0.0], [0.0, 4.0], [9.0, 9.0]]], dtype=np.float32)
    >>> mean_pool(h, np.array([[1, 1, 0]]))
    array([[0.6, 0.8]], dtype=float32)
    """
    m = mask.astype(np.float32)[:, :, None]  # (n, seq, 1)
    summed = (hidden.astype(np.float32) * m).sum(axis=1)  # (n, dim)
    mean = summed / np.maximum(m.sum(axis=1), 1e-9)  # torch.clamp(min=1e-9) in Pooling
    norm = np.linalg.norm(mean, axis=1, keepdims=True)  # F.normalize: eps 1e-12
    return (mean / np.maximum(norm, 1e-12)).astype(np.float32)


class OnnxEncoder:
    """An ONNX export of a sentence-transformers model, loaded into ONNX Runtime.

    Args:
        folder: an export folder (model.onnx, tokenizer.json, export.json; see `onnx_export`).
        threads: ONNX Runtime's intra-op threads (1 keeps answers fast when cores are busy).
    Raises:
        ValueError: export.json is unreadable or of another format.
        Exception: whatever onnxruntime or tokenizers raise for a damaged file (the caller,
            `embeddings.Embedder`, turns any of them into a notice and sentence-transformers).

    >>> enc = OnnxEncoder(folder)                       # doctest: +SKIP
    >>> enc.encode(["what is relu", ""]).shape           # doctest: +SKIP
    (2, 384)
    """

    def __init__(self, folder: Path, threads: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        meta = json.loads((self.folder / "export.json").read_text(encoding="utf-8"))
        if meta.get("format") != EXPORT_FORMAT:
            raise ValueError(f"export format {meta.get('format')!r}, not {EXPORT_FORMAT}")
        self.meta = meta
        self.dim = int(meta["dim"])
        self.lower_case = bool(meta.get("lower_case", False))
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, int(threads))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: no warnings in the CLI's output
        self.session = ort.InferenceSession(
            str(self.folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self.session.get_inputs()]
        tok = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        # what sentence-transformers asks of its tokenizer: truncate to max_seq_length (special
        # tokens included), pad each batch to its longest text
        tok.enable_truncation(int(meta["max_seq_length"]))
        tok.enable_padding(pad_id=int(meta["pad_id"]), pad_token=meta["pad_token"])
        self.tokenizer = tok

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Unit vectors for texts, shape (n, dim) float32, in the order given.

        Texts are run longest first in batches of `batch_size` (as sentence-transformers
        does), so each batch pads to similar lengths.
        """
        texts = [t.lower() for t in texts] if self.lower_case else list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self._run([texts[i] for i in chunk])
        return out

    def _run(self, texts: list[str]) -> np.ndarray:
        encs = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encs], dtype=np.int64)  # (b, seq)
        mask = np.array([e.attention_mask for e in encs], dtype=np.int64)  # (b, seq)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.array([e.type_ids for e in encs], dtype=np.int64)
        (hidden,) = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})
        return mean_pool(hidden, mask)  # (b, dim)
