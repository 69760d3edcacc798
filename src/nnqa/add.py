"""Adding a deck: import a file into `knowledge/` as readable text, then update the index.

Owns the one operation that changes a user's folders: read the file (see `imports`),
convert it to Markdown (nnqa's own .md/.txt decks are kept as written), check it parses
and does not clash with a deck already there, write it atomically, and update the index,
embedding only the new cards. All or nothing: when any step fails, `knowledge/` and
`index/` are left exactly as they were. Leaves out: the formats (see `imports`), the index
files (see `index`), printing (see `cli`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .decks.cards import PARSERS, DeckError, deck_files, load_deck
from .decks.imports import read_deck_file, to_markdown
from .errors import MissingFile
from .files import atomic_write

__all__ = ["Added", "add_deck"]

log = logging.getLogger("nnqa.add")
INDEX_FILES = ("vectors.faiss", "rows.json", "manifest.json")


@dataclass(frozen=True)
class Added:
    """What `add_deck` did: the file written, its decks and cards, and the index update."""

    source: str  # the file imported, as given
    written: str  # e.g. "knowledge/my_deck.md"
    format: str
    decks: tuple[str, ...]
    cards: int
    embedded: int  # rows embedded by the index update (the rest were reused)
    index: str  # the index status line
    notes: tuple[str, ...] = field(default=())  # what the import dropped

    def __str__(self) -> str:
        decks = ", ".join(repr(d) for d in self.decks)
        lines = [f"added {self.cards} cards in {decks} from {self.source} -> {self.written}"]
        lines += [f"  note: {n}" for n in self.notes]
        lines.append(self.index)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "written": self.written,
            "format": self.format,
            "decks": list(self.decks),
            "cards": self.cards,
            "embedded": self.embedded,
            "index": self.index,
            "notes": list(self.notes),
        }


def add_deck(
    path: str | Path,
    tutor=None,
    *,
    knowledge: str | Path | None = None,
    index: str | Path | None = None,
    deck: str | None = None,
    replace: bool = False,
    progress: Callable[[int, int], None] | None = None,
    embedder=None,
) -> Added:
    """Import a deck file into the knowledge folder and update the index.

    Args:
        path: an .apkg, .csv/.tsv, Anki or Quizlet .txt export, .md or plain .txt deck.
        tutor: a `Tutor` whose folders and model to use; it is rebuilt in place. Without
            one, `knowledge`/`index` (or the NNQA_* settings) and `embedder` are used.
        deck: a new name for the imported deck(s).
        replace: replace a deck file of the same name (else that is an error).
        progress: progress(embedded, to_embed) while new cards are embedded.
    Returns:
        `Added`: what was written and what the index update embedded.
    Raises:
        DeckError: the file cannot be read (naming the line or note), its name or deck
            clashes with one already in the knowledge folder, or it holds no cards.
            Nothing in the knowledge or index folders has changed.

    >>> add_deck("anki_export.apkg", knowledge="knowledge", index="index")  # doctest: +SKIP
    """
    from .tutor import Tutor

    path = Path(path)
    imported = read_deck_file(path, path.name)
    if tutor is not None:
        folder, index_dir = tutor.settings.knowledge, tutor.settings.index
    else:
        from .settings import Settings

        s = Settings.from_env(knowledge=knowledge, index=index)
        folder, index_dir = s.knowledge, s.index
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise MissingFile(f"the knowledge folder {folder} is a file, not a folder")

    keep_as_is = imported.format in ("markdown", "text") and deck is None
    if keep_as_is:
        target = folder / path.name
        text = path.read_text(encoding="utf-8")
    else:
        if deck is not None:
            from dataclasses import replace as with_

            cards = tuple(with_(c, deck=deck) for c in imported.cards)
            imported = with_(imported, cards=cards)
        target = folder / f"{path.stem}.md"
        text = to_markdown(imported)
    written = f"{folder.name}/{target.name}"

    # Check the converted text reads back, and clashes, before touching anything.
    new_cards = PARSERS[target.suffix.lower()](text, written)
    if target.exists() and not replace:
        raise DeckError(
            str(path), None, f"{written} already exists; add --replace to replace that deck"
        )
    others = [p for p in deck_files(folder) if p.name != target.name] if folder.is_dir() else []
    existing = {}
    for p in others:
        for c in load_deck(p, f"{folder.name}/{p.name}"):
            existing.setdefault(c.deck, f"{folder.name}/{p.name}")
    for name in dict.fromkeys(c.deck for c in new_cards):
        if name in existing:
            raise DeckError(
                str(path),
                None,
                f"a deck named {name!r} is already in {existing[name]}; "
                "choose another name with --deck",
            )

    # Write, then update the index; on any failure put both folders back as they were.
    old_text = target.read_bytes() if target.exists() else None
    backups = _keep_index(Path(index_dir))
    created = not folder.exists()  # a first deck: the knowledge folder is made for it
    folder.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write(target, text.encode("utf-8"))
        if tutor is None:
            tutor = Tutor(knowledge=folder, index=index_dir, embedder=embedder, progress=progress)
            status = tutor.rebuild(force=False)
        else:
            if progress is not None:
                tutor.progress = progress
            status = tutor.reload()
    except BaseException:
        if old_text is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(old_text)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()
        _restore_index(Path(index_dir), backups)
        if tutor is not None and tutor.settings.knowledge == folder:
            tutor.reload(index=False)  # back to the decks on disk, as before
        raise
    _drop_backups(backups)
    return Added(
        source=str(path),
        written=written,
        format=imported.format,
        decks=tuple(dict.fromkeys(c.deck for c in new_cards)),
        cards=len(new_cards),
        embedded=status.embedded,
        index=str(status),
        notes=imported.notes,
    )


def _keep_index(folder: Path) -> dict[str, Path]:
    """Hard-link the index files aside (no copy: rebuilds replace files, not contents)."""
    kept = {}
    for name in INDEX_FILES:
        p = folder / name
        if p.exists():
            b = folder / f".{name}.nnqa-before-add"
            b.unlink(missing_ok=True)
            try:
                os.link(p, b)
            except OSError:  # a filesystem without hard links: copy
                b.write_bytes(p.read_bytes())
            kept[name] = b
    return kept


def _restore_index(folder: Path, kept: dict[str, Path]) -> None:
    for name in INDEX_FILES:
        p = folder / name
        if name in kept:
            if p.exists() and os.path.samefile(p, kept[name]):
                kept[name].unlink()  # untouched (rename onto a hard link does nothing)
            else:
                os.replace(kept[name], p)
        else:
            p.unlink(missing_ok=True)


def _drop_backups(kept: dict[str, Path]) -> None:
    for b in kept.values():
        b.unlink(missing_ok=True)
