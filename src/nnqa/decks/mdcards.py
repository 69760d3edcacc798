"""Flashcards written inside notes, as other Markdown tools mark them.

* Obsidian Spaced Repetition: ``Question::Answer`` on one line (``:::`` also makes the
  reversed card); a question, a line holding only ``?`` (``??``: reversed too), then the
  answer up to a blank line; a ``#flashcards/Sub/Deck`` tag names the deck.
* Logseq: a block tagged ``#card`` is the question, its indented child blocks the answer;
  ``{{cloze text}}`` inside it hides that text.

Lines inside ``` code fences are never cards. Pure: text in, `ImportedDeck` out.
Leaves out: nnqa's own Markdown (``## question``; see `cards`), other formats (`imports`).
"""

from __future__ import annotations

import re
from pathlib import Path

from .cards import DeckError
from .imported import ImportedCard, ImportedDeck, finished

__all__ = ["read_note_cards", "has_note_cards"]

_INLINE = re.compile(r"^(?P<q>.*?\S)\s*(?P<sep>:::?)\s*(?P<a>\S.*)$")
_DECK_TAG = re.compile(r"(?:^|\s)#flashcards(?:/([\w/-]+))?\b")
_LOGSEQ = re.compile(r"^(?P<indent>\s*)[-*]\s+(?P<text>.*?)\s*#card\b(?P<rest>.*)$")
_BULLET = re.compile(r"^(?P<indent>\s*)[-*]\s+(?P<text>.*)$")
_LOGSEQ_CLOZE = re.compile(r"\{\{cloze\s+(.*?)\}\}")
_FENCE = re.compile(r"^\s*(```|~~~)")
_H2 = re.compile(r"^##\s+\S")


def _unfenced(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, line) for lines outside code fences; fenced lines become ''."""
    out, fence = [], ""
    for i, ln in enumerate(lines, 1):
        m = _FENCE.match(ln)
        if fence or m:
            if m and (not fence or m.group(1) == fence):
                fence = "" if fence else m.group(1)
            out.append((i, ""))
        else:
            out.append((i, ln))
    return out


def _inline(ln: str) -> re.Match | None:
    m = _INLINE.match(ln.strip())
    if not m or "`" in ln or m.group("q").endswith(":"):
        return None
    return m


def has_note_cards(text: str) -> bool:
    """Whether a Markdown file marks its cards as Obsidian or Logseq do (and has no
    ``## question`` cards of nnqa's own)."""
    lines = [ln for _, ln in _unfenced(text.splitlines())]
    if any(_LOGSEQ.match(ln) for ln in lines):
        return True
    if any(_H2.match(ln) for ln in lines) and not any(_DECK_TAG.search(ln) for ln in lines):
        return False
    return any(ln.strip() in ("?", "??") for ln in lines) or any(_inline(ln) for ln in lines)


def read_note_cards(text: str, source: str) -> ImportedDeck:
    """Read Obsidian Spaced Repetition and Logseq cards from a Markdown note.

    Raises:
        DeckError: no cards found, or a ``?`` line with no question above it or no
            answer below (naming the line).

    >>> d = read_note_cards("#flashcards/Nets\\nWhat is ReLU?::max(0, x)\\n", "n.md")
    >>> [(c.deck, c.front, c.back) for c in d.cards]
    [('Nets', 'What is ReLU?', 'max(0, x)')]
    """
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    numbered = _unfenced(lines)
    deck = Path(source).stem
    for _, ln in numbered:
        if (m := _DECK_TAG.search(ln)) and m.group(1):
            deck = m.group(1).replace("/", "::")
            break
    cards: list[ImportedCard] = []
    used: set[int] = set()  # lines already part of a card

    def add(front: str, back: str, no: int, reverse: bool = False) -> None:
        front = " ".join(_DECK_TAG.sub(" ", front).split())
        back = "\n".join(x.rstrip() for x in back.strip("\n").split("\n") if x.strip())
        if not front or not back:
            raise DeckError(source, no, "a card needs a question and an answer")
        cards.append(ImportedCard(front, back, deck, (), f"line {no}"))
        if reverse:
            cards.append(ImportedCard(" ".join(back.split()), front, deck, (), f"line {no}"))

    i = 0
    while i < len(numbered):
        no, ln = numbered[i]
        if m := _LOGSEQ.match(ln):  # a #card block and its deeper children
            depth, body = len(m.group("indent").expandtabs(4)), []
            j = i + 1
            while j < len(numbered):
                b = _BULLET.match(numbered[j][1]) or None
                if not numbered[j][1].strip():
                    j += 1
                    continue
                if b is None or len(b.group("indent").expandtabs(4)) <= depth:
                    break
                body.append("- " + b.group("text"))
                j += 1
            front = (m.group("text") + m.group("rest")).strip()
            if _LOGSEQ_CLOZE.search(front):
                back = _LOGSEQ_CLOZE.sub(r"\1", front)
                body = [back, *body]
                front = _LOGSEQ_CLOZE.sub("[...]", front)
            add(front, "\n".join(body), no)
            used.update(range(i, j))
            i = j
            continue
        if ln.strip() in ("?", "??"):  # multi-line card: question above, answer below
            q, k = [], i - 1
            while k >= 0 and numbered[k][1].strip() and k not in used:
                q.insert(0, numbered[k][1])
                k -= 1
            a, j = [], i + 1
            while j < len(numbered) and numbered[j][1].strip():
                a.append(numbered[j][1])
                j += 1
            if not q:
                raise DeckError(source, no, "a '?' line with no question above it")
            add(" ".join(q), "\n".join(a), no - len(q), ln.strip() == "??")
            used.update(range(k + 1, j))
            i = j
            continue
        i += 1
    for idx, (no, ln) in enumerate(numbered):
        if idx in used:
            continue
        if m := _inline(ln):
            add(m.group("q"), m.group("a"), no, m.group("sep") == ":::")
    cards.sort(key=lambda c: int(c.origin.split()[1]))
    return finished(source, "markdown notes", cards,
                    empty="no cards: mark them 'Question::Answer' or with '?'")  # fmt: skip
