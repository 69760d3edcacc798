"""Figures for demos: a matplotlib Figure on the Agg canvas, no pyplot and no display.

Using ``Figure`` directly (not ``pyplot``) keeps no global figure list, so many demo runs in a
web app do not leak memory, and nothing ever tries to open a window.
"""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.4):
    """A Figure with an ``nrows × ncols`` grid of axes; returns (figure, axes as a flat list)."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, [ax for row in axes for ax in row]
