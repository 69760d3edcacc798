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
import time
from typing import Any

import gradio as gr

from ..answering.answer import Answer
from ..conversation.chat import Chat, Reply
from ..decks.cards import Card
from ..render import (
    checked_markdown,
    counts_markdown,
    deck_markdown,
    demo_markdown,
    escape_md,
    rating_label,
    review_markdown,
    source_md,
    stats_markdown,
)
from ..settings import Settings
from ..tutor import Tutor
from .visit import Visit

__all__ = ["Web", "demos_registry", "answer_options", "figure_png"]

os.environ.setdefault("MPLBACKEND", "Agg")  # a server never opens a plot window

NARROW_SCREEN = 640  # CSS pixels: below this a demo's figure is laid out for a phone
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


def for_screen(figure, width: float | None):
    """`figure` as a page `width` CSS pixels wide shows it best: below `NARROW_SCREEN` (a
    phone) its panels stacked and narrowed (`figures.narrowed`), else unchanged; no figure
    or an unknown width, as is."""
    if figure is None or not width or width >= NARROW_SCREEN:
        return figure
    from ..demos.figures import narrowed

    return narrowed(figure)


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
            raise user_error("Your progress file is busy (another process is writing to it); "
                           "nothing was lost, try again in a moment.") from None  # fmt: skip
        except StoreDamaged as e:
            print(f"nnqa: {e}", file=sys.stderr)
            raise gr.Error("The progress file on this server is damaged, so reviews cannot be "
                           "saved; whoever runs this app must restore or set it aside (see "
                           "the server log).", print_exception=False) from None  # fmt: skip

    return wrapped


GUEST_QUIZ = (
    "*You have no name on the Quiz tab yet: this review counts for this visit only. "
    "Type your name there to keep your progress.*"
)
NO_NAME = "Type your name first, then press Next card: your progress is kept under it."
EMPTY_ANSWER = (
    "*Type your answer first, or press **I don't know** to see the card's answer "
    "(it counts as not remembered). Nothing was recorded.*"
)


def user_error(message: str) -> gr.Error:
    """A user's mistake as a `gr.Error`: one line in the server log, no traceback."""
    print(f"nnqa: user error: {message}", file=sys.stderr, flush=True)
    return gr.Error(message, print_exception=False)


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

    def browser_secret(self) -> str:
        """The key the browser's stored name and chat are sealed with: kept in the data
        folder, so what a browser stored still opens after the app restarts."""
        import secrets

        path = self.settings.data_dir / "browser-secret"
        with self._lock, contextlib.suppress(OSError):
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
                path.chmod(0o600)
            return path.read_text(encoding="utf-8").strip()
        return secrets.token_urlsafe(24)  # no writable data folder: sealed for this run only

    # -- limits ----------------------------------------------------------------------
    def _question(self, text: Any) -> str:
        if not isinstance(text, str) or not text.strip():
            raise user_error("Type a question first.")
        cap = self.tutor.settings.max_question_chars
        if len(text) > cap:
            raise user_error(
                f"Questions are limited to {cap} characters; this one has {len(text)}."
            )
        return text

    def _typed(self, text: Any) -> str:
        text = text if isinstance(text, str) else ""
        cap = self.tutor.settings.max_answer_chars
        if len(text) > cap:
            raise user_error(f"Answers are limited to {cap} characters; this one has {len(text)}.")
        return text

    def _card(self, key: str) -> Card:
        try:
            return self.tutor.card(key)
        except (KeyError, TypeError) as e:
            raise user_error(e.args[0] if e.args else str(e)) from None

    # -- API endpoints ---------------------------------------------------------------
    def ask(self, question: str, k: int = 4) -> tuple[str, dict]:
        """Answer a question by quoting a card. Returns (the answer as text, the answer as data:
        query, abstained, message, hits [rank, score, card_id, front, deck, source, section,
        quote, back], suggestions, demos)."""
        most = self.tutor.settings.max_k
        if not isinstance(k, int) or not 1 <= k <= most:
            raise user_error(f"k must be a whole number from 1 to {most}.")
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
            raise user_error("This build has no demos.")
        if not isinstance(params, dict):
            raise user_error("params must be an object of parameter names to values.")
        try:
            return run_demo_on_device(name, params)
        except ValueError as e:  # unknown demo, unknown or out-of-bounds parameter
            raise user_error(str(e)) from None
        except (TimeoutError, RuntimeError) as e:  # past its time limit, or the worker died
            raise user_error(str(e)) from None

    # -- Ask tab ---------------------------------------------------------------------
    # Every chat handler appends to the visitor's `Visit` and returns all of its messages
    # (never the page's copy from when the event started), and the visit as JSON for the
    # browser's storage: (messages, ..., saved).
    def new_chat(self, learner: str = "", session: str = "") -> Chat:
        """One visitor's conversation (topic, quiz question).

        Quiz answers in the chat update the learner named on the Quiz tab, or else one
        anonymous learner per browser session (never one schedule shared by all guests).
        """
        name = self._learner_name(learner) or f"guest-{(session or 'local')[:12]}"
        return Chat(self.tutor, learner=name, quiz=self._chat_quiz(name),
                    run_demo=lambda n: self._run(n, {}))  # fmt: skip

    def _learner_name(self, learner: Any) -> str:
        name = learner.strip() if isinstance(learner, str) else ""
        return name if len(name) <= self.settings.max_learner_chars else ""

    def _chat_quiz(self, name: str):
        from ..study.quiz import Quiz

        with contextlib.suppress(ValueError):
            return Quiz(name, tutor=self.tutor, store=self.store)  # one store for all visitors
        return None

    def _visit(self, visit: Visit | None, learner: str, request: Any) -> Visit:
        """This visitor's visit (a new one on their first message), crediting quizzes to the
        name on the Quiz tab as soon as there is one."""
        if visit is None:
            visit = Visit(self.new_chat(learner, getattr(request, "session_hash", "") or ""))
        name = self._learner_name(learner)
        if name and visit.chat.learner != name:
            if visit.chat.learner.startswith("guest-"):  # what they did as a guest is theirs
                self.store.adopt(visit.chat.learner, name)
            visit.chat.set_learner(name, self._chat_quiz(name))
        return visit

    def _chat_reply(self, reply: Reply) -> dict:
        """A chat reply as a message: the quoted card, a verdict, a figure, or plain text."""
        options = [{"value": f, "label": _short(f)} for f in reply.followups]
        if reply.kind in ("answer", "more") and reply.answer is not None:
            extra = answer_options(reply.answer)
            asked = {o["label"].removeprefix("Ask: ") for o in extra}  # one button per card
            options = [o for o in options if o["label"] not in asked and o["value"] not in asked]
            if any(o["value"].startswith("demo:") for o in extra):
                options = [o for o in options if o["value"] != "Run the demo"]
            return {"role": "assistant", "content": reply.text,
                    "options": (extra + options)[:6]}  # fmt: skip
        if reply.kind == "demo" and reply.demo is not None:
            return self._demo_message(reply.demo, options)
        return {"role": "assistant", "content": reply.text, "options": options}

    def _demo_message(
        self, result, options: list, waited: float | None = None, width: float | None = None
    ) -> dict:
        """A demo's figure and numbers as a chat message; on a screen narrower than
        `NARROW_SCREEN` pixels the figure's panels are stacked (`figures.narrowed`)."""
        text, metrics, run = demo_markdown(result, series=False, rows=6, waited=waited)
        figure = for_screen(result.figure, width)
        content = [gr.Plot(figure, format="png"), f"{text}\n\n{run}\n\n{metrics}"]
        return {"role": "assistant", "content": content, "options": options}

    def chat_submit(
        self,
        question: str,
        visit: Visit | None = None,
        learner: str = "",
        request: gr.Request = None,
    ) -> tuple[list, str, Visit, Any, dict]:
        """A message typed in the chat: (every message, a cleared box, the visit, a demo to
        run or nothing, the visit as saved). An empty message does nothing.

        "Show me" is not run here, among the questions: it becomes a demo request (the
        fourth output) that `chat_demo` runs in the demo queue, one at a time.
        """
        if not isinstance(question, str) or not question.strip():
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        question = self._question(question)
        visit = self._visit(visit, learner, request)
        reply = visit.chat.send(question, defer_demos=True)
        user = {"role": "user", "content": escape_md(question)}
        if reply.kind == "demo_request":
            note = {"role": "assistant", "content": reply.text}
            messages, job = self._queue_demo(visit, reply.demo_name, user, note)
            return messages, "", visit, job, visit.to_saved()
        message = self._chat_reply(reply)
        if reply.kind == "quiz_question" and visit.chat.learner.startswith("guest-"):
            message["content"] += f"\n\n{GUEST_QUIZ}"
        messages = visit.add(user, message)
        return messages, "", visit, gr.skip(), visit.to_saved()

    def _queue_demo(self, visit: Visit, name: str, user: dict, note: dict) -> tuple[list, dict]:
        """The note and the job in the visit; the returned job (its ticket makes each one new)
        only wakes `chat_demo`, which takes the visit's oldest job: two demos asked at once
        run once each, even if the page's copy of the request changed in between."""
        visit.add(user)
        job = {"name": name, "asked": time.monotonic()}
        messages, ticket = visit.placeholder(note, job)
        return messages, {**job, "ticket": ticket}

    def example_text(self, evt: gr.SelectData) -> str:
        """The question of a clicked example."""
        return evt.value["text"]

    def chat_option(
        self,
        visit: Visit | None,
        learner: str,
        evt: gr.SelectData,
        request: gr.Request = None,
    ) -> tuple[list, Any, Visit, dict]:
        """A follow-up clicked: ask about a card, queue its demo, or send the suggestion:
        (every message, a demo to run or nothing, the visit, the visit as saved)."""
        visit = self._visit(visit, learner, request)
        kind, _, arg = str(evt.value).partition(":")
        if kind == "demo":
            if demos_registry() is None:
                raise user_error("This build has no demos.")
            try:
                spec = demos_registry().get_spec(arg)
            except KeyError as e:  # a button restored from an edited browser storage
                raise user_error(str(e)) from None
            note = {"role": "assistant", "content": f"⏳ Running *{escape_md(spec.title)}*…"}
            user = {"role": "user", "content": f"▶ Run the demo: {escape_md(arg)}"}
            messages, job = self._queue_demo(visit, arg, user, note)
            return messages, job, visit, visit.to_saved()
        message = self._card(arg).front if kind == "ask" else str(evt.value)
        messages, _, visit, job, saved = self.chat_submit(message, visit, learner, request)
        return messages, job, visit, saved

    def chat_demo(
        self,
        visit: Visit | None,
        job: dict | None,
        width: float | None = None,
        progress=gr.Progress(),  # noqa: B008
    ) -> tuple[list, dict]:
        """Run the demo a message asked for; its figure and numbers join the conversation as
        it is now (after anything asked meanwhile): (every message, the visit as saved).

        `width`: the page's width in CSS pixels (a phone's figure is narrowed), or None."""
        job = visit.next_job() if job and visit is not None else None
        if job is None:
            return gr.skip(), gr.skip()
        progress(None, desc=f"Running {job['name']}")
        followups = [{"value": f, "label": f} for f in ("Quiz me", "Tell me more")]
        try:
            result = self._run(job["name"], {})
        except gr.Error as e:  # timed out or failed: said in the chat, the note settled
            message = {"role": "assistant", "content": f"⚠ The demo did not finish: {e.message}"}
        else:
            waited = time.monotonic() - job.get("asked", time.monotonic())
            message = self._demo_message(result, followups, waited, width)
        done = f"▶ Ran *{escape_md(job['name'].replace('_', ' '))}*: the result is below."
        messages = visit.settle(job["ticket"], message, done)
        return messages, visit.to_saved()

    def chat_clear(self, visit: Visit | None, learner: str = "", request: gr.Request = None):
        """A new chat: no messages, no topic, no quiz question: (messages, visit, saved)."""
        visit = self._visit(visit, learner, request)
        visit.clear(self.new_chat(learner, getattr(request, "session_hash", "") or ""))
        return [], visit, visit.to_saved()

    def chat_restore(self, saved: Any, learner: str = "", request: gr.Request = None):
        """On page load: the conversation this browser had (from its storage), or a new one:
        (messages, visit)."""
        visit = self._visit(None, learner, request)
        return visit.restore(saved), visit

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
            raise user_error(NO_NAME)
        if len(name) > self.settings.max_learner_chars:
            raise user_error(f"Names are limited to {self.settings.max_learner_chars} characters.")
        return Quiz(name, tutor=self.tutor, store=self.store)

    def learner_to_keep(self, name: str) -> str:
        """The typed name as the browser keeps it for the next visit."""
        return self._learner_name(name)

    def remembered_learner(self, saved: str, typed: str) -> Any:
        """On page load: the name this browser used last, unless one was typed already.

        With no name saved the box is left alone (a skip, not ""), so a name typed while
        the page was loading is not wiped when this answer arrives."""
        if typed or not (isinstance(saved, str) and saved):
            return gr.skip()
        return saved

    # The Quiz tab's outputs, the same for every quiz handler (see `QUIZ_OUTPUTS`): front,
    # state, verdict, progress, counts, then the screen: answer box, Check, "I don't know",
    # overrule row, Undo, rating row, its four buttons. A showing goes answer -> checked
    # (graded, nothing recorded, ratings shown) -> rated (one review recorded, Undo shown).
    def _screen(self, stage: str, checked=None) -> tuple:
        """The screen's updates for a stage: "answer", "checked", "rated" or "none"."""
        box = gr.update(interactive=stage == "answer")
        if stage == "answer":
            box = gr.update(value="", interactive=True)
        open_ = gr.update(interactive=stage == "answer")
        after = gr.update(visible=stage == "rated")
        buttons = [gr.update(visible=False)] * 4
        if checked is not None:
            buttons = [
                gr.update(value=rating_label(r, checked.due[r], checked.at), visible=True,
                          variant="primary" if r == checked.suggested else "secondary")
                for r in (1, 2, 3, 4)
            ]  # fmt: skip
        return (box, open_, open_, after, after, gr.update(visible=stage == "checked"), *buttons)

    def _counts(self, quiz) -> str:
        return counts_markdown(quiz.counts(), quiz.clock())

    @_store_errors
    def quiz_next(self, learner: str) -> tuple:
        """The learner's next card, or one plain message when no name is typed yet."""
        if not (isinstance(learner, str) and learner.strip()):
            return (f"*{NO_NAME}*", {}, "", gr.skip(), gr.skip(), *self._screen("none"))
        quiz = self._quiz(learner)
        card = quiz.next_card()
        counts = self._counts(quiz)
        if card is None:
            front = "### 🎉 Done for now\nPress **Next card** when the next one is due (above)."
            return (front, {}, "", stats_markdown(quiz.stats()), counts, *self._screen("none"))
        front = f"### {escape_md(card.front)}\n{source_md(card)}"
        state = {"card": card.id, "shown": time.monotonic()}
        return (front, state, "", stats_markdown(quiz.stats()), counts, *self._screen("answer"))

    @_store_errors
    def quiz_check(self, learner: str, typed: str, state: dict, dont_know: bool = False) -> tuple:
        """Grade the typed answer to the shown card, recording nothing yet: the grade and the
        four rating buttons, each with its next interval, the grader's choice preselected.

        An empty answer is a prompt (how to give up on the card); a second Check of the same
        showing changes nothing. The rating buttons record the review (`quiz_rate`).
        """
        skip = (gr.skip(),) * (5 + 10)
        if not state or "card" not in state:
            return (gr.skip(), gr.skip(), "*Press **Next card** to get a card first.*",
                    *skip[3:])  # fmt: skip
        if not dont_know and not (isinstance(typed, str) and typed.strip()):
            return (gr.skip(), gr.skip(), EMPTY_ANSWER, *skip[3:])
        typed = "I don't know" if dont_know else self._typed(typed)
        quiz = self._quiz(learner)
        with self._lock:  # two clicks on one showing: the second finds it checked
            if state.get("checked") or state.get("checking"):
                return skip
            state["checking"] = True
        try:
            checked = quiz.check(state["card"], typed)
        finally:
            state.pop("checking", None)
        state["checked"] = checked
        state["took_ms"] = int(1000 * (time.monotonic() - state.get("shown", time.monotonic())))
        return (gr.skip(), state, checked_markdown(checked), gr.skip(), gr.skip(),
                *self._screen("checked", checked))  # fmt: skip

    @_store_errors
    def quiz_rate(self, learner: str, state: dict, rating: int) -> tuple:
        """Again / Hard / Good / Easy pressed: record the checked answer as one review with
        that rating; the verdict, when the card is due again, and Undo."""
        skip = (gr.skip(),) * (5 + 10)
        if not state or not state.get("checked"):
            return skip
        quiz = self._quiz(learner)
        with self._lock:  # two presses (a click and a key): one review
            if state.get("review") or state.get("rating"):
                return skip
            state["rating"] = rating
        try:
            review = quiz.commit(state["checked"], rating, duration_ms=state.get("took_ms"))
            state["review"] = review.id
        finally:
            state.pop("rating", None)
        return (gr.skip(), state, review_markdown(review), stats_markdown(quiz.stats()),
                self._counts(quiz), *self._screen("rated"))  # fmt: skip

    @_store_errors
    def quiz_override(self, learner: str, state: dict, correct: bool) -> tuple[str, str]:
        """“I was right” / “I was wrong”: re-rate the last review; (the verdict, progress)."""
        if not state or "review" not in state:
            raise user_error("Answer a card first.")
        quiz = self._quiz(learner)
        review = quiz.override(state["review"], correct)
        return review_markdown(review), stats_markdown(quiz.stats())

    @_store_errors
    def quiz_undo(self, learner: str, state: dict) -> tuple:
        """Undo the review of the shown card: the card is shown again, unanswered, and its
        schedule is what it was."""
        if not state or "review" not in state:
            return (gr.skip(), gr.skip(), "*Nothing to undo.*", *(gr.skip(),) * 12)
        quiz = self._quiz(learner)
        quiz.undo(state["review"])
        state = {"card": state["card"], "shown": time.monotonic()}
        _, *screen = self._screen("answer")  # the typed answer stays, to correct it
        return (gr.skip(), state, "*Review undone: answer again.*", stats_markdown(quiz.stats()),
                self._counts(quiz), gr.update(interactive=True), *screen)  # fmt: skip

    @_store_errors
    def quiz_plot(self, learner: str):
        """The learner's progress as four panels (reviews per day, retention per week, due
        forecast, card histories): a matplotlib figure for a `gr.Plot`."""
        from ..study.progress import progress, progress_figure

        quiz = self._quiz(learner)
        return progress_figure(
            progress(self.store, quiz.learner, cards=quiz.cards), quiz.desired_retention
        )

    # -- Demos and Deck tabs ---------------------------------------------------------
    def demo_view(self, name: str, width: float | None, *values) -> tuple[Any, str, str, str]:
        """Run demo `name` with the page's parameter values: (figure, text, metrics, run).

        `width`: the page's width in CSS pixels (a phone's figure is narrowed), or None."""
        spec = demos_registry().get_spec(name)
        params = {p.name: v for p, v in zip(spec.params, values, strict=True)}
        result = self._run(name, params)
        text, metrics, run = demo_markdown(result)
        figure = for_screen(result.figure, width)
        return figure, text, metrics, run

    def deck_view(self, query: str = "") -> str:
        """The deck, filtered to cards holding every word of `query`."""
        query = (query or "")[: self.tutor.settings.max_search_chars]
        return deck_markdown(self.tutor.cards, query, self.tutor.demos_for)
