"""Anki packages: read an `.apkg` / `.colpkg` (a zip holding an SQLite collection) into cards.

A package holds its collection in one of three files, named by the package's ``meta``
(a small protobuf; absent before Anki 2.1.50): ``collection.anki2`` (legacy),
``collection.anki21`` (2.1 scheduler) or ``collection.anki21b`` (zstd-compressed, Anki's
default since 2.1.50, beside a dummy ``collection.anki2`` that only says "please update").
Inside, note types live either as JSON in ``col`` (schema 11) or in the ``notetypes``,
``fields`` and ``templates`` tables with protobuf configs (schema 15+); both are read.

Each card Anki made becomes a card here: a note type's template says which fields are the
front and which the answer (so reversed cards come out reversed, and "Basic + Extra"
keeps its extra field); cloze notes give one card per cloze number, nested clozes and hints
included. HTML becomes text (see `imported.html_to_text`), deck names (``Parent::Child``)
and tags are kept, and every card keeps an id made from its note's guid, so re-importing an
edited deck keeps the learner's progress. Read with `zipfile`, `sqlite3` and `zstandard`.
Leaves out: Anki's scheduling data and media files (not imported), other formats (see
`imports`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .cards import DeckError
from .imported import ImportedCard, ImportedDeck, finished, guid_id, html_to_text

__all__ = [
    "read_apkg",
    "cloze_cards",
    "note_cards",
    "template_fields",
    "FieldTexts",
    "NoteType",
    "CLOZE_MARK",
]

CLOZE_MARK = re.compile(r"\{\{c\d+::")
_OPEN = re.compile(r"\{\{c(\d+)::")


# -- cloze ---------------------------------------------------------------------------------
@dataclass
class _Cloze:
    n: int
    parts: list  # str or _Cloze, in order; the answer and, after "::", the hint


def _parse_cloze(text: str) -> list:
    """Text as a tree: str pieces and `_Cloze` nodes (nested ones inside their parent)."""
    root: list = []
    stack: list[list] = [root]
    nodes: list[_Cloze] = []
    i = 0
    while i < len(text):
        m = _OPEN.match(text, i)
        if m:
            node = _Cloze(int(m.group(1)), [])
            stack[-1].append(node)
            stack.append(node.parts)
            nodes.append(node)
            i = m.end()
        elif text.startswith("}}", i) and nodes:
            stack.pop()
            nodes.pop()
            i += 2
        else:
            j = i + 1
            while j < len(text) and not _OPEN.match(text, j) and not text.startswith("}}", j):
                j += 1
            stack[-1].append(text[i:j])
            i = j
    return root


def _answer_and_hint(node: _Cloze) -> tuple[list, str | None]:
    """A cloze's answer parts and its hint: the hint follows the first ``::`` at its level."""
    for k, part in enumerate(node.parts):
        if isinstance(part, str) and "::" in part:
            head, hint = part.split("::", 1)
            rest = "".join(p if isinstance(p, str) else "" for p in node.parts[k + 1 :])
            return [*node.parts[:k], head], hint + rest
    return node.parts, None


def _render(parts: list, hide: int | None) -> str:
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
            continue
        answer, hint = _answer_and_hint(p)
        if p.n == hide:
            out.append(f"[{hint}]" if hint else "[...]")
        else:
            out.append(_render(answer, hide))
    return "".join(out)


def _numbers(parts: list) -> set[int]:
    found = set()
    for p in parts:
        if isinstance(p, _Cloze):
            found.add(p.n)
            found |= _numbers(p.parts)
    return found


def cloze_cards(text: str) -> list[tuple[int, str, str]]:
    """One (number, front, back) per cloze number in a cloze field's text.

    The front hides that cloze as ``[...]`` (or ``[hint]``) and shows the others; the back
    is the whole text with every cloze revealed. Nested clozes work as in Anki: hiding the
    outer one hides the inner one too.

    >>> cloze_cards("{{c1::ReLU}} is max(0, {{c2::x::input}})")
    [(1, '[...] is max(0, x)', 'ReLU is max(0, x)'), (2, 'ReLU is max(0, [input])', 'ReLU is max(0, x)')]
    >>> [f for _, f, _ in cloze_cards("Adam keeps {{c1::averages of {{c2::the gradient}}}}")]
    ['Adam keeps [...]', 'Adam keeps averages of [...]']
    """
    tree = _parse_cloze(text)
    back = _render(tree, None)
    return [(n, _render(tree, n), back) for n in sorted(_numbers(tree))]


# -- the package ---------------------------------------------------------------------------
_COLLECTIONS = {1: "collection.anki2", 2: "collection.anki21", 3: "collection.anki21b"}


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[i]
        value |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return value, i
        shift += 7


def proto_fields(data: bytes) -> dict[int, list]:
    """A protobuf message's fields by number (varints as ints, the rest as bytes): enough to
    read the few plain fields nnqa needs from Anki's `meta` and note-type configs.

    >>> proto_fields(bytes([0x08, 0x03, 0x12, 0x02, 0x68, 0x69]))
    {1: [3], 2: [b'hi']}
    """
    out: dict[int, list] = {}
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        kind = key & 7
        if kind == 0:
            value, i = _varint(data, i)
        elif kind == 2:
            n, i = _varint(data, i)
            value, i = data[i : i + n], i + n
        elif kind in (1, 5):
            n = 8 if kind == 1 else 4
            value, i = data[i : i + n], i + n
        else:
            raise ValueError(f"protobuf wire type {kind} is not supported")
        out.setdefault(key >> 3, []).append(value)
    return out


def _collection_file(zf: zipfile.ZipFile, source: str) -> str:
    """The collection to read: the one the package's `meta` names, else the newest there."""
    names = set(zf.namelist())
    if "meta" in names:
        try:
            version = proto_fields(zf.read("meta")).get(1, [1])[0]
        except (ValueError, IndexError):
            raise DeckError(source, None, "the package's meta file is damaged") from None
        name = _COLLECTIONS.get(version)
        if name is None:
            raise DeckError(
                source, None, f"this Anki package has format {version}, newer than nnqa reads"
            )
        if name not in names:
            raise DeckError(source, None, f"the package's meta names {name}, which is missing")
        return name
    for name in ("collection.anki21b", "collection.anki21", "collection.anki2"):
        if name in names:
            return name
    raise DeckError(source, None, "not an Anki package: no collection.anki2 inside the zip")


def _extract(zf: zipfile.ZipFile, name: str, folder: str) -> Path:
    """Unpack the collection into folder (decompressing zstd), as a plain SQLite file."""
    out = Path(folder) / "collection.sqlite"
    with zf.open(name) as src, open(out, "wb") as dst:
        if name.endswith("b"):
            import zstandard

            zstandard.ZstdDecompressor().copy_stream(src, dst)
        else:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    return out


def read_apkg(path: str | Path, source: str | None = None) -> ImportedDeck:
    """Read an Anki package (.apkg/.colpkg) into cards, one per card Anki would show.

    Args:
        path: the package file.
        source: how messages name the file (default: its name).
    Returns:
        An `ImportedDeck`; `notes` says what was shown as placeholders or skipped.
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
            db_path = _extract(zf, name, tmp)
        except Exception as e:  # zip, zstd and OS errors alike: a damaged package
            raise DeckError(source, None, f"the package is damaged ({e})") from None
        try:
            db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
            try:
                return _read_collection(db, source)
            finally:
                db.close()
        except sqlite3.DatabaseError as e:
            raise DeckError(source, None, f"the Anki collection cannot be read ({e})") from None


# -- note types ----------------------------------------------------------------------------
@dataclass(frozen=True)
class NoteType:
    """What nnqa needs of an Anki note type: cloze or not, field names, templates."""

    name: str
    cloze: bool
    fields: tuple[str, ...]
    templates: tuple[tuple[str, str], ...]  # (question format, answer format) by ord


_REF = re.compile(r"\{\{([^{}]+)\}\}")
_SPECIAL = {"FrontSide", "Tags", "Deck", "Subdeck", "Card", "CardFlag", "Type", "CardID"}


def template_fields(fmt: str, names: tuple[str, ...], question: bool = False) -> list[str]:
    """The field names a card template shows, in order (``{{#F}}`` sections not counted).
    On the question side, ``{{type:F}}`` is an empty box to type F into and ``{{hint:F}}``
    a hidden hint: neither shows its field.

    >>> template_fields("{{Front}}<br>{{hint:Extra}} {{type:Back}} {{#Back}}x{{/Back}}",
    ...                 ("Front", "Back", "Extra"))
    ['Front', 'Extra', 'Back']
    >>> template_fields("{{Front}} {{type:Back}}", ("Front", "Back"), question=True)
    ['Front']
    """
    out = []
    for ref in _REF.findall(fmt):
        ref = ref.strip()
        if ref[:1] in "#^/!":
            continue
        if question and ref.lower().startswith(("type:", "hint:")):
            continue
        name = ref.rsplit(":", 1)[-1].strip()
        if name in names and name not in _SPECIAL and name not in out:
            out.append(name)
    return out


def _note_types(db: sqlite3.Connection) -> tuple[dict[int, NoteType], dict[int, str]]:
    """{note type id: NoteType}, {deck id: name}, from either schema."""
    tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
    types: dict[int, NoteType] = {}
    decks: dict[int, str] = {}
    if "notetypes" in tables:  # schema 15+: tables, configs as protobuf
        fields: dict[int, list] = {}
        for ntid, name in db.execute("select ntid, name from fields order by ntid, ord"):
            fields.setdefault(int(ntid), []).append(name)
        tmpls: dict[int, list] = {}
        for ntid, config in db.execute("select ntid, config from templates order by ntid, ord"):
            f = proto_fields(config or b"")
            q, a = (f.get(k, [b""])[0].decode("utf-8", "replace") for k in (1, 2))
            tmpls.setdefault(int(ntid), []).append((q, a))
        for ntid, name, config in db.execute("select id, name, config from notetypes"):
            kind = proto_fields(config or b"").get(1, [0])[0]
            types[int(ntid)] = NoteType(
                name, kind == 1, tuple(fields.get(int(ntid), ())), tuple(tmpls.get(int(ntid), ()))
            )
        for did, name in db.execute("select id, name from decks"):
            decks[int(did)] = name.replace("\x1f", "::")
    else:  # schema 11: JSON in the col table
        row = db.execute("select models, decks from col").fetchone()
        for mid, m in json.loads(row[0] or "{}").items():
            types[int(mid)] = NoteType(
                m.get("name", ""),
                m.get("type") == 1,
                tuple(f["name"] for f in sorted(m.get("flds", []), key=lambda f: f.get("ord", 0))),
                tuple(
                    (t.get("qfmt", ""), t.get("afmt", ""))
                    for t in sorted(m.get("tmpls", []), key=lambda t: t.get("ord", 0))
                ),
            )
        for did, d in json.loads(row[1] or "{}").items():
            decks[int(did)] = d.get("name", "")
    return types, decks


# -- notes to cards ------------------------------------------------------------------------
class FieldTexts:
    """Field HTML to text; counts the images and sounds of each note (left as placeholders
    wherever a card shows them) once, however many cards show them."""

    def __init__(self):
        self.images = self.sounds = 0

    def __call__(self, fragment: str) -> str:
        return html_to_text(fragment)[0]

    def count(self, fields: list[str]) -> None:
        _, images, sounds = html_to_text("<br>".join(fields))
        self.images += images
        self.sounds += sounds


def note_cards(
    kind: NoteType | None, fields: list[str], ords: list[int], text: FieldTexts
) -> list[tuple[int, str, str]]:
    """(ord, front, back) for each card of one note; HTML fields in, text out.

    Cloze notes: the card of ord k asks cloze k + 1; the note's other fields shown on the
    answer side ("Back Extra") follow the revealed text. Other notes: the fields the card's
    question template shows are the front, the answer template's other fields the back
    (the first as it is, later ones labelled with their field name). Without a note type,
    the first field is the front and the rest the back.
    """
    names = kind.fields if kind else tuple(f"Field {i + 1}" for i in range(len(fields)))
    by_name = dict(zip(names, fields, strict=False))
    if kind is not None and kind.cloze:
        q_fmt, a_fmt = kind.templates[0] if kind.templates else ("", "")
        cloze_names = [m for m in re.findall(r"\{\{cloze:([^}]+)\}\}", q_fmt) if m in by_name]
        source = by_name.get(cloze_names[0], "") if cloze_names else (fields[0] if fields else "")
        shown = [n for n in template_fields(a_fmt, names) if n not in cloze_names]
        extra = [t for n in shown if (t := text(by_name.get(n, "")))]
        made = {n: (f, b) for n, f, b in cloze_cards(source)}
        wanted = sorted({o + 1 for o in ords} | set(made))  # Anki skips nested ones' cards
        out = []
        for n in wanted:
            if n in made:
                f, b = made[n]
                out.append((n - 1, " ".join(text(f).split()), "\n".join([text(b), *extra])))
        return out
    out = []
    for o in ords or [0]:
        q_fmt, a_fmt = kind.templates[o] if kind and o < len(kind.templates) else ("", "")
        front_names = template_fields(q_fmt, names, question=True) or list(names[:1])
        back_names = [n for n in template_fields(a_fmt, names) if n not in front_names]
        if not back_names:
            back_names = [n for n in names if n not in front_names]
        front = " ".join(" ".join(text(by_name.get(n, "")).split()) for n in front_names)
        lines = []
        for n in back_names:
            t = text(by_name.get(n, ""))
            if t:
                lines.append(t if not lines else f"{n}: {t}")
        out.append((o, " ".join(front.split()), "\n".join(lines)))
    return out


def _read_collection(db: sqlite3.Connection, source: str) -> ImportedDeck:
    types, deck_names = _note_types(db)
    note_cards_of: dict[int, list[tuple[int, int]]] = {}  # note id -> [(ord, deck id)]
    for nid, ord_, did in db.execute("select nid, ord, did from cards order by nid, ord"):
        note_cards_of.setdefault(int(nid), []).append((int(ord_), int(did)))
    cards: list[ImportedCard] = []
    notes: list[str] = []
    text = FieldTexts()
    rows = db.execute("select id, guid, mid, flds, tags from notes order by id")
    for nid, guid, mid, flds, tags in rows:
        origin = f"note {nid}"
        kind = types.get(int(mid))
        fields = (flds or "").split("\x1f")
        placed = note_cards_of.get(int(nid), [])
        deck_of = {o: deck_names.get(d, "") or "Default" for o, d in placed}
        default_deck = next(iter(deck_of.values()), "Default")
        tagset = tuple(t for t in (tags or "").split() if t)
        if kind is not None and kind.cloze and "image-occlusion:" in (flds or ""):
            notes.append(f"{origin}: an image occlusion note needs its picture; skipped")
            continue
        text.count(fields)
        made = note_cards(kind, fields, [o for o, _ in placed], text)
        if kind is not None and kind.cloze and not made:
            notes.append(f"{origin}: a cloze note without any {{{{c1::...}}}}; skipped")
            continue
        for o, front, back in made:
            deck = deck_of.get(o, default_deck)
            if not front or not back.strip():
                side = "front" if not front else "answer"
                notes.append(f"{origin}: empty {side}; skipped")
                continue
            part = f"c{o + 1}" if kind is not None and kind.cloze else (f"{o + 1}" if o else "")
            cid = guid_id(guid, part) if guid else ""
            cards.append(ImportedCard(front, back, deck, tagset, origin, cid))
    return finished(source, "anki", cards, notes, text.images, text.sounds,
                    empty="the Anki package holds no cards with text")  # fmt: skip
