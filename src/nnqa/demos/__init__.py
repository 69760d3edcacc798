"""Runnable PyTorch demos tied to the flashcards they illustrate.

Light on import: ``list_demos`` and ``demos_for_card`` never import torch or matplotlib;
``run_demo`` imports a demo's module (and torch) only when it runs;
``run_demo_limited`` runs it in a worker process under a time limit (the web app's way).

>>> from nnqa.demos import demos_for_card, run_demo
>>> demos_for_card("Exploding Gradient")
['exploding_gradients']
"""

from .device import pick_device
from .limits import run_demo_limited
from .registry import (
    CARD_FRONTS,
    DEMOS,
    DemoSpec,
    Param,
    UnknownDemoError,
    demos_for_card,
    get_spec,
    list_demos,
    run_demo,
)
from .result import DemoResult

__all__ = [
    "CARD_FRONTS",
    "DEMOS",
    "DemoResult",
    "DemoSpec",
    "Param",
    "UnknownDemoError",
    "demos_for_card",
    "get_spec",
    "list_demos",
    "pick_device",
    "run_demo",
    "run_demo_limited",
]
