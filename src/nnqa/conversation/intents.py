"""Intents: what a chat message asks for ("quiz me", "show me", "more", a question ...).

Owns recognising a message's intent by exact commands (`/quiz`, `/demo`, `/help`, "skip")
and otherwise by embedding similarity to example phrasings: the nearest example's intent
wins when it is similar enough *and* clearly nearer than any example question (the
decks' own fronts and questions that merely use the intents' words, "what is the test
set?"), so "what is the quiz in dropout?" stays a question. One encode per message.

While a quiz question waits for an answer, the message is the learner's answer unless
it is clearly "skip", "I don't know"/"show answer", "stop", or another intent.
Leaves out: acting on the intent (see `chat`) and answering questions (see `tutor`).
Thresholds were calibrated on tests/data/intents.jsonl (see `nnqa.eval.intents`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..search.query import is_small_talk

__all__ = ["Intent", "IntentRecognizer", "EXAMPLES", "COMMANDS", "is_thanks"]

# Example phrasings per intent. A message is compared with its deck subjects masked as
# "it" ("quiz me on LSTMs" -> "quiz me on it"), so the examples say "it" too.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "quiz": (
        "quiz me", "quiz me on this", "quiz me on that", "test me", "test me on this",
        "test my knowledge", "ask me a question", "ask me about it", "give me a quiz",
        "can you quiz me?", "let's do a quiz", "I want to practice", "let's practice",
        "check if I understood it", "start a review", "review my cards", "next question",
        "another question please", "ask me another one", "drill me", "quiz time",
        "quiz me on it", "test me on it", "ask me a question about it", "let's review",
        "practice", "check what I remember", "see if I know it",
    ),
    "demo": (
        "show me", "show me a demo", "run the demo", "run it", "can I see a demo?",
        "show me it in action", "visualize it", "plot it", "let me see it",
        "show me how it works", "show me a plot", "run an experiment", "demonstrate it",
        "show me in code", "run the demo for it", "show me it in action", "demo of it",
        "show me how it works", "visualize it", "can you show me", "I want to see it",
        "show me something",
    ),
    "more": (
        "more", "tell me more", "go on", "continue", "keep going", "what else?",
        "more please", "elaborate", "more details", "explain further", "go deeper",
        "what else should I know?", "anything else?", "expand on that",
        "tell me more about it", "and then?", "say more", "can you elaborate?",
        "go into more detail", "go further",
    ),
    "guide": (
        "hi", "hello", "hey there", "thanks", "thank you", "help", "what can you do?",
        "how does this chat work?", "who are you?", "good morning", "bye",
        "what commands are there?", "how do I use this?", "how do I use you?",
        "great, thanks", "ok cool",
    ),
    "skip": ("skip", "skip this one", "pass", "I'll pass", "next card", "next one please",
             "skip it", "another card"),
    "reveal": (
        "I don't know", "no idea", "idk", "show answer", "show me the answer",
        "what's the answer?", "tell me the answer", "I give up", "reveal the answer",
        "I forgot", "no clue", "not sure", "I have no idea", "just tell me",
    ),
    "stop": ("stop", "stop the quiz", "quit", "enough", "I'm done", "end the quiz",
             "let's stop", "no more questions", "exit the quiz", "stop quizzing me", "enough for now", "that's enough"),
}  # fmt: skip
# Questions that use the intents' words; with the decks' fronts they are the negatives.
QUESTIONS = (
    "what is the test set?", "how do I test a model?", "what does the demo show?",
    "what is more important, depth or width?", "how do you show that training converges?",
    "why do we run more epochs?", "what is a validation set?", "how do I plot the loss?",
    "what does a skip connection do?", "what is it?", "how does it work?",
    "why does it happen?", "explain it", "what are the steps of it?",
    "how do I fix it?", "what causes it?", "what is the quiz about?",
    "what are examples of it?", "does it help with accuracy?", "tell me about it",
    "what is it used for?", "what is the difference between it and it?",
)  # fmt: skip

# Exact commands ("/quiz dropout") and bare words, before any embedding.
COMMANDS = {
    "/quiz": "quiz", "/test": "quiz", "/demo": "demo", "/show": "demo", "/run": "demo",
    "/more": "more", "/help": "guide", "/skip": "skip", "/next": "skip", "/answer": "reveal",
    "/reveal": "reveal", "/stop": "stop", "/quit": "stop",
}  # fmt: skip
_BARE = {
    "quiz": "quiz", "quiz me": "quiz", "test me": "quiz", "demo": "demo", "show me": "demo",
    "run the demo": "demo", "more": "more", "tell me more": "more", "what else": "more",
    "help": "guide",
    "skip": "skip", "next": "skip", "pass": "skip", "idk": "reveal", "i don't know": "reveal",
    "show answer": "reveal", "show the answer": "reveal", "stop": "stop", "quit": "stop",
}  # fmt: skip
QUIZ_ONLY = ("skip", "reveal", "stop")  # meaningful only while a quiz question waits

MIN_SIMILARITY = 0.58  # nearest intent example at least this similar ...
MARGIN = 0.08  # ... and this much nearer than the nearest example question
WH_MIN, WH_MARGIN = 0.80, 0.20  # a wh-question ("what is the quiz in dropout?") needs more
IN_QUIZ_MIN = 0.75  # while an answer is awaited, another intent must be this clear ...
IN_QUIZ_OWN_MIN = 0.60  # ... and "skip", "I don't know", "stop" this clear

_WH = re.compile(r"^(what|why|how|when|where|which|who|whats|what's|is|are|does|do)\b", re.I)


@dataclass(frozen=True)
class Intent:
    """A message's intent, how sure, and why (the nearest example, or the command)."""

    name: str  # 'question' | 'answer' | 'quiz' | 'demo' | 'more' | 'guide' | 'skip' | ...
    score: float  # cosine to the nearest example (1.0 for a command)
    example: str = ""  # the nearest example phrasing, or the command typed
    rest: str = ""  # what it is about: "/quiz dropout" or "quiz me on dropout" -> "dropout"

    def __str__(self) -> str:
        return f"{self.name} ({self.score:.2f}, like {self.example!r})"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w'/ ]+", " ", text.lower()).split())


_THANKS = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|great|cool|nice|perfect|awesome|got it)\W+)*"
    r"(?:thanks?|thank you|thx|ty|cheers)(?:\W+(?:a lot|so much|very much|again))*\W*$",
    re.I,
)


def is_thanks(message: str) -> bool:
    """A thank-you, said alone: answered with a short "you're welcome", not the guide.

    >>> is_thanks("great, thanks!"), is_thanks("thanks, what is relu?")
    (True, False)
    """
    return bool(_THANKS.match(message.strip()))


def command_of(message: str) -> Intent | None:
    """An exact command or bare word: `/quiz dropout`, `skip`, `show answer`.

    >>> command_of("/quiz dropout")
    Intent(name='quiz', score=1.0, example='/quiz', rest='dropout')
    >>> command_of("what is the quiz in dropout?") is None
    True
    """
    text = _norm(message)
    head, _, rest = text.partition(" ")
    if head in COMMANDS:
        return Intent(COMMANDS[head], 1.0, head, rest)
    if text.rstrip(" !.") in _BARE:
        return Intent(_BARE[text.rstrip(" !.")], 1.0, text)
    if is_small_talk(message) or is_thanks(message):  # greetings, thanks, "what can you do?"
        return Intent("guide", 1.0, text)
    return None


class IntentRecognizer:
    """Recognises intents with a sentence embedder; example vectors are encoded once.

    >>> r = IntentRecognizer(embedder, ["What is dropout?"])       # doctest: +SKIP
    >>> r.recognise("test me on this").name                        # doctest: +SKIP
    'quiz'
    >>> r.recognise("what is the quiz in dropout?").name           # doctest: +SKIP
    'question'
    """

    def __init__(self, embedder, fronts=(), min_similarity=MIN_SIMILARITY, margin=MARGIN):
        from ..answering.followup import own_words
        from ..decks.cardtext import subject_of

        self.embedder = embedder
        self.min_similarity = min_similarity
        self.margin = margin
        # words that name the decks' subjects ("dropout", "lstm"), masked before comparing
        self.subject_words = {w for f in fronts for w in own_words(subject_of(f))}
        self.subject_words |= {w.strip("()").lower() for f in fronts for w in f.split()
                               if w.strip("()?").isupper() and len(w.strip("()?")) > 1}  # fmt: skip
        labels, texts = [], []
        for name, examples in [*EXAMPLES.items(), ("question", QUESTIONS)]:
            labels += [name] * len(examples)
            texts += examples
        self.labels = np.array(labels)
        self.texts = texts
        self.vectors = embedder.encode(texts)  # (n_examples, dim), unit rows

    def mask(self, message: str) -> str:
        """The message with each run of subject words as "it": "test me on LSTMs" -> "test me on it"."""
        out: list[str] = []
        masked = False
        for tok in message.split():
            bare = tok.strip("?!.,;:()\"'").lower()
            is_subject = bare in self.subject_words or (
                bare.endswith("s") and bare[:-1] in self.subject_words
            )
            if is_subject and not masked:
                out.append("it" + tok[len(tok.rstrip("?!.,;:")) :])
            elif not is_subject:
                out.append(tok)
            masked = is_subject
        return " ".join(out)

    def scores(self, message: str) -> dict[str, tuple[float, str]]:
        """Per intent: the cosine to its nearest example and that example."""
        sims = self.embedder.encode([self.mask(message)])[0] @ self.vectors.T  # (n_examples,)
        out = {}
        for name in dict.fromkeys(self.labels.tolist()):
            idx = np.flatnonzero(self.labels == name)
            best = idx[int(np.argmax(sims[idx]))]
            out[name] = (float(sims[best]), self.texts[best])
        return out

    def recognise(self, message: str, in_quiz: bool = False) -> Intent:
        """The message's intent; 'question' (or 'answer' while a quiz waits) by default."""
        default = "answer" if in_quiz else "question"
        cmd = command_of(message)
        if cmd is not None:
            if cmd.name in QUIZ_ONLY and not in_quiz:
                if cmd.name == "skip" and cmd.example in ("next", "/next"):
                    return Intent("quiz", 1.0, cmd.example)  # "next" = the next card
                return Intent("guide" if cmd.name == "stop" else default, 1.0, cmd.example)
            return cmd
        if not message.strip():
            return Intent(default, 0.0)
        masked = self.mask(message)
        rest = " ".join(w for w in message.split() if w not in masked.split())
        scores = self.scores(message)
        q_score, q_example = scores.pop("question")
        if not in_quiz:
            for name in QUIZ_ONLY:
                scores.pop(name, None)
        name, (score, example) = max(scores.items(), key=lambda kv: kv[1][0])
        need, margin = self.min_similarity, self.margin
        if in_quiz:  # the learner's answer is the default: other intents must be clear
            need = max(need, IN_QUIZ_OWN_MIN if name in QUIZ_ONLY else IN_QUIZ_MIN)
            margin = 0.0 if name in QUIZ_ONLY else margin
        if _WH.match(message.strip()) and not (in_quiz and name in QUIZ_ONLY):
            need, margin = max(need, WH_MIN), WH_MARGIN
        if name == "more" and rest:
            name = default  # "can you explain CNNs?" asks about CNNs, not for more of the topic
        if score >= need and score - q_score >= margin:
            return Intent(name, score, example, rest)
        return Intent(default, q_score, q_example)
