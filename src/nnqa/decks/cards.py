"""Flashcards: parse deck files into `Card`s with their sections, and load a folder of decks.

Owns two text formats, both read exactly as a person wrote them:

* the plain flashcard export of the shipped deck (`.txt`): the first line is the deck's
  title; then each card is a front line followed by its answer, either one plain line or
  a run of ``- `` bullets. The export flattened nested bullets, so section headings
  ("What causes them?", "Effects:", "How to fix", "Steps:") are recovered here;
* Markdown (`.md`): an optional ``# Deck title``, then one ``## front`` heading per card
  with its answer below; ``### heading`` lines open sections inside an answer. A card's
  ``<!-- tags: a b -->`` line holds its tags and a ``<!-- id: a-1f2e -->`` line the id it
  keeps whatever its text becomes (written by imports from an Anki guid); a later ``# Deck``
  starts another deck in the same file; other ``<!-- comments -->`` before the first card
  are skipped; lines inside a ``` code fence are answer text, never headings.

Parsing takes text and returns cards; only `load_deck`/`load_decks` touch the disk.
Leaves out: embedding (see `embeddings`), other formats such as Anki or CSV (see `imports`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MissingFile, NotFound, UserError
from ..text import BULLET, normalise, strip_bullet
from .cardtext import group_sections

PARSER_VERSION = 1  # bump when parsing changes what a card holds; the index rebuilds
LINKS_SUFFIX = ".links.json"  # a deck's demo links (see `links`), not a deck
GLOSSARY_SUFFIX = ".glossary.json"  # a deck's abbreviations (see `glossary`), not a deck

__all__ = ["Card", "Section", "DeckError", "parse_text_deck", "parse_markdown_deck", "load_deck"]


class DeckError(UserError, ValueError):
    """A deck file that cannot be read; the message names the file and the line."""

    def __init__(self, source: str, line: int | None, problem: str):
        self.source, self.line, self.problem = source, line, problem
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Section:
    """A part of a card's answer: its heading ('' for the main part) and its lines verbatim."""

    heading: str
    lines: tuple[str, ...]  # exactly as in the file, bullets and all
    line: int  # 1-based line in the source file of the first line

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def plain(self) -> str:
        """The section's words without bullet marks, for embedding and grading."""
        return " ".join(strip_bullet(x) for x in self.lines)


@dataclass(frozen=True)
class Card:
    """One flashcard: a front (the question), a back (the answer) and where it came from."""

    front: str
    back: str  # the answer's lines verbatim, joined by newlines
    deck: str
    source: str  # e.g. "knowledge/neural_networks.txt"
    line: int  # 1-based line of the front
    sections: tuple[Section, ...]
    tags: tuple[str, ...] = ()
    id: str = field(default="")

    def __post_init__(self):
        if not self.id:
            object.__setattr__(self, "id", card_id(self.deck, self.front, self.back))

    @property
    def where(self) -> str:
        """`source:line`, the citation printed under every quote."""
        return f"{self.source}:{self.line}"

    @property
    def plain_back(self) -> str:
        return " ".join(strip_bullet(x) for x in self.back.splitlines() if x.strip())

    def __str__(self) -> str:
        return f"{self.front}\n{self.back}\n  ({self.where})"

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "front": self.front,
            "back": self.back,
            "deck": self.deck,
            "source": self.source,
            "line": self.line,
            "tags": list(self.tags),
            "sections": [
                {"heading": s.heading, "text": s.text, "line": s.line} for s in self.sections
            ],
        }


def card_id(deck: str, front: str, back: str) -> str:
    """A stable id from the card's content: the same text always gets the same id.

    >>> card_id("Neural Networks Flashcards", "What is ReLU?", "max(0, x)")
    'c-49eb99926caa'
    """
    digest = hashlib.sha256(f"{deck}\x1f{front}\x1f{back}".encode()).hexdigest()
    return f"c-{digest[:12]}"


def _sections_from_bullets(lines: list[tuple[int, str]]) -> tuple[Section, ...]:
    """Bullets grouped into sections by their recovered headings (see `cardtext`)."""
    return tuple(
        Section(heading=h, lines=tuple(r for _, r in body), line=body[0][0])
        for h, body in group_sections(lines)
    )


def _clean_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_text_deck(text: str, source: str) -> list[Card]:
    """Parse the plain flashcard export: title line, then fronts each followed by an answer.

    Args:
        text: the whole file.
        source: how the file is cited, e.g. "knowledge/neural_networks.txt".
    Returns:
        The cards in file order.
    Raises:
        DeckError: naming the file and line (empty file, answer before any question,
            question without an answer).

    >>> cards = parse_text_deck("My deck\\nWhat is ReLU?\\nmax(0, x)\\n", "my.txt")
    >>> (cards[0].front, cards[0].back, cards[0].line)
    ('What is ReLU?', 'max(0, x)', 2)
    """
    lines = _clean_lines(text.lstrip("\ufeff"))
    numbered = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip()]
    if not numbered:
        raise DeckError(source, None, "the deck is empty")
    (_, title), body = numbered[0], numbered[1:]
    deck = title.strip()
    if BULLET.match(title):
        raise DeckError(source, numbered[0][0], "the first line should be the deck's title")
    if not body:
        raise DeckError(source, None, f"the deck {deck!r} holds no cards")

    # Each card: (front line no, front, [(line no, answer line)], answer is plain?)
    raw_cards: list[tuple[int, str, list[tuple[int, str]]]] = []
    for no, ln in body:
        is_bullet = bool(BULLET.match(ln))
        current = raw_cards[-1] if raw_cards else None
        if is_bullet:
            if current is None:
                raise DeckError(source, no, "an answer bullet comes before any question")
            current[2].append((no, ln))
        elif current is not None and not current[2]:
            current[2].append((no, ln))  # a one-line plain answer
        else:
            raw_cards.append((no, ln.strip(), []))

    cards = []
    for no, front, answer in raw_cards:
        if not answer:
            raise DeckError(source, no, f"the question {front!r} has no answer below it")
        if len(answer) == 1 and not BULLET.match(answer[0][1]):
            sections = (Section("", (answer[0][1],), answer[0][0]),)
        else:
            sections = _sections_from_bullets(answer)
        back = "\n".join(r for _, r in answer)
        cards.append(Card(front, back, deck, source, no, sections))
    return cards


_MD_H1 = re.compile(r"^#\s+(.*\S)\s*$")
_MD_H2 = re.compile(r"^##\s+(.*\S)\s*$")
_MD_H3 = re.compile(r"^###\s+(.*\S)\s*$")
_MD_TAGS = re.compile(r"^<!--\s*tags:(.*?)-->\s*$", re.IGNORECASE)
_MD_COMMENT = re.compile(r"^<!--.*-->\s*$")
_MD_ID = re.compile(r"^<!--\s*id:\s*([\w.:-]+)\s*-->\s*$", re.IGNORECASE)
_MD_FENCE = re.compile(r"^\s*(```|~~~)")


def parse_markdown_deck(text: str, source: str, default_deck: str = "") -> list[Card]:
    """Parse a Markdown deck: ``# Deck``, then ``## front`` with the answer below.

    ``### heading`` inside an answer opens a section. Lines are kept verbatim.

    Raises:
        DeckError: naming the file and line (text before the first card, a card
            without an answer, an empty deck).

    >>> md = "# Mine\\n\\n## What is SGD?\\nGradient descent on mini-batches.\\n"
    >>> [(c.deck, c.front, c.back) for c in parse_markdown_deck(md, "mine.md")]
    [('Mine', 'What is SGD?', 'Gradient descent on mini-batches.')]
    """
    deck = default_deck
    # (line no, front, deck, [(line no, answer line)], tags, [id])
    raw_cards: list[tuple[int, str, str, list[tuple[int, str]], list[str], list[str]]] = []
    fence = ""  # the open code fence's mark, if inside one
    seen_ids: dict[str, int] = {}
    for i, ln in enumerate(_clean_lines(text.lstrip("\ufeff"))):
        no = i + 1
        if raw_cards and (fence or _MD_FENCE.match(ln)):
            m = _MD_FENCE.match(ln)
            fence = "" if fence and m and m.group(1) == fence else (fence or m.group(1))
            raw_cards[-1][3].append((no, ln.rstrip()))
            continue
        if not ln.strip():
            continue
        if m := _MD_H2.match(ln):
            raw_cards.append((no, m.group(1).strip(), deck, [], [], []))
        elif m := _MD_H1.match(ln):
            deck = m.group(1).strip()  # before any card: the title; after: the next deck
        elif raw_cards and (m := _MD_TAGS.match(ln.strip())):
            raw_cards[-1][4].extend(t.strip(",") for t in m.group(1).replace(",", " ").split())
        elif raw_cards and not raw_cards[-1][5] and (m := _MD_ID.match(ln.strip())):
            if m.group(1) in seen_ids:
                raise DeckError(source, no, f"the id {m.group(1)} is already used on line "
                                f"{seen_ids[m.group(1)]}; each card needs its own")  # fmt: skip
            seen_ids[m.group(1)] = no
            raw_cards[-1][5].append(m.group(1))
        elif raw_cards:
            raw_cards[-1][3].append((no, ln.rstrip()))
        elif not _MD_COMMENT.match(ln.strip()):
            raise DeckError(source, no, "text before the first '## question' heading")
    if not raw_cards:
        raise DeckError(source, None, "no cards: start each card with a '## question' heading")

    cards = []
    for no, front, card_deck, body, tags, ids in raw_cards:
        if not any(not _MD_H3.match(x) for _, x in body):
            raise DeckError(source, no, f"the question {front!r} has no answer below it")
        groups: list[tuple[str, list[tuple[int, str]]]] = [("", [])]
        for ln_no, ln in body:
            if m := _MD_H3.match(ln):
                groups.append((m.group(1).strip().rstrip(":"), [(ln_no, ln)]))
            else:
                groups[-1][1].append((ln_no, ln))
        sections = tuple(Section(h, tuple(x for _, x in g), g[0][0]) for h, g in groups if g)
        back = "\n".join(x for _, x in body)
        deck_name = card_deck or Path(source).stem
        cards.append(
            Card(front, back, deck_name, source, no, sections, tuple(tags), ids[0] if ids else "")
        )
    return cards


PARSERS = {".txt": parse_text_deck, ".md": parse_markdown_deck}


def read_text(path: Path, source: str) -> str:
    """Read a deck file as UTF-8, naming the line of any undecodable bytes."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DeckError(source, line, f"not valid UTF-8 text ({e.reason})") from None


def load_deck(path: str | Path, source: str | None = None) -> list[Card]:
    """Read one deck file by its extension (.txt or .md).

    Raises:
        DeckError: unreadable or malformed file, or an extension nnqa cannot read.
    """
    path = Path(path)
    source = source or f"{path.parent.name}/{path.name}"
    parser = PARSERS.get(path.suffix.lower())
    if parser is None:
        known = ", ".join(sorted(PARSERS))
        raise DeckError(source, None, f"nnqa cannot read '{path.suffix}' files (it reads {known})")
    return parser(read_text(path, source), source)


def find_card(cards: list[Card], key: str) -> Card:
    """A card by id, by front exactly, or by a front close enough to be unambiguous.

    Raises:
        KeyError: no card matches, or several do (the same front in two decks: the message
            names each deck and id); the message lists the closest fronts.
    """
    import difflib

    for c in cards:
        if key == c.id:
            return c
    same = [c for c in cards if c.front == key]
    if len(same) > 1 and len({c.deck for c in same}) > 1:  # one front in several decks
        decks = ", ".join(f"{c.deck!r} (id {c.id})" for c in same)
        raise NotFound(f"{len(same)} cards have the front {key!r}, in decks {decks}; "
                       "name the card by its id, or ask within one deck")  # fmt: skip
    if same:
        return same[0]
    want = normalise(key)
    exact = [c for c in cards if normalise(c.front) == want]
    if len(exact) == 1:
        return exact[0]
    contains = [c for c in cards if want and f" {want} " in f" {normalise(c.front)} "]
    if len(contains) == 1:  # "what is dropout" names "What is dropout in neural networks?"
        return contains[0]
    ratio = {c.id: difflib.SequenceMatcher(None, want, normalise(c.front)).ratio() for c in cards}
    ranked = sorted(cards, key=lambda c: -ratio[c.id])
    if ranked and ratio[ranked[0].id] >= 0.8:
        runner_up = ratio[ranked[1].id] if len(ranked) > 1 else 0.0
        if ratio[ranked[0].id] - runner_up >= 0.05:
            return ranked[0]
    close = ", ".join(repr(c.front) for c in ranked[:3])
    raise NotFound(f"no card matches {key!r}; closest fronts: {close}")


def deck_files(folder: str | Path) -> list[Path]:
    """Every deck file in a folder, sorted by name; hidden, links and glossary files skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFile(f"no knowledge folder at {folder}")
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and not p.name.endswith((LINKS_SUFFIX, GLOSSARY_SUFFIX))
    )


def load_decks(folder: str | Path) -> list[Card]:
    """Every card of every deck in a folder, deck files in name order, cards in file order.

    Raises:
        FileNotFoundError: the folder does not exist.
        DeckError: a file in it cannot be read; the message names file and line.
    """
    folder = Path(folder)
    cards: list[Card] = []
    for path in deck_files(folder):
        cards.extend(load_deck(path, f"{folder.name}/{path.name}"))
    return cards
