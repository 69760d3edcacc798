"""Files written whole or not at all: write to a hidden temp name beside the target, fsync,
then rename into place; and hashing a file in chunks.

A process killed mid-write leaves the old file untouched and at most a hidden
``.NAME.*.tmp`` beside it (deck and index loaders skip hidden files). Leaves out: what is
written (see `nnqa.search.index`, `nnqa.add`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_with", "file_sha"]


def file_sha(path: Path) -> str:
    """The sha256 of a file, read 4 MiB at a time (a 100k-card index is ~350 MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_with(path: Path, write: Callable[[str], None]) -> str:
    """Let `write(temp_path)` write the file, then fsync and rename it to `path`; its sha256."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        sha = file_sha(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; decks and the index are not secret
        os.replace(tmp, path)
        return sha
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: bytes) -> str:
    """Write bytes to `path` whole or not at all; returns their sha256."""
    return atomic_write_with(path, lambda tmp: Path(tmp).write_bytes(data))
