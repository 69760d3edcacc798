"""Text: the generic word handling every layer shares: tokens, stop words, stems, bullets.

Owns how nnqa splits text into lower-case words, which words carry no meaning (stop words),
how words are reduced to a common form (a plural's "s", a light suffix stem, a prefix),
which words negate, and how a bullet mark is dropped. Pure functions over strings.
Leaves out: anything about cards (see `nnqa.decks.cardtext`) or questions (see
`nnqa.search.query`), and vocabulary of one task (the follow-up's generic words, the
grader's synonyms), which stays with the task.
"""

from __future__ import annotations

import re

__all__ = [
    "BULLET",
    "NEGATIONS",
    "STOP_WORDS",
    "normalise",
    "prefix",
    "singular",
    "stem",
    "strip_bullet",
    "terms",
    "tokens",
]

TOKEN = re.compile(r"[a-z0-9]+")
BULLET = re.compile(r"^\s*[-*•]\s+")  # a list item's mark: "- ", "* ", "• "

# Words of asking and grammar that say nothing about a topic (BM25 and matching skip them).
STOP_WORDS = frozenset(
    """a an the is are was were be been being of in on at to for from by with and or not no
    what whats which who whom how why when where does do did doing done can could should would
    will it its this that these those there their them they i me my you your we our as into
    about than then so if but also just like use used using get gets tell explain mean means
    meaning define definition describe please vs versus between some any""".split()  # noqa: SIM905
)
# Words that turn a statement around ("does not vanish", "without dropout").
NEGATIONS = frozenset(
    "not no never nor without cannot cant dont doesnt isnt arent wont didnt neither none".split()  # noqa: SIM905
)


def tokens(text: str) -> list[str]:
    """Lower-case runs of letters and digits.

    >>> tokens("What is ReLU, f(x)=max(0,x)?")
    ['what', 'is', 'relu', 'f', 'x', 'max', '0', 'x']
    """
    return TOKEN.findall(text.lower())


def normalise(text: str) -> str:
    """Text as its tokens joined by single spaces: case and punctuation do not count.

    >>> normalise("What is  ReLU?")
    'what is relu'
    """
    return " ".join(tokens(text))


def singular(word: str) -> str:
    """A plural's "s" off (not "ss", not in words of 3 letters or fewer).

    >>> singular("gradients"), singular("loss"), singular("gas")
    ('gradient', 'loss', 'gas')
    """
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def stem(word: str) -> str:
    """A light stem: "-ing", "-es" or "-s" off when four letters or more remain.

    >>> stem("vanishing"), stem("updates"), stem("bias")
    ('vanish', 'updat', 'bias')
    """
    for suffix in ("ing", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def prefix(word: str, n: int = 5) -> str:
    """The word's first n letters: a crude stem that matches "normalization" and "normalize"."""
    return word[:n]


def terms(text: str) -> list[str]:
    """The words that carry meaning: tokens without stop words, plural "s" removed.

    >>> terms("What are Vanishing Gradients in RNNs?")
    ['vanishing', 'gradient', 'rnn']
    """
    return [singular(w) for w in tokens(text) if w not in STOP_WORDS]


def strip_bullet(line: str) -> str:
    """A line without its bullet mark and surrounding space.

    >>> strip_bullet("  - Dropout: randomly dropping units")
    'Dropout: randomly dropping units'
    """
    return BULLET.sub("", line).strip()
