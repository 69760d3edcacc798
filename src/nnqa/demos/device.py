"""Pick the torch device a demo runs on: one function, one place.

Order: the ``requested`` argument, then the ``NNQA_DEVICE`` environment variable, then
``cuda`` when available, then ``mps``, then ``cpu``. Torch is imported inside the function so
that importing this module stays cheap.
"""

from __future__ import annotations

import os

ENV_VAR = "NNQA_DEVICE"
_KINDS = ("cpu", "cuda", "mps")


def pick_device(requested: str | None = None) -> str:
    """Return the device string a demo should use.

    Takes an explicit device ("cpu", "cuda", "cuda:1", "mps") or None; None falls back to
    $NNQA_DEVICE, then the best available. Raises ValueError for an unknown kind or one that
    is not available on this machine.

    >>> pick_device("cpu")
    'cpu'
    """
    import torch

    choice = requested if requested else os.environ.get(ENV_VAR, "").strip() or None
    if choice is None:
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"

    source = "device" if requested else ENV_VAR
    kind = choice.split(":", 1)[0].lower()
    if kind not in _KINDS:
        raise ValueError(f"{source} must be one of {', '.join(_KINDS)}, got {choice!r}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{source}={choice!r} but CUDA is not available here; use 'cpu'")
    if kind == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise ValueError(f"{source}={choice!r} but MPS is not available here; use 'cpu'")
    return choice.lower()
