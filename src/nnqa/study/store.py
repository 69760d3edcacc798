"""Progress store: each learner's review log and card schedules in one SQLite file.

The file is ``Settings.data_dir / "progress.sqlite3"`` (env ``NNQA_DATA_DIR``), in WAL mode.
Each review is written in one ``BEGIN IMMEDIATE`` transaction (the log row and the card's
new schedule together), so a killed process never leaves half a review, and two processes
reviewing at once wait for each other (busy timeout) instead of corrupting the file; if
the wait runs out, `StoreBusy` says so plainly. The schema carries its version in
``PRAGMA user_version``; opening an older file copies a backup beside it, then migrates.

A damaged file (truncated, overwritten, not SQLite at all) is found when it is opened
(``PRAGMA quick_check``) or read, and raises `StoreDamaged` naming the file. nnqa never
writes to, repairs or replaces a damaged file on its own: the caller decides, either
restoring a backup or calling `Store.set_aside(path)`, which renames it (and its -wal and
-shm files) to ``<name>.corrupt-<UTC time>`` so that the next `Store(path)` starts fresh.
An empty (0-byte) file holds no reviews and is simply treated as new.

Times are stored in UTC (ISO 8601, ``+00:00``) whatever time zone the caller's clock
uses, and a review dated before the card's last review is refused (`ReviewOutOfOrder`):
the schedule only moves forward. Cards are keyed by id; when a deck is edited, `follow`
moves each reviewed card's history to the card that continues it (see
`nnqa.decks.identity`), using the text the store remembers of every card it has seen.

Each review keeps how long the learner took (``duration_ms``, NULL for reviews logged
before schema 3), and a learner's own FSRS parameters, once fitted (see `optimise`), are
kept in the ``parameters`` table, beside any desired retention of their own (``retention``).

Leaves out: what a rating is and when a card is due (see `quiz`), grading (see `grading`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from ..decks.identity import KnownCard, match_moved
from ..errors import InputError, NotFound

__all__ = [
    "Store",
    "FittedParameters",
    "StoreBusy",
    "StoreDamaged",
    "LoggedReview",
    "ReviewOutOfOrder",
    "SCHEMA_VERSION",
    "utc",
]

SCHEMA_VERSION = 4

# Each entry migrates a file from version i to i + 1 (index i); version 0 is a new file.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        learner TEXT NOT NULL,
        card_id TEXT NOT NULL,
        typed TEXT NOT NULL,
        verdict TEXT NOT NULL,          -- what the scheduler used: the override if any
        score REAL NOT NULL,
        machine_verdict TEXT NOT NULL,  -- the grader's verdict, kept for recalibration
        override TEXT,                  -- NULL, or the learner's "correct" / "incorrect"
        rating INTEGER NOT NULL,        -- FSRS rating: 1 Again, 2 Hard, 3 Good, 4 Easy
        reviewed_at TEXT NOT NULL,      -- ISO 8601, UTC
        due TEXT NOT NULL,              -- when the card is due next after this review
        card_before TEXT,               -- FSRS card JSON before the review (NULL: new card)
        card_after TEXT NOT NULL        -- FSRS card JSON after it
    );
    CREATE INDEX reviews_learner_card ON reviews (learner, card_id, id);
    CREATE TABLE schedule (
        learner TEXT NOT NULL,
        card_id TEXT NOT NULL,
        fsrs TEXT NOT NULL,             -- FSRS card JSON
        due TEXT NOT NULL,
        last_verdict TEXT NOT NULL,
        last_review INTEGER NOT NULL REFERENCES reviews (id),
        PRIMARY KEY (learner, card_id)
    );
    """,
    """
    CREATE TABLE cards (                -- what each card said when last seen (see follow)
        card_id TEXT PRIMARY KEY,
        deck TEXT NOT NULL,
        front TEXT NOT NULL,
        back TEXT NOT NULL
    );
    CREATE TABLE moves (                -- card histories moved to an edited card's new id
        old_id TEXT NOT NULL,
        new_id TEXT NOT NULL,
        moved_at TEXT NOT NULL          -- ISO 8601, UTC
    );
    CREATE TABLE seen (                 -- one row: a hash of the card ids last remembered
        id INTEGER PRIMARY KEY CHECK (id = 1),
        cards_hash TEXT NOT NULL
    );
    """,
    """
    ALTER TABLE reviews ADD COLUMN duration_ms INTEGER;  -- time to answer (NULL: not measured)
    """,
    """
    CREATE TABLE parameters (           -- a learner's own FSRS parameters (see optimise)
        learner TEXT PRIMARY KEY,
        fsrs TEXT NOT NULL,             -- JSON list of the scheduler's parameters
        reviews INTEGER NOT NULL,       -- reviews in the log they were fitted on
        loss_before REAL NOT NULL,      -- log loss of the default parameters on that log
        loss_after REAL NOT NULL,       -- log loss of these parameters on that log
        fitted_at TEXT NOT NULL         -- ISO 8601, UTC
    );
    CREATE TABLE retention (            -- a learner's own desired retention (else the setting)
        learner TEXT PRIMARY KEY,
        desired REAL NOT NULL
    );
    """,
)


def utc(when: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken to be UTC already.

    >>> from datetime import timedelta
    >>> utc(datetime(2025, 1, 1, 9, tzinfo=timezone(timedelta(hours=-5)))).isoformat()
    '2025-01-01T14:00:00+00:00'
    """
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def _utc_text(stamp: str) -> str:
    return utc(datetime.fromisoformat(stamp)).isoformat()


class ReviewOutOfOrder(InputError):
    """A review dated before the card's last review (a clock set back, or a replayed log)."""


class StoreBusy(RuntimeError):
    """Another process held the progress file for longer than the busy timeout."""


class StoreDamaged(RuntimeError):
    """The progress file is not a sound SQLite database; nnqa has left it untouched."""

    def __init__(self, path: Path, detail: str):
        self.path = Path(path)
        super().__init__(
            f"the progress file {path} is damaged ({detail}); nnqa has not changed it. "
            f"Restore a backup of it (a {self.path.name}.v*.bak beside it, if any), or move it "
            "aside to start with no progress: Store.set_aside(path) renames it "
            f"to {self.path.name}.corrupt-<time>"
        )


def _is_damage(e: sqlite3.DatabaseError) -> bool:
    """SQLITE_CORRUPT or SQLITE_NOTADB, as opposed to a lock, a full disk or a bad query."""
    code = getattr(e, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    return "malformed" in str(e) or "not a database" in str(e)


@dataclass(frozen=True)
class LoggedReview:
    """One row of the review log."""

    id: int
    learner: str
    card_id: str
    typed: str
    verdict: str
    score: float
    machine_verdict: str
    override: str | None
    rating: int
    reviewed_at: str
    due: str
    card_before: str | None
    card_after: str
    duration_ms: int | None = None  # how long the learner took to answer; None: not measured

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FittedParameters:
    """A learner's FSRS parameters fitted to their review log, and the log loss they won."""

    parameters: tuple[float, ...]
    reviews: int  # reviews in the log they were fitted on
    loss_before: float  # log loss of the default parameters on that log
    loss_after: float  # log loss of these parameters on that log
    fitted_at: str  # ISO 8601, UTC


class Store:
    """The progress file; one short-lived connection per operation (safe across processes).

    >>> s = Store("/tmp/nnqa-doc/progress.sqlite3")   # doctest: +SKIP
    >>> s.reviews("ana")                              # doctest: +SKIP
    []
    """

    def __init__(self, path: str | Path | None = None, timeout: float = 10.0):
        if path is None:
            from ..settings import Settings

            path = Settings.from_env().data_dir / "progress.sqlite3"
        self.path = Path(path)
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    # ------------------------------------------------------------ connections

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = FULL")  # a committed review survives a crash
        except sqlite3.DatabaseError as e:
            con.close()
            if _is_damage(e):
                raise StoreDamaged(self.path, str(e)) from None
            raise
        return con

    def _write(self, fn):
        """Run fn(con) inside BEGIN IMMEDIATE ... COMMIT; roll back on any error."""
        con = self._connect()
        try:
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                if "locked" in str(e) or "busy" in str(e):
                    raise StoreBusy(
                        f"the progress file {self.path} is locked by another nnqa process "
                        f"(waited {self.timeout:g} s); try again when it is done"
                    ) from None
                raise
            try:
                result = fn(con)
                con.execute("COMMIT")
                return result
            except BaseException as e:
                con.execute("ROLLBACK")
                if isinstance(e, sqlite3.DatabaseError) and _is_damage(e):
                    raise StoreDamaged(self.path, str(e)) from None
                raise
        finally:
            con.close()

    def _read(self, sql: str, args=()) -> list[sqlite3.Row]:
        con = self._connect()
        try:
            return con.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as e:
            if _is_damage(e):
                raise StoreDamaged(self.path, str(e)) from None
            raise
        finally:
            con.close()

    # ------------------------------------------------------------ schema

    @property
    def version(self) -> int:
        return int(self._read("PRAGMA user_version")[0][0])

    def _migrate(self) -> None:
        check = self.integrity(quick=True)
        if check != "ok":
            raise StoreDamaged(self.path, f"integrity check: {check}")
        found = self.version
        if found > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} was written by a newer nnqa (schema {found} > {SCHEMA_VERSION})"
            )
        if found == SCHEMA_VERSION:
            return
        if found > 0:
            self.backup(self.path.with_name(f"{self.path.name}.v{found}.bak"))

        def apply(con):
            now = int(con.execute("PRAGMA user_version").fetchone()[0])  # re-read under lock
            for version in range(now, SCHEMA_VERSION):
                for stmt in _MIGRATIONS[version].split(";"):
                    if stmt.strip():
                        con.execute(stmt)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

        self._write(apply)

    def backup(self, dest: str | Path) -> Path:
        """Copy the whole file (consistently, even while others write) to dest."""
        dest = Path(dest)
        tmp = dest.with_name(dest.name + ".tmp")
        src, out = self._connect(), sqlite3.connect(tmp)
        try:
            src.backup(out)
        finally:
            out.close()
            src.close()
        shutil.move(tmp, dest)
        return dest

    def integrity(self, quick: bool = False) -> str:
        """`PRAGMA integrity_check`'s first answer ("ok" for a sound file); `quick` skips
        the index checks (`quick_check`, linear in the file's size: milliseconds here)."""
        return str(self._read(f"PRAGMA {'quick_check' if quick else 'integrity_check'}")[0][0])

    @staticmethod
    def set_aside(path: str | Path) -> Path:
        """Rename a damaged progress file (with its -wal and -shm) to ``*.corrupt-<UTC time>``
        and return the new path; the next `Store(path)` starts with an empty file.

        Only call this when the learner or operator has chosen to start fresh: the reviews
        in the damaged file stay in the renamed copy, for recovery by hand.
        """
        path = Path(path)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        aside = path.with_name(f"{path.name}.corrupt-{stamp}")
        for suffix in ("-wal", "-shm", "-journal"):  # the database's sidecars go with it
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(aside.with_name(aside.name + suffix))
        path.rename(aside)
        return aside

    # ------------------------------------------------------------ reviews

    def record(self, review: LoggedReview) -> int:
        """Append a review and set the card's schedule, in one transaction; returns its id.

        Times are stored in UTC whatever their time zone.

        Raises:
            ReviewOutOfOrder: the review is dated before this card's last review; nothing
                is written.
        """
        return self.record_many([review])[0]

    def record_many(self, reviews: Iterable[LoggedReview]) -> list[int]:
        """Append reviews in their order (an imported or replayed log), each setting its
        card's schedule, all in one transaction; returns their ids.

        Raises:
            ReviewOutOfOrder: a review is dated before its card's last review; nothing is
                written.
        """
        reviews = [
            replace(r, reviewed_at=_utc_text(r.reviewed_at), due=_utc_text(r.due)) for r in reviews
        ]
        return self._write(lambda con: [self._append(con, r) for r in reviews])

    def _append(self, con, review: LoggedReview) -> int:
        """One review into the log and the schedule, inside the caller's transaction."""
        last = con.execute(
            "SELECT reviewed_at FROM reviews WHERE learner = ? AND card_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (review.learner, review.card_id),
        ).fetchone()
        if last is not None and datetime.fromisoformat(review.reviewed_at) < utc(
            datetime.fromisoformat(last[0])
        ):
            raise ReviewOutOfOrder(
                f"a review of card {review.card_id} dated {review.reviewed_at} is older "
                f"than its last review ({_utc_text(last[0])}); check the clock: reviews "
                "are recorded in time order"
            )
        cur = con.execute(
            "INSERT INTO reviews (learner, card_id, typed, verdict, score, machine_verdict,"
            " override, rating, reviewed_at, due, card_before, card_after, duration_ms)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (review.learner, review.card_id, review.typed, review.verdict, review.score,
             review.machine_verdict, review.override, review.rating, review.reviewed_at,
             review.due, review.card_before, review.card_after, review.duration_ms),
        )  # fmt: skip
        rid = cur.lastrowid
        self._set_schedule(con, review, rid)
        return rid

    @staticmethod
    def _set_schedule(con, review: LoggedReview, rid: int) -> None:
        con.execute(
            "INSERT INTO schedule (learner, card_id, fsrs, due, last_verdict, last_review)"
            " VALUES (?,?,?,?,?,?) ON CONFLICT (learner, card_id) DO UPDATE SET"
            " fsrs = excluded.fsrs, due = excluded.due, last_verdict = excluded.last_verdict,"
            " last_review = excluded.last_review",
            (review.learner, review.card_id, review.card_after, review.due, review.verdict, rid),
        )

    def amend(self, review_id: int, verdict: str, override: str, rating: int, due: str,
              card_after: str) -> None:  # fmt: skip
        """Apply a learner's override to a logged review and to the card's schedule."""
        due = _utc_text(due)

        def write(con):
            row = con.execute("SELECT * FROM reviews WHERE id = ?", (review_id,)).fetchone()
            if row is None:
                raise NotFound(f"no review with id {review_id}")
            con.execute(
                "UPDATE reviews SET verdict = ?, override = ?, rating = ?, due = ?, card_after = ?"
                " WHERE id = ?",
                (verdict, override, rating, due, card_after, review_id),
            )
            latest = con.execute(
                "SELECT last_review FROM schedule WHERE learner = ? AND card_id = ?",
                (row["learner"], row["card_id"]),
            ).fetchone()
            if latest is not None and latest[0] == review_id:
                amended = self._row(
                    con.execute("SELECT * FROM reviews WHERE id = ?", (review_id,)).fetchone()
                )
                self._set_schedule(con, amended, review_id)

        self._write(write)

    def undo(self, review_id: int) -> LoggedReview:
        """Take back a card's latest review: its log row goes, and the card's schedule is what
        the review before it left (or none, for a card reviewed once). One transaction.

        Raises:
            NotFound: no such review, or a later review of the same card exists.
        """

        def write(con):
            row = con.execute("SELECT * FROM reviews WHERE id = ?", (review_id,)).fetchone()
            if row is None:
                raise NotFound(f"no review with id {review_id}")
            key = (row["learner"], row["card_id"])
            later = con.execute(
                "SELECT 1 FROM reviews WHERE learner = ? AND card_id = ? AND id > ?",
                (*key, review_id),
            ).fetchone()
            if later is not None:
                raise NotFound(f"review {review_id} is not the card's latest; only that is undone")
            con.execute("DELETE FROM schedule WHERE learner = ? AND card_id = ?", key)
            con.execute("DELETE FROM reviews WHERE id = ?", (review_id,))
            before = con.execute(
                "SELECT * FROM reviews WHERE learner = ? AND card_id = ? ORDER BY id DESC LIMIT 1",
                key,
            ).fetchone()
            if before is not None:
                self._set_schedule(con, self._row(before), before["id"])
            return self._row(row)

        return self._write(write)

    def adopt(self, guest: str, learner: str) -> int:
        """Credit a guest's reviews and schedule to a named learner (a visitor who gave their
        name after quizzing). Cards the learner already has a schedule for stay the guest's:
        two schedules of one card are never merged. One transaction.

        Returns:
            How many cards moved.
        """

        def write(con):
            own = {r["card_id"] for r in con.execute(
                "SELECT card_id FROM schedule WHERE learner = ?", (learner,))}  # fmt: skip
            cards = [
                r["card_id"]
                for r in con.execute(
                    "SELECT card_id FROM schedule WHERE learner = ?", (guest,)
                )  # fmt: skip
                if r["card_id"] not in own
            ]
            for card in cards:
                for table in ("reviews", "schedule"):
                    con.execute(f"UPDATE {table} SET learner = ? WHERE learner = ? AND card_id = ?",
                                (learner, guest, card))  # fmt: skip
            return len(cards)

        if guest == learner:
            return 0
        return self._write(write)

    @staticmethod
    def _row(row: sqlite3.Row) -> LoggedReview:
        return LoggedReview(**dict(zip(row.keys(), row, strict=True)))

    def review(self, review_id: int) -> LoggedReview:
        rows = self._read("SELECT * FROM reviews WHERE id = ?", (review_id,))
        if not rows:
            raise NotFound(f"no review with id {review_id}")
        return self._row(rows[0])

    def reviews(self, learner: str | None = None) -> list[LoggedReview]:
        """The review log in order, for one learner or everyone."""
        if learner is None:
            rows = self._read("SELECT * FROM reviews ORDER BY id")
        else:
            rows = self._read("SELECT * FROM reviews WHERE learner = ? ORDER BY id", (learner,))
        return [self._row(r) for r in rows]

    def schedule(self, learner: str) -> dict[str, sqlite3.Row]:
        """card id -> its schedule row (fsrs, due, last_verdict) for one learner."""
        rows = self._read("SELECT * FROM schedule WHERE learner = ?", (learner,))
        return {r["card_id"]: r for r in rows}

    # ------------------------------------------------------------ personal parameters

    def set_parameters(self, learner: str, fitted: FittedParameters) -> None:
        """Keep a learner's own FSRS parameters (replacing any earlier ones), in one transaction."""
        row = (learner, json.dumps(list(fitted.parameters)), fitted.reviews, fitted.loss_before,
               fitted.loss_after, _utc_text(fitted.fitted_at))  # fmt: skip
        self._write(
            lambda con: con.execute(
                "INSERT OR REPLACE INTO parameters (learner, fsrs, reviews, loss_before,"
                " loss_after, fitted_at) VALUES (?,?,?,?,?,?)",
                row,
            )
        )

    def parameters(self, learner: str) -> FittedParameters | None:
        """The learner's own FSRS parameters, or None (the scheduler's defaults apply)."""
        rows = self._read("SELECT * FROM parameters WHERE learner = ?", (learner,))
        if not rows:
            return None
        r = rows[0]
        return FittedParameters(tuple(json.loads(r["fsrs"])), r["reviews"], r["loss_before"],
                                r["loss_after"], r["fitted_at"])  # fmt: skip

    def set_desired_retention(self, learner: str, desired: float | None) -> None:
        """Keep a learner's own desired retention (checked: 0.7 to 0.97); None forgets it,
        so the setting (NNQA_DESIRED_RETENTION) applies again."""
        if desired is None:
            self._write(lambda con: con.execute("DELETE FROM retention WHERE learner = ?",
                                                (learner,)))  # fmt: skip
            return
        from ..settings import retention

        value = retention("desired retention", desired)
        self._write(
            lambda con: con.execute(
                "INSERT OR REPLACE INTO retention (learner, desired) VALUES (?, ?)",
                (learner, value),
            )
        )

    def desired_retention(self, learner: str) -> float | None:
        """The learner's own desired retention, or None (the setting applies)."""
        rows = self._read("SELECT desired FROM retention WHERE learner = ?", (learner,))
        return float(rows[0][0]) if rows else None

    # ------------------------------------------------------------ card identity

    def follow(self, cards: Iterable) -> dict[str, str]:
        """Move the history of each reviewed card that vanished to the card that continues
        it, and remember what every current card says; returns {old id: new id} moved.

        Call it with the current cards whenever they are loaded (a `Quiz` does): a card
        whose answer or front was edited since gets a new id (see `decks.cards.card_id`);
        its reviews and schedule move to that id, for every learner, in one transaction,
        when `decks.identity.match_moved` finds one clear match (else the old history is
        kept under the old id, untouched). Each move is logged in the ``moves`` table.
        """
        cards = list(cards)
        current = {c.id: c for c in cards}
        signature = hashlib.sha256("\n".join(sorted(current)).encode()).hexdigest()
        seen = self._read("SELECT cards_hash FROM seen WHERE id = 1")
        if seen and seen[0][0] == signature:  # the same cards as last time: nothing moved
            return {}

        def write(con):
            scheduled = {r[0] for r in con.execute("SELECT DISTINCT card_id FROM schedule")}
            gone_ids = scheduled - current.keys()
            moves: dict[str, str] = {}
            if gone_ids:
                marks = ",".join("?" * len(gone_ids))
                gone = [
                    KnownCard(*r)
                    for r in con.execute(
                        f"SELECT card_id, deck, front, back FROM cards WHERE card_id IN ({marks})",
                        tuple(gone_ids),
                    )
                ]
                fresh = [
                    KnownCard(c.id, c.deck, c.front, c.back) for c in cards if c.id not in scheduled
                ]
                moves = match_moved(gone, fresh) if gone and fresh else {}
                now = datetime.now(timezone.utc).isoformat()
                for old, new in moves.items():
                    con.execute("UPDATE reviews SET card_id = ? WHERE card_id = ?", (new, old))
                    con.execute("UPDATE schedule SET card_id = ? WHERE card_id = ?", (new, old))
                    con.execute("INSERT INTO moves VALUES (?, ?, ?)", (old, new, now))
            row = con.execute("SELECT cards_hash FROM seen WHERE id = 1").fetchone()
            if moves or row is None or row[0] != signature:
                con.executemany(
                    "INSERT OR REPLACE INTO cards (card_id, deck, front, back) VALUES (?,?,?,?)",
                    ((c.id, c.deck, c.front, c.back) for c in cards),
                )
                # forget cards neither current nor holding a history
                con.execute("CREATE TEMP TABLE IF NOT EXISTS keep (card_id TEXT PRIMARY KEY)")
                con.execute("DELETE FROM keep")
                con.executemany("INSERT OR IGNORE INTO keep VALUES (?)", ((i,) for i in current))
                con.execute(
                    "DELETE FROM cards WHERE card_id NOT IN (SELECT card_id FROM keep)"
                    " AND card_id NOT IN (SELECT card_id FROM schedule)"
                )
                con.execute(
                    "INSERT INTO seen (id, cards_hash) VALUES (1, ?)"
                    " ON CONFLICT (id) DO UPDATE SET cards_hash = excluded.cards_hash",
                    (signature,),
                )
            return moves

        return self._write(write)
