"""DemoResult: what one demo run hands back (figure, measured numbers, words).

Owns its plain-text reading (``__str__``, numbers as `nnqa.render` writes them) and JSON
(``to_dict``). Leaves the computing to the demo modules. Importing this module does not
import torch or matplotlib.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from typing import Any

from ..render import number


def _plain(value: Any) -> Any:
    """Numbers and lists of numbers as JSON-safe values: NaN and ±inf become None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class DemoResult:
    """One finished demo: a figure, the numbers it measured, and text reading them back."""

    name: str
    title: str
    figure: Any = field(repr=False, compare=False)  # matplotlib.figure.Figure
    metrics: dict[str, Any]  # plain floats / ints / lists of numbers, measured this run;
    # None for what did not happen (a run that never diverged), never a sentinel like -1
    text: str  # a few sentences tying the numbers to the card
    device: str  # where the tensors lived: "cpu", "cuda", "mps"
    seconds: float  # wall time of the computation and plotting
    params: dict[str, Any]  # the parameters actually used (defaults filled in)

    def __str__(self) -> str:
        lines = [self.title, "=" * len(self.title), ""]
        lines += textwrap.wrap(self.text, width=88)
        lines += ["", "Metrics:"]
        lines += [f"  {k}: {number(v)}" for k, v in self.metrics.items()]
        ps = ", ".join(f"{k}={v}" for k, v in self.params.items())
        lines += ["", f"({self.name} on {self.device} in {self.seconds:.2f} s; {ps})"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able data (no figure). Non-finite floats (a diverged loss) become None."""
        return {
            "name": self.name,
            "title": self.title,
            "metrics": _plain(self.metrics),
            "text": self.text,
            "device": self.device,
            "seconds": self.seconds,
            "params": _plain(self.params),
        }

    def save_figure(self, path: str, dpi: int = 110) -> str:
        """Write the figure as PNG to ``path`` and return the path."""
        self.figure.savefig(path, format="png", dpi=dpi, bbox_inches="tight")
        return str(path)
