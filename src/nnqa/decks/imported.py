"""Imported decks: the cards read from a foreign format, before they are written as
Markdown, and turning Anki's HTML fields into text.

Owns `ImportedCard`, `ImportedDeck` and `html_to_text`, shared by the readers (`anki`,
`imports`). Leaves out: reading any format (see those modules).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

__all__ = ["ImportedCard", "ImportedDeck", "html_to_text"]


@dataclass(frozen=True)
class ImportedCard:
    """One card read from a foreign deck, before it is written as Markdown."""

    front: str  # one line
    back: str  # answer lines, joined by newlines
    deck: str
    tags: tuple[str, ...] = ()
    origin: str = ""  # where it came from, for messages: "note 1500000000001", "line 7"

    def to_dict(self) -> dict:
        return {
            "front": self.front,
            "back": self.back,
            "deck": self.deck,
            "tags": list(self.tags),
            "origin": self.origin,
        }


@dataclass(frozen=True)
class ImportedDeck:
    """What a reader found in one file: its cards, and notes on what it left out."""

    source: str  # the file as named in messages
    format: str  # "anki", "delimited", "markdown", "text"
    cards: tuple[ImportedCard, ...]
    notes: tuple[str, ...] = ()  # e.g. "note 15: dropped 1 image"

    @property
    def decks(self) -> list[str]:
        return list(dict.fromkeys(c.deck for c in self.cards))

    def __str__(self) -> str:
        decks = ", ".join(repr(d) for d in self.decks)
        lines = [f"{self.source}: {len(self.cards)} cards in {decks} ({self.format})"]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "format": self.format,
            "decks": self.decks,
            "cards": [c.to_dict() for c in self.cards],
            "notes": list(self.notes),
        }


# -- HTML ---------------------------------------------------------------------------------
_BLOCK = {"div", "p", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table"}
_SOUND = re.compile(r"\[sound:[^\]]*\]")


class _Text(HTMLParser):
    """Collects the text of an HTML fragment: blocks and <br> become new lines, <li> bullets."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.images = 0
        self.skip = 0  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "img":
            self.images += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(fragment: str) -> tuple[str, int, int]:
    """Text lines of an HTML field: (text, images dropped, sounds dropped).

    >>> html_to_text("Sigmoid<br>squashes to <b>(0, 1)</b><img src='s.png'> [sound:s.mp3]")
    ('Sigmoid\\nsquashes to (0, 1)', 1, 1)
    """
    sounds = len(_SOUND.findall(fragment))
    p = _Text()
    p.feed(_SOUND.sub(" ", fragment))
    p.close()
    text = html.unescape("".join(p.parts)).replace("\xa0", " ")
    lines = [" ".join(ln.split()) for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln and ln != "-"), p.images, sounds
