"""Queries: clean what a learner typed, fix typos against the deck's words, expand acronyms.

Owns the text-only steps before a question is embedded: cutting it to what the model
reads, dropping control characters, correcting misspelt words to the nearest word the
decks use ("vanishng gradiants" -> "vanishing gradients"), expanding abbreviations (from
the decks' own "Long Name (ABBR)" and the glossary files beside them, see
`nnqa.decks.glossary`), and spotting greetings.
Leaves out: embedding and scoring (see `retrieval`).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

__all__ = ["clean", "Vocabulary", "is_small_talk"]


# Past this many long deck words, typo candidates are only words sharing the typed word's
# first letter and a length within 2/3..3/2 of it (difflib's 0.8 cutoff cannot match
# outside that length band anyway): scanning 50,000+ words per query word costs ~50 ms.
LARGE_VOCABULARY = 5_000

_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def clean(text: str, max_chars: int = 2000) -> str:
    """Cut to `max_chars`, turn control and unprintable characters into spaces, squeeze space.

    >>> clean("what\\x00is\\tReLU\\ud800 ?")
    'what is ReLU ?'
    """
    text = text[:max_chars]
    out = [" " if unicodedata.category(ch) in _CONTROL else ch for ch in text]
    return " ".join("".join(out).split())


_ACRONYM_DEF = re.compile(r"((?:[A-Za-z][\w-]*\s+){1,5})\((?P<abbr>[A-Za-z]{2,6})\)")


def acronyms_in(text: str) -> dict[str, str]:
    """Find "Long Short-Term Memory (LSTM)" style definitions: {'lstm': 'long short-term memory'}.

    >>> acronyms_in("Rectified Linear Unit (ReLU) is an activation function")
    {'relu': 'rectified linear unit'}
    """
    found = {}
    for m in _ACRONYM_DEF.finditer(text):
        abbr = m.group("abbr")
        words = m.group(1).split()
        letters = [c for c in abbr if c.isupper()] or list(abbr.upper())
        # take as many trailing words as the acronym has capitals (hyphens split words)
        parts, taken = [], 0
        for w in reversed(words):
            pieces = w.split("-")
            parts.insert(0, w)
            taken += len(pieces)
            if taken >= len(letters):
                break
        initials = "".join(p[0] for w in parts for p in w.split("-") if p).lower()
        if initials.startswith(abbr.lower()[0]):
            found[abbr.lower()] = " ".join(parts).lower()
    return found


class Vocabulary:
    """The decks' own words, for typo correction and acronym expansion."""

    def __init__(
        self,
        texts: Iterable[str],
        known: Iterable[str] = (),
        glossary: dict[str, str] | None = None,
    ):
        words: set[str] = set()
        bigrams: set[tuple[str, str]] = set()
        acronyms: dict[str, str] = {}
        for t in texts:
            ws = [w.lower() for w in _WORD.findall(t)]
            words.update(ws)
            bigrams.update(zip(ws, ws[1:], strict=False))
            if "(" in t:  # the regex backtracks on every word; most texts define nothing
                acronyms.update(acronyms_in(t))
        self.bigrams = bigrams
        self.words = words
        self.long_words = sorted(w for w in words if len(w) >= 5)
        # Real words (the model's whole-word vocabulary) are never "corrected": "turning"
        # must not become "training".
        self.known = {w for w in known if w.isalpha()}
        # the decks' own "Long Name (ABBR)" first; a deck's glossary file adds its author's
        self.acronyms = {**(glossary or {}), **acronyms}
        self._near: dict[str, list[str]] = {}  # memo: word -> its 3 closest deck words
        self._buckets: dict[tuple[str, int], list[str]] | None = None
        if len(self.long_words) > LARGE_VOCABULARY:
            self._buckets = {}
            for w in self.long_words:
                self._buckets.setdefault((w[0], len(w)), []).append(w)

    def _candidates(self, low: str) -> list[str]:
        """Deck words a typo of `low` could be (all long words in a small vocabulary)."""
        if self._buckets is None:
            return self.long_words
        lo, hi = -(-2 * len(low) // 3), (3 * len(low)) // 2
        return [w for n in range(lo, hi + 1) for w in self._buckets.get((low[0], n), ())]

    def nearest(self, low: str, n: int = 3) -> list[str]:
        """The n deck words at least 80% similar to a lower-case word, closest first (memoised)."""
        if low not in self._near:
            if len(self._near) > 50_000:  # bound the memo on a public server
                self._near.clear()
            self._near[low] = difflib.get_close_matches(low, self._candidates(low), n=3, cutoff=0.8)
        return self._near[low][:n]

    def correct(self, word: str) -> str:
        """The deck word nearest to a misspelt word, or the word itself.

        Only words of 5+ letters that the decks do not use are corrected, and only to a
        word at least 80% similar, so ordinary words ("forest", "joke") stay as typed.
        """
        low = word.lower()
        if len(low) < 5 or low in self.words or low in self.acronyms or low in self.known:
            return word
        best = self.nearest(low, 1)
        return best[0] if best else word

    def correct_in_context(self, prev: str, word: str, nxt: str) -> str:
        """Fix a real word used for a deck word ("gradient decent" -> "gradient descent").

        Only when the corrected word forms a phrase the decks use with a neighbour.
        """
        low = word.lower()
        if len(low) < 4 or low in self.words:
            return word
        for cand in self.nearest(low, 3):
            if (prev.lower(), cand) in self.bigrams or (cand, nxt.lower()) in self.bigrams:
                return cand
        return word

    def rewrite(self, question: str) -> str:
        """Correct typos and add the long form after each known abbreviation.

        >>> v = Vocabulary(["vanishing gradients"], glossary={"nn": "neural network"})
        >>> v.rewrite("vanishng gradiants in an nn")
        'vanishing gradients in an nn (neural network)'
        """
        out = []
        toks = question.split()
        bare = [t.strip("?!.,;:()\"'") for t in toks]
        for i, token in enumerate(toks):
            m = _WORD.fullmatch(bare[i])
            if not m:
                out.append(token)
                continue
            word = m.group(0)
            fixed = self.correct(word)
            if fixed == word:
                prev = self.correct(bare[i - 1]) if i else ""
                nxt = self.correct(bare[i + 1]) if i + 1 < len(bare) else ""
                fixed = self.correct_in_context(prev, word, nxt)
            token = token.replace(word, fixed) if fixed != word else token
            long = self.acronyms.get(fixed.lower())
            out.append(f"{token} ({long})" if long and long != fixed.lower() else token)
        return " ".join(out)


_SMALL_TALK = re.compile(
    r"^(hi|hello|hey|hiya|yo|howdy|good (morning|afternoon|evening)|thanks?( you)?|thank you"
    r"|thx|ty|cheers|bye|goodbye|ok(ay)?|cool|great|nice|help|/help|\?+|who are you"
    r"|what can you do|what do you do|how do(es)? (this|it) work|how are you)"
    r"( there| nnqa| so much| very much)?[\s!.?]*$",
    re.IGNORECASE,
)


def is_small_talk(text: str) -> bool:
    """Greetings, thanks and requests for help: answered with the guide, not a card.

    >>> is_small_talk("Hello!"), is_small_talk("what is relu")
    (True, False)
    """
    return bool(_SMALL_TALK.match(text.strip()))


# What part of a topic a question asks about. Matched on the question and on section
# headings alike, so a deck's "Causes", "What causes them?" or "Why it happens" all meet
# "why do gradients vanish". Order matters: the first aspect that matches wins.
ASPECTS = {
    "fix": r"\b(fix\w*|solv\w*|solution\w*|prevent\w*|avoid\w*|mitigat\w*|remed\w*|overcom\w*"
    r"|deal with|get rid|cure\w*|counter\w*|address\w*|handl\w*|tackl\w*|stop (it|them|this)"
    r"|helps? (with|against))\b",
    "cause": r"\b(caus\w*|why|reasons?|origins?|source of|due to)\b",
    "effect": r"\b(effects?|consequen\w*|impacts?|symptoms?|results? in"
    r"|what happens (when|to|if))\b",
    "steps": r"\b(steps?|stages?|process|procedure|phases?|walk me through|step by step)\b",
}
_ASPECT_RES = {k: re.compile(v, re.IGNORECASE) for k, v in ASPECTS.items()}


def aspect_of(text: str) -> str | None:
    """Which aspect a question or heading is about: 'fix', 'cause', 'effect', 'steps' or None.

    >>> aspect_of("how do I fix vanishing gradients"), aspect_of("What causes them?")
    ('fix', 'cause')
    """
    for name, rx in _ASPECT_RES.items():
        if rx.search(text):
            return name
    return None
