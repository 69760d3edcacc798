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


NARROW_WIDTH = 4.6  # inches: a panel at most this wide keeps its text readable on a phone


def narrowed(figure: Figure, max_width: float = NARROW_WIDTH) -> Figure:
    """A copy of `figure` laid out for a narrow screen (a phone), or `figure` itself.

    Three 3.8-inch panels in a row make an 11-inch image that a 390-pixel screen shrinks to
    a quarter, text and all. Panels that fill one row of one grid are stacked one under
    another, and a figure (or stacked panel) wider than `max_width` inches is drawn narrower
    (the text keeps its point size, so it grows relative to the image). A figure laid out any
    other way (panels in several rows, images in sub-grids) is returned as it is. The
    original is never changed (the copy is a `copy.deepcopy`, which matplotlib supports).
    """
    import copy as copying

    panels = [ax for ax in figure.axes if ax.get_subplotspec() is not None]
    grids = {id(ax.get_subplotspec().get_gridspec()) for ax in panels}
    n = len(panels)
    if n < 1 or len(grids) != 1 or panels[0].get_subplotspec().get_geometry()[:2] != (1, n):
        return figure
    width, height = figure.get_size_inches()
    if n == 1 and width <= max_width:
        return figure
    copy = copying.deepcopy(figure)
    FigureCanvasAgg(copy)
    panels = [ax for ax in copy.axes if ax.get_subplotspec() is not None]
    grid = copy.add_gridspec(n, 1)
    for i, ax in enumerate(sorted(panels, key=lambda a: a.get_subplotspec().colspan.start)):
        ax.set_subplotspec(grid[i, 0])
    panel = width / n
    scale = min(1.0, max_width / panel)
    copy.set_size_inches(panel * scale, max(height * scale, min(height, 3.0)) * n)
    return copy
