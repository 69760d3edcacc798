"""Imported decks: the cards read from a foreign format, before they are written as
Markdown, turning HTML fields into text, and the id a card keeps from its source.

Owns `ImportedCard`, `ImportedDeck`, `html_to_text`, `guid_id` and the end every reader
shares (`finished`: placeholder note, no-cards error, `drop_duplicates`), used by the readers
(`anki`, `imports`, `records`). Leaves out: reading any format (see those modules).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from .cards import DeckError

__all__ = [
    "ImportedCard",
    "ImportedDeck",
    "drop_duplicates",
    "finished",
    "guid_id",
    "html_to_text",
    "looks_like_html",
]


@dataclass(frozen=True)
class ImportedCard:
    """One card read from a foreign deck, before it is written as Markdown."""

    front: str  # one line
    back: str  # answer lines, joined by newlines
    deck: str
    tags: tuple[str, ...] = ()
    origin: str = ""  # where it came from, for messages: "note 1500000000001", "line 7"
    id: str = ""  # a stable card id kept in the Markdown (from an Anki guid); "" for none

    def to_dict(self) -> dict:
        return {
            "front": self.front,
            "back": self.back,
            "deck": self.deck,
            "tags": list(self.tags),
            "origin": self.origin,
            "id": self.id,
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


def drop_duplicates(cards: list[ImportedCard]) -> tuple[list[ImportedCard], list[str]]:
    """The one duplicate rule of every importer: an exact duplicate (same deck, front and
    answer) is one card; the same front in two decks, or with two answers, stays two cards
    (asked about by deck). Returns the cards kept and a note per card dropped.

    >>> a = ImportedCard("Q", "A", "D", origin="line 1")
    >>> drop_duplicates([a, a, ImportedCard("Q", "A", "E")])[1]
    ['line 1: a duplicate of an earlier card; skipped']
    """
    kept, notes, seen = [], [], set()
    for c in cards:
        key = (c.deck, c.front, c.back)
        if key in seen:
            notes.append(f"{c.origin}: a duplicate of an earlier card; skipped")
            continue
        seen.add(key)
        kept.append(c)
    return kept, notes


def finished(
    source: str,
    format: str,
    cards: list[ImportedCard],
    notes: list[str] | tuple[str, ...] = (),
    images: int = 0,
    sounds: int = 0,
    empty: str | None = None,
) -> ImportedDeck:
    """The end every reader shares: the placeholder count first among the notes, a clear
    error when no card was read (`empty` says what the file lacks; None: the reader checked),
    then the one duplicate rule (`drop_duplicates`), its notes last.

    Raises:
        DeckError: no cards, with `empty` as the message.
    """
    notes = list(notes)
    if images or sounds:
        notes.insert(0, f"{images} image(s) and {sounds} sound(s) shown as placeholders")
    if not cards and empty is not None:
        raise DeckError(source, None, empty)
    cards, dropped = drop_duplicates(cards)
    return ImportedDeck(source, format, tuple(cards), (*notes, *dropped))


def guid_id(guid: str, part: str = "") -> str:
    """The card id kept for a note's guid (Anki, CrowdAnki, Anki's text export): the same
    note always gets the same id, whatever its text becomes; `part` names one of its cards.

    >>> guid_id("k2#Vx9aQ1z"), guid_id("k2#Vx9aQ1z", "c2")
    ('a-22bf73010d62', 'a-22bf73010d62-c2')
    """
    digest = hashlib.sha256(guid.encode()).hexdigest()[:12]
    return f"a-{digest}-{part}" if part else f"a-{digest}"


# -- HTML ---------------------------------------------------------------------------------
_BLOCK = {
    "div", "p", "br", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table",
    "blockquote", "pre", "hr", "dl", "dt", "dd", "section", "article", "header", "footer",
}  # fmt: skip
_SOUND = re.compile(r"\[sound:([^\]]*)\]")
_HTML_HINT = re.compile(
    r"</?(?:br|div|p|b|i|u|em|strong|span|img|ul|ol|li|sub|sup|table|tr|td|font|a|hr"
    r"|h[1-6]|code|pre|anki-mathjax)\b[^>]*>|&(?:nbsp|amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);",
    re.IGNORECASE,
)


def looks_like_html(text: str) -> bool:
    """Whether text holds HTML tags or entities (an export that did not say `#html:true`).

    >>> looks_like_html("<div>max(0, x)</div>"), looks_like_html("a < b and c > d")
    (True, False)
    """
    return bool(_HTML_HINT.search(text))


class _Text(HTMLParser):
    """Collects the text of an HTML fragment with its structure: blocks and <br> become new
    lines, list items ``- `` or ``1. ``, table cells `` | ``, <sub>/<sup> ``_``/``^``,
    <anki-mathjax> its TeX; images and sounds leave a placeholder."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.media: list[str] = []  # "image: a.png", "sound: b.mp3", in order
        self.skip = 0  # inside <script> or <style>
        self.lists: list[list] = []  # per open list: [kind, next number]
        self.cells = 0  # cells seen in the current table row
        self.marks: list[tuple[str, int]] = []  # open sub/sup/mathjax: (tag, index in parts)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "img":
            name = (a.get("src") or "").rsplit("/", 1)[-1] or (a.get("alt") or "picture")
            self.media.append(f"image: {name}")
            self.parts.append(f" [image: {name}] ")
        elif tag in ("ul", "ol"):
            self.lists.append([tag, int(a.get("start") or 1) if tag == "ol" else 0])
            self.parts.append("\n")
        elif tag == "li":
            if self.lists and self.lists[-1][0] == "ol":
                self.parts.append(f"\n{self.lists[-1][1]}. ")
                self.lists[-1][1] += 1
            else:
                self.parts.append("\n- ")
        elif tag == "tr":
            self.cells = 0
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" | " if self.cells else "")
            self.cells += 1
        elif tag in ("sub", "sup", "anki-mathjax"):
            self.marks.append(
                (tag if a.get("block") != "true" else "mathjax-block", len(self.parts))
            )
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.parts.append("\n")
        elif tag in ("sub", "sup", "anki-mathjax") and self.marks:
            kind, at = self.marks.pop()
            inner = "".join(self.parts[at:]).strip()
            del self.parts[at:]
            if kind == "sub":
                self.parts.append(f"_{inner}" if len(inner) == 1 else f"_({inner})")
            elif kind == "sup":
                self.parts.append(f"^{inner}" if len(inner) == 1 else f"^({inner})")
            else:
                self.parts.append(f"\\[{inner}\\]" if kind == "mathjax-block" else f"\\({inner}\\)")
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:  # a new line in HTML source is a space; <br> and blocks break lines
            self.parts.append(data.replace("\r", " ").replace("\n", " "))


def html_to_text(fragment: str) -> tuple[str, int, int]:
    """Text lines of an HTML field: (text, images, sounds); each image or sound is left in
    the text as a placeholder ("[image: s.png]", "[sound: s.mp3]") and counted.

    >>> html_to_text("Sigmoid<br>squashes to <b>(0, 1)</b><img src='s.png'> [sound:s.mp3]")
    ('Sigmoid\\nsquashes to (0, 1) [image: s.png] [sound: s.mp3]', 1, 1)
    >>> html_to_text("<ol><li>x<sup>2</sup></li><li>H<sub>2</sub>O &amp;lt;</li></ol>")[0]
    '1. x^2\\n2. H_2O &lt;'
    """
    sounds = len(_SOUND.findall(fragment))
    p = _Text()
    p.feed(_SOUND.sub(lambda m: f" [sound: {m.group(1).strip()}] ", fragment))
    p.close()
    text = "".join(p.parts).replace("\xa0", " ")
    lines = [" ".join(ln.split()) for ln in text.split("\n")]
    images = sum(m.startswith("image:") for m in p.media)
    return "\n".join(ln for ln in lines if ln and ln not in ("-", "|")), images, sounds
