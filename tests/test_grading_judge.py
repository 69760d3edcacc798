"""The learned grader on any text: short answers, contradictions, the verdict rule's
invariants, bad input, a learner's recalibration, and the blind sets as a floor."""

import json
import shutil
from pathlib import Path

import pytest

from nnqa.grading import CALIBRATION, Judge, JudgeError, recalibrate, same_term
from nnqa.grading.judge import JUDGE_DIR

DATA = Path(__file__).parent / "data"

# ../shared/cases/short_answers.md, graded as a teacher would
SHORT = [
    ("What is the L2 norm called?", "Euclidean distance", "euclidean distance", "correct"),
    ("What is the L2 norm called?", "Euclidean distance", "the Euclidean distance", "correct"),
    ("What is the L2 norm called?", "Euclidean distance", "Manhattan distance", "incorrect"),
    ("Which optimiser keeps running averages of the gradient and of its square for each weight?",
     "Adam", "adam", "correct"),
    ("Which optimiser keeps running averages of the gradient and of its square for each weight?",
     "Adam", "Adam optimizer", "correct"),
    ("Which optimiser keeps running averages of the gradient and of its square for each weight?",
     "Adam", "RMSprop", "incorrect"),
    ("Which activation function outputs max(0, x)?", "ReLU", "ReLU", "correct"),
    ("Which activation function outputs max(0, x)?", "ReLU", "relu", "correct"),
    ("Which activation function outputs max(0, x)?", "ReLU", "sigmoid", "incorrect"),
    ("What loss is used for multi-class classification with softmax outputs?",
     "Cross-entropy loss", "cross-entropy loss", "correct"),
    ("What loss is used for multi-class classification with softmax outputs?",
     "Cross-entropy loss", "Cross Entropy Loss", "correct"),
    ("What loss is used for multi-class classification with softmax outputs?",
     "Cross-entropy loss", "mean squared error", "incorrect"),
    ("How many years does it take for the largest networks to double in size?", "2.4", "2.4", "correct"),
    ("How many years does it take for the largest networks to double in size?", "2.4", "2,4 years", "correct"),
    ("How many years does it take for the largest networks to double in size?", "2.4", "about 2.40", "correct"),
    ("How many years does it take for the largest networks to double in size?", "2.4", "24", "incorrect"),
    ("How many years does it take for the largest networks to double in size?", "2.4", "3 years", "incorrect"),
]  # fmt: skip


@pytest.mark.parametrize("question, reference, typed, verdict", SHORT)
def test_short_answers_are_graded_as_a_teacher_would(grader, question, reference, typed, verdict):
    grade = grader.grade_text(reference, typed, question)
    assert grade.verdict == verdict, (grade.score, grade.notes)


def test_same_term_folds_only_form():
    assert same_term("Crème brûlée", "creme brulee") and same_term("2,40", "2.4")
    assert same_term("ReLU", "Rectified Linear Unit (ReLU)")
    assert not same_term("not ReLU", "ReLU") and not same_term("Leaky ReLU or ELU", "ReLU")
    assert not same_term("2.4 or 3.1", "2.4") and not same_term("", "2.4")


@pytest.mark.parametrize(
    "question, reference, typed",
    [
        ("Are terminal 1 and the positive terminal connected?",
         "Terminal 1 and the positive terminal are connected.", "The terminals are not connected."),
        ("What does regularization do?", "Regularization makes a model simpler to reduce overfitting.",
         "regularization makes the model more complex so it overfits more"),
        ("When did the war end?", "The war ended in 1918.", "it ended in 1945"),
        ("What happens to the pressure?", "The pressure increases as the gas is heated.",
         "the pressure decreases when you heat the gas"),
    ],
)  # fmt: skip
def test_contradictions_are_never_correct(grader, question, reference, typed):
    grade = grader.grade_text(reference, typed, question)
    assert grade.verdict != "correct", (grade.score, grade.to_dict())


@pytest.mark.xfail(strict=True, reason="known miss: the CPU-trained judge reads this paraphrase "
                   "as contradictory (0.64); see the model card's limits")  # fmt: skip
def test_a_paraphrase_of_the_reference_is_correct(grader):
    grade = grader.grade_text(
        "Terminal 1 and the positive terminal are separated by the gap.",
        "there is a gap between the positive terminal and terminal 1",
        "Why was the voltage 1.5?",
    )
    assert grade.verdict == "correct" and grade.covered


@pytest.mark.parametrize(
    "typed",
    [
        "randomly switching off units while training so it doesn't overfit",
        "some neurons get turned off",
        "it adds more neurons to each layer",
        "gradient descent increases the loss",
        "idk",
    ],
)
def test_the_verdict_follows_from_the_evidence(grader, cards, typed):
    from nnqa.grading import find_card

    for front in ("What is dropout in neural networks?", "Vanishing Gradient", "What is ReLU?"):
        g = grader.grade_card(find_card(cards, front), typed)
        points = set(g.covered) | set(g.partly) | set(g.missed)
        assert len(points) == len(g.covered) + len(g.partly) + len(g.missed)  # one list each
        assert set(g.contradicted) <= set(g.missed)
        if g.verdict == "correct":
            assert g.covered and not g.contradicted
        if g.verdict == "partial":
            assert g.covered or g.partly
        assert 0.0 <= g.score <= 1.0


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "x" * 1_000_000, "\x00\x07 control \x1b[31m", "Die Gradienten verschwinden.",
     "def f(x):\n    return max(0, x)", "∂L/∂w = δ · a", "🙂" * 50],
)  # fmt: skip
def test_bad_input_gets_a_verdict(grader, cards, typed):
    from nnqa.grading import find_card

    g = grader.grade_card(find_card(cards, "What is ReLU?"), typed)
    assert g.verdict in ("correct", "partial", "incorrect")
    assert len(g.typed) <= grader.max_chars


def test_a_reference_with_no_text_is_a_clear_error(grader):
    with pytest.raises(ValueError, match="no answer text"):
        grader.grade_text("   ", "anything")
    with pytest.raises(TypeError, match="reference"):
        grader.grade_text(None, "anything")


def test_damaged_judge_weights_are_a_clear_error(tmp_path, embedder):
    folder = tmp_path / "judge"
    shutil.copytree(JUDGE_DIR, folder)
    (folder / "weights.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(JudgeError, match="weights.safetensors"):
        Judge(embedder.load_from, folder).probabilities([("", "a", "b")])
    (folder / "judge.json").write_text("{", encoding="utf-8")
    with pytest.raises(JudgeError, match="judge.json|settings"):
        Judge(embedder.load_from, folder)


def test_overrides_recalibrate_a_learner(grader):
    """Replay a learner who counts half-right answers as right: after refitting, fewer of
    their verdicts disagree with the grader's."""
    rows = [json.loads(x) for x in (DATA / "grading.jsonl").read_text().splitlines() if x.strip()]
    from nnqa.grading import find_card
    from nnqa.tutor import default_tutor

    cards = default_tutor().cards
    log = []
    for r in rows:
        g = grader.grade_card(find_card(cards, r["card"]), r["typed"])
        lenient = "correct" if r["verdict"] in ("correct", "partial") else "incorrect"
        log.append((g.score, lenient, lenient != g.verdict))
    before = sum(over for *_, over in log)
    cal = recalibrate(CALIBRATION, log)
    after = sum(cal_verdict != want for s, want, _ in log
                for cal_verdict in [_verdict(cal, s)])  # fmt: skip
    assert before >= 20 and after < before, (before, after, cal)
    assert recalibrate(CALIBRATION, log[:5]) == CALIBRATION  # too few overrides: unchanged


def _verdict(cal, score):
    return (
        "correct"
        if score >= cal.correct_at
        else "partial"
        if score >= cal.partial_at
        else "incorrect"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["grading_programming", "grading_geology", "grading_nn"])
def test_blind_sets_floor(grader, name):
    """A floor under the blind sets (written by a helper who saw only the decks; never
    tuned on): the learned grader must keep wrong answers from being called correct."""
    rows = [
        json.loads(x)
        for x in (DATA / "blind" / f"{name}.jsonl").read_text().splitlines()
        if x.strip()
    ]
    got = [grader.grade_text(r["reference"], r["typed"], r["front"]).verdict for r in rows]
    agree = sum(g == r["verdict"] for g, r in zip(got, rows, strict=True)) / len(rows)
    wrong = [g for g, r in zip(got, rows, strict=True) if r["verdict"] == "incorrect"]
    assert agree >= FLOORS[name][0], agree
    assert wrong.count("correct") / len(wrong) <= FLOORS[name][1]


FLOORS = {  # (3-way agreement, wrong answers called correct): the first measurement
    # (README, docs/grading_quality.json) less a margin; a guard, never tuned against
    "grading_programming": (0.42, 0.14),  # measured 49.5%, 9.5%
    "grading_geology": (0.40, 0.08),  # measured 45.0%, 0.0%
    "grading_nn": (0.50, 0.08),  # measured 56.7%, 3.7%
}


def test_a_long_card_is_graded_one_section_at_a_time(tutor):
    card = tutor.card("Vanishing Gradient")
    solutions = next(s for s in card.sections if s.heading.startswith("Solutions"))
    copied = tutor.grade(card.front, "\n".join(solutions.lines[1:]), section="solutions")
    assert copied.verdict == "correct" and copied.question == "Vanishing Gradient: Solutions"
    assert copied.reference == solutions.text and copied.where.endswith(f":{solutions.line}")
    other = tutor.grade(card.front, "\n".join(solutions.lines[1:]), section="What causes them?")
    assert other.verdict != "correct"  # the fixes are not the causes
    with pytest.raises(ValueError, match="its sections"):
        tutor.grade(card.front, "anything", section="History")
