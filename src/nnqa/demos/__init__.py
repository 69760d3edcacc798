"""Runnable PyTorch demos, each found by name; apart from the tutor.

Which cards a demo illustrates is data beside the deck (``knowledge/*.links.json``, read by
``nnqa.decks.links``), so any deck can link one. Imports only ``nnqa.settings``.
Light on import: ``list_demos`` and ``get_spec`` never import torch or matplotlib;
``run_demo`` imports a demo's module (and torch) only when it runs;
``run_demo_limited`` runs it in a worker process under a time limit (the web app's way).

>>> from nnqa.demos import get_spec
>>> get_spec("exploding_gradients").title.split(":")[0]
'Exploding gradients'
"""

from .device import pick_device
from .limits import run_demo_limited
from .registry import (
    DEMOS,
    DemoSpec,
    Param,
    UnknownDemoError,
    get_spec,
    list_demos,
    run_demo,
)
from .result import DemoResult

__all__ = [
    "DEMOS",
    "DemoResult",
    "DemoSpec",
    "Param",
    "UnknownDemoError",
    "get_spec",
    "list_demos",
    "pick_device",
    "run_demo",
    "run_demo_limited",
]
