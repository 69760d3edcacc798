"""Anki packages: read an `.apkg` / `.colpkg` (a zip holding an SQLite collection) into cards.

Each note becomes a card (first field the front, the other fields the answer); cloze notes
become one card per cloze number; HTML becomes text (images and sounds are dropped, with a
note saying so); the deck name and tags are kept. Read with `zipfile` + `sqlite3` only.
Leaves out: Anki's scheduling data and media files (not imported), other formats (see
`imports`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
import zipfile
from pathlib import Path

from .cards import DeckError
from .imported import ImportedCard, ImportedDeck, html_to_text

__all__ = ["read_apkg", "cloze_cards"]

# -- Anki packages -------------------------------------------------------------------------
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)


def cloze_cards(text: str) -> list[tuple[int, str, str]]:
    """One (number, front, back) per cloze number in a cloze field's text.

    The front hides that cloze as ``[...]`` (or ``[hint]``) and shows the others; the back
    is the whole text with every cloze revealed.

    >>> cloze_cards("{{c1::ReLU}} is max(0, {{c2::x::input}})")
    [(1, '[...] is max(0, x)', 'ReLU is max(0, x)'), (2, 'ReLU is max(0, [input])', 'ReLU is max(0, x)')]
    """
    numbers = sorted({int(m.group(1)) for m in _CLOZE.finditer(text)})
    back = _CLOZE.sub(lambda m: m.group(2), text)
    out = []
    for n in numbers:

        def hide(m, n=n):
            if int(m.group(1)) != n:
                return m.group(2)
            return f"[{m.group(3)}]" if m.group(3) else "[...]"

        out.append((n, _CLOZE.sub(hide, text), back))
    return out


def _collection_file(zf: zipfile.ZipFile, source: str) -> str:
    names = set(zf.namelist())
    for name in ("collection.anki21", "collection.anki2"):
        if name in names:
            return name
    if "collection.anki21b" in names:
        raise DeckError(
            source,
            None,
            "this Anki package uses the newest compressed format; export it again from Anki "
            "with 'Support older Anki versions' ticked",
        )
    raise DeckError(source, None, "not an Anki package: no collection.anki2 inside the zip")


def _anki_models_and_decks(db: sqlite3.Connection) -> tuple[dict[int, dict], dict[int, str]]:
    """{model id: {"cloze": bool, "fields": [names]}}, {deck id: name}, old or new schema."""
    tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
    models: dict[int, dict] = {}
    decks: dict[int, str] = {}
    if "notetypes" in tables:  # schema 15+: one table each; deck names use \x1f for '::'
        for mid, name in db.execute("select id, name from notetypes"):
            models[int(mid)] = {"cloze": None, "name": name}
        for did, name in db.execute("select id, name from decks"):
            decks[int(did)] = name.replace("\x1f", "::")
    else:  # schema 11: JSON in the col table
        row = db.execute("select models, decks from col").fetchone()
        for mid, m in json.loads(row[0] or "{}").items():
            models[int(mid)] = {"cloze": m.get("type") == 1, "name": m.get("name", "")}
        for did, d in json.loads(row[1] or "{}").items():
            decks[int(did)] = d.get("name", "")
    return models, decks


def read_apkg(path: str | Path, source: str | None = None) -> ImportedDeck:
    """Read an Anki package (.apkg/.colpkg) into cards, one per note (per cloze for cloze notes).

    Args:
        path: the package file.
        source: how messages name the file (default: its name).
    Returns:
        An `ImportedDeck`; `notes` says what was dropped (images, sounds, empty notes).
    Raises:
        DeckError: not a zip, no collection inside, an unreadable collection, or no cards;
            a note that cannot be read is named by its id.
    """
    path = Path(path)
    source = source or path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DeckError(source, None, f"not a readable Anki package (a zip file): {e}") from None
    with zf, tempfile.TemporaryDirectory(prefix="nnqa-apkg-") as tmp:
        name = _collection_file(zf, source)
        try:
            zf.extract(name, tmp)
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise DeckError(source, None, f"the package is damaged ({e})") from None
        try:
            db = sqlite3.connect(f"file:{Path(tmp) / name}?mode=ro", uri=True)
            try:
                return _read_collection(db, source)
            finally:
                db.close()
        except sqlite3.DatabaseError as e:
            raise DeckError(source, None, f"the Anki collection cannot be read ({e})") from None


def _read_collection(db: sqlite3.Connection, source: str) -> ImportedDeck:
    models, deck_names = _anki_models_and_decks(db)
    note_deck = {
        int(nid): int(did)
        for nid, did in db.execute("select nid, did from cards order by nid, ord desc")
    }  # later rows win: the deck of each note's first card (ord 0)
    cards: list[ImportedCard] = []
    notes: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    dropped_images = dropped_sounds = 0
    for nid, mid, flds, tags in db.execute("select id, mid, flds, tags from notes order by id"):
        origin = f"note {nid}"
        deck = deck_names.get(note_deck.get(int(nid), -1), "") or "Default"
        fields = (flds or "").split("\x1f")
        texts = []
        for f in fields:
            text, imgs, snds = html_to_text(f)
            texts.append(text)
            dropped_images += imgs
            dropped_sounds += snds
        tagset = tuple(t for t in (tags or "").split() if t)
        is_cloze = models.get(int(mid), {}).get("cloze")
        if is_cloze is None:  # newer schema: the notetype's kind is in a protobuf; look
            is_cloze = bool(_CLOZE.search(fields[0] if fields else ""))
        made: list[tuple[str, str]] = []
        if is_cloze:
            if not _CLOZE.search(fields[0] if fields else ""):
                notes.append(f"{origin}: a cloze note without any {{{{c1::...}}}}; skipped")
                continue
            extra = [t for t in texts[1:] if t]
            for _n, front, back in cloze_cards(fields[0]):
                f_text = html_to_text(front)[0]
                b_text = html_to_text(back)[0]
                made.append((" ".join(f_text.split()), "\n".join([b_text, *extra])))
        else:
            front = " ".join(texts[0].split()) if texts else ""
            back = "\n".join(t for t in texts[1:] if t)
            made.append((front, back))
        for front, back in made:
            if not front or not back.strip():
                side = "front" if not front else "answer"
                notes.append(f"{origin}: empty {side} once HTML and media were dropped; skipped")
                continue
            if (deck, front, back) in seen:
                notes.append(f"{origin}: a duplicate of an earlier card; skipped")
                continue
            seen.add((deck, front, back))
            cards.append(ImportedCard(front, back, deck, tagset, origin))
    if dropped_images or dropped_sounds:
        notes.insert(0, f"dropped {dropped_images} image(s) and {dropped_sounds} sound(s)")
    if not cards:
        raise DeckError(source, None, "the Anki package holds no cards with text")
    return ImportedDeck(source, "anki", tuple(cards), tuple(notes))
