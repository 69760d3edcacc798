"""Large-index paths on small data: IVF against brute force, deck filters inside an IVF
index, and typo correction over a large vocabulary. The 100,000-card numbers live in
benchmarks/bench_scale.py; these tests lower the thresholds so they stay fast."""

import difflib
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from nnqa import Tutor
from nnqa.search import index
from nnqa.search.query import LARGE_VOCABULARY, Vocabulary

ROOT = Path(__file__).resolve().parents[1]


def unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def vectors():
    """20,000 unit vectors in 400 clusters, and 300 queries near indexed vectors."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((400, 384))
    x = unit(centres[rng.integers(0, 400, 20_000)] + 0.5 * rng.standard_normal((20_000, 384)))
    q = unit(x[rng.choice(20_000, 300, replace=False)] + 0.05 * rng.standard_normal((300, 384)))
    return x, q


def test_ivf_recall_at_5_against_exact_search(vectors):
    x, q = vectors
    ivf = index.make_faiss(x, approx_above=0)
    assert type(ivf).__name__ == "IndexIVFFlat"
    _, approx = ivf.search(q, 5)
    exact = np.argsort(-(q @ x.T), axis=1)[:, :5]  # brute force, (300, 5)
    recall = np.mean([len(set(a) & set(e)) / 5 for a, e in zip(approx, exact, strict=True)])
    assert recall >= 0.98


def test_ivf_reuses_trained_centroids(vectors):
    x, _ = vectors
    first = index.make_faiss(x, approx_above=0)
    again = index.make_faiss(x[:15_000], approx_above=0, trained=first)
    cents = first.quantizer.reconstruct_n(0, first.nlist)
    assert np.array_equal(again.quantizer.reconstruct_n(0, again.nlist), cents)
    assert again.ntotal == 15_000


def test_small_subset_of_an_ivf_index_is_searched_exactly(vectors):
    x, q = vectors
    ci = index.CardIndex(index.make_faiss(x, approx_above=0), [{}] * len(x), {"dim": 384})
    subset = np.sort(np.random.default_rng(1).choice(len(x), 60, replace=False))
    scores, ids = ci.search(q[:20], 5, subset=subset)
    brute = q[:20] @ x[subset].T  # (20, 60)
    want = subset[np.argsort(-brute, axis=1)[:, :5]]
    assert np.array_equal(ids, want)
    assert np.allclose(scores, np.sort(brute, axis=1)[:, ::-1][:, :5], atol=1e-5)


def test_deck_filter_finds_a_small_deck_inside_an_ivf_index(tmp_path, embedder, monkeypatch):
    """With the switch lowered to 10 rows, the shipped deck plus a 2-card deck go IVF."""
    monkeypatch.setattr(index, "APPROX_ABOVE_ROWS", 10)
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    shutil.copytree(ROOT / "index", tmp_path / "index")  # flat: its vectors are reused
    (tmp_path / "knowledge" / "small.md").write_text(
        "# Small\n\n## What is a GRU?\nA gated recurrent unit.\n\n"
        "## What is weight decay?\nAn L2 penalty on the weights.\n"
    )
    t = Tutor(knowledge=tmp_path / "knowledge", index=tmp_path / "index", embedder=embedder)
    t.rebuild(force=False)
    assert t.index.approximate and t.index_status.embedded == 4
    a = t.ask("what is a gated recurrent unit", deck="Small")
    assert a.hits[0].card.front == "What is a GRU?" and a.hits[0].card.deck == "Small"
    assert all(h.card.deck == "Small" for h in a.hits)
    b = t.ask("what causes vanishing gradients")
    assert b.hits[0].card.front == "Vanishing Gradient"
    # read back from disk: the IVF index loads and its vectors are reused, none re-embedded
    t2 = Tutor(knowledge=tmp_path / "knowledge", index=tmp_path / "index", embedder=embedder)
    assert t2.rebuild(force=True).embedded == 0 and t2.index.approximate


def test_typo_correction_over_a_large_vocabulary_matches_brute_force():
    rng = random.Random(0)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = sorted({"".join(rng.choices(letters, k=rng.randint(5, 11))) for _ in range(8000)})
    v = Vocabulary([" ".join(words)])
    assert len(v.long_words) > LARGE_VOCABULARY and v._buckets is not None
    for w in rng.sample(words, 60):
        i = rng.randrange(1, len(w))  # a typo after the first letter
        typo = w[:i] + rng.choice(letters) + w[i + 1 :]
        brute = difflib.get_close_matches(typo, v.long_words, n=1, cutoff=0.8)
        fast = v.nearest(typo, 1)
        if brute and brute[0][0] == typo[0]:
            assert fast == brute
