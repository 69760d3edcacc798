"""Optimise: a learner's own FSRS parameters, fitted to their review log, as Anki does.

Turns one learner's review log (see `store`) into `fsrs.ReviewLog`s, fits the scheduler's
parameters with `fsrs.Optimizer` (torch, gradient descent on the log loss of predicted
recall), and measures the log loss of FSRS's default parameters and of the fitted ones on
the same log. The fitted parameters are kept for that learner (and used by every later
`Quiz`) only when they lower the log loss; otherwise the defaults stay.

The log loss is the one `fsrs.Optimizer` minimises: binary cross-entropy between the
predicted retrievability of a card when it is reviewed and whether it was recalled (any
rating but Again), over each card's first 64 reviews, counting only reviews on a later
day than the card's previous one (same-day learning steps say little about memory).

Leaves out: when a card is due (see `quiz`), the file (see `store`), and picking a desired
retention (see `settings.desired_retention`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from ..errors import InputError
from .store import FittedParameters, LoggedReview, Store

__all__ = [
    "FSRS_FITS_FROM",
    "MIN_REVIEWS",
    "NotEnoughReviews",
    "Optimisation",
    "log_loss",
    "optimise",
    "review_logs",
]

MIN_REVIEWS = 400  # reviews before fitting is worth it (Anki's advice for its optimiser)
FSRS_FITS_FROM = 512  # fsrs.Optimizer returns its defaults below this many counted reviews
_MAX_SEQ = 64  # fsrs.Optimizer reads each card's first 64 reviews
_EPS = 1e-15  # keeps log() finite for a prediction of exactly 0 or 1


class NotEnoughReviews(InputError):
    """Too few reviews in a learner's log to fit parameters worth trusting."""


@dataclass(frozen=True)
class Optimisation:
    """One fit: how many reviews, the log loss before (defaults) and after, and whether kept."""

    learner: str
    reviews: int  # reviews in the log
    counted: int  # of which the log loss counts (a later day than the card's last review)
    loss_before: float  # log loss of FSRS's default parameters on the log
    loss_after: float  # log loss of the fitted parameters on the same log
    kept: bool  # the fitted parameters lowered the log loss and are now the learner's
    parameters: tuple[float, ...]  # the fitted parameters (kept or not)
    seconds: float  # time the fit took

    def __str__(self) -> str:
        verdict = (
            "kept: the fitted parameters now schedule this learner's reviews"
            if self.kept
            else "not kept: the fitted parameters do not predict this log better, "
            "so the defaults stay"
        )
        if not self.kept and self.counted < FSRS_FITS_FROM:
            verdict += (f" (fsrs fits only from {FSRS_FITS_FROM} reviews on a later day than "
                        "the card's previous one; below that it returns its defaults)")  # fmt: skip
        return (
            f"{self.learner}: {self.reviews} reviews ({self.counted} on a later day than the "
            f"card's previous review)\n"
            f"log loss with the default parameters: {self.loss_before:.4f}\n"
            f"log loss with the fitted parameters:  {self.loss_after:.4f}\n"
            f"{verdict} (fitted in {self.seconds:.1f} s)"
        )

    def to_dict(self) -> dict:
        return {
            "learner": self.learner,
            "reviews": self.reviews,
            "counted": self.counted,
            "loss_before": self.loss_before,
            "loss_after": self.loss_after,
            "kept": self.kept,
            "parameters": list(self.parameters),
            "seconds": self.seconds,
        }


def review_logs(reviews: list[LoggedReview]) -> list:
    """The review log as `fsrs.ReviewLog`s; card ids become 1, 2, ... in order of first review.

    >>> review_logs([])
    []
    """
    from fsrs import Rating, ReviewLog

    ids: dict[str, int] = {}
    logs = []
    for r in reviews:
        cid = ids.setdefault(r.card_id, len(ids) + 1)  # fsrs orders cards by id: first seen
        when = datetime.fromisoformat(r.reviewed_at)
        when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when
        logs.append(ReviewLog(cid, Rating(r.rating), when, r.duration_ms))
    return logs


def log_loss(logs: list, parameters=None) -> tuple[float, int]:
    """The log loss of FSRS with `parameters` (default: FSRS's own) on `fsrs.ReviewLog`s, and
    how many reviews it counts (see the module docstring; the same as `fsrs.Optimizer`'s).

    Returns (nan, 0) when no review counts.
    """
    from fsrs import Card, Scheduler

    kwargs = {} if parameters is None else {"parameters": list(parameters)}
    scheduler = Scheduler(**kwargs, enable_fuzzing=False)
    by_card: dict[int, list] = {}
    for log in logs:
        by_card.setdefault(log.card_id, []).append(log)
    total, counted = 0.0, 0
    for cid in sorted(by_card):
        history = sorted(by_card[cid], key=lambda g: g.review_datetime)[:_MAX_SEQ]
        card = Card(card_id=cid, due=history[0].review_datetime)
        for log in history:
            when = log.review_datetime
            if card.last_review and (when - card.last_review).days > 0:
                p = float(scheduler.get_card_retrievability(card, when))
                p = min(max(p, _EPS), 1 - _EPS)
                recalled = log.rating != 1
                total -= math.log(p) if recalled else math.log(1 - p)
                counted += 1
            card, _ = scheduler.review_card(card, log.rating, when)
    return (total / counted if counted else float("nan")), counted


def optimise(
    store: Store,
    learner: str,
    min_reviews: int = MIN_REVIEWS,
    now: datetime | None = None,
) -> Optimisation:
    """Fit `learner`'s FSRS parameters to their review log; keep them if they lower the log loss.

    Args:
        store: the progress file holding the log (the fitted parameters are written there).
        min_reviews: refuse below this many reviews (`MIN_REVIEWS`; tests pass fewer).
        now: when the fit is recorded (default: now, UTC).
    Returns:
        the `Optimisation`: log loss before and after, and whether the parameters were kept.
    Raises:
        NotEnoughReviews: fewer than `min_reviews` reviews (nothing is written).

    >>> print(optimise(Store("/tmp/p.sqlite3"), "ana"))   # doctest: +SKIP
    ana: 1601 reviews (1003 on a later day than the card's previous review)
    log loss with the default parameters: 0.4955
    log loss with the fitted parameters:  0.4747
    kept: the fitted parameters now schedule this learner's reviews (fitted in 8.9 s)
    """
    reviews = store.reviews(learner)
    if len(reviews) < min_reviews:
        raise NotEnoughReviews(
            f"{learner!r} has {len(reviews)} reviews; fitting FSRS parameters needs at least "
            f"{min_reviews} (until then the default parameters schedule the reviews)"
        )
    from fsrs import Optimizer  # imports torch: seconds, so only once there is work to do

    logs = review_logs(reviews)
    start = time.perf_counter()
    fitted = tuple(float(p) for p in Optimizer(logs).compute_optimal_parameters())
    seconds = time.perf_counter() - start
    before, counted = log_loss(logs)
    after, _ = log_loss(logs, fitted)
    kept = after < before  # fsrs returns its defaults unchanged below 512 counted reviews
    if kept:
        when = (now or datetime.now(timezone.utc)).isoformat()
        store.set_parameters(learner, FittedParameters(fitted, len(reviews), before, after, when))
    return Optimisation(learner, len(reviews), counted, before, after, kept, fitted, seconds)
