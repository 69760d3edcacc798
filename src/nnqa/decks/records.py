"""JSON decks: CrowdAnki's ``deck.json`` and plain records (``.json`` / ``.jsonl``).

* CrowdAnki (an Anki add-on that exports a deck as JSON for git): note types, notes with
  their guids, tags, and sub-decks (``children``, named ``Parent::Child``). Each note
  becomes one card (its first field the front, the other filled fields labelled below the
  answer); cloze notes one card per cloze number. Its card templates are not rendered.
* Records: a list of objects, either the whole file, one object per line (JSONL), or the
  first list of objects inside an object (``{"deck_name": ..., "entries": [...]}``). The
  front is the first key named like one (front, question, term, prompt, word, name, text),
  the answer the first named like one (back, answer, definition, meaning, response), or,
  without one, every other field as a labelled line; ``tags``, ``deck`` and ``guid``/``id``
  keys are read as such.

Pure: text in, `ImportedDeck` out. Leaves out: other formats (see `imports`, `anki`).
"""

from __future__ import annotations

import json
from pathlib import Path

from .anki import CLOZE_MARK, FieldTexts, NoteType, note_cards
from .cards import DeckError
from .imported import ImportedCard, ImportedDeck, finished, guid_id, looks_like_html

__all__ = ["read_json_deck"]

_FRONT_KEYS = ("front", "question", "term", "prompt", "word", "name", "text")
_BACK_KEYS = ("back", "answer", "definition", "meaning", "response")
_ID_KEYS = ("guid", "id", "note_id")
_DECK_KEYS = ("deck", "deck_name", "name", "title")


def read_json_deck(text: str, source: str) -> ImportedDeck:
    """Read a CrowdAnki ``deck.json``, a JSON list of records, or JSONL records.

    Raises:
        DeckError: not JSON (naming the line), no list of records, a record without a
            front or an answer (naming the record).

    >>> d = read_json_deck('[{"question": "What is ReLU?", "answer": "max(0, x)"}]', "r.json")
    >>> [(c.deck, c.front, c.back) for c in d.cards]
    [('r', 'What is ReLU?', 'max(0, x)')]
    """
    text = text.lstrip("\ufeff")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as whole:
        try:  # JSONL: one object per line
            data = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        except json.JSONDecodeError:
            raise DeckError(source, whole.lineno, f"not valid JSON ({whole.msg})") from None
    if isinstance(data, dict) and data.get("__type__") == "Deck":
        return _crowdanki(data, source)
    return _records(data, source)


def _crowdanki(root: dict, source: str) -> ImportedDeck:
    types = {
        m.get("crowdanki_uuid", ""): NoteType(
            m.get("name", ""),
            m.get("type") == 1,
            tuple(f["name"] for f in sorted(m.get("flds", []), key=lambda f: f.get("ord", 0))),
            tuple((t.get("qfmt", ""), t.get("afmt", "")) for t in m.get("tmpls", [])),
        )
        for m in root.get("note_models", [])
    }
    cards: list[ImportedCard] = []
    notes: list[str] = []
    text = FieldTexts()

    def walk(deck: dict, prefix: str) -> None:
        name = f"{prefix}::{deck.get('name', '')}" if prefix else deck.get("name", "") or "Default"
        for i, note in enumerate(deck.get("notes", [])):
            kind = types.get(note.get("note_model_uuid", ""))
            guid = note.get("guid", "")
            origin = f"note {guid or i + 1}"
            fields = list(note.get("fields", []))
            if kind is not None and not kind.cloze:  # one card: first field, then the rest
                kind = NoteType(kind.name, False, kind.fields, ())
            text.count([str(f) for f in fields])
            made = note_cards(kind, fields, [], text)
            if not made:
                notes.append(f"{origin}: a cloze note without any {{{{c1::...}}}}; skipped")
            for o, front, back in made:
                if not front or not back.strip():
                    notes.append(f"{origin}: empty {'front' if not front else 'answer'}; skipped")
                    continue
                part = f"c{o + 1}" if kind is not None and kind.cloze else ""
                cid = guid_id(guid, part) if guid else ""
                cards.append(
                    ImportedCard(front, back, name, tuple(note.get("tags", [])), origin, cid)
                )
        for child in deck.get("children", []):
            walk(child, name)

    walk(root, "")
    return finished(source, "crowdanki", cards, notes, text.images, text.sounds,
                    empty="the CrowdAnki deck holds no cards with text")  # fmt: skip


def _find_records(data, source: str) -> tuple[list[dict], str]:
    """The list of record objects, and a deck name found beside it."""
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return data, ""
    if isinstance(data, dict):
        name = next((str(data[k]) for k in _DECK_KEYS if isinstance(data.get(k), str)), "")
        for value in data.values():
            if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
                return value, name
    raise DeckError(
        source, None, "no list of cards: expected records such as "
        '[{"front": "...", "back": "..."}] or one such object per line'
    )  # fmt: skip


def _key(record: dict, names: tuple[str, ...]) -> str | None:
    lower = {k.lower(): k for k in record}
    return next((lower[n] for n in names if n in lower), None)


def _plain(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if v not in (None, ""))
    return "" if value is None else str(value)


def _records(data, source: str) -> ImportedDeck:
    records, deck_name = _find_records(data, source)
    deck_name = deck_name or Path(source).stem
    text = FieldTexts()
    cards: list[ImportedCard] = []
    notes: list[str] = []
    ignored: set[str] = set()

    def clean(value) -> str:
        s = _plain(value).strip()
        if not looks_like_html(s):
            return s
        text.count([s])
        return text(s.replace("\n", "<br>"))  # not marked up as HTML: its lines are lines

    for i, r in enumerate(records, 1):
        origin = f"record {i}"
        fk, bk = _key(r, _FRONT_KEYS), _key(r, _BACK_KEYS)
        tk, dk, ik = _key(r, ("tags",)), _key(r, ("deck",)), _key(r, _ID_KEYS)
        if fk is None:
            raise DeckError(source, None, f"{origin} has no front (a 'front' or 'question' key)")
        front = " ".join(clean(r[fk]).split())
        others = [k for k in r if k not in (fk, bk, tk, dk, ik)]
        if bk is not None:
            back = clean(r[bk])
            ignored.update(k for k in others if _plain(r[k]).strip())
        else:
            back = "\n".join(f"{k}: {v}" for k in others if (v := clean(r[k])))
        tags = r.get(tk) if tk else ()
        tags = tuple(tags.replace(",", " ").split() if isinstance(tags, str) else tags or ())
        deck = _plain(r.get(dk)).strip() if dk else ""
        if not front or not back:
            raise DeckError(
                source, None, f"{origin} has an empty {'front' if not front else 'answer'}"
            )
        if CLOZE_MARK.search(front) and bk is None:
            notes.append(f"{origin}: cloze text kept as written")
        guid = _plain(r.get(ik)).strip() if ik else ""
        cid = guid_id(f"{deck or deck_name}\x1f{guid}") if guid else ""  # ids are per deck
        cards.append(ImportedCard(front, back, deck or deck_name, tags, origin, cid))
    if ignored:
        notes.append(f"fields not imported (beside front and answer): {', '.join(sorted(ignored))}")
    return finished(source, "records", cards, notes, text.images, text.sounds)
