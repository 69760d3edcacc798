"""The chat as a tutor: follow-ups, intents, a quiz round with FSRS, demos, "more" — real model."""

import io
import json
from pathlib import Path

import pytest

from nnqa.answering.followup import own_words, points_back, resolve
from nnqa.conversation.chat import Chat, recognizer_for, run_terminal_chat
from nnqa.decks.cardtext import subject_of
from nnqa.eval.conversations import conversation_report
from nnqa.eval.intents import intent_report
from nnqa.study.quiz import Quiz
from nnqa.study.store import Store

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
VG, DROP = "Vanishing Gradient", "What is dropout in neural networks?"
LSTM = "What is a long short-term memory (LSTM)?"


@pytest.fixture
def chat(tutor, tmp_path):
    quiz = Quiz("ana", tutor=tutor, store=Store(tmp_path / "progress.sqlite"))
    return Chat(tutor, learner="ana", quiz=quiz)


# -- follow-ups through ask(question, history) ------------------------------------------
@pytest.mark.parametrize(
    "history, message, front, section",
    [
        (["what is the vanishing gradient problem?"], "what causes it?", VG, "What causes them?"),
        (["what is the vanishing gradient problem?"], "how to fix that", VG, "Solutions"),
        (["how do I fix vanishing gradients?"], "why does that help?", VG, "Solutions"),
        (["what is an RNN?"], "and how is an LSTM different?", LSTM, ""),
        (["what is the vanishing gradient problem?"], "ok, what is dropout?", DROP, ""),
        (["what is backpropagation?"], "what are the steps?", "Explain backpropagation in detail",
         "Steps"),
        (["how do I fix vanishing gradients?"], "and for exploding gradients?",
         "Exploding Gradient", "How to fix"),
        (["what is a CNN?"], "how does it work?", "What is a convolutional neural network (CNN)?",
         ""),
    ],
)  # fmt: skip
def test_follow_ups_answer_about_the_topic(tutor, history, message, front, section):
    a = tutor.ask(message, history=history)
    assert not a.abstained
    assert (a.hits[0].card.front, a.hits[0].section.heading) == (front, section)


def test_without_history_the_follow_up_is_not_understood(tutor):
    """The point of the issue: alone, "what causes it?" has no card."""
    alone = tutor.ask("what causes it?")
    assert alone.abstained or alone.hits[0].card.front != VG


@pytest.mark.parametrize("message", ["what is a random forest?", "tell me a joke"])
def test_history_never_drags_an_unrelated_question_to_the_old_card(tutor, message):
    a = tutor.ask(message, history=["what is the vanishing gradient problem?", "what causes it?"])
    assert a.abstained and all(h.card.front != VG or h.rank > 1 for h in a.hits[:1])


def test_history_must_be_strings(tutor):
    with pytest.raises(TypeError, match="strings"):
        tutor.ask("what causes it?", history=[42])


def test_labelled_conversations_meet_the_target(tutor):
    r = conversation_report(tutor, DATA / "conversations.jsonl")
    assert r.conversations >= 25 and r.turns >= 75
    assert r.accuracy >= 0.95, r
    assert r.followup_accuracy >= 0.93, r
    assert json.dumps(r.to_dict())


def test_followup_text_rules():
    assert own_words("what causes it?") == [] and own_words("ok, what is dropout?") == ["dropout"]
    assert points_back("how do I fix that") and not points_back("the function that computes loss")
    assert subject_of("What is a long short-term memory (LSTM)?") == "long short-term memory (LSTM)"
    assert resolve("what causes it?", None).leans is False


# -- intents -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "message, intent",
    [
        ("quiz me", "quiz"), ("test me on this", "quiz"), ("can you quiz me?", "quiz"),
        ("ask me a question about dropout", "quiz"), ("/quiz relu", "quiz"),
        ("show me", "demo"), ("run the demo", "demo"), ("can I see it in action?", "demo"),
        ("/demo", "demo"), ("tell me more", "more"), ("go on", "more"),
        ("keep going please", "more"), ("hello!", "guide"), ("thanks a lot", "guide"),
        ("/help", "guide"),
        # ordinary questions that merely contain an intent's words
        ("what is the quiz in dropout?", "question"), ("how do I test my network?", "question"),
        ("what does a skip connection do?", "question"), ("what's the demo about?", "question"),
        ("how do you run backpropagation?", "question"), ("tell me about dropout", "question"),
        ("why do deeper networks need more data?", "question"),
    ],
)  # fmt: skip
def test_intents_from_several_phrasings(tutor, message, intent):
    assert recognizer_for(tutor).recognise(message).name == intent


@pytest.mark.parametrize(
    "message, intent",
    [
        ("skip", "skip"), ("pass", "skip"), ("I don't know", "reveal"), ("no idea", "reveal"),
        ("show answer", "reveal"), ("I give up", "reveal"), ("stop the quiz", "stop"),
        ("it randomly drops neurons during training", "answer"),
        ("gradients shrink as they flow back", "answer"), ("max of zero and x", "answer"),
    ],
)  # fmt: skip
def test_in_a_quiz_the_message_is_an_answer_unless_clearly_not(tutor, message, intent):
    assert recognizer_for(tutor).recognise(message, in_quiz=True).name == intent


def test_labelled_intents_meet_the_target(tutor):
    r = intent_report(recognizer_for(tutor), DATA / "intents.jsonl")
    assert r.phrasings >= 150
    assert r.accuracy >= 0.93, r


# -- the chat ----------------------------------------------------------------------------
def test_a_conversation_follows_the_topic(chat):
    r = chat.send("what is the vanishing gradient problem?")
    assert r.kind == "answer" and r.answer.best.card.front == VG
    r = chat.send("what causes it?")
    assert r.answer.best.section.heading == "What causes them?"
    assert "Sigmoid and hyperbolic tangent" in r.text and "### Vanishing Gradient" in r.text
    assert chat.send("how do I fix it?").answer.best.section.heading == "Solutions"
    assert chat.send("ok, what is dropout?").answer.best.card.front == DROP
    assert chat.history[-1] == "ok, what is dropout?"


def test_a_quiz_round_updates_the_fsrs_schedule(chat):
    store = chat.quiz.store
    chat.send("what is dropout?")
    q = chat.send("quiz me on that")
    assert q.kind == "quiz_question" and q.card.front == DROP and DROP in q.text
    g = chat.send("it randomly ignores neurons during training so the net does not overfit")
    assert g.kind == "grade" and g.grade.verdict in ("correct", "partial")
    assert g.grade.covered and "The card's answer" in g.text
    sched = store.schedule("ana")
    assert q.card.id in sched  # FSRS state stored in SQLite
    assert [r.card_id for r in store.reviews("ana")] == [q.card.id]

    nxt = chat.send("quiz me")  # the topic was quizzed: the next card by FSRS
    assert nxt.kind == "quiz_question" and nxt.card.id != q.card.id
    skipped = chat.send("skip")  # no review, another card
    assert skipped.kind == "quiz_question" and skipped.card.id != nxt.card.id
    assert len(store.reviews("ana")) == 1
    shown = chat.send("I don't know")  # not recalled: Again, and the answer shown
    assert shown.kind == "grade" and shown.review.rating == 1 and shown.grade.verdict == "incorrect"
    assert skipped.card.back.splitlines()[0][:30] in shown.text.replace("\\", "")
    assert len(store.reviews("ana")) == 2
    assert chat.pending is None
    assert chat.send("what is relu?").kind == "answer"  # out of the quiz, questions again


def test_stop_ends_a_quiz_without_a_review(chat):
    chat.send("quiz me")
    assert chat.pending is not None
    assert chat.send("stop the quiz").kind == "notice" and chat.pending is None
    assert chat.quiz.store.reviews("ana") == []


def test_more_gives_the_next_section_then_related_cards(chat):
    chat.send("what is the vanishing gradient problem?")
    seen = []
    for _ in range(4):
        r = chat.send("tell me more")
        assert r.kind == "more"
        seen.append((r.answer.best.card.front, r.answer.best.section.heading))
    assert seen[:3] == [(VG, "What causes them?"), (VG, "Effects"), (VG, "Solutions")]
    assert seen[3][0] != VG  # then a related card...
    assert r.text.startswith("*That is all the card “Vanishing Gradient” says")  # ...said so
    assert str(r).startswith("That is all the card “Vanishing Gradient” says; a related card:")


def test_show_me_runs_the_topics_demo(chat):
    chat.send("what is a perceptron?")
    r = chat.send("show me")
    assert r.kind == "demo" and r.demo.name == "perceptron"
    assert r.demo.figure is not None and r.demo.metrics
    assert "separable" in r.text
    assert json.dumps(r.to_dict())  # no figure in JSON


def test_greetings_get_a_short_guide_and_replies_serialise(chat):
    r = chat.send("hi")
    assert r.kind == "guide" and "quiz me" in r.text and r.followups
    r = chat.send("what causes vanishing gradients?")
    d = r.to_dict()
    assert d["kind"] == "answer" and d["answer"]["hits"][0]["section"] == "What causes them?"
    assert json.dumps(d) and str(r).startswith("Vanishing Gradient — What causes them?")
    with pytest.raises(TypeError, match="string"):
        chat.send(None)


def test_terminal_chat(chat):
    out = io.StringIO()
    n = run_terminal_chat(
        chat, io.StringIO("what is an RNN?\nand how is an LSTM different?\n:q\n"), out
    )
    text = out.getvalue()
    assert n == 2 and LSTM in text and "knowledge/neural_networks.txt:62" in text


def test_nnqa_chat_command_reads_stdin(workdir, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NNQA_THREADS": "1",
           "NNQA_DATA_DIR": str(tmp_path)}  # fmt: skip
    base = ["--knowledge", str(workdir / "knowledge"), "--index", str(workdir / "index")]
    r = subprocess.run(
        [sys.executable, "-m", "nnqa", *base, "chat", "--learner", "cli"],
        input="what is the vanishing gradient problem?\nwhat causes it?\n",
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Vanishing Gradient — What causes them?" in r.stdout


@pytest.mark.parametrize("message", ["thanks", "Thank you!", "great, thanks", "ok thanks a lot"])
def test_thanks_gets_a_short_reply_not_the_whole_guide(chat, message):
    reply = chat.send(message)
    assert reply.kind == "notice" and reply.intent == "thanks"
    assert "welcome" in reply.text and len(str(reply)) < 200
    assert chat.send("help").kind == "guide"  # asking for help still gets the guide


def test_terminal_replies_are_plain_text(chat):
    text = str(chat.send("quiz me on dropout"))
    assert text.startswith("Quiz: What is dropout in neural networks?")
    assert "**" not in text and "_Type" not in text and "\\" not in text


def test_quiz_me_after_a_quote_asks_another_card_unless_pointed_at(chat):
    """The quoted card's answer is on screen: a bare "quiz me" would give it away."""
    chat.send("what is dropout?")
    bare = chat.send("quiz me")
    assert bare.kind == "quiz_question" and bare.card.front != DROP
    chat.send("stop")
    chat.send("what is dropout?")
    assert chat.send("quiz me on it").card.front == DROP  # asked for by the learner


def test_a_saved_chat_takes_up_its_topic_and_quiz_question(chat, tutor):
    chat.send("what is the vanishing gradient problem?")
    chat.send("quiz me on that")
    again = Chat(tutor, learner="ana", quiz=chat.quiz)
    again.restore(json.loads(json.dumps(chat.state())))
    reply = again.send("gradients get tiny going back through many layers")
    assert reply.kind == "grade" and reply.card.front == VG


def test_a_comparison_quotes_the_other_side_never_the_same_quote_again(chat):
    """ "and how is that different from L2?" after dropout: the dropout card is on screen."""
    chat.send("what is an RNN?")
    other = chat.send("how does it differ from an LSTM?")
    assert other.kind == "answer" and other.answer.best.card.front == LSTM
    chat.send("what is dropout?")
    again = chat.send("and how is that different from L2?")
    assert again.answer.abstained or again.answer.best.card.front != DROP
    none = chat.send("what is dropout?") and chat.send("how is it different from a decision tree?")
    assert none.answer.abstained  # no card on the other side: no card compares them
