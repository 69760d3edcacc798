"""Links: which demos illustrate which cards, kept as data beside a deck.

A deck ``knowledge/NAME.txt`` (or ``.md``) may have ``knowledge/NAME.links.json``:

    {"format": 1, "cards": {"Vanishing Gradient": ["vanishing_gradients", ...], ...}}

Each key names a card of that deck as `nnqa ask` and `Tutor.card` do (exactly, else close
enough to be unambiguous), so fixing a typo in a front keeps its demos; the demos are
listed most direct first. Any deck can link demos this way. A link whose card is gone is
skipped with a warning, never an error. Leaves out: the demos themselves (`nnqa.demos`
checks the names when one runs).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .cards import LINKS_SUFFIX, Card, DeckError, find_card

__all__ = ["LINKS_SUFFIX", "FORMAT_VERSION", "read_links", "demo_links"]

FORMAT_VERSION = 1
log = logging.getLogger("nnqa.decks")


def read_links(path: Path, source: str) -> dict[str, list[str]]:
    """A links file as {card front as linked: [demo names]}.

    Raises:
        DeckError: the file is not JSON of the format above (the message names it).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise DeckError(source, None, f"not a readable links file ({e})") from None
    cards = data.get("cards") if isinstance(data, dict) else None
    if data.get("format") != FORMAT_VERSION or not isinstance(cards, dict):
        raise DeckError(
            source,
            None,
            f'a links file holds {{"format": {FORMAT_VERSION}, "cards": {{front: [demo, ...]}}}}',
        )
    if not all(isinstance(v, list) and all(isinstance(n, str) for n in v) for v in cards.values()):
        raise DeckError(source, None, "each card's demos are a list of demo names")
    return cards


def demo_links(folder: Path, cards: list[Card]) -> dict[str, tuple[str, ...]]:
    """Card id -> demo names, from every links file in the folder, each over its own deck.

    >>> demo_links(Path("knowledge"), [])   # no cards: nothing to link
    {}
    """
    out: dict[str, tuple[str, ...]] = {}
    for path in sorted(Path(folder).glob(f"*{LINKS_SUFFIX}")):
        stem = path.name[: -len(LINKS_SUFFIX)]
        own = [c for c in cards if Path(c.source).stem == stem]
        if not own:
            continue
        for front, names in read_links(path, f"{Path(folder).name}/{path.name}").items():
            try:
                card = find_card(own, front)
            except KeyError:
                log.warning("nnqa: %s links demos to %r, which no card matches", path.name, front)
                continue
            out[card.id] = tuple(dict.fromkeys([*out.get(card.id, ()), *names]))
    return out
