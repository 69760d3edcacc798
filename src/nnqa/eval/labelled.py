"""Labelled data: JSON-lines files, one labelled item a line, read with errors that name the line."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError

__all__ = ["load_jsonl"]


def load_jsonl(path: str | Path) -> list[dict]:
    """Read one JSON object per non-empty line; errors name the file and line."""
    out = []
    for no, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError as e:
                raise InputError(f"{path}:{no}: not a JSON object ({e})") from None
    return out
