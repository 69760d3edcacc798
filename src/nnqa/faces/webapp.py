"""The web app's layout: four tabs (Ask, Quiz, Demos, Deck) and three API endpoints.

Owns only where things sit and which handler each event calls, with its `api_name` and
its concurrency. The handlers and rendering live in `web`; the root `app.py` builds this
once (`demo = build_app()`) and launches it.

Endpoints, for `gradio_client` (see docs/web.md):
    /ask    (question: str, k: int = 4)        -> (text: str, answer: dict)
    /grade  (front: str, answer: str)          -> dict (verdict, score, covered, missed, ...)
    /demo   (name: str, params: dict | None)   -> (png_data_url: str, result: dict)
"""

from __future__ import annotations

import math
import threading
from functools import partial

import gradio as gr

from ..render import RATING_NAMES, escape_md
from ..tutor import Tutor, default_tutor
from .web import Web, demos_registry

__all__ = ["build_app", "launch_options"]


def intro(topic: str) -> str:
    """The page's header: what nnqa does, over the decks it serves (`topic`, escaped: a
    deck's title is data)."""
    return (
        "# 🧠 nnqa\n"
        f"Ask about {escape_md(topic)} and get **the exact flashcard** that answers it — quoted word "
        "for word, with its source. Quiz yourself with spaced repetition, and watch each idea "
        "happen in a small PyTorch demo."
    )


def deck_topic(tutor: Tutor) -> str:
    """What the decks are about, by their own titles ("Neural Networks Flashcards")."""
    names = tutor.decks
    return " and ".join(names[:2]) + (" and more" if len(names) > 2 else "") or "your decks"


CSS = """
.gradio-container { max-width: 1100px !important; margin: 0 auto !important; }
#quiz-front { font-size: 1.1em; min-height: 3.5em; }
#ratings button { min-width: 0; }
#next-card { align-self: center; max-height: 3.2em; }
#deck-list { max-height: 70vh; overflow-y: auto; }
#chat td:last-child, #demo-metrics td:last-child { white-space: nowrap; }  /* 1.531e+07 whole */
@media (max-width: 640px) {  /* a phone: the title only, so the chat keeps the screen */
  #intro p { display: none; }
  #intro h1 { font-size: 1.4em; margin: 0; }
  #ratings { flex-wrap: wrap !important; }  /* two by two: "3 · Good · 10m" on one line */
  #ratings > button { flex: 1 1 40% !important; white-space: nowrap; }
  /* a demo's figure (its panels stacked for a phone) as wide as the chat, at its own height */
  #chat .message-row:has(.matplotlib), #chat .message:has(.matplotlib) { width: 100%; }
  #chat .matplotlib img { width: 100% !important; height: auto !important; max-height: none !important; }
}
"""


# Keys 1-4 press the Quiz tab's rating buttons, as in Anki; not while typing in a box,
# and only when the buttons are on screen.
KEYS = """<script>
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || !/^[1-4]$/.test(e.key)) return;
  const t = e.target;
  if (t && (t.isContentEditable || ((t.tagName === "TEXTAREA" || t.tagName === "INPUT")
            && !t.disabled))) return;
  const b = document.getElementById("rate-" + e.key);
  if (!b || b.disabled || b.offsetParent === null) return;
  e.preventDefault();
  b.click();
});
</script>"""


def launch_options() -> dict:
    """What `launch()` takes besides host and port (Gradio 6 moved theme, CSS and head
    there): the theme, the CSS and the rating keys' script."""
    return {
        "theme": gr.themes.Soft(primary_hue="indigo", secondary_hue="green"),
        "css": CSS,
        "head": KEYS,
    }


def _slider(p):
    """A slider (or a dropdown, for choices) inside the parameter's bounds."""
    label, info = p.name.replace("_", " "), p.help or None
    if p.choices:
        return gr.Dropdown(list(p.choices), value=p.default, label=label, info=info)
    if p.name == "seed":
        return gr.Number(p.default, label=label, info=info, minimum=p.min, maximum=p.max,
                         precision=0)  # fmt: skip
    if p.type == "int":
        return gr.Slider(p.min, p.max, value=p.default, step=1, label=label, info=info)
    smallest = min((abs(x) for x in (p.min, p.max, p.default) if x), default=1.0)
    step = 10.0 ** (
        math.floor(math.log10(smallest)) - 1
    )  # lr 1e-5..1 -> 1e-6; p 0.05..0.9 -> 0.001
    return gr.Slider(p.min, p.max, value=p.default, step=step, label=label, info=info)


def build_app(tutor: Tutor | None = None, warm: bool = True) -> gr.Blocks:
    """The whole app over `tutor` (default: the tutor over NNQA_KNOWLEDGE / NNQA_INDEX).

    `warm` loads the model and index in a background thread, so the first question is quick
    while the page is already up.

    >>> demo = build_app()                         # doctest: +SKIP
    >>> demo.launch(**launch_options())            # doctest: +SKIP
    """
    tutor = tutor or default_tutor()
    web = Web(tutor)
    registry = demos_registry()
    specs = list(registry.DEMOS.values()) if registry else []
    limits = tutor.settings
    ask_limits = {"concurrency_limit": limits.ask_concurrency, "concurrency_id": "ask"}
    demo_limits = {"concurrency_limit": limits.demo_concurrency, "concurrency_id": "demo"}
    ui = {"api_visibility": "private"}

    topic = deck_topic(tutor)
    with gr.Blocks(
        title="nnqa — flashcards that answer",  # fixed: a deck's title is data, kept out of <head>
        delete_cache=(3600, 3600),  # figures sent as files (none today) are cleaned hourly
        analytics_enabled=False,  # no calls home: the app and the Space start offline
    ) as demo:
        gr.Markdown(intro(topic), elem_id="intro")
        # Kept in the browser for the next visit: the name and the conversation. Outside the
        # tabs, so they are read on load (inside a tab not shown yet, they were not).
        secret = web.browser_secret()
        saved_learner = gr.BrowserState("", storage_key="nnqa-learner", secret=secret)
        saved_chat = gr.BrowserState({}, storage_key="nnqa-chat", secret=secret)
        with gr.Tabs():
            # -- Ask -------------------------------------------------------------
            with gr.Tab("Ask", id="ask"):
                chatbot = gr.Chatbot(
                    height="62vh",
                    min_height=420,
                    show_label=False,
                    examples=[{"text": q} for q in tutor.examples(4)],
                    placeholder=f"Ask a question about {escape_md(topic)}: the answer is a card "
                    "from your deck, quoted.",
                    latex_delimiters=[],
                    buttons=["copy"],
                    feedback_options=None,
                    group_consecutive_messages=False,  # a demo's result is not glued to an answer
                    elem_id="chat",
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="e.g. " + next(iter(tutor.examples(1)), "a question"),
                        show_label=False,
                        max_length=limits.max_question_chars,
                        scale=6,
                        autofocus=True,
                        elem_id="question",
                    )
                    ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                    new_btn = gr.Button("New chat", scale=1, min_width=80, elem_id="new-chat")
                demo_request = gr.State(None)
                visit = gr.State(None)  # this visitor's Visit: their Chat and every message
                # the page's width in CSS pixels, read once on load: a phone gets stacked figures
                viewport = gr.Number(None, visible=False, elem_id="viewport-width")

            # -- Quiz ------------------------------------------------------------
            with gr.Tab("Quiz", id="quiz"):
                quiz_state = gr.State({})
                with gr.Row():
                    with gr.Column(scale=3):
                        with gr.Row(equal_height=True):
                            learner = gr.Textbox(
                                label="Your name",
                                info="Your progress is kept under it, for your next visit.",
                                max_length=limits.max_learner_chars,
                                scale=3,
                                elem_id="learner",
                            )
                            next_btn = gr.Button(
                                "Next card", variant="primary", scale=1, elem_id="next-card"
                            )
                        counts = gr.Markdown(elem_id="quiz-counts")
                        front = gr.Markdown(
                            "Type your name and press **Next card**.",
                            elem_id="quiz-front",
                            latex_delimiters=[],
                        )
                        typed = gr.Textbox(
                            label="Your answer",
                            info="Enter checks it (Shift+Enter for a new line).",
                            lines=1,
                            max_lines=8,
                            max_length=limits.max_answer_chars,
                            elem_id="answer",
                        )
                        with gr.Row():
                            check_btn = gr.Button("Check my answer", variant="primary",
                                                  elem_id="check")  # fmt: skip
                            idk_btn = gr.Button("I don't know", elem_id="dont-know")
                        verdict = gr.Markdown(elem_id="verdict", latex_delimiters=[])
                        with gr.Row(visible=False, elem_id="ratings") as ratings:
                            rate_btns = [
                                gr.Button(name, elem_id=f"rate-{r}", min_width=60)
                                for r, name in RATING_NAMES.items()
                            ]
                        with gr.Row(visible=False) as overrule:
                            gr.Markdown("Disagree with the grader?")
                            right_btn = gr.Button("I was right", size="sm")
                            wrong_btn = gr.Button("I was wrong", size="sm")
                        undo_btn = gr.Button("Undo this review", size="sm", visible=False,
                                             elem_id="undo")  # fmt: skip
                    with gr.Column(scale=1, min_width=220):
                        gr.Markdown("#### Progress")
                        progress = gr.Markdown("—", elem_id="progress", latex_delimiters=[])
                with gr.Accordion("Progress in pictures", open=False, elem_id="plots"):
                    plot_btn = gr.Button("Show my progress", elem_id="show-progress")
                    plot = gr.Plot(show_label=False, format="png", elem_id="progress-plot")
                demo.load(web.remembered_learner, [saved_learner, learner], [learner], **ui)
                for trigger in (learner.blur, learner.submit):  # the name, kept for a reload
                    trigger(web.learner_to_keep, [learner], [saved_learner], **ui)
                # Every quiz handler returns these (see `Web._screen`).
                screen = [typed, check_btn, idk_btn, overrule, undo_btn, ratings, *rate_btns]
                outs = [front, quiz_state, verdict, progress, counts, *screen]
                next_btn.click(web.quiz_next, [learner], outs, **ui
                               ).then(web.learner_to_keep, [learner], [saved_learner], **ui)  # fmt: skip
                for trigger in (check_btn.click, typed.submit):
                    trigger(web.quiz_check, [learner, typed, quiz_state], outs,
                            **ui, **ask_limits)  # fmt: skip
                idk_btn.click(partial(web.quiz_check, dont_know=True),
                              [learner, typed, quiz_state], outs, **ui, **ask_limits)  # fmt: skip
                for rating, btn in zip(RATING_NAMES, rate_btns, strict=True):
                    btn.click(partial(web.quiz_rate, rating=rating), [learner, quiz_state], outs,
                              **ui)  # fmt: skip
                undo_btn.click(web.quiz_undo, [learner, quiz_state], outs, **ui)
                for btn, correct in ((right_btn, True), (wrong_btn, False)):
                    btn.click(partial(web.quiz_override, correct=correct),
                              [learner, quiz_state], [verdict, progress], **ui)  # fmt: skip
                plot_btn.click(web.quiz_plot, [learner], [plot], **ui)

            # -- Demos -----------------------------------------------------------
            with gr.Tab("Demos", id="demos"):
                if not specs:
                    gr.Markdown("This build has no demos.")
                else:
                    picker = gr.Dropdown(
                        [(s.title, s.name) for s in specs], value=specs[0].name, label="Demo"
                    )
                    with gr.Row():
                        panels = []
                        with gr.Column(scale=1, min_width=280):
                            for s in specs:
                                with gr.Column(visible=s is specs[0]) as panel:
                                    gr.Markdown(f"*{s.summary}*")
                                    inputs = [_slider(p) for p in s.params]
                                    run_btn = gr.Button("Run", variant="primary")
                                panels.append((s.name, panel, run_btn, inputs))
                        with gr.Column(scale=2):
                            figure = gr.Plot(label="Figure", format="png", elem_id="demo-figure")
                            run_info = gr.Markdown(elem_id="demo-run")
                            demo_text = gr.Markdown(latex_delimiters=[])
                            metrics = gr.Markdown(elem_id="demo-metrics", latex_delimiters=[])
                    shown = [figure, demo_text, metrics, run_info]  # another demo's: cleared
                    picker.change(
                        lambda name: [gr.update(visible=n == name) for n, *_ in panels]
                        + [None, "", "", ""],
                        [picker], [p for _, p, _, _ in panels] + shown, **ui, queue=False,
                    )  # fmt: skip
                    for name, _, run_btn, inputs in panels:
                        run_btn.click(partial(web.demo_view, name), [viewport, *inputs],
                                      [figure, demo_text, metrics, run_info],
                                      **ui, **demo_limits)  # fmt: skip

            # -- Deck ------------------------------------------------------------
            with gr.Tab("Deck", id="deck"):
                search = gr.Textbox(
                    placeholder="Search the cards (words in the question or the answer)",
                    show_label=False,
                    max_length=limits.max_search_chars,
                    elem_id="deck-search",
                )
                deck = gr.Markdown(web.deck_view(""), elem_id="deck-list", latex_delimiters=[])
                search.change(web.deck_view, [search], [deck], **ui, queue=False)

        # -- API endpoints (stable names for gradio_client) ----------------------------
        # The chat's events are wired here, once the Quiz tab's learner name exists. Each
        # returns every message of the visit (appended to, never replaced) and saves it.
        chat_in = [question, visit, learner]
        chat_out = [chatbot, question, visit, demo_request, saved_chat]
        for trigger in (question.submit, ask_btn.click):
            trigger(web.chat_submit, chat_in, chat_out, **ui, **ask_limits)
        chatbot.example_select(web.example_text, None, question, **ui).then(
            web.chat_submit, chat_in, chat_out, **ui, **ask_limits
        )
        chatbot.option_select(web.chat_option, [visit, learner],
                              [chatbot, demo_request, visit, saved_chat], **ui, **ask_limits)  # fmt: skip
        demo_request.change(web.chat_demo, [visit, demo_request, viewport], [chatbot, saved_chat],
                            **ui, **demo_limits)  # fmt: skip
        for trigger in (new_btn.click, chatbot.clear):
            trigger(web.chat_clear, [visit, learner], [chatbot, visit, saved_chat], **ui)
        demo.load(web.chat_restore, [saved_chat, saved_learner], [chatbot, visit], **ui)
        demo.load(None, None, [viewport], js="() => window.innerWidth", queue=False, **ui)

        gr.api(web.ask, api_name="ask", **ask_limits)
        gr.api(web.grade, api_name="grade", **ask_limits)
        gr.api(web.demo, api_name="demo", **demo_limits)

    demo.queue(max_size=limits.queue_size, default_concurrency_limit=limits.ask_concurrency)
    if warm:
        threading.Thread(target=_warm, args=(tutor,), daemon=True, name="nnqa-warm").start()
    return demo


def _warm(tutor: Tutor) -> None:
    """Load the model, the index and the grader's key points before the first request."""
    tutor.ask(next(iter(tutor.examples(1)), "warm up"))
    tutor.grader.warm(tutor.cards)
