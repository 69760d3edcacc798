"""Imports: read other people's decks (Anki, Quizlet/CSV, Markdown, plain text) into cards.

Owns the foreign formats and their conversion to nnqa's readable Markdown deck format:

* Anki packages (`.apkg`, `.colpkg`), read in `anki`: each note a card, cloze notes one
  card per cloze, HTML as text, deck names and tags kept.
* Delimited text (`.txt`/`.csv`/`.tsv` exports of Anki's "Notes in Plain Text" and of
  Quizlet): one (front, back) row per line, tab, comma or semicolon separated, honouring
  Anki's ``#separator:``, ``#html:``, ``#columns:``, ``#deck:``, ``#tags:``, and
  ``#tags column:``/``#deck column:`` header lines.
* nnqa's own Markdown and plain flashcard text (see `cards`), which are kept as written.

Readers are pure (text or a file in, `ImportedDeck` out) and raise `DeckError` naming the
file and the line or note at fault. Leaves out: writing into `knowledge/` and updating the
index (see `add`), Anki's scheduling data and media files (not imported).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from .cards import DeckError, parse_markdown_deck, parse_text_deck
from .imported import ImportedCard, ImportedDeck, html_to_text

__all__ = [
    "ImportedCard",
    "ImportedDeck",
    "read_delimited",
    "read_deck_file",
    "html_to_text",
    "to_markdown",
]


# -- delimited text (Anki "Notes in Plain Text", Quizlet) ----------------------------------
_SEPARATORS = {
    "tab": "\t",
    "comma": ",",
    "semicolon": ";",
    "space": " ",
    "pipe": "|",
    "colon": ":",
}
_HEADER = re.compile(r"^#([a-z ]+):(.*)$")
_FRONT_NAMES = ("front", "question", "term", "text")
_BACK_NAMES = ("back", "answer", "definition", "extra")


def _separator(value: str, source: str, line: int) -> str:
    v = value.strip()
    if v.lower() in _SEPARATORS:
        return _SEPARATORS[v.lower()]
    if len(value) == 1:
        return value
    raise DeckError(source, line, f"unknown #separator {value!r} (use tab, comma, semicolon...)")


def read_delimited(text: str, source: str) -> ImportedDeck:
    """Read tab/comma/semicolon separated (front, back) rows, with Anki's header lines.

    Without ``#separator:`` the separator is the first of tab, semicolon or comma found
    in the first row (comma for a .csv file that has none). ``#html:true`` turns fields
    from HTML into text.

    Raises:
        DeckError: naming the line: a row with fewer than two columns, an empty front or
            answer, an unknown header value, or no rows at all.

    >>> d = read_delimited("#separator:tab\\n#deck:Nets\\nWhat is ReLU?\\tmax(0, x)\\n", "r.txt")
    >>> [(c.deck, c.front, c.back, c.origin) for c in d.cards]
    [('Nets', 'What is ReLU?', 'max(0, x)', 'line 3')]
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    sep = None
    is_html = False
    deck = Path(source).stem
    tags: tuple[str, ...] = ()
    columns: list[str] = []
    tag_col = deck_col = None
    meta_cols: set[int] = set()  # guid, notetype, deck and tags columns: not card text
    body_start = 0
    for i, ln in enumerate(lines):
        m = _HEADER.match(ln)
        if not m:
            if ln.startswith("#") and not ln.strip("#").strip():
                body_start = i + 1
                continue
            break
        key, value = m.group(1).strip(), m.group(2)
        body_start = i + 1
        if key == "separator":
            sep = _separator(value, source, i + 1)
        elif key == "html":
            is_html = value.strip().lower() == "true"
        elif key == "deck":
            deck = value.strip() or deck
        elif key == "tags":
            tags = tuple(value.split())
        elif key == "columns":
            columns = [c.strip().lower() for c in value.split(sep or "\t")]
        elif key in ("tags column", "deck column", "guid column", "notetype column"):
            try:
                col = int(value) - 1
            except ValueError:
                raise DeckError(source, i + 1, f"#{key} should be a column number") from None
            meta_cols.add(col)
            if key == "tags column":
                tag_col = col
            elif key == "deck column":
                deck_col = col
        # other headers (#notetype, #if matches) do not change the cards
    body = lines[body_start:]
    first = next((ln for ln in body if ln.strip()), None)
    if first is None:
        raise DeckError(source, None, "the file is empty: no (front, back) rows")
    if sep is None:
        fallback = "," if Path(source).suffix.lower() == ".csv" else "\t"
        sep = next((s for s in ("\t", ";", ",") if s in first), fallback)
        if columns and sep != "\t":
            columns = [c.strip().lower() for c in " ".join(columns).split(sep)]
    if tag_col is None and "tags" in columns:
        tag_col = columns.index("tags")
        meta_cols.add(tag_col)
    text_cols = [c for c in range(len(meta_cols) + 2) if c not in meta_cols]  # first two
    front_col = next((columns.index(n) for n in _FRONT_NAMES if n in columns), text_cols[0])
    back_col = next((columns.index(n) for n in _BACK_NAMES if n in columns), text_cols[1])
    sep_name = {v: k for k, v in _SEPARATORS.items()}.get(sep, repr(sep))

    reader = csv.reader(io.StringIO("\n".join(body)), delimiter=sep, quotechar='"')
    cards: list[ImportedCard] = []
    notes: list[str] = []
    images = 0
    start = 1
    for row in reader:
        line = body_start + start
        start = reader.line_num + 1
        if not any(f.strip() for f in row):
            continue
        need = max(front_col, back_col) + 1
        if len(row) < need:
            raise DeckError(
                source,
                line,
                f"expected {need} {sep_name}-separated columns (front, back), found {len(row)}",
            )

        def field(i, row=row):
            nonlocal images
            if not is_html:
                return row[i].strip()
            t, imgs, _ = html_to_text(row[i])
            images += imgs
            return t

        front = " ".join(field(front_col).split())
        back = field(back_col)
        if not front:
            raise DeckError(source, line, "the card's front is empty")
        if not back:
            raise DeckError(source, line, f"the question {front!r} has no answer")
        has_tags = tag_col is not None and tag_col < len(row)
        row_tags = tags + (tuple(row[tag_col].split()) if has_tags else ())
        row_deck = row[deck_col].strip() if deck_col is not None and deck_col < len(row) else ""
        cards.append(ImportedCard(front, back, row_deck or deck, row_tags, f"line {line}"))
    if images:
        notes.append(f"dropped {images} image(s)")
    if not cards:
        raise DeckError(source, None, "the file is empty: no (front, back) rows")
    return ImportedDeck(source, "delimited", tuple(cards), tuple(notes))


# -- choosing a reader ---------------------------------------------------------------------
def _looks_delimited(text: str) -> bool:
    """Anki/Quizlet exports: header lines, or tabs on most of the first rows."""
    lines = [ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip()][:20]
    if not lines:
        return False
    if lines[0].startswith("#separator:") or lines[0].startswith("#html:"):
        return True
    return sum("\t" in ln for ln in lines) >= max(1, len(lines) // 2)


def read_deck_file(path: str | Path, source: str | None = None) -> ImportedDeck:
    """Read any deck file nnqa imports, choosing the reader by extension and content.

    .apkg/.colpkg: Anki; .csv/.tsv: delimited; .md: Markdown; .txt: delimited when it has
    Anki headers or tab-separated rows, else the plain flashcard format.

    Raises:
        DeckError: unknown extension, not UTF-8, or what the reader raises.
    """
    from .cards import read_text

    path = Path(path)
    source = source or path.name
    ext = path.suffix.lower()
    if ext in (".apkg", ".colpkg"):
        from .anki import read_apkg

        return read_apkg(path, source)
    if ext not in (".csv", ".tsv", ".txt", ".md"):
        raise DeckError(
            source, None, f"nnqa cannot import '{ext}' files (.apkg, .csv, .tsv, .txt, .md)"
        )
    if not path.is_file():
        raise DeckError(source, None, "no such file")
    text = read_text(path, source)
    if ext in (".csv", ".tsv") or (ext == ".txt" and _looks_delimited(text)):
        return read_delimited(text, source)
    if not text.strip():
        raise DeckError(source, None, "the deck is empty")
    parse = parse_markdown_deck if ext == ".md" else parse_text_deck
    cards = parse(text, source)
    fmt = "markdown" if ext == ".md" else "text"
    return ImportedDeck(
        source,
        fmt,
        tuple(ImportedCard(c.front, c.back, c.deck, c.tags, f"line {c.line}") for c in cards),
    )


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
        for ln in c.back.split("\n"):
            if ln.strip():
                out.append("\\" + ln if _HEADING.match(ln) else ln)
        out.append("")
    return "\n".join(out)
