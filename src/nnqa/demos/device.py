"""Pick the torch device a demo runs on: one function, one place.

Order: the ``requested`` argument, then the ``NNQA_DEVICE`` environment variable, then
``cuda`` when available, then ``mps``, then ``cpu``. Torch is imported inside the function so
that importing this module stays cheap.
"""

from __future__ import annotations

from contextlib import contextmanager

from ..errors import InputError

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

    from ..settings import Settings

    choice = requested or Settings.from_env().device
    if choice is None:
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"

    source = "device" if requested else "NNQA_DEVICE"
    kind = choice.split(":", 1)[0].lower()
    if kind not in _KINDS:
        raise InputError(f"{source} must be one of {', '.join(_KINDS)}, got {choice!r}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise InputError(f"{source}={choice!r} but CUDA is not available here; use 'cpu'")
    if kind == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise InputError(f"{source}={choice!r} but MPS is not available here; use 'cpu'")
    return choice.lower()


@contextmanager
def demo_threads(device: str):
    """Run the body with torch's CPU thread pool at ``$NNQA_DEMO_THREADS`` (default 1).

    The demos' tensors are tiny, so a second thread buys little; and when another process
    keeps the other core busy, two spinning OpenMP threads made one demo 10-15× slower in
    our measurements (cnn: 1.7 s with 1 thread, 8-30 s with 2). The previous setting is
    restored on exit. ``torch.set_num_threads`` is process-wide: concurrent demo runs in
    threads of one process share the setting.
    """
    import torch

    if not device.startswith("cpu"):
        yield
        return
    from ..settings import Settings

    n = Settings.from_env().demo_threads
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
