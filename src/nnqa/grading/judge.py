"""The answer judge: a cross-encoder that reads (question + reference, answer) and says whether
the answer is correct, partial, contradictory or irrelevant.

It is all-MiniLM-L6-v2 (the bundled embedding model) fine-tuned as a sequence classifier on
public data (SemEval-2013 Task 7 training split, SNLI, cards of unrelated decks and generic
English edits of them); `training/train_grader.py` rebuilds it and `judge_model/MODEL_CARD.md`
says how, on what, and how well. Only the weights fine-tuning changed are shipped (fp16);
the word embeddings come from the bundled model, whose hash is checked at load.

Owns loading the judge and scoring pairs. Leaves out: splitting references into key points
(`keypoints`) and turning probabilities into a verdict (`grader`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np

__all__ = ["LABELS", "Judge", "JudgeError", "format_pair", "JUDGE_DIR"]

LABELS = ("correct", "partial", "contradictory", "irrelevant")
JUDGE_DIR = Path(__file__).with_name("judge_model")
FORMAT = 1  # judge.json's format version


class JudgeError(RuntimeError):
    """The judge's weights are missing, damaged or do not fit the base model."""


def format_pair(question: str, reference: str, answer: str) -> tuple[str, str]:
    """The two texts the cross-encoder reads: (question | reference, answer).

    Training and grading both go through here, so the model sees one format.
    """
    question, reference = (question or "").strip(), (reference or "").strip()
    first = f"{question} | {reference}" if question else reference
    return first, (answer or "").strip()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Judge:
    """Scores (question, reference, answer) triples with the fine-tuned cross-encoder.

    Args:
        base: folder of the bundled all-MiniLM-L6-v2 (config, tokenizer, safetensors).
        folder: the judge's folder (judge.json + weights.safetensors).
        threads: torch threads (1 keeps serving fast when the other core is busy).
    Raises:
        JudgeError: the weights are missing or were trained on another base model.

    >>> j = Judge(bundled_model_path())                                   # doctest: +SKIP
    >>> j.probabilities([("", "The terminals are connected", "They are not connected")])  # doctest: +SKIP
    array([[0.02, 0.03, 0.93, 0.02]], dtype=float32)   # (n, 4): LABELS order
    """

    def __init__(self, base: str | Path, folder: Path = JUDGE_DIR, threads: int = 1):
        self.base, self.folder, self.threads = Path(base), Path(folder), threads
        try:
            self.meta = json.loads((self.folder / "judge.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise JudgeError(f"cannot read the judge's settings in {self.folder}: {e}") from None
        if self.meta.get("format") != FORMAT:
            raise JudgeError(f"{self.folder}/judge.json has format {self.meta.get('format')!r}, "
                             f"this nnqa reads format {FORMAT}")  # fmt: skip
        self.max_length = int(self.meta.get("max_length", 256))
        # (3, n features): a logistic regression from the judge's and the embedding model's
        # outputs to correct / partial / incorrect, fitted by training/fit_grader.py
        fit = self.meta.get("combiner")
        self.combiner = np.array(fit["weights"], dtype=np.float64) if fit else None
        self.combiner_features = tuple(fit["features"]) if fit else ()
        self.cut_offs = dict(fit.get("cut_offs", {})) if fit else {}  # correct_at, partial_at
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self):
        import torch
        from safetensors.torch import load_file
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        base_weights = self.base / "model.safetensors"
        want = self.meta.get("base_sha256")
        if want and base_weights.exists() and file_sha256(base_weights) != want:
            raise JudgeError(
                f"the judge was fine-tuned from another base model than {self.base} "
                "(its model.safetensors hash differs); retrain with training/train_grader.py"
            )
        import warnings

        from transformers.utils import logging as hf_logging

        torch.set_num_threads(self.threads)
        hf_logging.set_verbosity_error()  # the head is "missing" from the base: it is ours
        hf_logging.disable_progress_bar()
        model = AutoModelForSequenceClassification.from_pretrained(
            str(self.base), num_labels=len(LABELS)
        )
        try:
            tuned = load_file(str(self.folder / "weights.safetensors"))
        except Exception as e:  # safetensors raises its own error types
            raise JudgeError(f"cannot read {self.folder}/weights.safetensors: {e}") from None
        missing = set(tuned) - set(model.state_dict())
        if missing:
            raise JudgeError(f"the judge's weights name unknown tensors: {sorted(missing)[:3]}")
        model.load_state_dict({k: v.float() for k, v in tuned.items()}, strict=False)
        model.eval()
        # int8 matrix multiplies: about twice as fast on a CPU, within a point of fp32
        if self.meta.get("int8", True):
            with warnings.catch_warnings():  # torch marks its eager int8 API deprecated
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(
                    model, {torch.nn.Linear}, dtype=torch.qint8
                )
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.base))
        self._model = model

    def probabilities(self, triples: list[tuple[str, str, str]]) -> np.ndarray:
        """(n, 4) probabilities of LABELS for each (question, reference, answer), rows sum to 1."""
        if not triples:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        with self._lock:
            if self._model is None:
                self._load()
            import torch

            firsts, seconds = zip(*(format_pair(*t) for t in triples), strict=True)
            enc = self._tokenizer(list(firsts), list(seconds), padding=True, truncation=True,
                                  max_length=self.max_length, return_tensors="pt")  # fmt: skip
            with torch.inference_mode():
                logits = self._model(**enc).logits  # (n, 4)
            return torch.softmax(logits.float(), dim=-1).numpy()
