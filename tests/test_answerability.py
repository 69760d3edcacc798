"""The answerability model: it orders the candidates and says "no card on that".

Real model, real FAISS index, real decks: the shipped one and a second-subject deck built
in a temp folder. Off-deck questions here are the ones the issue reported answered wrongly.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from nnqa.decks.cards import DeckError
from nnqa.search.answerability import FEATURES, MODEL_DIR, Answerability, AnswerabilityError

ROOT = Path(__file__).resolve().parents[1]

OFF_DECK = [
    "What is Recall?",  # was the LSTM card
    "how does batch norm work?",  # was Vanishing Gradient
    "Adam vs SGD",  # was the gradient-descent card
    "what is a p-value",
    "capital of france",
]
ON_DECK = {
    "what causes vanishing gradients": "Vanishing Gradient",
    "SGD": "What is gradient descent in neural netowrks?",  # by the deck's glossary
    "what is relu": "What is ReLU?",
    "explain dropout": "What is dropout in neural networks?",
}


@pytest.mark.parametrize("question", OFF_DECK)
def test_off_deck_questions_abstain_with_the_closest_cards_as_reading(tutor, question):
    a = tutor.ask(question)
    assert a.abstained, f"{question!r} quoted {a.hits[0].card.front!r} ({a.hits[0].score:.2f})"
    assert a.hits and len(a.hits) <= 3  # related reading, not an answer
    assert str(a).startswith("No card on that") and "do not answer it" in str(a)


@pytest.mark.parametrize(("question", "front"), ON_DECK.items())
def test_on_deck_questions_quote_their_card(tutor, question, front):
    a = tutor.ask(question)
    assert not a.abstained and a.hits[0].card.front == front
    assert a.hits[0].score >= 0.5  # the model's score: 0.5 is the cut


@pytest.mark.xfail(
    strict=True, reason="known miss: the deck's glossary reads 'ml' as machine learning"
)
def test_known_miss_a_unit_read_as_the_decks_abbreviation(tutor):
    assert tutor.ask("how many ml in a litre").abstained


def test_scores_are_the_models_and_order_the_hits(tutor):
    ranked = tutor.rank("what is the vanishing gradient problem")
    scores = [c.score for c in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert ranked[0].score >= 0.5 > ranked[1].score


def test_features_are_subject_free_numbers(tutor):
    query, ranked = tutor.retriever.candidates("what causes vanishing gradients")
    x = tutor.retriever.features(query, ranked[:8])
    assert x.shape == (8, len(FEATURES)) and np.isfinite(x).all()
    col = dict(zip(FEATURES, x[0], strict=True))
    assert col["coverage"] == pytest.approx(1.0) and col["known"] == pytest.approx(1.0)
    assert col["gap"] == 0.0 and col["deck_z"] > 3  # far above off-deck questions' scores


def test_a_damaged_model_is_refused_with_its_file_named(tmp_path):
    shutil.copytree(MODEL_DIR, tmp_path / "m")
    Answerability.load(tmp_path / "m")  # a faithful copy loads
    bank = tmp_path / "m" / "bank.npy"
    bank.write_bytes(bank.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(AnswerabilityError, match="bank.npy is damaged"):
        Answerability.load(tmp_path / "m")
    spec = tmp_path / "m" / "answerability.json"
    spec.write_text("{not json", encoding="utf-8")
    with pytest.raises(AnswerabilityError, match="cannot read the answerability model"):
        Answerability.load(tmp_path / "m")


def test_the_model_file_names_its_recipe_and_features():
    spec = json.loads((MODEL_DIR / "answerability.json").read_text(encoding="utf-8"))
    assert tuple(spec["features"]) == FEATURES
    assert spec["recipe"].startswith("training/train_answerability.py")
    assert len(spec["bank"]["texts"]) == 300


CHEM = """# Elements

## Sodium
An alkali metal, symbol Na, atomic number 11. It reacts violently with water.

## Chlorine
A halogen, symbol Cl, atomic number 17. A toxic yellow-green gas.

## Iron
A transition metal, symbol Fe, atomic number 26. Rusts in moist air.

## Helium
A noble gas, symbol He, atomic number 2. Lighter than air, used in balloons.
"""


@pytest.fixture(scope="module")
def chem_tutor(embedder, tmp_path_factory):
    from nnqa.tutor import Tutor

    d = tmp_path_factory.mktemp("chem")
    (d / "knowledge").mkdir()
    (d / "knowledge" / "elements.md").write_text(CHEM, encoding="utf-8")
    return Tutor(d / "knowledge", d / "index", embedder=embedder)


def test_a_second_subject_deck_answers_and_abstains(chem_tutor):
    assert chem_tutor.ask("which element has the symbol Fe?").hits[0].card.front == "Iron"
    assert not chem_tutor.ask("which gas is used in balloons").abstained
    for q in ["what is the capital of France", "what is an LSTM", "what is a gradient"]:
        assert chem_tutor.ask(q).abstained, q


def test_no_glossary_of_another_deck_applies(chem_tutor):
    # the shipped deck's glossary is beside the shipped deck, not in this folder
    assert chem_tutor.retriever.vocab.rewrite("how many ml in a litre") == "how many ml in a litre"


def test_a_decks_glossary_file_is_read_and_checked(embedder, tmp_path):
    from nnqa.tutor import Tutor

    know = tmp_path / "knowledge"
    know.mkdir()
    (know / "elements.md").write_text(CHEM, encoding="utf-8")
    (know / "elements.glossary.json").write_text(
        json.dumps({"format": 1, "abbreviations": {"Na": "sodium"}}), encoding="utf-8"
    )
    t = Tutor(know, tmp_path / "index", embedder=embedder)
    assert len(t.cards) == 4  # the glossary is not a deck
    assert t.retriever.vocab.rewrite("na") == "na (sodium)"
    (know / "elements.glossary.json").write_text('{"format": 1, "abbreviations": []}')
    with pytest.raises(DeckError, match="elements.glossary.json"):
        Tutor(know, tmp_path / "index", embedder=embedder)


def test_warm_ask_stays_near_its_floor(tutor):
    """The judgement adds little to one encode + one FAISS search (bench_ask measures it)."""
    q = "what causes vanishing gradients"
    tutor.ask(q)
    vec = tutor.embedder.encode([q])

    def best_of(fn, n=15):
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return float(np.median(ts))

    floor = best_of(lambda: (tutor.embedder.encode([q]), tutor.index.search(vec, 8)))
    ask = best_of(lambda: tutor.ask(q))
    assert ask <= 3.0 * floor, (ask, floor)


# "how do X work" on a programming deck: its "What is encapsulation?" card says how objects
# work, so a BM25 hit on "work" lifted far questions to the cut (the blind set's "how do
# vaccines work" was quoted that card). None of these is in any labelled set.
HOW_DO_X_WORK = [
    "how do allergies work", "how do fungi work", "how do hormones work", "how do clouds work",
    "how do seeds work", "how do painkillers work", "how do bacteria work",
    "how does a refrigerator work",
]  # fmt: skip
PROGRAMMING = ROOT.parent / "shared" / "data" / "decks" / "programming_basics" / "cards.jsonl"


@pytest.mark.skipif(not PROGRAMMING.is_file(), reason="../shared/data/decks is not here")
def test_a_card_matched_no_better_than_off_deck_questions_is_never_the_answer(
    embedder, tmp_path_factory
):
    """The deck_z floor: whatever words a question shares with a card, a best match that
    stands under the floor (in standard deviations above off-deck questions' best matches
    in this deck) is scored under the cut, so the tutor says "No card on that"."""
    from nnqa.decks.imported import html_to_text
    from nnqa.search.answerability import BELOW
    from nnqa.search.query import clean
    from nnqa.tutor import Tutor

    model = Answerability.load()
    assert 1.0 <= model.deck_z_floor <= 3.0  # fitted (training/train_answerability.py)
    d = tmp_path_factory.mktemp("programming")
    (d / "knowledge").mkdir()
    lines = []
    for row in PROGRAMMING.read_text(encoding="utf-8").splitlines():
        r = json.loads(row)
        front = " ".join(html_to_text(r["front"])[0].split())
        lines += [f"## {front}", html_to_text(r["back"])[0], ""]
    (d / "knowledge" / "programming.md").write_text("\n".join(lines), encoding="utf-8")
    tutor = Tutor(d / "knowledge", d / "index", embedder=embedder)
    z = FEATURES.index("deck_z")
    under = 0
    for q in HOW_DO_X_WORK:
        assert tutor.ask(q).abstained, q
        query, ranked = tutor.retriever.candidates(clean(q))
        x = tutor.retriever.features(query, ranked[:8])  # (8, F): the real features
        p = model.score(x)
        low = x[:, z] < model.deck_z_floor
        assert (p[low] <= BELOW).all(), q
        under += bool(low[0])
    assert under >= len(HOW_DO_X_WORK) // 2  # the floor is what holds most of them
