"""Visit: one visitor's Ask tab — their `Chat` and every message shown, appended, never replaced.

The chat on the page is a copy of `Visit.messages`: every handler appends to the visit
under its lock and returns the whole list, so a demo that finishes after a question was
asked lands *after* it instead of putting back the page as it was when the demo started.
A message is a Gradio chat message (a dict with `role`, `content` and maybe `options`);
this module never looks inside `content` beyond telling text from other things.

`to_saved` and `from_saved` turn a visit into JSON for the browser's storage (so the
conversation survives a reload) and back: text messages and the chat's topic are kept,
figures are not (a note says so).

Leaves out: what a reply says (see `conversation.chat`), how it is rendered (see
`nnqa.render` and `faces.web`), and the page (see `faces.webapp`).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

__all__ = ["Visit", "SAVED_MESSAGES"]

SAVED_MESSAGES = 200  # messages kept in the browser's storage (the newest)
SAVED_CHARS = 50_000  # a longer message coming back from a browser is dropped
FIGURE_NOT_KEPT = "*(The figure is not kept after a reload: run the demo again to see it.)*"


class Visit:
    """One visitor's conversation: a `Chat` and the messages on their page.

    >>> v = Visit(chat=None)
    >>> v.add({"role": "user", "content": "hi"})[-1]["content"]
    'hi'
    """

    def __init__(self, chat):
        self.chat = chat
        self.messages: list[dict] = []
        self.generation = 0  # bumped by `clear`: results of an older conversation are dropped
        self.jobs: deque[dict] = deque()  # work asked for and not yet done, oldest first
        self._lock = threading.Lock()

    def add(self, *messages: dict) -> list[dict]:
        """Append messages; returns (a copy of) every message, in order."""
        with self._lock:
            self.messages.extend(messages)
            return list(self.messages)

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self.messages)

    def placeholder(self, message: dict, job: dict | None = None) -> tuple[list[dict], dict]:
        """Append a "⏳ running" note; returns (every message, a ticket for `settle`). With
        `job`, the job (with the ticket in it) also waits in `jobs` for `next_job`."""
        with self._lock:
            self.messages.append(message)
            ticket = {"at": len(self.messages) - 1, "generation": self.generation}
            if job is not None:
                self.jobs.append({**job, "ticket": ticket})
            return list(self.messages), ticket

    def next_job(self) -> dict | None:
        """The oldest job not yet taken (each is taken once), or None."""
        with self._lock:
            return self.jobs.popleft() if self.jobs else None

    def settle(self, ticket: dict, result: dict, done_note: str) -> list[dict]:
        """The result of a placeholder's work: it replaces the note when nothing came after it,
        else the note becomes `done_note` and the result is appended (nothing is lost).
        A ticket from before a `clear` changes nothing."""
        with self._lock:
            at = ticket.get("at", -1)
            if ticket.get("generation") != self.generation or not 0 <= at < len(self.messages):
                return list(self.messages)
            if at == len(self.messages) - 1:
                self.messages[at] = result
            else:
                self.messages[at] = {**self.messages[at], "content": done_note}
                self.messages.append(result)
            return list(self.messages)

    def clear(self, chat) -> list[dict]:
        """A new conversation: no messages, a fresh chat (no topic, no quiz question)."""
        with self._lock:
            self.messages = []
            self.chat = chat
            self.generation += 1
            self.jobs.clear()
            return []

    # -- the browser's copy ---------------------------------------------------------
    def to_saved(self) -> dict:
        """The conversation as JSON for the browser: text messages and the chat's state."""
        with self._lock:
            messages = [_saved_message(m) for m in self.messages[-SAVED_MESSAGES:]]
            chat = (
                self.chat.state() if self.chat is not None and hasattr(self.chat, "state") else {}
            )
        return {"version": 1, "messages": messages, "chat": chat}

    def restore(self, saved: Any) -> list[dict]:
        """Put back a conversation saved by `to_saved` (anything else is ignored)."""
        if not isinstance(saved, dict) or saved.get("version") != 1:
            return self.snapshot()
        messages = [  # what the browser sends back is checked like any input
            _restored_message(m)
            for m in (saved.get("messages") or ())[-SAVED_MESSAGES:]
            if isinstance(m, dict)
            and m.get("role") in ("user", "assistant")
            and isinstance(m.get("content"), str)
            and len(m["content"]) <= SAVED_CHARS
        ]
        with self._lock:
            self.messages = messages[-SAVED_MESSAGES:]
            if self.chat is not None and isinstance(saved.get("chat"), dict):
                self.chat.restore(saved["chat"])
            return list(self.messages)


def _restored_message(m: dict) -> dict:
    out = {"role": m["role"], "content": m["content"]}
    options = [
        {"label": o["label"], "value": o["value"]}
        for o in m.get("options") or ()
        if isinstance(o, dict)
        and isinstance(o.get("label"), str)
        and isinstance(o.get("value"), str)
    ]
    if options:
        out["options"] = options[:6]
    return out


def _saved_message(m: dict) -> dict:
    content = m.get("content")
    if not isinstance(content, str):  # a figure and its text: the text, and a note
        texts = [c for c in content if isinstance(c, str)] if isinstance(content, list) else []
        content = "\n\n".join([*texts, FIGURE_NOT_KEPT])
    out = {"role": m.get("role"), "content": content}
    if m.get("options"):
        out["options"] = list(m["options"])
    return out
