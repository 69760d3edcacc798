"""Errors that are a person's mistake, not a bug: a missing folder, an unknown card, a
parameter out of bounds, a malformed deck (`nnqa.decks.cards.DeckError`).

Each is also the built-in error it always was (`ValueError`, `KeyError`,
`FileNotFoundError`), so callers that catch those keep working. The CLI prints a
`UserError` as one line and exits 2; any other exception is a bug and keeps its traceback.
Leaves out: errors of the machine (a busy or damaged progress file, see `nnqa.study.store`).
"""

from __future__ import annotations

__all__ = ["UserError", "InputError", "NotFound", "MissingFile"]


class UserError(Exception):
    """Something the user gave nnqa is wrong; the message says what, in one line."""


class InputError(UserError, ValueError):
    """A value out of bounds or of the wrong kind: a parameter, a deck name, a setting."""


class NotFound(UserError, KeyError):
    """Nothing has this name (a card, a demo, a review); the message lists the closest."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class MissingFile(UserError, FileNotFoundError):
    """A file, folder or package the user named or needs is not there."""
