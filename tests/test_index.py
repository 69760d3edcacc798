"""The FAISS index on disk: fresh when committed, rebuilt when stale or damaged, never torn."""

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from nnqa import Tutor
from nnqa.decks.cards import load_decks
from nnqa.decks.cardtext import all_rows
from nnqa.search.index import content_hash, load_or_build

ROOT = Path(__file__).resolve().parents[1]
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


def test_committed_index_matches_the_shipped_deck():
    """Fails when knowledge/ changed without `nnqa index` being run and committed."""
    manifest = json.loads((ROOT / "index" / "manifest.json").read_text())
    rows = all_rows(load_decks(ROOT / "knowledge"))
    assert manifest["format"] == 1 and manifest["model"] == MODEL_ID and manifest["dim"] == 384
    assert manifest["content_hash"] == content_hash(rows, MODEL_ID), "run `nnqa index` and commit"
    meta = json.loads((ROOT / "index" / "rows.json").read_text())
    assert [(m["card"], m["kind"], m["section"]) for m in meta] == [
        (r.card, r.kind, r.section) for r in rows
    ]


def test_loading_the_committed_index_embeds_nothing(tutor):
    tutor.index  # noqa: B018 - loads
    assert tutor.index_status.rebuilt is False


def test_flat_search_matches_brute_force(tutor, embedder):
    vecs = tutor.index.vectors()
    q = embedder.encode(["why do gradients vanish", "what is dropout"])
    scores, ids = tutor.index.search(q, 5)
    brute = q @ vecs.T
    for i in range(2):
        assert list(ids[i]) == list(np.argsort(-brute[i])[:5])
        assert np.allclose(scores[i], np.sort(brute[i])[::-1][:5], atol=1e-5)


def test_index_rows_agree_with_a_fresh_embedding(tutor, embedder):
    rows = all_rows(tutor.cards)
    fresh = embedder.encode([r.text for r in rows[:6]])
    assert np.allclose(tutor.index.vectors()[:6], fresh, atol=1e-4)


SMALL_DECK = """# Small
## Vanishing Gradient
Gradients shrink towards zero as they flow back through many layers.
### What causes them?
- Sigmoid and tanh squash their inputs, so their derivatives are small.
- Many layers multiply those small factors together.
## What is dropout?
Randomly ignoring neurons during training to prevent overfitting.
"""


def _small(tmp_path, embedder):
    """A small deck with a built index, so damage tests rebuild in a fraction of a second."""
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "knowledge" / "small.md").write_text(SMALL_DECK)
    Tutor(knowledge=tmp_path / "knowledge", index=tmp_path / "index", embedder=embedder).rebuild()
    return tmp_path


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "vectors.faiss").write_bytes(b"\x00" * 100),
        lambda d: (d / "vectors.faiss").write_bytes((d / "vectors.faiss").read_bytes()[:500]),
        lambda d: (d / "manifest.json").write_text("{not json"),
        lambda d: (d / "rows.json").unlink(),
        lambda d: (d / "manifest.json").write_text(
            (d / "manifest.json").read_text().replace('"dim": 384', '"dim": 768')
        ),
        lambda d: (d / "manifest.json").write_text(
            (d / "manifest.json").read_text().replace("all-MiniLM-L6-v2", "other-model")
        ),
    ],
)
def test_damaged_or_mismatched_index_is_rebuilt(tmp_path, embedder, damage, caplog):
    d = _small(tmp_path, embedder)
    damage(d / "index")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="nnqa.index"):
        t = Tutor(knowledge=d / "knowledge", index=d / "index", embedder=embedder)
        a = t.ask("what causes vanishing gradients")
    assert t.index_status.rebuilt and a.hits[0].section.heading == "What causes them?"
    assert a.hits[0].card.front == "Vanishing Gradient"
    assert len(caplog.records) == 1 and "rebuilt" in caplog.records[0].getMessage()
    assert json.loads((d / "index" / "manifest.json").read_text())["rows"] == len(t.index)
    assert not list((d / "index").glob("*.tmp"))


def test_edited_deck_rebuilds_and_reuses_unchanged_vectors(tmp_path, embedder):
    d = _small(tmp_path, embedder)
    (d / "knowledge" / "extra.md").write_text(
        "# Extra\n\n## What is a GRU?\nA gated recurrent unit.\n"
    )
    t = Tutor(knowledge=d / "knowledge", index=d / "index", embedder=embedder)
    a = t.ask("what is a GRU")
    assert t.index_status.rebuilt and t.index_status.embedded == 2  # front + whole card
    assert a.hits[0].card.front == "What is a GRU?" and a.hits[0].card.deck == "Extra"
    assert a.hits[0].card.where == "knowledge/extra.md:3"


def test_load_or_build_writes_manifest_with_decks(tmp_path, embedder):
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "small.md").write_text(SMALL_DECK)
    cards = load_decks(tmp_path / "k")
    decks = [{"source": "k/small.md", "cards": 2}]
    index, status = load_or_build(cards, tmp_path / "ix", MODEL_ID, embedder.encode, decks=decks)
    m = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert status.rebuilt and m["decks"] == decks and m["rows"] == len(index) > 2
    again, status2 = load_or_build(cards, tmp_path / "ix", MODEL_ID, embedder.encode)
    assert not status2.rebuilt and len(again) == len(index)
