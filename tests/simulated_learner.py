"""A simulated learner for the FSRS tests: reviews scheduled by FSRS's defaults, remembered
by FSRS with other ("true") parameters, written into a real progress store.

Each day at a random minute past 9:00 UTC the learner reviews every card due (the app's
schedule: FSRS defaults, no fuzz) and up to `new_per_day` new cards; a learning step due
within the hour is taken the same day. Whether a card is recalled is drawn from the true
parameters' retrievability; a recalled card is rated Hard, Good or Easy (15/75/10 %).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from fsrs import Card, Rating, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS

from nnqa.study.store import LoggedReview, Store

START = datetime(2025, 1, 1, 9, tzinfo=timezone.utc)

# A learner who forgets new cards faster than FSRS's default one and gains less stability
# from each recall (initial stabilities w0..w3 and the recall-stability factor w8 lowered).
TRUE_PARAMETERS = list(DEFAULT_PARAMETERS)
TRUE_PARAMETERS[0:4] = [0.05, 0.3, 0.8, 3.0]
TRUE_PARAMETERS[8] = 1.2

_VERDICT = {1: "incorrect", 2: "partial", 3: "correct", 4: "correct"}


def simulate(
    store: Store,
    learner: str = "ana",
    true_parameters=TRUE_PARAMETERS,
    seed: int = 7,
    cards: int = 50,
    days: int = 90,
    new_per_day: int = 5,
) -> int:
    """Write the simulated review log into `store` (one transaction); returns its length."""
    rng = random.Random(seed)
    app = Scheduler(enable_fuzzing=False)
    truth = Scheduler(parameters=true_parameters, enable_fuzzing=False)
    state: dict[int, tuple[Card, Card]] = {}  # card -> (the app's card, the learner's memory)
    added = 0
    log: list[LoggedReview] = []
    for day in range(days):
        now = START + timedelta(days=day, minutes=rng.randrange(120))
        queue = [c for c, (a, _) in state.items() if a.due <= now]
        for _ in range(new_per_day):
            if added < cards:
                state[added] = (Card(card_id=added + 1, due=now), Card(card_id=added + 1, due=now))
                queue.append(added)
                added += 1
        while queue:
            c = queue.pop(0)
            before, memory = state[c]
            p = truth.get_card_retrievability(memory, now) if memory.last_review else 0.0
            if rng.random() < p:
                rating = rng.choices([Rating.Hard, Rating.Good, Rating.Easy], [15, 75, 10])[0]
            else:
                rating = Rating.Again
            after, _ = app.review_card(before, rating, now)
            memory, _ = truth.review_card(memory, rating, now)
            state[c] = (after, memory)
            verdict = _VERDICT[int(rating)]
            log.append(
                LoggedReview(
                    0, learner, f"card-{c:03d}", "typed", verdict, 0.5, verdict, None,
                    int(rating), now.isoformat(), after.due.isoformat(),
                    None if before.last_review is None else before.to_json(), after.to_json(),
                    rng.randrange(2_000, 20_000),
                )
            )  # fmt: skip
            now += timedelta(seconds=rng.randrange(5, 40))
            if after.due <= now + timedelta(hours=1):  # a learning step: again today
                now = max(now, after.due)
                queue.append(c)
    store.record_many(log)  # one transaction
    return len(log)
