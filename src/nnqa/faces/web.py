"""The web app's handlers and what they render: a few lines each over the Python API.

Owns turning answers, grades, reviews, progress, demo results and cards into HTML-safe
Markdown, the shapes of the API endpoints (`/ask`, `/grade`, `/demo`), the input caps, and
running demos in a time-limited worker process (`nnqa.demos.limits`), or on the GPU
of a ZeroGPU Space when the `spaces` package is there. Card text
is data, possibly from an imported deck: every character of it is escaped, so no markup
or script from a card reaches the page. Leaves out: the layout (see `webapp`), and all
the thinking (`Tutor`, `Quiz`, `nnqa.demos`).

No `from __future__ import annotations` here: Gradio reads the API functions' type hints
at runtime to type the endpoints.
"""

import base64
import contextlib
import functools
import html
import io
import os
import re
import sys
import threading
from typing import Any

import gradio as gr

from ..answering.answer import Answer
from ..conversation.chat import Chat, Reply
from ..decks.cards import Card
from ..tutor import Tutor

__all__ = ["Web", "demos_registry", "escape_md", "quote_md", "answer_md", "answer_options", "grade_md",
           "stats_md", "demo_md", "deck_md", "ASK_CONCURRENCY", "DEMO_CONCURRENCY"]  # fmt: skip

os.environ.setdefault("MPLBACKEND", "Agg")  # a server never opens a plot window

ASK_CONCURRENCY = 4  # asks and grades at once: short encodes on one shared, read-only model
DEMO_CONCURRENCY = 1  # demos at once per device: a burst of clicks queues, memory stays flat
MAX_LEARNER_CHARS = 64
OPTION_CHARS = 60  # a follow-up button shows at most this much of a card's front

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")  # Markdown marks (< > & go to HTML)
_BULLET = re.compile(r"^\s*[-*•]\s+")


# ---------------------------------------------------------------- rendering (pure)


def escape_md(text: str) -> str:
    """Text as Markdown that renders exactly as written: HTML and Markdown marks escaped.

    >>> escape_md("<b>1*2</b>")
    '&lt;b&gt;1\\\\*2&lt;/b&gt;'
    """
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=False)


def quote_md(text: str) -> str:
    """A card's lines, verbatim, as a Markdown quote: its ``- `` bullets stay a list."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if _BULLET.match(line):
            out.append("> - " + escape_md(_BULLET.sub("", line)))
        else:
            out.append("> " + escape_md(line.strip()))
    return "\n".join(out) or "> (empty)"


def _source_md(card: Card, score: float | None = None) -> str:
    parts = [f"📄 {escape_md(card.where)}", escape_md(card.deck)]
    if score is not None:
        parts.append(f"match {score:.2f}")
    return "*" + " · ".join(parts) + "*"


def _short(text: str, n: int = OPTION_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def answer_md(answer: Answer) -> str:
    """An answer as Markdown: the card's front as a heading, the quote, its source, related."""
    if answer.abstained:
        lines = [escape_md(answer.message)]
        if answer.hits:
            lines += ["", "**Closest cards:**"]
            lines += [f"- {escape_md(h.card.front)} — *{escape_md(h.card.where)}*"
                      for h in answer.hits]  # fmt: skip
        return "\n".join(lines)
    h = answer.hits[0]
    lines = [
        f"### {escape_md(h.card.front)}",
        "",
        quote_md(h.quote),
        "",
        _source_md(h.card, h.score),
    ]
    if answer.related:
        lines += ["", "**Related:** " + " · ".join(escape_md(r.card.front) for r in answer.related)]
    return "\n".join(lines)


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


_VERDICT = {"correct": "✅ Correct", "partial": "🟡 Partly right", "incorrect": "❌ Not yet"}


def grade_md(grade, due: str = "", overruled: str = "") -> str:
    """A grade (or a quiz review's grade) as Markdown: verdict, covered, missed, the answer."""
    verdict = overruled or grade.verdict
    head = f"### {_VERDICT.get(verdict, escape_md(verdict))} · score {grade.score:.2f}"
    lines = [head]
    if overruled:
        lines.append(f"*You overruled the grader's verdict ({escape_md(grade.verdict)}).*")
    lines += [f"> ⚠ {escape_md(n)}" for n in grade.notes]
    if grade.covered:
        lines += ["", "**What you got right**"] + [f"- {escape_md(p)}" for p in grade.covered]
    if grade.missed:
        lines += ["", "**What you missed**"] + [f"- {escape_md(p)}" for p in grade.missed]
    where = f" *({escape_md(grade.where)})*" if grade.where else ""
    lines += ["", f"**The card's answer**{where}", "", quote_md(grade.reference)]
    if due:
        lines += ["", f"🗓 Due again **{escape_md(due)}**."]
    return "\n".join(lines)


def stats_md(stats) -> str:
    """A learner's progress: due, new, reviews, retention, and the weakest cards."""
    ret = "–" if stats.retention is None else f"{stats.retention:.0%}"
    lines = [
        f"**{escape_md(stats.learner)}** · {stats.cards} cards",
        "",
        f"- **{stats.due}** due now",
        f"- **{stats.new}** not seen yet",
        f"- **{stats.reviewed}** reviews done",
        f"- **{ret}** retention",
    ]
    weak = [t for t in stats.per_card if t[2] < 1.0][:3]
    if weak:
        lines += ["", "**To practise:**"]
        lines += [f"- {escape_md(f)} ({r:.0%} of {n})" for f, n, r in weak]
    return "\n".join(lines)


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        shown = ", ".join(_value(x) for x in v[:6])
        return f"[{shown}{', …' if len(v) > 6 else ''}] ({len(v)} values)" if len(v) > 6 \
            else f"[{shown}]"  # fmt: skip
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_value(x)}" for k, x in v.items())
    return str(v)


def demo_md(result, series: bool = True, rows: int = 100) -> tuple[str, str, str]:
    """A demo result as (its text, its metrics as a table, where and how long it ran).

    `series=False` leaves out list-valued metrics and `rows` caps the table (for the chat).
    """
    text = f"### {escape_md(result.title)}\n\n{escape_md(result.text)}"
    scalars = {k: v for k, v in result.metrics.items() if not isinstance(v, (list, tuple, dict))}
    lists = {k: v for k, v in result.metrics.items() if series and k not in scalars}
    table = [f"| {escape_md(k)} | {escape_md(_value(v))} |" for k, v in scalars.items()][:rows]
    metrics = "\n".join(["| measured | value |", "|---|---:|", *table]) if table else ""
    if lists:
        metrics += "\n\n" + "\n".join(f"- **{escape_md(k)}**: {escape_md(_value(v))}"
                                        for k, v in lists.items())  # fmt: skip
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    run = (
        f"Ran on **{escape_md(result.device)}** in **{result.seconds:.2f} s** · {escape_md(params)}"
    )
    return text, metrics, run


def figure_png(figure, dpi: int = 100) -> bytes:
    """A matplotlib figure as PNG bytes, in memory (no file to serve or clean up)."""
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def deck_md(cards: list[Card], query: str = "", demos_for=None) -> str:
    """The cards whose front or answer holds every word of `query`, with source and demos."""
    words = query.lower().split()
    shown = [c for c in cards if all(w in f"{c.front}\n{c.back}".lower() for w in words)]
    lines = [f"*{len(shown)} of {len(cards)} cards*"]
    for c in shown:
        lines += ["", "---", "", f"#### {escape_md(c.front)}", _source_md(c)]
        names = demos_for(c.front) if demos_for else []
        if names:
            lines.append("▶ Demos: " + ", ".join(f"**{escape_md(n)}**" for n in names))
        lines += ["", quote_md(c.back)]
    if not shown:
        lines += ["", f"No card mentions {escape_md(query)!s}."]
    return "\n".join(lines)


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

    def __init__(self, tutor: Tutor):
        self.tutor = tutor
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
        if not isinstance(k, int) or not 1 <= k <= 10:
            raise gr.Error("k must be a whole number from 1 to 10.")
        answer = self.tutor.ask(self._question(question), k=k)
        return str(answer), answer.to_dict()

    def grade(self, front: str, answer: str) -> dict:
        """Grade a typed answer to the card with this front (or id). Returns verdict, score,
        covered, missed, notes, question, reference, where."""
        card = self._card(front)
        g = self.tutor.grader.grade_card(card, self._typed(answer))
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
        name = learner.strip()[:64] if isinstance(learner, str) else ""
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
            return {"role": "assistant", "content": answer_md(reply.answer),
                    "options": (extra + options)[:6]}  # fmt: skip
        if reply.kind == "demo" and reply.demo is not None:
            text, metrics, run = demo_md(reply.demo, series=False, rows=6)
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
        text, metrics, run = demo_md(result, series=False, rows=6)
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
        if len(name) > MAX_LEARNER_CHARS:
            raise gr.Error(f"Names are limited to {MAX_LEARNER_CHARS} characters.")
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
            return front, {}, "", stats_md(quiz.stats())
        front = f"### {escape_md(card.front)}\n{_source_md(card)}"
        return front, {"card": card.id}, "", stats_md(quiz.stats())

    @_store_errors
    def quiz_check(self, learner: str, typed: str, state: dict) -> tuple[str, dict, str]:
        """Grade the typed answer to the shown card: (the verdict, the quiz state, progress)."""
        from ..study.quiz import _when

        if not state or "card" not in state:
            raise gr.Error("Press “Next card” to get a card first.")
        quiz = self._quiz(learner)
        review = quiz.answer(state["card"], self._typed(typed))
        due = _when(review.due, review.reviewed_at)
        return grade_md(review.grade, due), {**state, "review": review.id}, stats_md(quiz.stats())

    @_store_errors
    def quiz_override(self, learner: str, state: dict, correct: bool) -> tuple[str, str]:
        """“I was right” / “I was wrong”: re-rate the last review; (the verdict, progress)."""
        from ..study.quiz import _when

        if not state or "review" not in state:
            raise gr.Error("Answer a card first.")
        quiz = self._quiz(learner)
        review = quiz.override(state["review"], correct)
        due = _when(review.due, review.reviewed_at)
        return grade_md(review.grade, due, overruled=review.verdict), stats_md(quiz.stats())

    # -- Demos and Deck tabs ---------------------------------------------------------
    def demo_view(self, name: str, *values) -> tuple[Any, str, str, str]:
        """Run demo `name` with the page's parameter values: (figure, text, metrics, run)."""
        spec = demos_registry().get_spec(name)
        params = {p.name: v for p, v in zip(spec.params, values, strict=True)}
        result = self._run(name, params)
        text, metrics, run = demo_md(result)
        return result.figure, text, metrics, run

    def deck_view(self, query: str = "") -> str:
        """The deck, filtered to cards holding every word of `query`."""
        registry = demos_registry()
        query = (query or "")[:200]
        return deck_md(self.tutor.cards, query, registry.demos_for_card if registry else None)
