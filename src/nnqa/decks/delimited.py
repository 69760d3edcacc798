"""Delimited text decks: Anki's text exports, Quizlet exports and spreadsheet CSV.

One (front, back) row per line, or per Quizlet row separator: Anki's "Notes in Plain
Text" with or without its ``#separator:``/``#html:``/``#columns:``/``#deck:``/``#tags:``/
``#... column:`` headers (Cloze rows, extra fields, reversed note types), Quizlet (any
term/definition and row separator, definitions holding the separator or running over
lines), spreadsheet CSV (a header row naming the columns, quoted line breaks, ``;`` as in
European Excel) and plain ``question; answer`` lines. Pure: text in, `ImportedDeck` out.
Leaves out: decoding bytes and choosing a reader (see `imports`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from .anki import CLOZE_MARK, cloze_cards
from .cards import DeckError
from .imported import (
    ImportedCard,
    ImportedDeck,
    finished,
    guid_id,
    html_to_text,
    looks_like_html,
)

__all__ = ["read_delimited", "looks_delimited"]

_SEPARATORS = {
    "tab": "\t",
    "comma": ",",
    "semicolon": ";",
    "space": " ",
    "pipe": "|",
    "colon": ":",
}
_HEADER = re.compile(r"^#([a-z ]+):(.*)$")
_FRONT_NAMES = ("front", "question", "term", "text", "prompt", "word")
_BACK_NAMES = ("back", "answer", "definition", "meaning", "response")
_META_NAMES = {"guid": "guid", "notetype": "notetype", "note type": "notetype", "deck": "deck"}
_META_NAMES |= {"tags": "tags", "tag": "tags"}


@dataclass
class _Layout:
    """How a delimited file is laid out: from Anki's header lines, or guessed."""

    sep: str | None = None
    html: bool | None = None  # None: not said; guessed from the text
    deck: str = ""
    tags: tuple[str, ...] = ()
    columns: list[str] = field(default_factory=list)  # names, lower case ("" unnamed)
    meta: dict[str, int] = field(default_factory=dict)  # "guid"/"notetype"/"deck"/"tags" -> col
    body_start: int = 0  # index of the first line after the headers
    anki: bool = False  # Anki header lines were present


def _separator(value: str, source: str, line: int) -> str:
    v = value.strip()
    if v.lower() in _SEPARATORS:
        return _SEPARATORS[v.lower()]
    if len(value) == 1:
        return value
    raise DeckError(source, line, f"unknown #separator {value!r} (use tab, comma, semicolon...)")


def _anki_headers(lines: list[str], source: str) -> _Layout:
    """Anki's ``#key:value`` header lines at the top of a text export."""
    lay = _Layout()
    for i, ln in enumerate(lines):
        m = _HEADER.match(ln)
        if not m:
            if ln.startswith("#") and not ln.strip("#").strip():
                lay.body_start = i + 1
                continue
            break
        key, value = m.group(1).strip(), m.group(2)
        lay.body_start, lay.anki = i + 1, True
        if key == "separator":
            lay.sep = _separator(value, source, i + 1)
        elif key == "html":
            lay.html = value.strip().lower() == "true"
        elif key == "deck":
            lay.deck = value.strip()
        elif key == "tags":
            lay.tags = tuple(value.split())
        elif key == "columns":
            lay.columns = [value]  # split once the separator is known
        elif key in ("tags column", "deck column", "guid column", "notetype column"):
            try:
                lay.meta[key.split()[0]] = int(value) - 1
            except ValueError:
                raise DeckError(source, i + 1, f"#{key} should be a column number") from None
        # other headers (#notetype, #if matches) do not change the cards
    return lay


def _count_outside_quotes(line: str, sep: str) -> int:
    if len(sep) > 1:  # " - ", "::": never CSV-quoted
        return line.count(sep)
    n, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            n += 1
    return n


_TEXT_SEPARATORS = (";", " - ", " = ", "::", ",", "|", ":")  # Quizlet's custom ones too
_CSV_SEPARATORS = (",", ";", "|")


def _guess_separator(lines: list[str], suffix: str) -> str:
    """Tab if any row has one; else the first separator found on every row, in the order
    a spreadsheet (.csv: comma, semicolon) or an export (.txt: semicolon, " - ", " = ",
    "::", comma) most likely uses; else the one found on the most rows."""
    sample = [ln for ln in lines if ln.strip()][:50]
    if any("\t" in ln for ln in sample):
        return "\t"
    order = _CSV_SEPARATORS if suffix == ".csv" else _TEXT_SEPARATORS
    found = {s: sum(_count_outside_quotes(ln, s) > 0 for ln in sample) for s in order}
    for s in order:
        if found[s] == len(sample):
            return s
    best = max(found, key=lambda s: found[s])  # max keeps the first of equals
    if found[best]:
        return best
    return "," if suffix == ".csv" else "\t"


def _split_rows(body: str, sep: str, quoted: bool) -> list[tuple[int, list[str]]]:
    """(line number in body, fields) per row; csv quoting when the file uses it."""
    if quoted:
        reader = csv.reader(io.StringIO(body), delimiter=sep, quotechar='"')
        rows, start = [], 1
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
        return rows
    return [(i + 1, ln.split(sep)) for i, ln in enumerate(body.split("\n"))]


def _is_header_row(row: list[str], rows: list[list[str]]) -> bool:
    """A first row that names the columns: known names, or short distinct labels over a
    table of three or more columns that every row fills."""
    cells = [c.strip().lower() for c in row]
    if not all(cells) or len(set(cells)) < len(cells):
        return False
    if any(c in _FRONT_NAMES + _BACK_NAMES or c in _META_NAMES for c in cells):
        return len(cells) >= 2 and all(len(c) <= 40 for c in cells)
    if any(len(c) > 40 or c.endswith(("?", ".")) for c in cells) or len(cells) < 3:
        return False
    return all(len(r) == len(row) for r in rows if any(f.strip() for f in r))


def _looks_like_tags(values: list[str]) -> bool:
    """A last column of Anki's old headerless export: space-separated single words."""
    filled = [v for v in values if v.strip()]
    return bool(filled) and all(re.fullmatch(r"[\w:./-]+( [\w:./-]+)*", v.strip()) for v in filled)


def read_delimited(text: str, source: str) -> ImportedDeck:
    """Read delimited (front, back) rows: Anki's text exports, Quizlet, spreadsheet CSV.

    Anki's header lines (``#separator:``, ``#html:``, ``#columns:``, ``#deck:``,
    ``#tags:``, ``#guid/notetype/deck/tags column:``) are honoured; Cloze rows give one card
    per cloze number, and fields past the answer ("Extra") follow it. Without headers the
    separator is tab if a row has one, else the one found on most rows (semicolon, comma,
    pipe); a first row naming the columns (front/question/term, back/answer/definition,
    tags, deck, guid, or a table of labelled columns) picks them, other columns are kept as
    "name: value" lines. Quizlet's shapes: a definition holding the separator (split at
    the first), a custom row separator (``;`` or ``|`` between rows on one line), and
    definitions running over several lines in a tab export. HTML is turned into text when
    ``#html:true`` says so or when the fields hold tags or entities.

    Raises:
        DeckError: naming the line: a row with fewer than two columns, an empty front or
            answer, an unknown header value, or no rows at all.

    >>> d = read_delimited("#separator:tab\\n#deck:Nets\\nWhat is ReLU?\\tmax(0, x)\\n", "r.txt")
    >>> [(c.deck, c.front, c.back, c.origin) for c in d.cards]
    [('Nets', 'What is ReLU?', 'max(0, x)', 'line 3')]
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    lay = _anki_headers(lines, source)
    body_lines = lines[lay.body_start :]
    if not any(ln.strip() for ln in body_lines):
        raise DeckError(source, None, "the file is empty: no (front, back) rows")
    suffix = Path(source).suffix.lower()
    sep = lay.sep or _guess_separator(body_lines, suffix)
    sep_name = {v: k for k, v in _SEPARATORS.items()}.get(sep, repr(sep))
    body = "\n".join(body_lines)
    filled = [ln for ln in body_lines if ln.strip()]
    # Quizlet's custom row separator: all the cards on one line, ";" or "|" between them
    row_sep = None
    if not lay.anki and len(filled) == 1:
        for cand in (";", "|", "\n\n"):
            pieces = [p for p in filled[0].split(cand) if p.strip()]
            if cand != sep and len(pieces) > 1 and all(p.count(sep) == 1 for p in pieces):
                row_sep = cand
                break
    quoted = len(sep) == 1 and (
        lay.anki or any(ln.startswith('"') or f'{sep}"' in ln for ln in filled[:200])
    )  # Anki always quotes fields that need it; elsewhere, quotes mean CSV quoting
    if row_sep:
        rows = [(1, p.strip("\n").split(sep)) for p in filled[0].split(row_sep) if p.strip()]
    else:
        rows = _split_rows(body, sep, quoted)
    rows = [(no, r) for no, r in rows if any(f.strip() for f in r)]

    columns = [c.strip().lower() for c in lay.columns[0].split(sep)] if lay.columns else []
    if not lay.anki and rows and _is_header_row(rows[0][1], [r for _, r in rows[1:]]):
        columns = [c.strip().lower() for c in rows[0][1]]
        rows = rows[1:]
    meta = dict(lay.meta)
    for i, name in enumerate(columns):
        if name in _META_NAMES and _META_NAMES[name] not in meta:
            meta[_META_NAMES[name]] = i
    widths = {len(r) for _, r in rows}
    if not lay.anki and not columns and not quoted:
        if sep != "\t" and len(widths) > 1:  # Quizlet: the definition holds the separator
            rows = [(no, [r[0], sep.join(r[1:])] if len(r) > 2 else r) for no, r in rows]
        elif sep == "\t" and widths == {3} and _looks_like_tags([r[2] for _, r in rows]):
            meta["tags"] = 2  # Anki's old export without headers: front, back, tags
    if not lay.anki and not quoted and suffix != ".csv":  # Quizlet: a definition over lines
        joined: list[tuple[int, list[str]]] = []
        for no, r in rows:
            if len(r) == 1 and joined:
                joined[-1][1][-1] += "\n" + r[0]
            else:
                joined.append((no, list(r)))
        rows = joined
    is_html = lay.html if lay.html is not None else looks_like_html(body)

    width = max(widths | {len(columns), 2})
    text_cols = [c for c in range(width) if c not in meta.values()]
    named = {n: i for i, n in enumerate(columns) if n}
    front_col = next((named[n] for n in _FRONT_NAMES if n in named), text_cols[0])
    back_col = next(
        (named[n] for n in _BACK_NAMES if n in named),
        next((c for c in text_cols if c != front_col), front_col + 1),
    )
    extra_cols = [c for c in text_cols if c not in (front_col, back_col)]
    deck = lay.deck or Path(source).stem

    cards: list[ImportedCard] = []
    notes: list[str] = []
    images = sounds = 0

    def clean(value: str) -> str:
        nonlocal images, sounds
        if not is_html:
            return "\n".join(ln.strip() for ln in value.strip().split("\n") if ln.strip())
        if lay.html is None:  # HTML found, not declared: its line breaks are meant too
            value = value.replace("\n", "<br>")
        t, i, s = html_to_text(value)
        images, sounds = images + i, sounds + s
        return t

    for no, row in rows:
        line = lay.body_start + no

        def cell(i, row=row):
            return row[i] if 0 <= i < len(row) else ""

        notetype = cell(meta.get("notetype", -1)).lower()
        raw_front = cell(front_col)
        answer_named = any(n in named and named[n] == back_col for n in _BACK_NAMES)
        is_cloze = "cloze" in notetype or bool(
            CLOZE_MARK.search(raw_front) and (not cell(back_col).strip() or not answer_named)
        )
        if len(row) <= max(front_col, 0 if is_cloze else back_col):
            need = max(front_col, back_col) + 1
            raise DeckError(
                source,
                line,
                f"expected {need} {sep_name}-separated columns (front, back), found {len(row)}",
            )
        extras = []
        for c in extra_cols + ([back_col] if is_cloze else []):
            value = clean(cell(c))
            if value:
                label = columns[c] if c < len(columns) and columns[c] else ""
                extras.append(f"{label}: {value}" if label else value)
        row_tags = lay.tags
        if "tags" in meta:
            row_tags += tuple(t for t in re.split(r"[\s,]+", cell(meta["tags"])) if t)
        row_deck = cell(meta.get("deck", -1)).strip() or deck
        guid = cell(meta.get("guid", -1)).strip()
        made: list[tuple[str, str, str]] = []  # (front, back, id part)
        if is_cloze:
            for n, f, b in cloze_cards(raw_front):
                made.append((" ".join(clean(f).split()), "\n".join([clean(b), *extras]), f"c{n}"))
            if not made:
                raise DeckError(source, line, "a Cloze row without any {{c1::...}}")
        else:
            back = "\n".join(x for x in [clean(cell(back_col)), *extras] if x)
            made.append((" ".join(clean(raw_front).split()), back, ""))
            # "Basic (and reversed card)": Anki makes the back -> front card too
            wanted = "optional" not in notetype or any(clean(cell(c)) for c in extra_cols)
            if "reverse" in notetype and wanted:
                made.append((" ".join(clean(cell(back_col)).split()), clean(raw_front), "2"))
        for front, back, part in made:
            if not front:
                raise DeckError(source, line, "the card's front is empty")
            if not back:
                raise DeckError(source, line, f"the question {front!r} has no answer")
            cid = guid_id(guid, part) if guid else ""
            cards.append(ImportedCard(front, back, row_deck, row_tags, f"line {line}", cid))
    return finished(source, "delimited", cards, notes, images, sounds,
                    empty="the file is empty: no (front, back) rows")  # fmt: skip


def looks_delimited(text: str) -> bool:
    """Anki/Quizlet exports: header lines, or tabs (or ``; ``) on most of the first rows."""
    lines = [ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip()][:20]
    if not lines:
        return False
    if lines[0].startswith("#separator:") or lines[0].startswith("#html:"):
        return True
    if sum("\t" in ln for ln in lines) >= max(1, len(lines) // 2):
        return True
    # "question; answer", Quizlet's "term - definition": one separator on every line
    seps = [sep for sep in _TEXT_SEPARATORS if sep != ":"]
    return len(lines) > 1 and any(all(sep in ln for ln in lines) for sep in seps)
