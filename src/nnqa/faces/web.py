"""The web app's handlers: a few lines each over the Python API.

Owns the shapes of the API endpoints (`/ask`, `/grade`, `/demo`), checking input against
the caps in `Settings`, turning user mistakes into `gr.Error`, and running demos in a
time-limited worker process (`nnqa.demos.limits`), or on the GPU of a ZeroGPU Space when
the `spaces` package is there. Leaves out: the layout (see `webapp`), rendering (see
`nnqa.render`, which escapes every character of card text), and all the thinking
(`Tutor`, `Quiz`, `nnqa.demos`).

No `from __future__ import annotations` here: Gradio reads the API functions' type hints
at runtime to type the endpoints.
"""

import base64
import contextlib
import functools
import io
import os
import sys
import threading
from typing import Any

import gradio as gr

from ..answering.answer import Answer
from ..conversation.chat import Chat, Reply
from ..decks.cards import Card
from ..render import (
    answer_markdown,
    deck_markdown,
    demo_markdown,
    escape_md,
    review_markdown,
    source_md,
    stats_markdown,
)
from ..settings import Settings
from ..tutor import Tutor

__all__ = ["Web", "demos_registry", "answer_options", "figure_png"]

os.environ.setdefault("MPLBACKEND", "Agg")  # a server never opens a plot window

OPTION_CHARS = 60  # a follow-up button shows at most this much of a card's front


# ---------------------------------------------------------------- rendering (pure)


def _short(text: str, n: int = OPTION_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def answer_options(answer: Answer) -> list[dict]:
    """Follow-ups under an answer: its demos, then the related (or closest) cards to ask about.

    Each is a Gradio option: `label` is shown, `value` ("demo:NAME" or "ask:CARD_ID") comes
    back when clicked; suggestions from the guide come back as questions ("q:TEXT").
    """
    opts = [{"label": f"▶ Run the demo: {name.replace('_', ' ')}", "value": f"demo:{name}"}
            for name in answer.demos]  # fmt: skip
    cards = answer.hits if answer.abstained else answer.related
    opts += [{"label": f"Ask: {_short(h.card.front)}", "value": f"ask:{h.card.id}"} for h in cards]
    opts += [{"label": _short(s), "value": f"q:{s}"} for s in answer.suggestions]
    return opts


def figure_png(figure, dpi: int = 100) -> bytes:
    """A matplotlib figure as PNG bytes, in memory (no file to serve or clean up)."""
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


# ---------------------------------------------------------------- demos (lazy, GPU-aware)


def demos_registry():
    """The demo registry, or None in a build without demos (it imports no torch)."""
    try:
        from .. import demos
    except ImportError:
        return None
    return demos


def _run_demo(name: str, params: dict):
    return demos_registry().run_demo(name, **params)


def _run_demo_limited(name: str, params: dict):
    """In the shared demo worker process, killed after $NNQA_DEMO_TIMEOUT seconds (60)."""
    from ..demos.limits import run_demo_limited

    return run_demo_limited(name, None, **params)


def _on_gpu(fn):
    """On a ZeroGPU Space, run `fn` with a GPU attached (`spaces.GPU`, which has its own
    duration limit and must run in this process); elsewhere, the time-limited worker."""
    try:
        import spaces  # installed on Hugging Face Spaces only
    except ImportError:
        return _run_demo_limited
    return spaces.GPU(duration=120)(fn)


run_demo_on_device = _on_gpu(_run_demo)


# ---------------------------------------------------------------- handlers


def _store_errors(handler):
    """A quiz handler whose progress-file troubles reach the learner as a plain gr.Error.

    The message leaves out the server's file path; the full error goes to the server log.
    """

    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        from ..study.store import StoreBusy, StoreDamaged

        try:
            return handler(*args, **kwargs)
        except StoreBusy:
            raise gr.Error("Your progress file is busy (another process is writing to it); "
                           "nothing was lost, try again in a moment.") from None  # fmt: skip
        except StoreDamaged as e:
            print(f"nnqa: {e}", file=sys.stderr)
            raise gr.Error("The progress file on this server is damaged, so reviews cannot be "
                           "saved; whoever runs this app must restore or set it aside (see "
                           "the server log).") from None  # fmt: skip

    return wrapped


class Web:
    """The app's handlers over one tutor; every method is a few lines over the Python API.

    Methods named like endpoints (`ask`, `grade`, `demo`) are the public API; the `chat_*`,
    `quiz_*`, `demo_view` and `deck_view` methods return what the page shows.
    """

    def __init__(self, tutor: Tutor, settings: Settings | None = None):
        self.tutor = tutor
        self.settings = settings or (tutor.settings if tutor is not None else Settings())
        self._store = None
        self._lock = threading.Lock()

    # -- limits ----------------------------------------------------------------------
    def _question(self, text: Any) -> str:
        if not isinstance(text, str) or not text.strip():
            raise gr.Error("Type a question first.")
        cap = self.tutor.settings.max_question_chars
        if len(text) > cap:
            raise gr.Error(f"Questions are limited to {cap} characters; this one has {len(text)}.")
        return text

    def _typed(self, text: Any) -> str:
        text = text if isinstance(text, str) else ""
        cap = self.tutor.settings.max_answer_chars
        if len(text) > cap:
            raise gr.Error(f"Answers are limited to {cap} characters; this one has {len(text)}.")
        return text

    def _card(self, key: str) -> Card:
        try:
            return self.tutor.card(key)
        except (KeyError, TypeError) as e:
            raise gr.Error(e.args[0] if e.args else str(e)) from None

    # -- API endpoints ---------------------------------------------------------------
    def ask(self, question: str, k: int = 4) -> tuple[str, dict]:
        """Answer a question by quoting a card. Returns (the answer as text, the answer as data:
        query, abstained, message, hits [rank, score, card_id, front, deck, source, section,
        quote, back], suggestions, demos)."""
        most = self.tutor.settings.max_k
        if not isinstance(k, int) or not 1 <= k <= most:
            raise gr.Error(f"k must be a whole number from 1 to {most}.")
        answer = self.tutor.ask(self._question(question), k=k)
        return str(answer), answer.to_dict()

    def grade(self, front: str, answer: str) -> dict:
        """Grade a typed answer to the card with this front (or id). Returns verdict, score,
        covered, missed, notes, question, reference, where."""
        card = self._card(front)
        g = self.tutor.grade(card, self._typed(answer))
        return {k: v for k, v in g.to_dict().items() if k not in ("typed", "card_id")}

    def demo(self, name: str, params: dict | None = None) -> tuple[str, dict]:
        """Run a demo. Returns (its figure as a PNG data URL, its result: name, title, metrics,
        text, device, seconds, params)."""
        result = self._run(name, params or {})
        png = base64.b64encode(figure_png(result.figure)).decode("ascii")
        return "data:image/png;base64," + png, result.to_dict()

    def _run(self, name: str, params: dict):
        registry = demos_registry()
        if registry is None:
            raise gr.Error("This build has no demos.")
        if not isinstance(params, dict):
            raise gr.Error("params must be an object of parameter names to values.")
        try:
            return run_demo_on_device(name, params)
        except ValueError as e:  # unknown demo, unknown or out-of-bounds parameter
            raise gr.Error(str(e)) from None
        except (TimeoutError, RuntimeError) as e:  # past its time limit, or the worker died
            raise gr.Error(str(e)) from None

    # -- Ask tab ---------------------------------------------------------------------
    def new_chat(self, learner: str = "", session: str = "") -> Chat:
        """One visitor's conversation (topic, quiz question), kept in their session state.

        Quiz answers in the chat update the learner named on the Quiz tab, or else one
        anonymous learner per browser session (never one schedule shared by all guests).
        """
        name = (
            learner.strip()[: self.settings.max_learner_chars] if isinstance(learner, str) else ""
        )
        name = name or f"guest-{(session or 'local')[:12]}"
        quiz = None
        with contextlib.suppress(ValueError):
            from ..study.quiz import Quiz

            quiz = Quiz(name, tutor=self.tutor, store=self.store)  # one store for all visitors
        return Chat(self.tutor, learner=name, quiz=quiz, run_demo=lambda n: self._run(n, {}))

    def _chat_reply(self, reply: Reply) -> dict:
        """A chat reply as a message: the quoted card, a verdict, a figure, or plain text."""
        options = [{"value": f, "label": _short(f)} for f in reply.followups]
        if reply.kind == "answer" and reply.answer is not None:
            seen = {o["value"] for o in options}
            extra = [o for o in answer_options(reply.answer) if o["value"] not in seen]
            if extra and any(o["value"].startswith("demo:") for o in extra):
                options = [o for o in options if o["value"] != "Run the demo"]
            return {"role": "assistant", "content": answer_markdown(reply.answer),
                    "options": (extra + options)[:6]}  # fmt: skip
        if reply.kind == "demo" and reply.demo is not None:
            text, metrics, run = demo_markdown(reply.demo, series=False, rows=6)
            content = [gr.Plot(reply.demo.figure, format="png"), f"{text}\n\n{run}\n\n{metrics}"]
            return {"role": "assistant", "content": content, "options": options}
        return {"role": "assistant", "content": reply.text, "options": options}

    def chat_submit(
        self,
        question: str,
        history: list,
        chat: Chat | None = None,
        learner: str = "",
        request: gr.Request = None,
    ) -> tuple[list, str, Chat, Any]:
        """A message typed in the chat: the history with it and the tutor's reply.

        "Show me" is not run here, among the questions: it becomes a demo request (the last
        output) that `chat_demo` runs in the demo queue, one at a time.
        """
        question = self._question(question)
        chat = chat or self.new_chat(learner, getattr(request, "session_hash", "") or "")
        reply = chat.send(question, defer_demos=True)
        user = {"role": "user", "content": escape_md(question)}
        if reply.kind == "demo_request":
            note = {"role": "assistant", "content": reply.text}
            return [*history, user, note], "", chat, {"name": reply.demo_name, "n": len(history)}
        return [*history, user, self._chat_reply(reply)], "", chat, gr.skip()

    def example_text(self, evt: gr.SelectData) -> str:
        """The question of a clicked example."""
        return evt.value["text"]

    def chat_option(
        self,
        history: list,
        chat: Chat | None,
        learner: str,
        evt: gr.SelectData,
        request: gr.Request = None,
    ) -> tuple[list, Any, Chat]:
        """A follow-up clicked: ask about a card, queue its demo, or send the suggestion."""
        chat = chat or self.new_chat(learner, getattr(request, "session_hash", "") or "")
        kind, _, arg = str(evt.value).partition(":")
        if kind == "demo":
            spec = demos_registry().get_spec(arg) if demos_registry() else None
            if spec is None:
                raise gr.Error("This build has no demos.")
            note = {"role": "assistant", "content": f"⏳ Running *{escape_md(spec.title)}*…"}
            msg = {"role": "user", "content": f"▶ Run the demo: {escape_md(arg)}"}
            return [*history, msg, note], {"name": arg, "n": len(history)}, chat
        message = self._card(arg).front if kind == "ask" else str(evt.value)
        history, _, chat, demo_request = self.chat_submit(message, history, chat)
        return history, demo_request, chat

    def chat_demo(self, history: list, request: dict | None, progress=gr.Progress()) -> list:  # noqa: B008
        """Run the demo a follow-up asked for; its figure and numbers replace the ⏳ note."""
        if not request:
            return gr.skip()
        progress(None, desc=f"Running {request['name']}")
        result = self._run(request["name"], {})
        text, metrics, run = demo_markdown(result, series=False, rows=6)
        reply = {"role": "assistant",
                 "content": [gr.Plot(result.figure, format="png"), f"{text}\n\n{run}\n\n{metrics}"]}  # fmt: skip
        return [*history[:-1], reply]

    # -- Quiz tab --------------------------------------------------------------------
    @property
    def store(self):
        if self._store is None:
            from ..study.store import Store

            with self._lock:
                if self._store is None:
                    self._store = Store(self.tutor.settings.data_dir / "progress.sqlite3")
        return self._store

    def _quiz(self, learner: Any):
        from ..study.quiz import Quiz

        name = learner.strip() if isinstance(learner, str) else ""
        if not name:
            raise gr.Error("Type your name first: your progress is kept under it.")
        if len(name) > self.settings.max_learner_chars:
            raise gr.Error(f"Names are limited to {self.settings.max_learner_chars} characters.")
        return Quiz(name, tutor=self.tutor, store=self.store)

    def remembered_learner(self, saved: str, typed: str) -> str:
        """On page load: the name this browser used last, unless one was typed already."""
        return typed or saved or ""

    @_store_errors
    def quiz_next(self, learner: str) -> tuple[str, dict, str, str]:
        """The learner's next card: (its front, the quiz state, a cleared verdict, progress)."""
        quiz = self._quiz(learner)
        card = quiz.next_card()
        if card is None:
            front = "### 🎉 Nothing is due\nYou have reviewed every card. Come back later."
            return front, {}, "", stats_markdown(quiz.stats())
        front = f"### {escape_md(card.front)}\n{source_md(card)}"
        return front, {"card": card.id}, "", stats_markdown(quiz.stats())

    @_store_errors
    def quiz_check(self, learner: str, typed: str, state: dict) -> tuple[str, dict, str]:
        """Grade the typed answer to the shown card: (the verdict, the quiz state, progress)."""
        if not state or "card" not in state:
            raise gr.Error("Press “Next card” to get a card first.")
        quiz = self._quiz(learner)
        review = quiz.answer(state["card"], self._typed(typed))
        return review_markdown(review), {**state, "review": review.id}, stats_markdown(quiz.stats())

    @_store_errors
    def quiz_override(self, learner: str, state: dict, correct: bool) -> tuple[str, str]:
        """“I was right” / “I was wrong”: re-rate the last review; (the verdict, progress)."""
        if not state or "review" not in state:
            raise gr.Error("Answer a card first.")
        quiz = self._quiz(learner)
        review = quiz.override(state["review"], correct)
        return review_markdown(review), stats_markdown(quiz.stats())

    # -- Demos and Deck tabs ---------------------------------------------------------
    def demo_view(self, name: str, *values) -> tuple[Any, str, str, str]:
        """Run demo `name` with the page's parameter values: (figure, text, metrics, run)."""
        spec = demos_registry().get_spec(name)
        params = {p.name: v for p, v in zip(spec.params, values, strict=True)}
        result = self._run(name, params)
        text, metrics, run = demo_markdown(result)
        return result.figure, text, metrics, run

    def deck_view(self, query: str = "") -> str:
        """The deck, filtered to cards holding every word of `query`."""
        query = (query or "")[: self.tutor.settings.max_search_chars]
        return deck_markdown(self.tutor.cards, query, self.tutor.demos_for)
