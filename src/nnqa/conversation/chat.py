"""Chat: one conversation with the tutor — questions, follow-ups, "quiz me", "show me", "more".

Owns the state of one conversation (the topic, the quiz question awaiting an answer, the
sections already quoted) and turning each message into a `Reply`: a quoted answer (read
in the light of the conversation, see `followup`), a quiz question, a grade with the
FSRS schedule updated, a demo's figure and numbers, the next section of the card, or a
short guide. What a message asks for is recognised by `intents`.

In a quiz, "skip" moves on without a review; "I don't know" and "show answer" are
graded as not recalled (FSRS: Again) and show the card's answer; "stop" ends the quiz.

Leaves out: retrieval and quoting (`tutor`), grading (`grading`), scheduling (`quiz`),
the demos themselves (`demos`, imported only when one runs) and any UI: the web app's
Ask tab calls `Chat.send`; `nnqa chat` calls `run_terminal_chat`.
"""

from __future__ import annotations

import builtins
import contextlib
import sys
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from ..answering.answer import GUIDE, Answer, Hit
from ..answering.followup import Topic, follow, points_back, topic_after
from ..answering.policy import answers
from ..decks.cards import Card
from ..grading import Grade
from ..render import (
    answer_markdown,
    demo_markdown,
    escape_md,
    markdown_text,
    review_markdown,
)
from ..search.query import clean
from .intents import Intent, IntentRecognizer, is_thanks

__all__ = ["Chat", "Reply", "run_terminal_chat", "recognizer_for"]

COMMANDS_HELP = (
    'Ask a question, then follow up ("what causes it?", "how do I fix that?"). '
    'Say "quiz me" (or /quiz), "show me" (/demo), "tell me more" (/more); '
    'in a quiz: "skip", "I don\'t know", "show answer", "stop".'
)


@dataclass(frozen=True)
class Reply:
    """What the chat says back to one message."""

    kind: str  # 'answer' | 'quiz_question' | 'grade' | 'demo' | 'more' | 'guide' | 'notice'
    text: str  # what the learner reads, as Markdown (card text escaped)
    answer: Answer | None = None  # the quoted answer ('answer', 'more')
    grade: Grade | None = None  # the verdict on a quiz answer ('grade')
    review: Any = None  # quiz.Review: the grade as scheduled ('grade')
    demo: Any = None  # demos.DemoResult with its figure ('demo')
    card: Card | None = None  # the card the reply is about (quiz question, grade, demo)
    intent: str = ""  # what the message was read as ('question', 'quiz', 'answer', ...)
    followups: tuple[str, ...] = field(default=())  # suggested next messages
    demo_name: str = ""  # the demo to run ('demo', and 'demo_request' when deferred)
    note: str = ""  # a line said before the answer (Markdown), e.g. that a card is exhausted

    def __str__(self) -> str:
        if self.review is not None:
            body = str(self.review)
        elif self.demo is not None:
            body = str(self.demo)
        elif self.answer is not None and self.kind in ("answer", "more"):
            body = (markdown_text(self.note) + "\n\n" if self.note else "") + str(self.answer)
        else:
            body = markdown_text(self.text)
        if self.followups:
            body += "\n\nTry: " + " | ".join(self.followups)
        return body

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "intent": self.intent,
            "text": self.text,
            "answer": self.answer.to_dict() if self.answer else None,
            "grade": self.grade.to_dict() if self.grade else None,
            "review": self.review.to_dict() if self.review is not None else None,
            "demo": self.demo.to_dict() if self.demo is not None else None,
            "card": {"id": self.card.id, "front": self.card.front} if self.card else None,
            "followups": list(self.followups),
            "demo_name": self.demo_name,
        }


class Chat:
    """One conversation: send messages, get replies; holds the topic and any quiz question.

    Args:
        tutor: the tutor to answer from (default: `default_tutor()`).
        learner: whose FSRS schedule quiz answers update.
        quiz: a `Quiz` to use (default: one for `learner` over the tutor's cards, created
            on the first quiz message).
        intents: an `IntentRecognizer` to share between chats (default: one per tutor).
        run_demo: runs a demo by name, as `demos.run_demo(name)` does (the default); the web
            app passes its own, which queues demos one at a time under a time limit.

    >>> chat = Chat(learner="ana")                               # doctest: +SKIP
    >>> chat.send("what is the vanishing gradient problem?").kind  # doctest: +SKIP
    'answer'
    >>> chat.send("what causes it?").answer.hits[0].section.heading  # doctest: +SKIP
    'What causes them?'
    """

    def __init__(
        self, tutor=None, learner: str = "default", quiz=None, intents=None, run_demo=None
    ):
        if tutor is None:
            from ..tutor import default_tutor

            tutor = default_tutor()
        self.tutor = tutor
        self.learner = learner
        self._quiz = quiz
        self.intents: IntentRecognizer = intents or recognizer_for(tutor)
        self.topic: Topic | None = None
        self.pending: Card | None = None  # the quiz question waiting for an answer
        self.history: list[str] = []  # the learner's messages, oldest first
        self._last: Answer | None = None  # the last quoted answer (for its related cards)
        self._shown: dict[str, set[int]] = {}  # card id -> sections quoted so far
        self._quizzed: set[str] = set()  # cards asked in this conversation
        self._on_screen: str | None = None  # the card the last reply quoted
        self._run_demo = run_demo
        self._lock = threading.Lock()

    @property
    def quiz(self):
        """The learner's FSRS review session (opened on first use)."""
        if self._quiz is None:
            from ..study.quiz import Quiz

            self._quiz = Quiz(self.learner, tutor=self.tutor)
        return self._quiz

    def set_learner(self, learner: str, quiz=None) -> None:
        """Credit quiz answers from now on to `learner` (with their `quiz`, if given)."""
        if learner != self.learner:
            self.learner, self._quiz = learner, quiz
        elif quiz is not None and self._quiz is None:
            self._quiz = quiz

    def state(self) -> dict:
        """What the conversation holds, as JSON (see `restore`): the topic, the quiz question
        awaiting an answer, the sections quoted and the cards quizzed so far."""
        return {
            "topic": self.topic.to_dict() if self.topic else None,
            "pending": self.pending.id if self.pending else None,
            "shown": {cid: sorted(s) for cid, s in self._shown.items()},
            "quizzed": sorted(self._quizzed),
            "history": self.history[-20:],
        }

    def restore(self, state: dict) -> None:
        """Take up a conversation saved by `state` (cards no longer in the decks are dropped)."""
        by_id = {c.id: c for c in self.tutor.cards}

        def card(key):  # None for anything that is not a card id
            return by_id.get(key) if isinstance(key, str) else None

        def strings(value) -> list[str]:
            return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

        topic = state.get("topic") if isinstance(state.get("topic"), dict) else {}
        on = card(topic.get("card_id"))
        self.topic = Topic(on, str(topic.get("section") or "")) if on else None
        self.pending = card(state.get("pending"))
        shown = state.get("shown") if isinstance(state.get("shown"), dict) else {}
        self._shown = {
            cid: {i for i in idx if isinstance(i, int)}
            for cid, idx in shown.items()
            if card(cid) and isinstance(idx, list)
        }
        self._quizzed = {c for c in strings(state.get("quizzed")) if card(c)}
        self.history = strings(state.get("history"))[-20:]

    # -- the one entry point ----------------------------------------------------------
    def send(self, message: str, defer_demos: bool = False) -> Reply:
        """Reply to one message of the learner.

        With `defer_demos`, "show me" is answered with a 'demo_request' reply naming the
        demo instead of running it, so a caller can run it elsewhere (the web app queues
        demos one at a time, apart from questions).

        Raises:
            TypeError: message is not a string.
        """
        if not isinstance(message, str):
            raise TypeError(f"send() takes the message as a string, got {type(message).__name__}")
        text = clean(message, self.tutor.settings.max_question_chars)
        if hasattr(self.tutor, "refresh"):
            self.tutor.refresh()  # an edited deck is answered from at once
        reading = getattr(self.tutor, "reading", contextlib.nullcontext)
        with self._lock, reading():  # one state of the decks for the whole message
            intent = self.intents.recognise(text, in_quiz=self.pending is not None)
            reply = self._dispatch(text, intent, defer_demos)
            # the card whose answer the learner has just been shown ("quiz me" skips it)
            best = reply.answer.best if reply.kind == "answer" and reply.answer else None
            self._on_screen = best.card.id if best is not None else None
            if text:
                self.history.append(text)
            return reply

    def _dispatch(self, text: str, intent: Intent, defer_demos: bool = False) -> Reply:
        name = intent.name
        if name == "answer":
            return self._grade(text, name)
        if name == "reveal":  # not recalled: graded as "I don't know" (FSRS Again)
            return self._grade("I don't know", name)
        if name == "skip":
            return self._skip()
        if name == "stop":
            self.pending = None
            return Reply("notice", "Quiz stopped. Ask me anything, or say \"quiz me\" again.",
                         intent=name, followups=self._suggest())  # fmt: skip
        if name == "quiz":  # "quiz me on that" asks for the card on screen; "quiz me" not
            return self._ask_quiz(intent.rest, pointed=points_back(text))
        if name == "demo":
            return self._demo(intent.rest, defer_demos)
        if name == "more":
            return self._more()
        if name == "guide" and is_thanks(text):  # not the whole guide again
            return Reply("notice", "You're welcome. Ask me something else, or say \"quiz me\".",
                         intent="thanks", followups=self._suggest())  # fmt: skip
        if name == "guide" or not text:
            return self._guide(name)
        return self._answer(text)

    # -- questions --------------------------------------------------------------------
    def _answer(self, text: str) -> Reply:
        res, ranked = follow(self.tutor.retriever, text, self.topic)
        answer = self.tutor.quote(text, ranked)
        self.topic = topic_after(self.tutor.cards, ranked, res, self.topic)
        if answer.best is not None:
            self._last = answer
            self._seen(answer.best)
        return Reply("answer", answer_markdown(answer), answer=answer, intent="question",
                     followups=self._suggest(answer))  # fmt: skip

    def _seen(self, hit: Hit) -> None:
        idx = hit.card.sections.index(hit.section) if hit.section in hit.card.sections else 0
        self._shown.setdefault(hit.card.id, set()).add(idx)

    def _more(self) -> Reply:
        if self.topic is None:
            return self._guide("more", 'Ask me about something first, then say "more".')
        card = self.topic.card
        shown = self._shown.setdefault(card.id, set())
        unseen = [i for i in range(len(card.sections)) if i not in shown]
        if unseen:
            hit = Hit(card, 1.0, card.sections[unseen[0]])
        else:  # the whole card has been quoted: go on to a related card not yet seen
            related = [h.card for h in (self._last.related if self._last else ())]
            related += [self.tutor.cards[cs.card] for cs in self.tutor.rank(card.front)[1:6]]
            fresh = [c for c in related if c.id not in self._shown and c.id != card.id]
            if not fresh:
                return Reply("notice", "That is all the decks say on this. Ask about something "
                             "else, or say \"quiz me\".", intent="more",
                             followups=self._suggest())  # fmt: skip
            hit = Hit(fresh[0], 1.0, fresh[0].sections[0])
        answer = Answer(
            f"more on {card.front}", (hit,), False, demos=self.tutor.demos_for(hit.card)
        )
        self.topic = Topic(hit.card, hit.section.heading)
        self._seen(hit)
        note = ""
        if hit.card.id != card.id:  # say so before moving on to another card
            note = f"*That is all the card “{escape_md(card.front)}” says; a related card:*"
        text = f"{note}\n\n{answer_markdown(answer)}" if note else answer_markdown(answer)
        return Reply("more", text, answer=answer, card=hit.card, intent="more",
                     followups=self._suggest(answer), note=note)  # fmt: skip

    # -- quizzing ---------------------------------------------------------------------
    def _card_named(self, words: str) -> Card | None:
        """The card a few words name ("dropout", "LSTMs"), or None when no card is close."""
        ranked = self.tutor.rank(words) if words.strip() else []
        if answers(ranked):
            return self.tutor.cards[ranked[0].card]
        return None

    def _next_due(self, exclude: set[str]) -> Card | None:
        """The next card by FSRS (due first, then new), other than those excluded."""
        card = self.quiz.next_card()
        if card is not None and card.id not in exclude:
            return card
        scheduled = self.quiz.store.schedule(self.learner)
        return next(
            (c for c in self.quiz.cards if c.id not in scheduled and c.id not in exclude), None
        )

    def _ask_quiz(self, about: str = "", pointed: bool = False) -> Reply:
        card = self._card_named(about) if about else None
        if about and card is None:
            return Reply("notice", f"I have no card on {escape_md(about)!s}. Say \"quiz me\" for the "
                         "next card due.", intent="quiz", followups=("Quiz me",))  # fmt: skip
        skip = self._quizzed | ({self.pending.id} if self.pending else set())
        if card is None and self.topic and self.topic.card.id not in skip:
            if pointed or self.topic.card.id != self._on_screen:
                card = self.topic.card
            else:  # its answer is on screen: quiz a card on the same thread instead
                near = [self.tutor.cards[cs.card] for cs in self.tutor.rank(self.topic.card.front)]
                card = next((c for c in near[1:6] if c.id not in skip), None)
        if card is None:
            card = self._next_due(skip | ({self._on_screen} if self._on_screen else set()))
        if card is None:
            return Reply("notice", "Nothing is due and every card has been reviewed: "
                         "come back later.", intent="quiz")  # fmt: skip
        self.pending = card
        self._quizzed.add(card.id)
        text = (f"**Quiz:** {escape_md(card.front)}\n\n_Type your answer, or say \"skip\", "
                "\"I don't know\" or \"show answer\"._")  # fmt: skip
        return Reply("quiz_question", text, card=card, intent="quiz",
                     followups=("I don't know", "Skip"))  # fmt: skip

    def _grade(self, typed: str, intent: str) -> Reply:
        card, self.pending = self.pending, None
        review = self.quiz.answer(card.id, typed)  # "I don't know" grades 0: FSRS Again
        self.topic = Topic(card)
        self._shown.setdefault(card.id, set()).update(range(len(card.sections)))
        g = review.grade
        follow = ["Next question"] + (["Run the demo"] if self.tutor.demos_for(card) else [])
        return Reply("grade", review_markdown(review), grade=g, review=review, card=card,
                     intent=intent, followups=tuple(follow))  # fmt: skip

    def _skip(self) -> Reply:
        skipped, self.pending = self.pending, None
        reply = self._ask_quiz()
        note = f"Skipped _{escape_md(skipped.front)}_ (no review recorded).\n\n"
        return Reply(reply.kind, note + reply.text, card=reply.card, intent="skip",
                     followups=reply.followups)  # fmt: skip

    # -- demos ------------------------------------------------------------------------
    def _demo(self, about: str = "", defer: bool = False) -> Reply:
        try:
            from .. import demos
        except ImportError:
            return Reply("notice", "The demos are not installed in this build.", intent="demo")
        known = [d["name"] for d in demos.list_demos()]
        name = about.strip().lower().replace(" ", "_")
        if name in known:  # "/demo dropout": by name; its first card becomes the topic
            card = next(iter(self.tutor.library.cards_for_demo(name)), None)
        else:
            card = self._card_named(about) if about else (self.topic.card if self.topic else None)
            names = self.tutor.demos_for(card) if card else ()
            if not names:
                what = f"for {escape_md(card.front)}" if card else "yet: ask about a topic first"
                text = (f"I have no demo {what}. Or name one: "
                        + ", ".join(escape_md(n) for n in known) + ".")  # fmt: skip
                return Reply("notice", text, card=card, intent="demo")
            name = names[0]
        if card is not None and (self.topic is None or self.topic.card.id != card.id):
            self.topic = Topic(card)
        if defer:
            title = demos.get_spec(name).title
            return Reply("demo_request", f"⏳ Running *{escape_md(title)}*…", card=card, intent="demo",
                         demo_name=name)  # fmt: skip
        result = (self._run_demo or demos.run_demo)(name)
        text, metrics, run = demo_markdown(result, series=False, rows=6)
        return Reply("demo", f"{text}\n\n{run}\n\n{metrics}", demo=result, card=card, intent="demo",
                     followups=("Quiz me", "Tell me more"), demo_name=name)  # fmt: skip

    # -- guide and suggestions ----------------------------------------------------------
    def _guide(self, intent: str, lead: str = "") -> Reply:
        examples = self.tutor.examples()
        text = "\n".join(
            ([escape_md(lead), ""] if lead else [])
            + [escape_md(GUIDE), ""]
            + [f"- {escape_md(e)}" for e in examples]
            + ["", escape_md(COMMANDS_HELP)]
        )
        return Reply("guide", text, intent=intent, followups=examples)

    def _suggest(self, answer: Answer | None = None) -> tuple[str, ...]:
        out = []
        if answer is not None and answer.best is not None:
            card = answer.best.card
            if len(self._shown.get(card.id, ())) < len(card.sections):
                out.append("Tell me more")
            if self.tutor.demos_for(card):
                out.append("Run the demo")
            out.append("Quiz me")
            out += [r.card.front for r in answer.related[:2]]
        elif answer is not None:
            out += [h.card.front for h in answer.hits[:3]] + list(answer.suggestions)
        else:
            out.append("Quiz me")
        return tuple(dict.fromkeys(out))

    def __repr__(self) -> str:
        return f"Chat(learner={self.learner!r}, topic={str(self.topic) if self.topic else None!r})"


_recognizers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # tutor -> (version, rec)
_recognizers_lock = threading.Lock()


def recognizer_for(tutor) -> IntentRecognizer:
    """The intent recognizer for a tutor's decks, built once per version of them (it knows
    the decks' subjects; 142 short encodes)."""
    version = tutor.library.version
    with _recognizers_lock:
        got = _recognizers.get(tutor)
        if got is None or got[0] != version:
            got = (version, IntentRecognizer(tutor.embedder, [c.front for c in tutor.cards]))
            _recognizers[tutor] = got
    return got[1]


def run_terminal_chat(chat: Chat, input=None, output=None) -> int:
    """An interactive chat in a terminal; `:q` or end of input (Ctrl-D) ends it.

    On a terminal the line is read with `readline` (arrow keys, history); replies are plain
    text (see `Reply.__str__`). Returns how many messages were answered.
    """
    interactive = input is None and output is None and sys.stdin.isatty()
    input = input or sys.stdin
    output = output or sys.stdout
    if interactive:
        import readline  # noqa: F401 - input() gets line editing and history

    print("nnqa chat: ask about your cards; \"quiz me\", \"show me\", \"more\"; "
          ":q to quit.", file=output, flush=True)  # fmt: skip

    def read() -> str:
        if interactive:
            try:
                return builtins.input("\nyou> ") + "\n"
            except EOFError:
                return ""
        print("\nyou> ", end="", file=output, flush=True)
        return input.readline()

    n = 0
    while True:
        line = read()
        if not line:  # Ctrl-D
            print(file=output)
            break
        if line.strip().lower() in (":q", ":quit", ":exit"):
            break
        if not line.strip():
            continue
        print(str(chat.send(line.rstrip("\n"))), file=output, flush=True)
        n += 1
    return n
