"""Glossaries: the abbreviations a deck's author wants understood, kept as data beside a deck.

A deck ``knowledge/NAME.txt`` (or any deck file) may have ``knowledge/NAME.glossary.json``:

    {"format": 1, "abbreviations": {"sgd": "stochastic gradient descent", ...}}

A question that uses an abbreviation is searched with its long form added
("sgd" -> "sgd (stochastic gradient descent)"), as the decks' own "Long Name (ABBR)"
definitions are (see `nnqa.search.query`). Leaves out: those definitions, which need no
file. Nothing here is about one subject: the words are the deck author's.
"""

from __future__ import annotations

import json
from pathlib import Path

from .cards import GLOSSARY_SUFFIX, DeckError

__all__ = ["GLOSSARY_SUFFIX", "FORMAT_VERSION", "read_glossary", "glossaries"]

FORMAT_VERSION = 1


def read_glossary(path: Path) -> dict[str, str]:
    """A glossary file as {abbreviation (lower case): long form}.

    Raises:
        DeckError: the file is not JSON of the format above (the message names it).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise DeckError(str(path), None, f"not a readable glossary file ({e})") from None
    terms = data.get("abbreviations") if isinstance(data, dict) else None
    if data.get("format") != FORMAT_VERSION or not isinstance(terms, dict):
        raise DeckError(
            str(path),
            None,
            f'a glossary file holds {{"format": {FORMAT_VERSION}, "abbreviations": {{"abbr": "long form"}}}}',
        )
    bad = [k for k, v in terms.items() if not (isinstance(v, str) and v.strip() and k.strip())]
    if bad:
        raise DeckError(str(path), None, f"each abbreviation needs a long form: {bad[:3]}")
    return {k.strip().lower(): " ".join(v.split()) for k, v in terms.items()}


def glossaries(folder: Path) -> dict[str, str]:
    """Every glossary file in a folder, merged (files in name order; a later one wins).

    >>> glossaries(Path("no such folder"))
    {}
    """
    out: dict[str, str] = {}
    if Path(folder).is_dir():
        for path in sorted(Path(folder).glob(f"*{GLOSSARY_SUFFIX}")):
            out.update(read_glossary(path))
    return out
