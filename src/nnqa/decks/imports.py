"""Imports: read other people's decks into cards, whatever tool wrote them.

Owns choosing a reader (`read_deck_file`, by extension and content), decoding the file,
and the readable Markdown nnqa writes (`to_markdown`). The readers:

* Anki packages (`.apkg`, `.colpkg`): see `anki`.
* Delimited text (`.txt`/`.csv`/`.tsv`): Anki's text exports, Quizlet, spreadsheet CSV,
  ``question; answer`` lines; see `delimited`.
* JSON (`.json`, `.jsonl`): CrowdAnki and plain records, see `records`.
* Markdown: nnqa's own (see `cards`; kept as written unless its answers hold HTML), or
  Obsidian/Logseq cards inside notes (see `mdcards`); nnqa's plain flashcard text.

Files are UTF-8 (a byte-order mark is fine) or UTF-16 with its mark; any other encoding is
refused with what to do. Readers are pure (text in, `ImportedDeck` out) and raise
`DeckError` naming the file and the line or note at fault. Leaves out: writing into
`knowledge/` and updating the index (see `add`), scheduling data and media files.
"""

from __future__ import annotations

import re
from pathlib import Path

from .cards import DeckError, parse_markdown_deck, parse_text_deck
from .delimited import looks_delimited, read_delimited
from .imported import ImportedCard, ImportedDeck, html_to_text, looks_like_html

__all__ = [
    "ImportedCard",
    "ImportedDeck",
    "read_delimited",
    "read_deck_file",
    "html_to_text",
    "to_markdown",
]


# -- choosing a reader ---------------------------------------------------------------------
_IMPORTABLE = (".apkg", ".colpkg", ".csv", ".tsv", ".txt", ".md", ".json", ".jsonl")


def decode(data: bytes, source: str) -> str:
    """Text of a deck file: UTF-8 (with or without a byte-order mark) or UTF-16 with one.

    Raises:
        DeckError: any other encoding, naming the line of the first byte that is not UTF-8.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DeckError(
            source,
            line,
            "not UTF-8 text; save the file as UTF-8 (in Excel: 'CSV UTF-8') and add it again",
        ) from None


def _clean_markdown_html(deck: ImportedDeck) -> ImportedDeck:
    """Answers of a Markdown deck that hold HTML, as text (code fences left alone)."""
    from dataclasses import replace

    out, count = [], 0
    for c in deck.cards:
        lines, fence, block = [], False, []

        def flush(block=block, lines=lines):
            nonlocal count
            if block:
                joined = "\n".join(block)
                if looks_like_html(joined):
                    joined = html_to_text(joined.replace("\n", "<br>"))[0]
                    count += 1
                lines.extend(joined.split("\n"))
                block.clear()

        for ln in c.back.split("\n"):
            if ln.lstrip().startswith(("```", "~~~")):
                flush()
                fence = not fence
                lines.append(ln)
            elif fence:
                lines.append(ln)
            else:
                block.append(ln)
        flush()
        out.append(replace(c, back="\n".join(lines), front=html_to_text(c.front)[0] or c.front))
    if not count:
        return deck
    return replace(deck, format="markdown+html", cards=tuple(out),
                   notes=(*deck.notes, f"HTML in {count} answer(s) turned into text"))  # fmt: skip


def read_deck_file(path: str | Path, source: str | None = None) -> ImportedDeck:
    """Read any deck file nnqa imports, choosing the reader by extension and content.

    .apkg/.colpkg: Anki; .csv/.tsv: delimited; .json/.jsonl: CrowdAnki or records;
    .md: nnqa's Markdown, or Obsidian/Logseq cards; .txt: delimited when it has Anki
    headers, tab-separated or ``question; answer`` rows, else the plain flashcard format.

    Raises:
        DeckError: unknown extension, not UTF-8, or what the reader raises.
    """
    path = Path(path)
    source = source or path.name
    ext = path.suffix.lower()
    if ext in (".apkg", ".colpkg"):
        from .anki import read_apkg

        return read_apkg(path, source)
    if ext not in _IMPORTABLE:
        raise DeckError(
            source, None, f"nnqa cannot import '{ext}' files ({', '.join(_IMPORTABLE)})"
        )
    if not path.is_file():
        raise DeckError(source, None, "no such file")
    text = decode(path.read_bytes(), source)
    if ext in (".json", ".jsonl"):
        from .records import read_json_deck

        return read_json_deck(text, source)
    if ext in (".csv", ".tsv") or (ext == ".txt" and looks_delimited(text)):
        return read_delimited(text, source)
    if not text.strip():
        raise DeckError(source, None, "the deck is empty")
    if ext == ".md":
        from .mdcards import has_note_cards, read_note_cards

        if has_note_cards(text):
            return read_note_cards(text, source)
    parse = parse_markdown_deck if ext == ".md" else parse_text_deck
    cards = parse(text, source)
    fmt = "markdown" if ext == ".md" else "text"
    deck = ImportedDeck(
        source,
        fmt,
        tuple(ImportedCard(c.front, c.back, c.deck, c.tags, f"line {c.line}") for c in cards),
    )
    return _clean_markdown_html(deck)


# -- writing the readable form -------------------------------------------------------------
_HEADING = re.compile(r"^#{1,2}\s")  # would start a deck or a card; ### opens a section


def to_markdown(deck: ImportedDeck) -> str:
    """The deck in nnqa's Markdown format: ``# Deck``, ``## front``, tags, answer lines.

    Answer lines that would read as deck or card headings get a backslash (``###`` section
    headings stay, so nnqa's own Markdown keeps its sections); a later ``# Deck`` heading
    starts the next deck. `cards.parse_markdown_deck` reads it back to the same cards.

    >>> d = ImportedDeck("x.csv", "delimited", (ImportedCard("What is ReLU?", "max(0, x)", "Nets", ("act",)),))
    >>> print(to_markdown(d))
    <!-- Imported by nnqa from x.csv (delimited). -->
    # Nets
    <BLANKLINE>
    ## What is ReLU?
    <!-- tags: act -->
    max(0, x)
    <BLANKLINE>
    """
    out = [f"<!-- Imported by nnqa from {deck.source} ({deck.format}). -->"]
    order = {d: i for i, d in enumerate(deck.decks)}
    current = None
    for c in sorted(deck.cards, key=lambda c: order[c.deck]):  # stable: file order per deck
        if c.deck != current:
            current = c.deck
            out += [f"# {c.deck}", ""]
        out.append(f"## {c.front}")
        if c.tags:
            out.append(f"<!-- tags: {' '.join(c.tags)} -->")
        if c.id:
            out.append(f"<!-- id: {c.id} -->")
        fence = False  # inside a ``` code fence nothing is a heading: kept as it is
        for ln in c.back.split("\n"):
            if ln.lstrip().startswith(("```", "~~~")):
                fence = not fence
            if ln.strip():
                out.append("\\" + ln if _HEADING.match(ln) and not fence else ln)
        out.append("")
    return "\n".join(out)
