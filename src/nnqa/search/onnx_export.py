"""ONNX exports of sentence-transformers models: made once with torch, cached by content.

Owns deciding whether a model folder can run through ONNX Runtime (a Transformer, mean
pooling, optionally Normalize: nothing else), exporting its transformer with torch, checking
the export against sentence-transformers on probe texts before it is used, and finding it
again on later starts without reading the 90 MB model (its content hash is remembered by
file sizes and times). Leaves out: running an export (`onnx_encoder`) and falling back to
sentence-transformers (`embeddings`).

Files, under `cache_dir/onnx/` (`Settings.cache_dir`, NNQA_CACHE_DIR):
    models.json              {model folder: {"files": [[name, size, mtime_ns], ...], "sha256": h}}
    <h[:20]>.v<format>/      one export, written in a hidden temp folder and renamed into place:
        model.onnx           the transformer: input_ids, attention_mask[, token_type_ids]
                             (n, seq) int64 -> hidden (n, seq, dim) float32
        tokenizer.json       the tokenizer sentence-transformers uses, as it saved it
        export.json          {"format", "model_sha256", "max_seq_length", "dim", "pad_id",
                              "lower_case", "onnx": {size, mtime_ns, sha256}, "probes",
                              "vectors": sentence-transformers' own vector of each probe, ...}

A damaged export (another size, other bytes, a vector off its probe) is an `ExportError`,
removed so that the next start exports again; it is never used. An export that fails (torch
cannot trace the model, or it does not reproduce sentence-transformers) leaves
`<h[:20]>.v<format>.failed` saying why, so later starts fall back at once instead of trying
for ~15 s each time; deleting it tries again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..files import atomic_write, file_sha
from .onnx_encoder import EXPORT_FORMAT, OnnxEncoder

__all__ = ["ExportError", "PROBES", "cached_export", "check_exportable", "model_sha256"]

# Texts every export must reproduce sentence-transformers' vectors for before it is used:
# a question, nothing, symbols, three scripts, control characters and past max_seq_length.
# The first is checked again at every load (one ~3 ms encode).
PROBES = (
    "what causes the seasons to change",
    "",
    "f(x) = max(0, x); σ(x) = 1 / (1 + e^-x)",
    "Überanpassung — 过拟合 — переобучение",
    "tab\there\nnew line\x00\x07 and a bell",
    "a long run of words past the limit " * 120,
)
MIN_COSINE_EXPORT = 0.99999  # an export is kept only this close to sentence-transformers
MIN_COSINE_LOAD = 0.9999  # and used only while its first probe stays this close
MODEL_MEMO = "models.json"


class ExportError(RuntimeError):
    """This model cannot run through ONNX Runtime, or its export cannot be used (one line)."""


# ---------------------------------------------------------------- which models, which export


def check_exportable(folder: Path) -> None:
    """Raise `ExportError` unless `folder` is a sentence-transformers model ONNX can run.

    Reads modules.json and the pooling config only (no torch): the model must be a
    Transformer, then mean pooling, then at most Normalize (as all-MiniLM-L6-v2 is).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ExportError(f"{folder} is not a model folder (a hub name is not exported)")
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = next((folder / m["path"] for m in modules if m["type"].endswith("Pooling")), None)
        cfg = json.loads((pooling / "config.json").read_text(encoding="utf-8")) if pooling else {}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ExportError(f"cannot read the model's modules in {folder}: {e}") from None
    if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"}:
        raise ExportError(f"the model's modules {kinds} are not Transformer, Pooling, Normalize")
    modes = {k for k, v in cfg.items() if k.startswith("pooling_mode_") and v is True}
    if cfg.get("pooling_mode", "mean") != "mean" or modes - {"pooling_mode_mean_tokens"}:
        raise ExportError("the model pools other than by the mean of its tokens")
    if not (folder / "tokenizer.json").is_file():
        raise ExportError("the model has no tokenizer.json (a fast tokenizer is needed)")


def _model_files(folder: Path) -> list[list]:
    """[[relative name, size, mtime_ns], ...] of every file under the model folder, sorted."""
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            st = p.stat()
            out.append([p.relative_to(folder).as_posix(), st.st_size, st.st_mtime_ns])
    return out


def model_sha256(folder: Path, memo: Path | None = None) -> str:
    """The sha256 of a model folder's files (names and bytes), remembered in `memo`.

    A folder whose files have the sizes and times remembered is not read again (hashing
    90 MB takes ~0.1 s, a start's worth); `memo` is best effort (a read-only cache is fine).
    """
    folder = Path(folder).resolve()
    files = _model_files(folder)
    memos = {}
    if memo is not None:
        try:
            memos = json.loads(memo.read_text(encoding="utf-8"))
            known = memos.get(str(folder), {})
            if known.get("files") == files and known.get("sha256"):
                return known["sha256"]
        except (OSError, ValueError, AttributeError):
            memos = {}
    h = hashlib.sha256()
    for name, size, _ in files:
        h.update(f"{name}\x1f{size}\n".encode())
        with open(folder / name, "rb") as f:
            while chunk := f.read(1 << 22):
                h.update(chunk)
    sha = h.hexdigest()
    if memo is not None:
        try:
            memos = memos if isinstance(memos, dict) else {}
            memos[str(folder)] = {"files": files, "sha256": sha}
            memo.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(memo, (json.dumps(memos, indent=1) + "\n").encode())
        except OSError:
            pass
    return sha


# ---------------------------------------------------------------- the cache


def cached_export(
    model_folder: str | Path,
    cache_dir: Path,
    threads: int = 1,
    announce: Callable[[str], None] | None = None,
) -> OnnxEncoder:
    """The model's checked ONNX export, loaded; exported first if the cache has none.

    Args:
        model_folder: a sentence-transformers model folder (the bundled MiniLM by default).
        cache_dir: where exports live (under `onnx/`); `Settings.cache_dir`.
        threads: ONNX Runtime threads.
        announce: told one line before a slow export starts (about 15 s, once per model).
    Returns:
        An `OnnxEncoder` whose first probe matched sentence-transformers' vector.
    Raises:
        ExportError: the model cannot be exported, the cache cannot be written, or the
            cached export is damaged (then it is removed: the next start exports again).
    """
    folder = Path(model_folder)
    check_exportable(folder)
    root = Path(cache_dir) / "onnx"
    try:
        sha = model_sha256(folder, root / MODEL_MEMO)
    except OSError as e:
        raise ExportError(f"cannot read the model in {folder}: {e}") from None
    entry = root / f"{sha[:20]}.v{EXPORT_FORMAT}"
    failed = root / f"{entry.name}.failed"  # why this model's export failed: not tried again
    if not (entry / "export.json").is_file():
        if failed.is_file():
            raise ExportError(f"{failed.read_text(encoding='utf-8').strip()} (delete {failed} "
                              "to try again)")  # fmt: skip
        try:
            export_model(folder, entry, sha, threads, announce)
        except ExportError as e:
            if not str(e).startswith("cannot write"):  # a full disk may not stay full
                with contextlib.suppress(OSError):
                    failed.write_text(f"{e}\n", encoding="utf-8")
            raise
    try:
        return open_export(entry, sha, threads)
    except ExportError as e:
        shutil.rmtree(entry, ignore_errors=True)  # made again on the next start
        raise ExportError(f"the ONNX export in {entry} is damaged ({e}); removed") from None


def open_export(entry: Path, sha: str, threads: int = 1) -> OnnxEncoder:
    """Load an export after checking it is the one made for this model, byte for byte.

    Checks: those of `check_files`; ONNX Runtime loads it; the first probe encodes within
    `MIN_COSINE_LOAD` of sentence-transformers' stored vector.

    Raises:
        ExportError: any check fails (the message says which).
    """
    meta = check_files(entry, sha)
    try:
        encoder = OnnxEncoder(entry, threads)
        got = encoder.encode([meta["probes"][0]])[0]  # (dim,)
    except Exception as e:  # onnxruntime and tokenizers raise their own types
        raise ExportError(f"{type(e).__name__}: {str(e).splitlines()[0][:160]}") from None
    ref = np.asarray(meta["vectors"][0], dtype=np.float32)
    cos = float(got @ ref / max(float(np.linalg.norm(ref)), 1e-12))
    if not cos >= MIN_COSINE_LOAD:
        raise ExportError(f"its probe vector is off (cosine {cos:.6f})")
    return encoder


def check_files(entry: Path, sha: str) -> dict:
    """export.json of an export folder, once it names the hash `sha` and its ONNX file has
    the size and time it was written with (else the sha256 it was written with).

    Raises:
        ExportError: unreadable, made for another model, or the ONNX file changed.
    """
    try:
        meta = json.loads((entry / "export.json").read_text(encoding="utf-8"))
        want = meta["onnx"]
        name = want.get("file", "model.onnx")
        st = (entry / name).stat()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ExportError(f"unreadable: {e}") from None
    if meta.get("model_sha256") != sha:
        raise ExportError("made for another model")
    if st.st_size != want.get("size"):
        raise ExportError(f"{name} is {st.st_size} bytes, not {want.get('size')}")
    if st.st_mtime_ns != want.get("mtime_ns") and file_sha(entry / name) != want.get("sha256"):
        raise ExportError(f"{name}'s bytes changed since it was exported")
    return meta


def file_record(path: Path) -> dict:
    """What `check_files` compares: {"file", "size", "mtime_ns", "sha256"}."""
    st = path.stat()
    return {"file": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "sha256": file_sha(path)}  # fmt: skip


def temp_entry(entry: Path, announce: Callable[[str], None] | None, what: str) -> Path:
    """A hidden temp folder beside `entry` to export into; `announce(what)` once it exists.

    Raises:
        ExportError: the cache folder cannot be written.
    """
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{entry.name}."))
        tmp.chmod(0o755)  # mkdtemp makes 0700; a model export is not secret
    except OSError as e:
        raise ExportError(f"cannot write the ONNX export under {entry.parent}: {e}") from None
    if announce:
        announce(what)
    return tmp


def move_into_place(tmp: Path, entry: Path) -> None:
    """Rename a finished export folder to `entry`; a concurrent export's win is kept."""
    try:
        os.rename(tmp, entry)
    except OSError:
        if not (entry / "export.json").is_file():
            raise


# ---------------------------------------------------------------- making an export


def export_model(
    folder: Path,
    entry: Path,
    sha: str,
    threads: int = 1,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Export the model's transformer with torch, check it, and move it into `entry`.

    Runs in a hidden temp folder beside `entry`, renamed into place when every probe text
    matches sentence-transformers within `MIN_COSINE_EXPORT` and tokenizes to the same ids.
    `announce` is told before the slow part. A concurrent export of the same model wins or
    loses the rename harmlessly.

    Raises:
        ExportError: the cache cannot be written, the export fails, or it does not match.
    """
    tmp = temp_entry(entry, announce, "preparing the model for ONNX Runtime, once (about 15 s)")
    try:
        meta = _export_into(folder, tmp, threads)
        meta["model_sha256"] = sha
        (tmp / "export.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
        move_into_place(tmp, entry)
    except ExportError:
        raise
    except Exception as e:  # torch, transformers and the file system raise many types
        raise ExportError(f"cannot export {folder} to ONNX: {type(e).__name__}: {e}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _export_into(folder: Path, out: Path, threads: int) -> dict:
    """Write model.onnx and tokenizer.json into `out`; export.json's fields, probes checked."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(max(1, threads))
    st = SentenceTransformer(str(folder), device="cpu")
    transformer, tok = st[0], st[0].tokenizer
    if not getattr(tok, "is_fast", False):
        raise ExportError("its tokenizer is not a fast (tokenizers) one")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
             if n in tok.model_input_names]  # fmt: skip

    class Hidden(torch.nn.Module):  # the transformer alone: pooling runs in numpy
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    dummy = tok(["a short one", "a somewhat longer text to export with"], padding=True,
                return_tensors="pt")  # fmt: skip
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer notes on shapes that are fixed for encoders
        torch.onnx.export(
            Hidden(transformer.auto_model).eval(),
            tuple(dummy[n] for n in names),
            str(out / "model.onnx"),
            input_names=names,
            output_names=["hidden"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    tok.backend_tokenizer.save(str(out / "tokenizer.json"))
    meta = {
        "format": EXPORT_FORMAT,
        "model": str(folder),
        "max_seq_length": int(st.max_seq_length),
        "lower_case": bool(getattr(transformer, "do_lower_case", False)),
        "dim": int(
            (getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension)()
        ),  # fmt: skip
        "pad_id": int(tok.pad_token_id),
        "pad_token": str(tok.pad_token),
        "onnx": file_record(out / "model.onnx"),
        "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": {
            "torch": torch.__version__,
            "sentence_transformers": _version("sentence-transformers"),
        },
        "probes": list(PROBES),
    }
    (out / "export.json").write_text(json.dumps(meta), encoding="utf-8")
    ref = st.encode(list(PROBES), normalize_embeddings=True, convert_to_numpy=True)  # (p, dim)
    encoder = OnnxEncoder(out, threads)
    got = encoder.encode(list(PROBES))  # (p, dim)
    cos = (ref * got).sum(axis=1)
    if not float(cos.min()) >= MIN_COSINE_EXPORT:
        raise ExportError(f"the export does not reproduce sentence-transformers "
                          f"(cosine {float(cos.min()):.6f} on a probe)")  # fmt: skip
    for text in PROBES:
        want = tok(text.lower() if meta["lower_case"] else text, truncation=True,
                   max_length=meta["max_seq_length"])["input_ids"]  # fmt: skip
        if encoder.tokenizer.encode(text.lower() if meta["lower_case"] else text).ids != want:
            raise ExportError("its tokenizer splits a probe text unlike sentence-transformers")
    meta["vectors"] = np.round(ref.astype(np.float64), 7).tolist()
    meta["min_cosine"] = round(float(cos.min()), 7)
    return meta


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"
