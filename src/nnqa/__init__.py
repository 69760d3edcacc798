"""nnqa: a study companion for neural networks that answers by quoting your flashcards.

`import nnqa` is light: the model, FAISS, Gradio and the demos load only when first used.

>>> from nnqa import ask                               # doctest: +SKIP
>>> print(ask("what causes vanishing gradients"))      # doctest: +SKIP
"""

from .add import Added, add_deck
from .answer import Answer, Hit
from .cards import Card, DeckError, Section
from .chat import Chat, Reply
from .grading import Grade
from .quiz import Quiz
from .settings import Settings
from .tutor import Tutor, ask, default_tutor, grade, grade_text

__version__ = "0.1.0"

__all__ = [
    "Added",
    "Answer",
    "Card",
    "Chat",
    "DeckError",
    "Grade",
    "Hit",
    "Quiz",
    "Reply",
    "Section",
    "Settings",
    "Tutor",
    "add_deck",
    "ask",
    "default_tutor",
    "grade",
    "grade_text",
]
