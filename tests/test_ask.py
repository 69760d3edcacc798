"""ask() quotes the right card and section, abstains when it should, and survives bad input."""

import time
from pathlib import Path

import pytest

from nnqa.eval.retrieval import retrieval_report
from nnqa.render import answer_markdown, outline
from nnqa.text import strip_bullet

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "question, front, section",
    [
        ("what causes vanishing gradients", "Vanishing Gradient", "What causes them?"),
        ("how do I fix vanishing gradients", "Vanishing Gradient", "Solutions"),
        ("what are the effects of vanishing gradients", "Vanishing Gradient", "Effects"),
        ("vanishing gradient problem", "Vanishing Gradient", ""),
        ("how to fix exploding gradients", "Exploding Gradient", "How to fix"),
        ("explain the steps of backprop in detail", "Explain backpropagation in detail", "Steps"),
        ("what is relu", "What is ReLU?", ""),
        ("LSTM", "What is a long short-term memory (LSTM)?", ""),
        ("CNN", "What is a convolutional neural network (CNN)?", ""),
        ("vanishng gradiants", "Vanishing Gradient", ""),
        ("preceptron", "What is a perceptron?", ""),
    ],
)
def test_golden_questions_quote_the_right_section(tutor, question, front, section):
    a = tutor.ask(question)
    assert not a.abstained
    h = a.hits[0]
    assert (h.card.front, h.section.heading) == (front, section)
    assert h.quote in (ROOT / "knowledge" / "neural_networks.txt").read_text(encoding="utf-8")
    assert h.card.where in str(a)
    # the quote is shown laid out (sub-headings, bullets); every line shown is the card's
    laid = outline(h.section)
    assert laid and all(text in str(a) for _, text in laid)
    own = {strip_bullet(x).rstrip(":").strip() for x in h.quote.splitlines()}
    assert all(text in own for _, text in laid)


def test_quotes_keep_their_structure(tutor):
    """Sub-headings as headings, the section's name not repeated, no stray last label."""
    a = tutor.ask("how do I fix vanishing gradients")
    text, md = str(a), answer_markdown(a)
    assert "Solutions:" not in text.split("\n", 1)[1]  # only in the title
    assert "Weight Initialization:\n  - Initialize weights" in text
    assert "> **Batch Normalization**\n> - Normalize inputs" in md
    # the export's stray repeat of "Activation Functions" at the end is not shown
    assert not md.split("\n\n")[1].rstrip().endswith("Activation Functions")
    assert a.hits[0].quote.rstrip().endswith("- Activation Functions")  # the data keeps it


def test_causes_are_quoted_not_the_whole_card(tutor):
    h = tutor.ask("what causes vanishing gradients").hits[0]
    assert "Sigmoid and hyperbolic tangent" in h.quote
    assert "Batch Normalization" not in h.quote and "Slow Convergence" not in h.quote
    assert h.card.where == "knowledge/neural_networks.txt:4"


@pytest.mark.parametrize(
    "question", ["what is a random forest", "tell me a joke", "asdfghjkl", "capital of France"]
)
def test_abstains_on_questions_the_deck_cannot_answer(tutor, question):
    a = tutor.ask(question)
    assert a.abstained and "no card" in a.message
    assert 1 <= len(a.hits) <= 3  # closest cards offered as suggestions
    assert a.best is None


@pytest.mark.parametrize("question", ["", "   \n\t", "hello", "Hi there!", "thanks", "help"])
def test_greetings_and_empty_get_the_guide(tutor, question):
    a = tutor.ask(question)
    assert a.abstained and not a.hits and a.suggestions
    assert all(s in [c.front for c in tutor.cards] for s in a.suggestions)


def test_related_cards_follow(tutor):
    a = tutor.ask("what is backpropagation")
    fronts = [h.card.front for h in a.hits]
    assert fronts[0] == "What is backpropagation?"
    assert "Explain backpropagation in detail" in fronts[1:]
    assert "Related:" in str(a)


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["list"]])
def test_non_string_question_is_a_type_error(tutor, bad):
    with pytest.raises(TypeError, match="string"):
        tutor.ask(bad)


def test_huge_control_and_invalid_unicode_input_answered_in_normal_time(tutor):
    tutor.ask("warm")
    for q in ["relu " * 200_000, "what\x00is\x07 relu\x1b[31m", "what is relu \ud800\udfff"]:
        t0 = time.perf_counter()
        a = tutor.ask(q)
        assert time.perf_counter() - t0 < 2.0
        assert a.hits and a.hits[0].card.front == "What is ReLU?"


def test_k_and_deck_validation(tutor):
    with pytest.raises(ValueError, match="k must be"):
        tutor.ask("relu", k=0)
    with pytest.raises(ValueError, match="no deck named"):
        tutor.ask("relu", deck="Nope")
    assert (
        tutor.ask("relu", deck="Neural Networks Flashcards").hits[0].card.front == "What is ReLU?"
    )


def test_answer_serialises(tutor):
    d = tutor.ask("what causes vanishing gradients").to_dict()
    assert d["hits"][0]["section"] == "What causes them?"
    assert d["hits"][0]["source"] == "knowledge/neural_networks.txt:4"
    assert d["text"].startswith("Vanishing Gradient")


def test_card_lookup(tutor):
    assert tutor.card("what is relu").front == "What is ReLU?"
    assert tutor.card("What is gradient descent in neural networks?").front.endswith("netowrks?")
    c = tutor.cards[3]
    assert tutor.card(c.id) is c
    with pytest.raises(KeyError, match="closest fronts"):
        tutor.card("what is a random forest")


def test_labelled_questions_meet_the_targets(tutor):
    """The quality bar of the core issue, on tests/data/questions.jsonl."""
    r = retrieval_report(tutor, ROOT / "tests" / "data" / "questions.jsonl")
    assert r.answerable >= 60 and r.unanswerable >= 15
    assert r.top1 >= 0.95, r
    assert r.top3 == 1.0, r
    assert r.abstention >= 0.90, r
    assert r.false_abstention <= 0.05, r


def test_a_point_about_another_cards_subject_does_not_steal_its_questions(tutor):
    """'Dropout: randomly dropping units...' sits inside Exploding Gradient's fixes."""
    rows = [r for r in tutor.index.rows if r["kind"] == "aside"]
    assert [tutor.cards[tutor.library.by_id[r["card"]]].front for r in rows] == [
        "Exploding Gradient"
    ]
    for q in ["how does dropping units prevent overfitting",
              "randomly turning off neurons during training"]:  # fmt: skip
        assert tutor.ask(q).hits[0].card.front == "What is dropout in neural networks?"
    a = tutor.ask("how do I fix exploding gradients")
    assert "Dropout: Randomly dropping units" in a.hits[0].quote  # still quoted in its place


@pytest.mark.parametrize(
    "question, section",
    [
        ("what happens to training when gradients vanish", "Effects"),
        ("does batch norm help with vanishing gradients", "Solutions"),
    ],
)
def test_more_ways_to_ask_for_a_section(tutor, question, section):
    assert tutor.ask(question).hits[0].section.heading == section


def test_held_out_questions_written_blind_stay_answered(tutor):
    """A regression guard on the blind set (never tuned on): floors below what it measures."""
    r = retrieval_report(tutor, ROOT / "tests" / "data" / "heldout" / "questions.jsonl")
    assert r.answerable == 60 and r.unanswerable == 20
    assert r.top1 >= 0.93 and r.top3 == 1.0, r
    assert r.abstention >= 0.90 and r.false_abstention <= 0.05, r
