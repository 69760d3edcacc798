"""Progress: a learner's reviews over time, from the progress store, as numbers and as a picture.

`progress()` reads the store and returns a `Progress`: reviews per day, retention per week
(share of reviews not rated Again), the due forecast (cards falling due on each of the next
30 days; overdue cards count today) and each card's history (when reviewed, how rated).
`progress_figure()` draws those four panels with matplotlib (no pyplot: no global state,
safe in a server); `save_progress_png()` writes them as one PNG, whole or not at all. Days
are UTC days, as the store keeps its times.

Leaves out: scheduling (see `quiz`), the file (see `store`), showing the picture (the CLI's
``nnqa stats --plot`` and, later, the web app call `progress_figure` or `progress_png`).
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from ..files import atomic_write
from ..render import RATING_NAMES
from .store import Store, utc

__all__ = [
    "CardHistory",
    "Progress",
    "progress",
    "progress_figure",
    "progress_png",
    "save_progress_png",
    "FORECAST_DAYS",
    "PLOT_SIZE",
]

FORECAST_DAYS = 30  # days ahead the due forecast covers
PLOT_SIZE = (12.0, 9.0)  # inches; at PLOT_DPI a 1200 x 900 pixel PNG
PLOT_DPI = 100
_CARDS_SHOWN = 15  # card histories drawn (the most reviewed)
_RATING_COLOURS = {1: "#d62728", 2: "#ff7f0e", 3: "#2ca02c", 4: "#1f77b4"}  # Again..Easy


@dataclass(frozen=True)
class CardHistory:
    """One card's reviews in order: (when, ISO 8601 UTC; rating 1 Again .. 4 Easy)."""

    card_id: str
    front: str
    reviews: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Progress:
    """A learner's progress as series a person can plot or read."""

    learner: str
    today: str  # ISO date (UTC) the forecast starts from
    per_day: tuple[tuple[str, int, int], ...]  # (ISO date, reviews, of which not Again)
    retention: tuple[tuple[str, int, float], ...]  # (ISO Monday, reviews, share not Again)
    forecast: tuple[tuple[str, int], ...]  # (ISO date, cards due that day), today first
    cards: tuple[CardHistory, ...]  # most reviewed first

    def __str__(self) -> str:
        total = sum(n for _, n, _ in self.per_day)
        lines = [f"{self.learner}: {total} reviews on {len(self.per_day)} days"]
        if self.retention:
            week, n, share = self.retention[-1]
            lines.append(f"retention in the week of {week}: {share:.0%} of {n} reviews")
        week_due = sum(n for _, n in self.forecast[:7])
        today_due = self.forecast[0][1] if self.forecast else 0
        lines.append(f"due: {today_due} today, {week_due} in the next 7 days")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "learner": self.learner,
            "today": self.today,
            "per_day": [{"day": d, "reviews": n, "passed": p} for d, n, p in self.per_day],
            "retention": [{"week": w, "reviews": n, "retention": r} for w, n, r in self.retention],
            "forecast": [{"day": d, "due": n} for d, n in self.forecast],
            "cards": [
                {"card_id": c.card_id, "front": c.front,
                 "reviews": [{"at": t, "rating": RATING_NAMES[r]} for t, r in c.reviews]}
                for c in self.cards
            ],
        }  # fmt: skip


def _day(stamp: str) -> date:
    return utc(datetime.fromisoformat(stamp)).date()


def progress(
    store: Store,
    learner: str,
    now: datetime | None = None,
    cards=None,
    days_ahead: int = FORECAST_DAYS,
) -> Progress:
    """A learner's progress from the store.

    Args:
        now: the moment the forecast starts from (default: now, UTC).
        cards: the current cards (`Card`s): the forecast counts only these, and the
            histories are named by their fronts (default: every scheduled card, by id).
        days_ahead: days the forecast covers, today included.
    Returns:
        the `Progress`.

    >>> print(progress(Store("/tmp/p.sqlite3"), "ana"))   # doctest: +SKIP
    ana: 42 reviews on 5 days
    retention in the week of 2025-01-06: 88% of 25 reviews
    due: 3 today, 17 in the next 7 days
    """
    today = utc(now or datetime.now(timezone.utc)).date()
    fronts = None if cards is None else {c.id: c.front for c in cards}
    log = store.reviews(learner)

    days: dict[date, list[int]] = {}
    weeks: dict[date, list[int]] = {}
    history: dict[str, list[tuple[str, int]]] = {}
    for r in log:
        d = _day(r.reviewed_at)
        passed = int(r.rating != 1)  # anything but Again was recalled
        for bucket, key in ((days, d), (weeks, d - timedelta(days=d.weekday()))):
            counts = bucket.setdefault(key, [0, 0])
            counts[0] += 1
            counts[1] += passed
        history.setdefault(r.card_id, []).append((r.reviewed_at, r.rating))

    due = Counter()
    for cid, row in store.schedule(learner).items():
        if fronts is not None and cid not in fronts:
            continue
        due[max(_day(row["due"]), today)] += 1  # overdue cards are due today
    forecast = tuple(
        ((today + timedelta(days=i)).isoformat(), due[today + timedelta(days=i)])
        for i in range(days_ahead)
    )
    shown = sorted(history.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return Progress(
        learner=learner,
        today=today.isoformat(),
        per_day=tuple((d.isoformat(), n, p) for d, (n, p) in sorted(days.items())),
        retention=tuple((w.isoformat(), n, p / n) for w, (n, p) in sorted(weeks.items())),
        forecast=forecast,
        cards=tuple(CardHistory(cid, (fronts or {}).get(cid, cid), tuple(h)) for cid, h in shown),
    )


def progress_figure(p: Progress, desired_retention: float | None = None):
    """The four panels as a `matplotlib.figure.Figure` (reviews per day, retention per week,
    due forecast, card histories); `desired_retention` draws the target as a dashed line."""
    import matplotlib.dates as mdates
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    def dates(isos):
        return [date.fromisoformat(s) for s in isos]

    def empty(ax, text):
        ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_xticks([])
        ax.set_yticks([])

    with rc_context({"font.size": 12, "axes.titlesize": 14, "axes.titleweight": "bold"}):
        fig = Figure(figsize=PLOT_SIZE, dpi=PLOT_DPI, layout="constrained")
        fig.suptitle(f"Progress of {p.learner}", fontsize=16)
        (ax_days, ax_ret), (ax_due, ax_cards) = fig.subplots(2, 2)

        ax_days.set_title("Reviews per day")
        if p.per_day:
            x = dates(d for d, _, _ in p.per_day)
            passed = [k for _, _, k in p.per_day]
            again = [n - k for _, n, k in p.per_day]
            ax_days.bar(x, passed, color=_RATING_COLOURS[3], label="recalled")
            ax_days.bar(x, again, bottom=passed, color=_RATING_COLOURS[1], label="Again")
            ax_days.legend(loc="upper left")
            ax_days.set_ylabel("reviews")
        else:
            empty(ax_days, "no reviews yet")

        ax_ret.set_title("Retention per week (not Again)")
        if p.retention:
            x = dates(w for w, _, _ in p.retention)
            ax_ret.plot(x, [r for _, _, r in p.retention], marker="o", color="#1f77b4")
            if desired_retention is not None:
                ax_ret.axhline(desired_retention, ls="--", color="grey", label="desired")
                ax_ret.legend(loc="lower left")
            ax_ret.set_ylim(0, 1.02)
            ax_ret.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        else:
            empty(ax_ret, "no reviews yet")

        ax_due.set_title(f"Due in the next {len(p.forecast)} days")
        x = dates(d for d, _ in p.forecast)
        ax_due.bar(x, [n for _, n in p.forecast], color="#9467bd")
        ax_due.set_xticks(x[:: max(1, len(x) // 6)])  # every 5th day: no "Nov 29Dec 01" pile-up
        ax_due.set_ylabel("cards due")

        ax_cards.set_title("Card histories (most reviewed)")
        shown = p.cards[:_CARDS_SHOWN]
        if shown:
            for rating, colour in _RATING_COLOURS.items():  # Again on top: a lapse shows
                points = [
                    (utc(datetime.fromisoformat(t)), row)
                    for row, card in enumerate(shown)
                    for t, r in card.reviews
                    if r == rating
                ]
                ax_cards.scatter([t for t, _ in points], [y for _, y in points], s=36, c=colour,
                                 zorder=6 - rating, label=RATING_NAMES[rating])  # fmt: skip
            ax_cards.set_yticks(range(len(shown)))
            ax_cards.set_yticklabels([_short(c.front) for c in shown], fontsize=10)
            ax_cards.set_ylim(len(shown) + 0.6, -0.7)  # top row first; room for the legend
            ax_cards.legend(loc="lower center", ncols=4, fontsize=10, borderpad=0.3)
        else:
            empty(ax_cards, "no reviews yet")

        span = sorted(date.fromisoformat(d) for d in [d for d, _, _ in p.per_day]
                      + [w for w, _, _ in p.retention])  # fmt: skip
        if span and span[-1] - span[0] < timedelta(days=7):
            # the first days of reviews: a week or so around them, not hours or years
            lo, hi = mdates.date2num(span[0]) - 1, mdates.date2num(span[-1]) + 2
            pad = max(0.0, 8 - (hi - lo)) / 2
            for ax in (ax_days, ax_ret, ax_cards):
                ax.set_xlim(lo - pad, hi + pad)
                ax.xaxis.set_major_locator(mdates.DayLocator(interval=2))
        for ax in (ax_days, ax_due):
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole reviews and cards
        for ax in (ax_days, ax_ret, ax_due, ax_cards):
            if ax.has_data():
                ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
                ax.tick_params(axis="x", labelrotation=30)
                ax.grid(alpha=0.3)
    return fig


def _short(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def progress_png(p: Progress, desired_retention: float | None = None) -> bytes:
    """The picture as PNG bytes (`PLOT_SIZE` at `PLOT_DPI`: 1200 x 900 pixels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = progress_figure(p, desired_retention)
    FigureCanvasAgg(fig)  # the Agg canvas: no display, no pyplot
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PLOT_DPI)
    return buf.getvalue()


def save_progress_png(
    p: Progress, path: str | Path, desired_retention: float | None = None
) -> Path:
    """Write the picture to `path` whole or not at all (a temp file beside it, then a rename)."""
    path = Path(path)
    atomic_write(path, progress_png(p, desired_retention))
    return path
