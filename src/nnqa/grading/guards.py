"""Guards: answers that are not answers, whatever their similarity.

Owns the checks that run before any score, in generic English only: empty input and
"I don't know", an answer that only restates the question, and a bag of the reference's
own words with no statement in it. Leaves out: meaning (the judge) and scoring (`grader`).
"""

from __future__ import annotations

import difflib
import re

from ..text import STOP_WORDS, TOKEN, stem

__all__ = ["content_words", "is_non_answer", "restates", "is_keyword_bag"]


_NON_ANSWER = re.compile(
    r"^\s*(?:i\s*)?(?:idk|dunno|don'?t know|do not know|dont know|no idea|not sure|no clue|"
    r"pass|skip|\?+|n/?a|nothing|none|no|\.+|-+|i forgot|forgot|can'?t remember|"
    r"have no idea|no idea tbh|idk tbh|tbh idk)\s*[.!?]*\s*(?:tbh|sorry|lol)?\s*[.!?]*\s*$",
    re.IGNORECASE,
)
# the shared stop words, and the words of asking a grader also skips ("explain ... in detail")
_STOP = STOP_WORDS | frozenset(
    "called detail he here it's kind may might must one really shall she sort such thing "  # noqa: SIM905
    "things type uses very".split()
)


def content_words(text: str) -> set[str]:
    """Lower-cased, lightly stemmed words that carry meaning (no stop words)."""
    return {stem(w) for w in TOKEN.findall(text.lower()) if w not in _STOP}


def _acronyms(text: str) -> set[str]:
    """Words made of the initials of a phrase in the text: "long short-term memory" -> lstm."""
    words = TOKEN.findall(text.lower())
    out = set()
    for n in range(2, 5):
        for i in range(len(words) - n + 1):
            out.add("".join(w[0] for w in words[i : i + n]))
    return out


def is_non_answer(typed: str) -> bool:
    """Empty input, "idk", "I don't know", "?" and the like."""
    return not typed.strip() or bool(_NON_ANSWER.match(typed))


def _asked(word: str, asked: set[str]) -> bool:
    """Whether a word is one of the question's, allowing a typo ("netowrks")."""
    if word in asked:
        return True
    return len(word) >= 5 and bool(difflib.get_close_matches(word, asked, n=1, cutoff=0.8))


def restates(typed: str, question: str) -> bool:
    """Whether the answer adds no word of its own to the question's words.

    A bag of keywords counts too: no sentence words, a question word said twice and at
    most one word of its own ("relu relu activation").
    """
    if not question:
        return False
    asked = content_words(question) | _acronyms(question)
    words = [stem(w) for w in TOKEN.findall(typed.lower())]
    own = {w for w in words if w not in _STOP and not _asked(w, asked)}
    if not own:
        return True
    repeated = any(words.count(w) > 1 for w in set(words) if w in asked)
    return repeated and len(own) <= 1 and not any(w in _STOP for w in words)


# words that make a list of terms into a statement: articles, prepositions, pronouns,
# auxiliaries, conjunctions, negation; a keyword bag has none of them
_FUNCTION_WORDS = (
    "a an the is are was were be been being am of in on at to for from by with and or but "
    "as it its it's this that these those which who when where if then so because than not "
    "no can could would should will may might must do does did has have had get gets got "
    "they them their you your we our i he she his her there into onto over under through "
    "until while during before after about without only just very each every all some"
)
_FUNCTION = frozenset(_FUNCTION_WORDS.split())


def is_keyword_bag(typed: str, vocabulary: str) -> bool:
    """Whether the answer is only terms taken from the card, with nothing said about them.

    A bag has at least three words, no punctuation that structures a list or a formula
    (", : ( = ->"), no function word ("is", "to", "when", ...) and no word that is not
    already in `vocabulary` (the card's question and answer), so it asserts nothing.

    >>> is_keyword_bag("dropout neural network regularization overfitting",
    ...                "Dropout is a regularization technique ... preventing overfitting")
    False
    >>> is_keyword_bag("dropout neural network regularization", "Dropout: neural network regularization")
    True
    """
    if re.search(r"[^\w\s'-]", typed):
        return False  # commas, colons, formulas: an enumeration or a definition
    words = TOKEN.findall(typed.lower())
    if len(words) < 3 or any(w in _FUNCTION for w in words):
        return False
    known = {stem(w) for w in TOKEN.findall(vocabulary.lower())} | _acronyms(vocabulary)
    known |= {w[:6] for w in known}  # a word's family: propagation ~ propagated

    def from_card(w: str) -> bool:
        w = stem(w)
        return w in known or w[:6] in known

    return all(from_card(w) for w in words)
