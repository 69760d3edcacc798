"""Grading with the real model: verdicts on short and long cards, traps, teacher references."""

from pathlib import Path

import pytest

from nnqa.eval.grading import grading_report
from nnqa.grading import find_card, key_points

GRADING_SET = Path(__file__).resolve().parent / "data" / "grading.jsonl"


def g(grader, cards, front, typed):
    return grader.grade_card(find_card(cards, front), typed)


@pytest.mark.parametrize(
    "front, typed, verdict",
    [
        (
            "What is dropout in neural networks?",
            "its a regularisation thing, you randomly ignore neurons during training",
            "correct",
        ),
        (
            "What is a perceptron?",
            "simplest neural net, just one layer with a step function",
            "correct",
        ),
        ("What is a long short-term memory (LSTM)?", "a type of rnn", "partial"),
        (
            "What is a recurrent neural network (RNN)?",
            "a network for images that uses convolution filters",
            "incorrect",
        ),
        (
            "Vanishing Gradient",
            "when training deep nets the gradients get super small as they go back through the layers so the weights barely update and learning stalls",
            "correct",
        ),
        ("Vanishing Gradient", "you can fix it with relu and batch normalization", "partial"),
        (
            "Explain backpropagation in detail",
            "forward pass, compute loss, backward pass with chain rule to get gradients, then update weights with gradient descent",
            "correct",
        ),
    ],
)
def test_verdicts_on_short_and_long_cards(grader, cards, front, typed, verdict):
    """A teacher's verdict; the learned grader may be stricter by one step (it calls some
    right answers partial) but never kinder: a wrong or half answer is never correct, and a
    right one is never incorrect."""
    got = g(grader, cards, front, typed).verdict
    if verdict == "correct":
        assert got in ("correct", "partial")
    else:
        assert got != "correct"
    if verdict == "incorrect":
        assert got == "incorrect"


@pytest.mark.parametrize(
    "front, typed",
    [
        ("What is ReLU?", "What is ReLU?"),
        ("What is dropout in neural networks?", "dropout dropout neural networks"),
        ("What is ReLU?", "I don't know"),
        ("What is ReLU?", "idk"),
        ("What is ReLU?", ""),
        ("What is ReLU?", "   "),
        ("Vanishing Gradient", "vanishing gradient"),
    ],
)
def test_traps_are_incorrect(grader, cards, front, typed):
    grade = g(grader, cards, front, typed)
    assert grade.verdict == "incorrect" and grade.score < 0.1


@pytest.mark.parametrize(
    "front, typed",
    [
        ("What is ReLU?", "ReLU causes vanishing gradients like the sigmoid"),
        ("What is gradient descent in neural netowrks?", "gradient descent increases the loss"),
        ("What is an activation function?", "an activation function removes non-linearity"),
        ("Vanishing Gradient", "when the gradients get huge and blow up so the loss diverges"),
    ],
)
def test_opposites_are_not_correct(grader, cards, front, typed):
    grade = g(grader, cards, front, typed)
    assert grade.verdict != "correct"


def test_grade_fields_and_rendering(grader, cards):
    card = find_card(cards, "What is dropout in neural networks?")
    grade = g(grader, cards, card.front, card.back)  # the card's own answer, word for word
    quoted = {p.text for p in key_points(card)}
    assert set(grade.covered) | set(grade.partly) | set(grade.missed) == quoted
    assert (grade.covered or grade.partly) and 0.0 <= grade.score <= 1.0
    text = str(grade)
    assert grade.verdict.upper() in text and card.back in text
    assert grade.to_dict()["covered"] == list(grade.covered)


def test_long_card_key_points_weight_the_core(cards):
    points = key_points(find_card(cards, "Vanishing Gradient"))
    core = sum(p.weight for p in points if p.section == "")
    assert core == pytest.approx(0.7) and sum(p.weight for p in points) == pytest.approx(1.0)
    assert {p.section for p in points} == {"", "What causes them?", "Effects", "Solutions"}


def test_grade_text_ladder_tracks_quality(grader):
    ref = (
        "Batch normalization normalizes the inputs of each layer over the mini-batch to zero mean "
        "and unit variance, then scales and shifts them with learned parameters. It stabilises "
        "and speeds up training and allows higher learning rates."
    )
    q = "What is batch normalization?"
    ladder = [
        "it normalizes each layer's inputs over the batch to zero mean and unit variance, then applies a learned scale and shift, which makes training faster and more stable",
        "normalizing layer inputs using batch statistics so training is faster",
        "something to do with normalizing",
        "a way to pick the batch size",
        "idk",
    ]
    scores = [grader.grade_text(ref, t, q).score for t in ladder]
    assert scores == sorted(scores, reverse=True), scores
    assert grader.grade_text(ref, ladder[0], q).verdict != "incorrect"
    assert grader.grade_text(ref, "What is batch normalization?", q).verdict == "incorrect"


def test_unknown_front_lists_closest(cards):
    with pytest.raises(KeyError) as e:
        find_card(cards, "What is a transformer?")
    assert "closest fronts" in str(e.value)
    assert find_card(cards, "what is relu").front == "What is ReLU?"
    card = find_card(cards, "What is dropout in neural networks?")
    assert find_card(cards, card.id) is card


def test_module_grade_uses_deck(monkeypatch):
    from nnqa import grade

    result = grade(
        "What is dropout in neural networks?",
        "randomly switching off units while training so it doesn't overfit",
    )
    assert result.card_id and result.question == "What is dropout in neural networks?"
    copied = grade("What is dropout in neural networks?", "Dropout is a regularization technique "
                   "where random neurons are ignored during training")  # fmt: skip
    assert copied.verdict in ("correct", "partial") and (copied.covered or copied.partly)


def test_labelled_set_agreement(grader, cards):
    report = grading_report(GRADING_SET, grader=grader, cards=cards)
    assert report.n >= 100
    # the learned, subject-free grader: 56.3% here (the old rules fitted to this set: 89%);
    # its traps (restated question, keyword bag, "idk", contradiction) stay >= 80%
    assert report.agreement >= 0.50, str(report)
    assert report.trap_agreement >= 0.80, str(report)


def test_held_out_split_agreement(grader, cards):
    report = grading_report(GRADING_SET, grader=grader, cards=cards, split="holdout")
    assert report.n >= 30
    assert report.agreement >= 0.50, str(report)  # measured 59.0%
    assert report.trap_agreement >= 0.80, str(report)


@pytest.mark.parametrize(
    "front, typed",
    [
        ("What is ReLU?", "relu relu activation"),
        ("What is gradient descent in neural netowrks?", "gradient descent neural networks"),
    ],
)
def test_keyword_bags_and_typoed_restates_are_incorrect(grader, cards, front, typed):
    assert g(grader, cards, front, typed).verdict == "incorrect"


@pytest.mark.parametrize(
    "front, typed",
    [
        (
            "What is gradient descent in neural netowrks?",
            "gradient descent weights loss optimization",
        ),
        ("What is backpropagation?", "backpropagation gradient loss function weights network"),
    ],
)
def test_keyword_bags_are_incorrect(grader, cards, front, typed):
    grade = g(grader, cards, front, typed)
    assert grade.verdict == "incorrect"
    assert any("without saying anything" in n for n in grade.notes)


@pytest.mark.parametrize(
    "front, typed",
    [
        ("What is ReLU?", "max(0,x)"),
        ("What is ReLU?", "rectified linear unit, activation f(x)=max(0,x)"),
        ("Explain backpropagation in detail", "forward pass, loss, backward pass, update"),
        ("What is dropout in neural networks?", "randomly dropping neurons in training"),
    ],
)
def test_short_answers_are_not_keyword_bags(grader, cards, front, typed):
    assert not any("without saying" in n for n in g(grader, cards, front, typed).notes)


def test_covered_lists_only_what_the_answer_addresses(grader, cards):
    grade = g(
        grader,
        cards,
        "Vanishing Gradient",
        "the gradients fade to almost nothing in the first layers of a deep network",
    )
    assert not any(
        p.startswith(("Batch Normalization", "Swish", "Weight Initialization"))
        for p in grade.covered
    )


@pytest.mark.parametrize(
    "typed, verdict",
    [
        ("you run the forward pass and then compute the loss", "partial"),
        ("do a backward pass, then a weight update", "partial"),
        (
            "first the forward pass, then compute the loss, then the backward pass to get "
            "gradients, and finally a weight update",
            "correct",
        ),
        ("tweaks the weights to cut the error, using the chain rule of calculus", "correct"),
    ],
)
def test_an_answer_listing_steps_must_give_most_of_them(grader, cards, typed, verdict):
    grade = g(grader, cards, "Explain backpropagation in detail", typed)
    if verdict == "partial":  # some of the steps: never correct
        assert grade.verdict != "correct", grade.score
    else:  # all of them, or the idea in other words: never incorrect
        assert grade.verdict in ("correct", "partial"), grade.score
