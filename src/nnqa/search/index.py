"""The vector index: every card's front, whole answer and sections as rows of a FAISS index.

Owns the files under `index/` (the FAISS index, the row metadata and a versioned JSON
manifest) for the rows `nnqa.decks.cardtext.all_rows` gives, checking them against the deck
and the model, and rebuilding them atomically, reusing vectors whose text is unchanged.
Row *i* of `rows.json` is FAISS id *i*. Small indexes search exactly (`IndexFlatIP`); past
`APPROX_ABOVE_ROWS` rows they search an inverted file (`IndexIVFFlat`) whose trained
centroids are reused when a deck is added, so an update costs the new cards' embedding.
Leaves out: what is embedded for a card (see `nnqa.decks.cardtext`), scoring (see
`retrieval`) and which cards a deck holds (see `nnqa.decks.library`).

Files, all written to a temporary name and renamed into place, the manifest last:
    index/vectors.faiss   FAISS index over unit vectors (inner product = cosine)
    index/rows.json       [{"card": id, "kind": k, "section": i, "hash": h}], one row a line;
                          k is "front", "card", "section", "point" or "aside" (see cardtext)
    index/manifest.json   {"format": 1, "model": ..., "dim": ..., "content_hash": ..., ...}
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..decks.cards import PARSER_VERSION, Card
from ..decks.cardtext import Row, all_rows, text_hash
from ..files import atomic_write, atomic_write_with, file_sha

__all__ = [
    "CardIndex",
    "content_hash",
    "load_or_build",
    "make_faiss",
    "IndexStatus",
]

FORMAT_VERSION = 1
log = logging.getLogger("nnqa.index")

# Past this many rows (~8,000 cards) an exact (flat) search gives way to an inverted file
# (IVF). Measured on one core (benchmarks/bench_scale.py, docs/scale.md): a flat query
# takes 0.8 ms at 10,000 rows, 8 ms at 50,000, 17 ms at 100,000 and 62 ms at 300,000, so
# past ~20,000 rows it grows from a small fraction of the ~17 ms query encoding to more
# than all of it. IVF answers in under 1 ms at 100,000 rows, recall@5 >= 0.98.
APPROX_ABOVE_ROWS = 20_000
# IVF shape: nlist ~ 2 sqrt(n) lists, k-means on 32 points per list (10 iterations keep
# training to seconds at 250,000 rows); nprobe lists searched per query (recall@5 >= 0.98
# against exact search: tests/test_scale.py, benchmarks/bench_scale.py).
IVF_LISTS_PER_SQRT = 2
IVF_TRAIN_PER_LIST = 32
IVF_NPROBE_MIN = 48  # and at least an eighth of the lists
# Texts are embedded in chunks of this many, longest first, so progress can be reported
# and each chunk pads to similar lengths.
ENCODE_CHUNK = 2048


def content_hash(rows: list[Row], model_id: str) -> str:
    """A hash of everything the vectors depend on: the rows' texts, ids and the model."""
    h = hashlib.sha256(f"nnqa-index:{FORMAT_VERSION}:{PARSER_VERSION}:{model_id}\n".encode())
    for r in rows:
        h.update(f"{r.card}\x1f{r.kind}\x1f{r.section}\x1f{r.text}\n".encode())
    return h.hexdigest()


@dataclass
class IndexStatus:
    """What loading found: whether it rebuilt, why, and how much it embedded."""

    rebuilt: bool
    reason: str
    rows: int
    embedded: int  # rows embedded in this build (the rest reused cached vectors)
    seconds: float

    def __str__(self) -> str:
        if not self.rebuilt:
            return f"index up to date ({self.rows} rows)"
        return (
            f"index rebuilt ({self.reason}): {self.rows} rows, {self.embedded} embedded, "
            f"{self.rows - self.embedded} reused, {self.seconds:.2f} s"
        )


class CardIndex:
    """A FAISS index with its rows; `search` takes unit query vectors.

    Keeps no copy of the vectors: `vectors()` reads them back from FAISS (n, dim) when a
    rebuild reuses them or a test checks a search against brute force.
    """

    def __init__(self, faiss_index, rows: list[dict], manifest: dict):
        self.faiss = faiss_index
        self.rows = rows
        self.manifest = manifest

    @property
    def dim(self) -> int:
        return int(self.manifest["dim"])

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def approximate(self) -> bool:
        return not type(self.faiss).__name__.startswith("IndexFlat")

    def search(
        self, queries: np.ndarray, k: int, subset: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows for each query: (scores (q, k), row ids (q, k)); ids are -1 past the end.

        `subset` (sorted int64 row ids) restricts the search to those rows, e.g. one deck's.
        A subset no larger than `APPROX_ABOVE_ROWS` is searched exactly even in an IVF
        index (every list is scanned, rows outside the subset are skipped unscored), so a
        small deck inside a large index is never missed.
        """
        import faiss

        q = np.ascontiguousarray(queries, dtype=np.float32)  # (q, dim)
        if subset is None:
            k = max(1, min(k, len(self.rows)))
            return self.faiss.search(q, k)
        k = max(1, min(k, len(subset)))
        sel = faiss.IDSelectorBatch(np.ascontiguousarray(subset, dtype=np.int64))
        if self.approximate:
            nlist = self.faiss.nlist
            nprobe = nlist if len(subset) <= APPROX_ABOVE_ROWS else self.faiss.nprobe
            params = faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)
        else:
            params = faiss.SearchParameters(sel=sel)
        return self.faiss.search(q, k, params=params)

    def vectors(self) -> np.ndarray:
        """All row vectors, shape (n, dim); for reuse in rebuilds and brute-force checks."""
        if not self.faiss.ntotal:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.approximate:
            self.faiss.make_direct_map()  # IVF rows are stored by list; map ids to places
        return self.faiss.reconstruct_n(0, self.faiss.ntotal)


def ivf_lists(n: int) -> int:
    """How many IVF lists for n rows: ~2 sqrt(n), at least 16.

    >>> ivf_lists(250_000)
    1000
    """
    return max(16, int(IVF_LISTS_PER_SQRT * n**0.5))


def make_faiss(vectors: np.ndarray, approx_above: int | None = None, trained=None):
    """A FAISS index over unit vectors (n, dim): exact up to `approx_above` rows, IVF past it.

    `trained` is an earlier IVF index of the same dimension whose centroids are reused
    (skipping k-means) when its list count still suits n within a factor of two.
    """
    import faiss

    n, dim = vectors.shape
    limit = APPROX_ABOVE_ROWS if approx_above is None else approx_above
    if n <= limit:
        index = faiss.IndexFlatIP(dim)
        if n:
            index.add(vectors)
        return index
    nlist = ivf_lists(n)
    reusable = (
        trained is not None
        and isinstance(trained, faiss.IndexIVFFlat)
        and trained.d == dim
        and nlist / 2 <= trained.nlist <= nlist * 2
    )
    if reusable:
        index = faiss.clone_index(trained)
        index.reset()
    else:
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.own_fields = True
        quantizer.this.disown()  # the IVF index now owns its quantizer
        rng = np.random.default_rng(0)
        size = min(n, IVF_TRAIN_PER_LIST * nlist)
        sample = vectors[np.sort(rng.choice(n, size=size, replace=False))]  # (size, dim)
        index.cp.max_points_per_centroid = IVF_TRAIN_PER_LIST
        index.cp.min_points_per_centroid = 1  # quiet: fewer than 39 per list is deliberate
        index.cp.niter = 10
        index.train(sample)
    index.nprobe = min(index.nlist, max(IVF_NPROBE_MIN, index.nlist // 8))
    index.add(vectors)
    return index


def _read(folder: Path) -> tuple[dict, list[dict], object]:
    """Read and verify the three files; raises ValueError saying what is wrong."""
    import faiss

    mpath = folder / "manifest.json"
    if not mpath.exists():
        raise ValueError("no index yet")
    try:
        manifest = json.loads(mpath.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"unreadable manifest ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise ValueError(f"index format {manifest.get('format')!r}, expected {FORMAT_VERSION}")
    for name, sha in manifest.get("files", {}).items():
        p = folder / name
        if not p.exists() or file_sha(p) != sha:
            raise ValueError(f"{name} is missing or does not match the manifest")
    rows = json.loads((folder / "rows.json").read_text())
    index = faiss.read_index(str(folder / "vectors.faiss"))
    if index.ntotal != len(rows) or index.d != manifest.get("dim"):
        raise ValueError("vector count or dimension does not match the rows")
    return manifest, rows, index


def load_or_build(
    cards: list[Card],
    folder: str | Path,
    model_id: str,
    encode: Callable[[list[str]], np.ndarray],
    force: bool = False,
    decks: list[dict] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[CardIndex, IndexStatus]:
    """Load the index in `folder` if it matches `cards` and `model_id`, else rebuild it.

    Args:
        cards: the parsed cards; their rows define what must be in the index.
        folder: the index folder (created if missing).
        model_id: recorded in the manifest; another model's index is rebuilt.
        encode: texts -> unit vectors (n, dim); called only for rows not already embedded,
            in chunks of `ENCODE_CHUNK` texts.
        force: rebuild even when up to date (vectors of unchanged rows are still reused).
        decks: per-deck facts recorded in the manifest (source, deck, cards, sha256).
        progress: called as progress(embedded, to_embed) before and after each chunk.
    Returns:
        The index and what happened (`IndexStatus`).
    Raises:
        OSError: the folder cannot be written.
    """
    folder = Path(folder)
    t0 = time.perf_counter()
    rows = all_rows(cards)
    want = content_hash(rows, model_id)

    old = None
    try:
        manifest, meta, index = _read(folder)
        old = (manifest, meta, index)
        if manifest.get("model") != model_id:
            reason = f"built with model {manifest.get('model')!r}, now {model_id!r}"
        elif manifest.get("content_hash") != want:
            reason = "the decks changed"
        elif force:
            reason = "asked to rebuild"
        else:
            ci = CardIndex(index, meta, manifest)
            return ci, IndexStatus(False, "up to date", len(meta), 0, time.perf_counter() - t0)
    except Exception as e:  # a damaged index of any kind is rebuilt, never served
        reason = str(e) or type(e).__name__

    # Reuse vectors of rows whose text is unchanged (same model and dimension only).
    hashes = [r.hash for r in rows]
    old_vecs = np.zeros((0, 0), dtype=np.float32)
    where: dict[str, int] = {}  # text hash -> row of old_vecs
    trained = None
    if old is not None and old[0].get("model") == model_id:
        old_vecs = CardIndex(old[2], old[1], old[0]).vectors()  # (n_old, dim)
        where = {m["hash"]: i for i, m in enumerate(old[1])}
        trained = old[2]
    todo_by_hash = {h: r.text for h, r in zip(hashes, rows, strict=True) if h not in where}
    todo = sorted(todo_by_hash.values(), key=len, reverse=True)  # longest first, like ST
    new_vecs = _encode_in_chunks(todo, encode, progress)  # (len(todo), dim)
    dims = {v.shape[1] for v in (old_vecs, new_vecs) if v.shape[0]}
    if rows and len(dims) != 1:
        raise ValueError(f"embedding dimensions disagree: {sorted(dims)}")
    dim = dims.pop() if rows else 0
    if rows:
        new_at = {text_hash(t): i for i, t in enumerate(todo)}
        # Row i takes old_vecs[j] or new_vecs[j - n_old]: one gather, no per-row copies.
        n_old = old_vecs.shape[0]
        pick = np.fromiter(
            (where[h] if h in where else n_old + new_at[h] for h in hashes), np.int64, len(rows)
        )
        vectors = np.empty((len(rows), dim), dtype=np.float32)  # (n_rows, dim)
        is_old = pick < n_old
        if is_old.any():
            vectors[is_old] = old_vecs[pick[is_old]]
        if not is_old.all():
            vectors[~is_old] = new_vecs[pick[~is_old] - n_old]
        del old_vecs
    else:
        vectors = np.zeros((0, dim), dtype=np.float32)
    ci = write(folder, rows, vectors, model_id, want, decks or [], trained=trained, hashes=hashes)
    status = IndexStatus(True, reason, len(rows), len(todo), time.perf_counter() - t0)
    log.warning("nnqa: %s", status)
    return ci, status


def _encode_in_chunks(texts, encode, progress) -> np.ndarray:
    """Encode texts chunk by chunk, reporting progress; (len(texts), dim) float32."""
    if progress:
        progress(0, len(texts))
    parts = []
    for lo in range(0, len(texts), ENCODE_CHUNK):
        chunk = texts[lo : lo + ENCODE_CHUNK]
        parts.append(np.asarray(encode(chunk), dtype=np.float32))
        if progress:
            progress(lo + len(chunk), len(texts))
    return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)


def write(
    folder: Path,
    rows: list[Row],
    vectors: np.ndarray,
    model_id: str,
    chash: str,
    decks: list,
    trained=None,
    hashes: list[str] | None = None,
) -> CardIndex:
    """Write the index files atomically (each to a temp name, renamed; manifest last).

    `rows.json` holds one row per line (compact JSON per row: readable, and ~10x faster to
    write than an indented dump at 200,000 rows).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".*.tmp"):  # left by a writer that was killed mid-write
        stale.unlink(missing_ok=True)
    index = make_faiss(vectors, trained=trained)
    hashes = hashes or [r.hash for r in rows]
    meta = [
        {"card": r.card, "kind": r.kind, "section": r.section, "hash": h}
        for r, h in zip(rows, hashes, strict=True)
    ]
    rows_bytes = ("[\n" + ",\n".join(map(json.dumps, meta)) + "\n]\n").encode()
    import faiss

    faiss_sha = atomic_write_with(
        folder / "vectors.faiss", lambda tmp: faiss.write_index(index, tmp)
    )
    rows_sha = atomic_write(folder / "rows.json", rows_bytes)
    manifest = {
        "format": FORMAT_VERSION,
        "model": model_id,
        "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
        "content_hash": chash,
        "rows": len(rows),
        "index_type": type(index).__name__,
        "decks": decks,
        "files": {
            "vectors.faiss": faiss_sha,
            "rows.json": rows_sha,
        },
    }
    atomic_write(folder / "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())
    return CardIndex(index, meta, manifest)
