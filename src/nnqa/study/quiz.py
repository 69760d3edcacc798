"""Quiz: spaced-repetition review sessions over the deck, one learner at a time.

Picks the next card (due cards first, failed before passed, then new cards in deck order),
grades the typed answer, turns the verdict into an FSRS rating and stores the review.
Verdict to rating (documented in `rating_for`):

    incorrect -> Again    partial -> Hard    correct -> Good    correct, score >= 0.9 -> Easy

A learner may overrule a verdict ("I was right" -> Good, "I was wrong" -> Again); the
scheduler then uses the override, and the machine's verdict stays in the log beside it.

Anki's review screen in two steps: `check` grades a typed answer and previews when the card
would be due after each rating (`Checked`; nothing is recorded), `commit` records the review
with the rating the learner pressed (the grader's suggestion, or their own). `answer` does
both at once with the grader's rating (the CLI and the chat). `counts` gives the session's
new / learning / due numbers.

Leaves out: the grading itself (see `grading`), the file format (see `store`), the CLI's
argument parsing (see `cli`, which calls `run_terminal_quiz` and prints `Stats`).
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from ..decks.cards import Card, find_card
from ..errors import InputError, NotFound
from ..grading import Grade, Grader, recalibrate
from ..render import RATING_NAMES, checked_text, due_phrase, review_text
from ..settings import Settings, retention
from .store import LoggedReview, Store, utc

__all__ = [
    "Quiz", "Checked", "Counts", "Review", "Stats", "rating_for", "run_terminal_quiz",
    "EASY_AT",
]  # fmt: skip

EASY_AT = 0.9  # a correct answer scoring this high is rated Easy
MIN_OVERRIDES = 20  # overrules of the grader before a learner's own cut-offs are fitted


def rating_for(verdict: str, score: float) -> int:
    """The FSRS rating (1 Again, 2 Hard, 3 Good, 4 Easy) for a verdict and its score."""
    if verdict == "correct":
        return 4 if score >= EASY_AT else 3
    return 2 if verdict == "partial" else 1


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Review:
    """One answered card: the grade, the rating the scheduler used and when it is due next."""

    id: int
    learner: str
    card_id: str
    front: str
    grade: Grade
    rating: int
    due: datetime
    reviewed_at: datetime
    machine_verdict: str
    override: str | None = None  # the learner's "correct" / "incorrect", if they overruled

    @property
    def verdict(self) -> str:
        return self.override or self.grade.verdict

    def __str__(self) -> str:
        return review_text(self)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "learner": self.learner,
            "card_id": self.card_id,
            "front": self.front,
            "verdict": self.verdict,
            "machine_verdict": self.machine_verdict,
            "override": self.override,
            "rating": RATING_NAMES[self.rating],
            "due": self.due.isoformat(),
            "reviewed_at": self.reviewed_at.isoformat(),
            "grade": self.grade.to_dict(),
        }


@dataclass(frozen=True)
class Checked:
    """A graded answer not yet recorded: the grade, the grader's rating and, for each rating
    (1 Again .. 4 Easy), when the card would be due after it. `Quiz.commit` records it."""

    learner: str
    card_id: str
    front: str
    typed: str
    grade: Grade
    suggested: int  # the grader's rating (see `rating_for`)
    due: dict  # {rating: datetime}, what each rating would schedule
    at: datetime  # when it was checked: the review's time
    card_before: str | None  # the card's FSRS state then (JSON), None for a new card

    def __str__(self) -> str:
        return checked_text(self)

    def to_dict(self) -> dict:
        return {
            "card_id": self.card_id,
            "front": self.front,
            "suggested": RATING_NAMES[self.suggested],
            "due": {RATING_NAMES[r]: d.isoformat() for r, d in sorted(self.due.items())},
            "at": self.at.isoformat(),
            "grade": self.grade.to_dict(),
        }


@dataclass(frozen=True)
class Counts:
    """A session's numbers, as Anki shows them above the card: new cards not seen yet,
    learning cards due now (first steps or relearning after a lapse), review cards due now."""

    new: int
    learning: int
    due: int
    next_due: datetime | None = None  # the soonest card not due yet, if any

    @property
    def done(self) -> bool:
        """Nothing to review now: no card due and no new card left."""
        return self.new + self.learning + self.due == 0

    def __str__(self) -> str:
        return f"{self.new} new · {self.learning} learning · {self.due} due"

    def to_dict(self) -> dict:
        return {"new": self.new, "learning": self.learning, "due": self.due, "done": self.done,
                "next_due": self.next_due.isoformat() if self.next_due else None}  # fmt: skip


@dataclass(frozen=True)
class Stats:
    """How a learner is doing: cards due, reviews done, retention overall and per card."""

    learner: str
    cards: int
    due: int
    new: int
    reviewed: int  # reviews in the log
    retention: float | None  # share of reviews passed (not "incorrect"); None before any
    per_card: tuple  # (front, reviews, retention), weakest first

    def __str__(self) -> str:
        ret = "-" if self.retention is None else f"{self.retention:.0%}"
        lines = [
            f"{self.learner}: {self.due} due, {self.new} new of {self.cards} cards; "
            f"{self.reviewed} reviews, retention {ret}"
        ]
        for front, n, r in self.per_card:
            lines.append(f"  {r:>4.0%}  {n:>3}x  {front}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "learner": self.learner,
            "cards": self.cards,
            "due": self.due,
            "new": self.new,
            "reviewed": self.reviewed,
            "retention": self.retention,
            "per_card": [{"front": f, "reviews": n, "retention": r} for f, n, r in self.per_card],
        }


class Quiz:
    """A learner's review session over the tutor's cards, kept in the progress store.

    >>> q = Quiz("ana")                                   # doctest: +SKIP
    >>> card = q.next_card()                              # doctest: +SKIP
    >>> print(q.answer(card.id, "randomly drops units"))  # doctest: +SKIP
    """

    def __init__(
        self,
        learner: str = "default",
        tutor=None,
        store: Store | None = None,
        clock: Callable[[], datetime] = _utc_now,
        grader: Grader | None = None,
        cards: list[Card] | None = None,
        desired_retention: float | None = None,
    ):
        """A review session for `learner`.

        Args:
            tutor: where the grader, the cards and the data folder come from (default:
                `default_tutor()`, unless both `grader` and `cards` are given).
            store: the progress file (default: `settings.data_dir / "progress.sqlite3"`).
            clock: the time now, as an aware datetime (tests pass their own).
            grader, cards: grade with this grader over these cards instead of the tutor's.
            desired_retention: the recall chance a card is scheduled for (0.7 to 0.97;
                default: the learner's own, `Store.set_desired_retention`, else the
                settings', NNQA_DESIRED_RETENTION, 0.9).
        Raises:
            ValueError: the learner id is empty.
        """
        from fsrs import Scheduler

        if not learner.strip():
            raise InputError("a learner id cannot be empty")
        self.learner = learner
        if tutor is None and (grader is None or cards is None):
            from ..tutor import default_tutor

            tutor = default_tutor()
        self.base_grader = grader or tutor.grader
        self.cards = list(cards if cards is not None else tutor.cards)
        settings = getattr(tutor, "settings", None)  # the tutor's data folder, else NNQA_DATA_DIR
        self.store = store or Store(settings.data_dir / "progress.sqlite3" if settings else None)
        self.clock = lambda: utc(clock())  # FSRS and the store count in UTC; any zone will do
        self.store.follow(self.cards)  # edited cards keep their history (see Store.follow)
        if desired_retention is None:
            desired_retention = self.store.desired_retention(learner)
        if desired_retention is None:
            desired_retention = (settings or Settings.from_env()).desired_retention
        self.desired_retention = retention("desired_retention", desired_retention)
        own = self.store.parameters(learner)  # fitted by `nnqa optimise`, else FSRS's defaults
        self.scheduler = Scheduler(
            **({"parameters": own.parameters} if own else {}),
            desired_retention=self.desired_retention,
            enable_fuzzing=False,  # same answers, same schedule
        )
        self._personalise()

    def _personalise(self) -> None:
        """The grader with this learner's cut-offs, refitted from their overrules (see
        `grading.recalibrate`); the shared grader until there are enough of them."""
        reviews = [
            (r.score, r.verdict, r.override is not None) for r in self.store.reviews(self.learner)
        ]
        cal = recalibrate(self.base_grader.calibration, reviews, least=MIN_OVERRIDES)
        same = cal == self.base_grader.calibration
        self.grader = (
            self.base_grader if same else self.base_grader.with_calibration(**cal.to_dict())
        )

    def card(self, key: str) -> Card:
        return find_card(self.cards, key)

    def next_card(self) -> Card | None:
        """The next card to review: due ones (failed first, then oldest due), else a new one."""
        now = self.clock()
        schedule = self.store.schedule(self.learner)
        known = {c.id: c for c in self.cards}
        due = [
            (r["last_verdict"] != "incorrect", r["due"], known[cid])
            for cid, r in schedule.items()
            if cid in known and datetime.fromisoformat(r["due"]) <= now
        ]
        if due:
            return min(due, key=lambda t: (t[0], t[1]))[2]
        return next((c for c in self.cards if c.id not in schedule), None)

    def answer(self, card_id: str, typed: str, duration_ms: int | None = None) -> Review:
        """Grade a typed answer, schedule the card by it and log the review (one transaction).

        `duration_ms` is how long the learner took to answer (kept in the log for FSRS).
        The same as `commit(check(card_id, typed))`, with the grader's rating.
        """
        return self.commit(self.check(card_id, typed), duration_ms=duration_ms)

    def preview(self, card_id: str, when: datetime | None = None) -> dict[int, datetime]:
        """When the card would be due after each rating, reviewed `when` (default: now);
        records nothing. Returns {1: due after Again, 2: Hard, 3: Good, 4: Easy}.

        >>> {r: str(d - q.clock()) for r, d in q.preview(card.id).items()}  # doctest: +SKIP
        {1: '0:01:00', 2: '0:05:30', 3: '0:10:00', 4: '3 days, 4:48:00'}
        """
        card = self.card(card_id)
        row = self.store.schedule(self.learner).get(card.id)
        return self._preview(self._fsrs_card(row), when or self.clock())

    def _preview(self, before, when: datetime) -> dict[int, datetime]:
        return {rating: self._review(before, rating, when).due for rating in (1, 2, 3, 4)}

    @staticmethod
    def _fsrs_card(row):
        from fsrs import Card as FsrsCard

        return FsrsCard.from_json(row["fsrs"]) if row else FsrsCard(card_id=0)

    def check(self, card_id: str, typed: str) -> Checked:
        """Grade a typed answer and preview each rating's next due date; records nothing
        (see `commit`). Returns a `Checked`."""
        card = self.card(card_id)
        grade = self.grader.grade_card(card, typed)
        row = self.store.schedule(self.learner).get(card.id)
        now = self.clock()
        return Checked(self.learner, card.id, card.front, typed, grade,
                       rating_for(grade.verdict, grade.score),
                       self._preview(self._fsrs_card(row), now), now,
                       row["fsrs"] if row else None)  # fmt: skip

    def commit(
        self, checked: Checked, rating: int | None = None, duration_ms: int | None = None
    ) -> Review:
        """Record a checked answer as one review rated `rating` (default: the grader's),
        dated when it was checked, so the card is due exactly when the preview said.

        A rating that disagrees with the grade about recall (Again for a correct answer,
        Hard or better for an incorrect one) is logged as the learner's overrule.

        Raises:
            InputError: a rating outside 1..4, a bad duration, or the card was reviewed
                since the check (check again).
        """
        rating = checked.suggested if rating is None else rating
        if isinstance(rating, bool) or rating not in (1, 2, 3, 4):
            raise InputError(
                f"a rating is 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy), got {rating!r}"
            )
        if duration_ms is not None and (isinstance(duration_ms, bool) or duration_ms < 0):
            raise InputError(f"a review's duration is milliseconds >= 0, got {duration_ms!r}")
        if checked.learner != self.learner:
            raise InputError(f"this answer was checked for {checked.learner!r}")
        row = self.store.schedule(self.learner).get(checked.card_id)
        if (row["fsrs"] if row else None) != checked.card_before:
            raise InputError("this card was reviewed since it was checked; check it again")
        card = self.card(checked.card_id)
        grade, now = checked.grade, checked.at
        after = self._review(self._fsrs_card(row), rating, now)
        recalled = rating > 1
        override = None
        if recalled != (grade.verdict != "incorrect"):
            override = "correct" if recalled else "incorrect"
        verdict = override or grade.verdict
        logged = LoggedReview(
            0, self.learner, card.id, checked.typed, verdict, grade.score, grade.verdict,
            override, rating, now.isoformat(), after.due.isoformat(),
            row["fsrs"] if row else None, after.to_json(),
            None if duration_ms is None else int(duration_ms),
        )  # fmt: skip
        rid = self.store.record(logged)
        if override:
            self._personalise()
        return Review(rid, self.learner, card.id, card.front, grade, rating, after.due, now,
                      grade.verdict, override)  # fmt: skip

    def _review(self, before, rating: int, when: datetime):
        from fsrs import Rating

        after, _ = self.scheduler.review_card(before, Rating(rating), review_datetime=when)
        return after

    def override(self, review_id: int, correct: bool) -> Review:
        """Overrule a verdict: the scheduler re-rates the review as Good (right) or Again (wrong).

        Raises:
            KeyError: no such review for this learner.
        """
        from fsrs import Card as FsrsCard

        logged = self.store.review(review_id)
        if logged.learner != self.learner:
            raise NotFound(f"review {review_id} is not {self.learner!r}'s")
        verdict = "correct" if correct else "incorrect"
        rating = 3 if correct else 1
        before = (
            FsrsCard.from_json(logged.card_before) if logged.card_before else FsrsCard(card_id=0)
        )
        when = datetime.fromisoformat(logged.reviewed_at)
        after = self._review(before, rating, when)
        self.store.amend(
            review_id, verdict, verdict, rating, after.due.isoformat(), after.to_json()
        )
        self._personalise()
        card = self.card(logged.card_id)
        grade = self.grader.grade_card(card, logged.typed)  # cached vectors: cheap
        return Review(review_id, self.learner, card.id, card.front, grade, rating, after.due,
                      when, logged.machine_verdict, verdict)  # fmt: skip

    def undo(self, review_id: int) -> None:
        """Take back this learner's latest review of a card (see `Store.undo`): the card's
        schedule is what it was before, and the review is gone from the log.

        Raises:
            KeyError: no such review for this learner, or not the card's latest.
        """
        if self.store.review(review_id).learner != self.learner:
            raise NotFound(f"review {review_id} is not {self.learner!r}'s")
        self.store.undo(review_id)
        self._personalise()

    def counts(self) -> Counts:
        """The session's new / learning / due numbers (see `Counts`)."""
        from fsrs import State

        now = self.clock()
        schedule = self.store.schedule(self.learner)
        known = {c.id for c in self.cards}
        learning = due = 0
        later = []
        for cid, r in schedule.items():
            if cid not in known:
                continue
            when = utc(datetime.fromisoformat(r["due"]))
            if when > now:
                later.append(when)
            elif self._fsrs_card(r).state in (State.Learning, State.Relearning):
                learning += 1
            else:
                due += 1
        new = sum(1 for c in self.cards if c.id not in schedule)
        return Counts(new, learning, due, min(later, default=None))

    def stats(self) -> Stats:
        """Due and new counts, and retention from the review log (overall and per card)."""
        now = self.clock()
        schedule = self.store.schedule(self.learner)
        known = {c.id: c for c in self.cards}
        due = sum(
            1 for cid, r in schedule.items()
            if cid in known and datetime.fromisoformat(r["due"]) <= now
        )  # fmt: skip
        log = self.store.reviews(self.learner)
        per: dict[str, list[bool]] = {}
        for r in log:
            per.setdefault(r.card_id, []).append(r.verdict != "incorrect")
        rows = sorted(
            ((known[cid].front if cid in known else cid, len(v), sum(v) / len(v))
             for cid, v in per.items()),
            key=lambda t: (t[2], t[0]),
        )  # fmt: skip
        passed = [ok for v in per.values() for ok in v]
        return Stats(
            learner=self.learner,
            cards=len(self.cards),
            due=due,
            new=sum(1 for c in self.cards if c.id not in schedule),
            reviewed=len(log),
            retention=sum(passed) / len(passed) if passed else None,
            per_card=tuple(rows),
        )


TERMINAL_HELP = (
    "Type your answer and press Enter; :idk if you don't know (counts as not remembered), "
    ":right / :wrong to overrule the last verdict, :undo to take it back, :q to stop."
)


def run_terminal_quiz(learner: str, input=None, output=None, quiz: Quiz | None = None) -> int:
    """Interactive review in a terminal, as Anki's: front, typed answer, the grade with the
    four ratings and their next intervals, then a rating; returns reviews done.

    After the grade, Enter keeps the grader's rating (in brackets) and 1-4 choose one; the
    review is recorded then, once. ``:q`` or end of input (Ctrl-D) stops (every rated
    review is already saved; an answer not yet rated is not recorded); ``:right`` and
    ``:wrong`` overrule the last verdict, ``:undo`` takes it back (the card comes again);
    ``:idk`` is "I don't know". An empty answer records nothing: it says what to type.
    """
    interactive = input is None and output is None and sys.stdin.isatty()
    input = input or sys.stdin
    output = output or sys.stdout
    quiz = quiz or Quiz(learner)
    last: Review | None = None
    done = 0
    if interactive:
        import readline  # noqa: F401 - input() gets line editing

    def say(text: str = "") -> None:
        print(text, file=output, flush=True)

    def read(prompt: str = "> ") -> str:
        if interactive:
            try:
                return builtins.input(prompt) + "\n"
            except EOFError:
                return ""
        print(prompt, end="", file=output, flush=True)
        return input.readline()

    def rating(checked: Checked) -> int | None:
        """The learner's rating: Enter for the grader's, 1-4; None to stop unrated."""
        suggested = RATING_NAMES[checked.suggested]
        while True:
            line = read(f"rate 1-4 (Enter: {suggested})> ")
            key = line.strip().lower()
            if not line or key in (":q", ":quit"):
                return None
            if not key:
                return checked.suggested
            if key in ("1", "2", "3", "4"):
                return int(key)
            say(f"Press 1 Again, 2 Hard, 3 Good or 4 Easy, or Enter for {suggested}.")

    while True:
        card = quiz.next_card()
        if card is None:
            say("Nothing due and no new cards: come back later.")
            break
        say(f"\n{quiz.counts()}\nQ: {card.front}")
        line = read()
        if not line:  # Ctrl-D
            say()
            break
        typed = line.rstrip("\n")
        command = typed.strip().lower()
        if command in (":q", ":quit"):
            break
        if not command:  # not a silent failure: nothing is recorded
            say(TERMINAL_HELP)
            continue
        if command in (":right", ":wrong", ":undo"):
            if last is None:
                say("Nothing to overrule or undo yet.")
            elif command == ":undo":
                quiz.undo(last.id)
                say(f"Took back the review of {last.front!r}.")
                last, done = None, done - 1
            else:
                last = quiz.override(last.id, command == ":right")
                say(str(last))
            continue
        checked = quiz.check(card.id, "I don't know" if command == ":idk" else typed)
        say(str(checked))
        chosen = rating(checked)
        if chosen is None:
            say("\nNot rated: nothing recorded for this card.")
            break
        last = quiz.commit(checked, chosen)
        done += 1
        say(
            f"Rated {RATING_NAMES[last.rating]}; due again {due_phrase(last.due, last.reviewed_at)}."
        )
    say(str(quiz.stats()).split("\n", 1)[0])
    return done
