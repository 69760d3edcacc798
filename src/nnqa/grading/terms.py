"""Short answers: whether a typed answer names the reference's term, name or number.

Generic English only: case, accents, punctuation, spacing and number formats are folded;
a negation, a hedge ("X or Y") or a modifier before the term ("Leaky ReLU" for "ReLU") is
never the term. Leaves out: answers that differ in meaning (the judge decides those).
"""

from __future__ import annotations

import re
import unicodedata

from ..text import NEGATIONS

__all__ = ["is_term", "normal", "same_term", "says_verbatim"]


_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")
_LIST = frozenset(
    ["or", "and", "nor", "vs", "versus", "maybe"]
)  # a hedge or a list is not one term
_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "its",
        "it",
        "is",
        "it's",
        "called",
        "of",
        "about",
        "approximately",
        "around",
        "roughly",
    ]
)


def normal(text: str) -> str:
    """Case, accents, punctuation and spacing folded: 'Cross-Entropy  Loss.' -> 'cross entropy loss'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"(?<=\d),(?=\d)", ".", text.casefold())  # 2,4 -> 2.4
    text = re.sub(r"[^\w.]+|(?<!\d)\.|\.(?!\d)", " ", text)
    return " ".join(text.split())


def _numbers(text: str) -> list[float]:
    return [float(n.replace(",", ".")) for n in _NUMBER.findall(text)]


def same_term(typed: str, reference: str) -> bool:
    """Whether a short answer names the reference's term, name or number.

    Normalised equality; the reference's own alias in brackets ("Rectified Linear Unit
    (ReLU)"); the term followed by at most two words naming its kind ("Adam optimiser",
    "2.4 years") with only filler before it ("the", "about"); the same number written
    another way. Never for an answer with a negation in it.

    >>> same_term("cross entropy", "Cross-entropy loss"), same_term("Manhattan distance", "Euclidean distance")
    (False, False)
    >>> same_term("relu", "ReLU"), same_term("2.40 years", "2.4")
    (True, True)
    """
    said = normal(typed)
    words = said.split()
    if not words or NEGATIONS & set(words) or "n't" in typed:
        return False
    aliases = {normal(reference)}
    if m := re.match(r"^(.*?)\s*\(([^()]+)\)\s*$", reference.strip()):
        aliases |= {normal(m.group(1)), normal(m.group(2))}
    aliases.discard("")
    for alias in aliases:
        if said == alias:
            return True
        nums = _numbers(alias)
        only_number = nums and not _NUMBER.sub("", alias).strip()
        if only_number and _numbers(said) == nums and len(words) <= 4:  # "2.40 years", "about 2.4"
            return True
        before, found, after = f" {said} ".partition(f" {alias} ")
        # the term, then at most its kind ("Adam optimizer", "2.4 years"); a word before it
        # other than filler makes another term ("Leaky ReLU", "Manhattan distance")
        kind = after.split()
        if (found and set(before.split()) <= _FILLER and len(kind) <= 2 and not _numbers(after)
                and not _LIST & set(kind)):  # fmt: skip
            return True
    return False


def is_term(text: str) -> bool:
    """A reference that is a term, a name or a number (four words at most, no sentence)."""
    return len(text.split()) <= 4 and not re.search(r"[.!?;:]\s", text + " ")


def says_verbatim(typed: str, point: str) -> bool:
    """Whether the answer contains the point word for word (after `normal`): a learner who
    copied the card said it, whatever a model thinks.

    >>> says_verbatim("Well: ReLU is max(0, x)!", "ReLU is max(0, x)."), says_verbatim("ReLU", "ReLU is max(0, x)")
    (True, False)
    """
    point = normal(point)
    return bool(point) and f" {point} " in f" {normal(typed)} "
