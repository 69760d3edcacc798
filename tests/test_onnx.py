"""ONNX Runtime against sentence-transformers: the same vectors, the same answers, and
sentence-transformers (with one notice) whenever an export cannot be trusted.

The session's `embedder` answers through ONNX Runtime (its export is made once per test
session, in a temp cache); `encode_reference` is sentence-transformers itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MIN_COSINE = 0.9999

ODD_INPUTS = [
    "",
    " ",
    "x" * 1_000_000,  # 1 MB of one letter
    "what causes vanishing gradients? " * 30_000,  # ~1 MB of words, far past 256 tokens
    "tab\tnew line\ncarriage\rnull\x00bell\x07escape\x1b[31m",
    "\u200b\u200d\ufeff zero-width and a BOM",
    "Überanpassung, régularisation, переобучение, 过拟合, 過学習, 과적합, ضبط, अति",
    "😀🧠 emoji and math: ∂L/∂w = σ(z)(1 − σ(z)) · x",
    "RELU vs relu vs ReLU",
    "a " * 300,  # exactly past max_seq_length in word pieces
    "<script>alert(1)</script>",
]


def _questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text().splitlines() if line]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / np.maximum(
        np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12
    )


@pytest.fixture(scope="session")
def reference_embedder(embedder):
    """The same model through sentence-transformers only (NNQA_ONNX=0)."""
    from nnqa.search.embeddings import Embedder

    e = Embedder(threads=1, onnx=False)
    e._model = embedder.model  # one loaded SentenceTransformer for both
    return e


def test_session_embedder_runs_on_onnx(embedder):
    assert embedder.backend == "onnxruntime"


def test_vectors_match_sentence_transformers_on_every_row_and_odd_inputs(embedder, cards):
    from nnqa.decks.cardtext import all_rows

    texts = [r.text for r in all_rows(cards)] + ODD_INPUTS
    got = embedder.encode(texts)  # (n, 384) through ONNX Runtime
    want = embedder.encode_reference(texts)  # (n, 384) through sentence-transformers
    assert got.shape == want.shape == (len(texts), 384) and got.dtype == np.float32
    cos = _cosines(got, want)
    worst = int(cos.argmin())
    assert cos.min() >= MIN_COSINE, (cos.min(), texts[worst][:80])
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # one at a time (no padding) gives the same vectors as in a batch
    one = np.vstack([embedder.encode([t]) for t in texts[:40]])
    assert _cosines(one, got[:40]).min() >= 0.99999


def test_index_rows_match_the_committed_index(embedder, tutor):
    """The shipped index was built by sentence-transformers; ONNX reproduces its rows."""
    from nnqa.decks.cardtext import all_rows

    index = tutor.index
    got = embedder.encode([r.text for r in all_rows(tutor.cards)])
    assert _cosines(got, index.vectors()).min() >= MIN_COSINE


@pytest.mark.parametrize("questions", ["questions.jsonl", "heldout/questions.jsonl"])
def test_same_top_card_and_abstention_through_both_paths(
    workdir, embedder, reference_embedder, tutor, questions
):
    from nnqa import Tutor

    reference = Tutor(
        knowledge=workdir / "knowledge", index=workdir / "index", embedder=reference_embedder
    )
    asked = _questions(ROOT / "tests" / "data" / questions)
    assert len(asked) >= 60
    for q in asked:
        a, b = tutor.ask(q), reference.ask(q)
        assert a.abstained == b.abstained, q
        top = [(h.card.id, h.section.heading) for h in a.hits[:1]]
        assert top == [(h.card.id, h.section.heading) for h in b.hits[:1]], q
        for x, y in zip(a.hits, b.hits, strict=False):
            assert abs(x.score - y.score) < 2e-3, q


# ---------------------------------------------------------------- exports that are not used


def _copy_cache(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the session's export cache: (cache dir, the export's folder)."""
    cache = tmp_path / "cache"
    shutil.copytree(Path(os.environ["NNQA_CACHE_DIR"]) / "onnx", cache / "onnx")
    (entry,) = [p for p in (cache / "onnx").iterdir() if p.is_dir()]
    return cache, entry


def _garbage(entry: Path) -> None:
    (entry / "model.onnx").write_bytes(b"not an onnx model " * 1000)


def _truncated(entry: Path) -> None:
    data = (entry / "model.onnx").read_bytes()
    (entry / "model.onnx").write_bytes(data[: len(data) // 2])


def _same_size_other_bytes(entry: Path) -> None:
    data = bytearray((entry / "model.onnx").read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = os.urandom(4096)
    (entry / "model.onnx").write_bytes(bytes(data))


def _bad_manifest(entry: Path) -> None:
    (entry / "export.json").write_text("{ garbage")


def _wrong_probe(entry: Path) -> None:
    """The bytes look untouched (size and time as written) but the probe's vector is off."""
    meta = json.loads((entry / "export.json").read_text())
    meta["vectors"][0] = [-x for x in meta["vectors"][0]]
    (entry / "export.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    "damage", [_garbage, _truncated, _same_size_other_bytes, _bad_manifest, _wrong_probe]
)
def test_damaged_export_prints_one_notice_and_uses_sentence_transformers(
    tmp_path, embedder, capfd, damage
):
    from nnqa.search.embeddings import Embedder

    cache, entry = _copy_cache(tmp_path)
    damage(entry)
    e = Embedder(threads=1, onnx=True, cache_dir=cache)
    e._model = embedder.model  # sentence-transformers already loaded: the test stays quick
    texts = ["what causes vanishing gradients", "", "переобучение"]
    got = e.encode(texts)
    assert e.backend == "sentence-transformers"
    assert np.array_equal(got, embedder.encode_reference(texts))
    e.encode(["again"])
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("nnqa: the ONNX export in") and "damaged" in err[0], err
    assert "sentence-transformers" in err[0]
    assert not entry.exists()  # removed: the next start exports again


def test_unwritable_cache_falls_back_with_a_notice(tmp_path, embedder):
    from nnqa.search.embeddings import Embedder

    (tmp_path / "file").write_text("a file where the cache folder would go")
    notes = []
    e = Embedder(threads=1, cache_dir=tmp_path / "file" / "cache", notify=notes.append)
    e._model = embedder.model
    got = e.encode(["what is relu"])
    assert e.backend == "sentence-transformers" and len(notes) == 1
    assert "cannot write the ONNX export" in notes[0] or "cannot export" in notes[0], notes
    assert np.array_equal(got, embedder.encode_reference(["what is relu"]))


def test_a_model_onnx_cannot_run_falls_back(tmp_path):
    """A CLS-pooled copy of MiniLM: not exported (no torch import to find out); its own vectors."""
    from nnqa.search.embeddings import Embedder, bundled_model_path

    model = tmp_path / "cls-model"
    shutil.copytree(bundled_model_path(), model, ignore=shutil.ignore_patterns("model.safetensors"))
    (model / "model.safetensors").symlink_to(bundled_model_path() / "model.safetensors")
    pooling = json.loads((model / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
    pooling["pooling_mode"] = "cls"
    (model / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    notes = []
    e = Embedder(str(model), threads=1, cache_dir=tmp_path / "cache", notify=notes.append)
    got = e.encode(["what is relu"])
    assert e.backend == "sentence-transformers"
    assert notes == [
        "the model pools other than by the mean of its tokens; encoding with "
        "sentence-transformers (NNQA_ONNX=0 skips ONNX)"
    ]
    assert np.array_equal(got, e.encode_reference(["what is relu"]))
    assert not (tmp_path / "cache").exists()


def test_onnx_off_never_looks_at_the_cache(tmp_path, monkeypatch):
    from nnqa.search.embeddings import Embedder
    from nnqa.settings import Settings

    monkeypatch.setenv("NNQA_ONNX", "0")
    monkeypatch.setenv("NNQA_CACHE_DIR", str(tmp_path / "c"))
    assert Settings.from_env().onnx is False and Embedder().onnx is False
    monkeypatch.setenv("NNQA_ONNX", "maybe")
    with pytest.raises(ValueError, match="NNQA_ONNX must be 1 or 0"):
        Settings.from_env()


def test_model_hash_is_remembered_and_follows_the_files(tmp_path):
    from nnqa.search.onnx_export import model_sha256

    model, memo = tmp_path / "m", tmp_path / "memo.json"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "weights.bin").write_bytes(b"\x00" * 100)
    first = model_sha256(model, memo)
    assert model_sha256(model, memo) == first
    # same sizes and times: the remembered hash is used, the bytes are not read again
    memos = json.loads(memo.read_text())
    memos[str(model.resolve())]["sha256"] = "remembered"
    memo.write_text(json.dumps(memos))
    assert model_sha256(model, memo) == "remembered"
    (model / "weights.bin").write_bytes(b"\x01" * 101)  # the model changed: hashed again
    changed = model_sha256(model, memo)
    assert changed not in (first, "remembered") and model_sha256(model) == changed


# ---------------------------------------------------------------- the command line


def _nnqa(*args, **env):
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "nnqa", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "NNQA_THREADS": "1", **env},
        timeout=300,
    )


def _imported(stderr: str) -> set[str]:
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:")
    }


HEAVY = {"torch", "transformers", "sentence_transformers", "sklearn"}


def test_nnqa_ask_imports_no_torch(workdir, embedder):
    base = ["--knowledge", str(workdir / "knowledge"), "--index", str(workdir / "index")]
    r = _nnqa(*base, "ask", "what causes vanishing gradients")
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("Vanishing Gradient — What causes them?")
    imported = _imported(r.stderr)
    assert "onnxruntime" in imported and not HEAVY & imported, HEAVY & imported
    off = _nnqa(*base, "ask", "what causes vanishing gradients", NNQA_ONNX="0")
    assert off.returncode == 0 and off.stdout == r.stdout
    assert "torch" in _imported(off.stderr) and "onnxruntime" not in _imported(off.stderr)


def test_light_import_loads_no_onnxruntime():
    code = "import sys, nnqa; print([m for m in ('onnxruntime', 'tokenizers') if m in sys.modules])"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_cli_says_it_is_loading_after_a_second(capsys):
    import time

    from nnqa.faces.cli import _status

    with _status("loading the model and the index", after=0.05):
        time.sleep(0.3)
    with _status("quick", after=0.5):
        pass
    time.sleep(0.6)
    assert capsys.readouterr().err == "nnqa: loading the model and the index...\n"


def test_a_failed_export_is_not_tried_at_every_start(tmp_path, embedder, monkeypatch):
    from nnqa.search import onnx_export
    from nnqa.search.embeddings import Embedder

    tries = []

    def fails(folder, out, threads):
        tries.append(out)
        raise onnx_export.ExportError("the export does not reproduce sentence-transformers")

    monkeypatch.setattr(onnx_export, "_export_into", fails)
    for _ in range(2):
        notes = []
        e = Embedder(threads=1, cache_dir=tmp_path / "cache", notify=notes.append)
        e._model = embedder.model
        assert np.array_equal(e.encode(["relu"]), embedder.encode_reference(["relu"]))
        assert "does not reproduce sentence-transformers" in notes[-1]
    assert len(tries) == 1 and "delete" in notes[-1] and ".failed" in notes[-1]
    (failed,) = (tmp_path / "cache" / "onnx").glob("*.failed")
    failed.unlink()  # deleting the note tries again
    Embedder(threads=1, cache_dir=tmp_path / "cache", notify=notes.append).load()
    assert len(tries) == 2
