"""The web app through its API, as `gradio_client` users call it, and its rendering.

One real app per session (the `app_server` fixture in conftest): the shipped deck plus a
hostile imported deck, learner data in a temp folder.
"""

import base64
import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def client(app_server):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


def test_endpoints_have_stable_names(client):
    api = client.view_api(return_format="dict", print_info=False)
    assert set(api["named_endpoints"]) == {"/ask", "/grade", "/demo"}


def test_ask_quotes_the_vanishing_gradient_card(client):
    text, answer = client.predict("what causes vanishing gradients", api_name="/ask")
    assert not answer["abstained"]
    top = answer["hits"][0]
    assert top["front"] == "Vanishing Gradient"
    assert top["section"] == "What causes them?"
    assert "Sigmoid and hyperbolic tangent (tanH) squash their inputs" in top["quote"]
    assert top["source"] == "knowledge/neural_networks.txt:4"
    assert text.startswith("Vanishing Gradient — What causes them?")
    assert "vanishing_gradients" in answer["demos"]


def test_ask_abstains_off_topic_and_offers_the_closest_cards(client):
    text, answer = client.predict("what is the capital of France", 3, api_name="/ask")
    assert answer["abstained"]
    assert "no card" in answer["message"]
    assert text.startswith(answer["message"])


def test_ask_rejects_an_overlong_question(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="limited to 2000 characters"):
        client.predict("why " * 600, api_name="/ask")


def test_grade_reports_verdict_covered_and_missed(client):
    g = client.predict(
        "What is dropout in neural networks?",
        "Dropout is a regularization technique where random neurons are ignored during training, "
        "preventing overfitting by ensuring the network doesn’t rely too heavily on any on neuron. "
        "(like pruning of trees)",
        api_name="/grade",
    )
    assert g["verdict"] == "correct"
    assert 0.8 <= g["score"] <= 1
    assert any("random neurons" in p for p in g["covered"])
    assert g["where"] == "knowledge/neural_networks.txt:56"
    bad = client.predict("What is dropout in neural networks?", "no idea", api_name="/grade")
    assert bad["verdict"] == "incorrect" and bad["missed"] and not bad["covered"]


def test_grade_names_the_closest_cards_for_an_unknown_front(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="closest fronts"):
        client.predict("What is a transformer decoder?", "attention", api_name="/grade")


def test_demo_returns_a_png_and_the_metrics(client):
    png, result = client.predict("perceptron", {"points": 40, "epochs": 5}, api_name="/demo")
    assert png.startswith("data:image/png;base64,")
    assert base64.b64decode(png.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["metrics"]["separable_accuracy"] >= 0.9
    assert result["params"]["points"] == 40 and result["device"] == "cpu"
    assert result["seconds"] > 0


def test_demo_rejects_unknown_names_and_out_of_bounds_params(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="unknown demo"):
        client.predict("nope", None, api_name="/demo")
    with pytest.raises(AppError, match=r"points must be between 10 and \d+"):
        client.predict("perceptron", {"points": 10**7}, api_name="/demo")


def test_demos_queue_one_at_a_time_while_asks_run_together(app_server):
    by_name = {f.api_name: f for f in app_server.demo.fns.values() if f.api_name}
    assert by_name["demo"].concurrency_id == "demo" and by_name["demo"].concurrency_limit == 1
    assert by_name["ask"].concurrency_limit > 1 and by_name["grade"].concurrency_limit > 1
    runners = [f for f in app_server.demo.fns.values() if "demo" in getattr(f.fn, "__name__", "")]
    runners += [f for f in app_server.demo.fns.values() if "demo_view" in repr(f.fn)]
    assert len(runners) >= 3  # /demo, the chat's "Run the demo", the Demos tab's Run buttons
    assert all(f.concurrency_id == "demo" and f.concurrency_limit == 1 for f in runners)


# ---------------------------------------------------------------- handlers and rendering


def _progress(md: str) -> tuple[str, ...]:
    """(due, new, reviews, retention) from the progress table."""
    rows = {k: v for v, k in re.findall(r"^- \*\*(\S+)\*\* ([a-z ]+)$", md, re.M)}
    return tuple(rows[k] for k in ("due now", "not seen yet", "reviews done", "retention"))


def test_quiz_progress_persists_across_visits(app_server):
    from nnqa.faces.web import Web

    web = Web(app_server.tutor)
    front, state, *_ = web.quiz_next("ana")
    assert state["card"] and front.startswith("### ")
    _, state, verdict, *_ = web.quiz_check("ana", "no idea", state)
    assert "❌" in verdict and "suggests **Again**" in verdict and "The card's answer" in verdict
    _, state, verdict, progress, *_ = web.quiz_rate("ana", state, 1)
    assert "❌" in verdict and "Due again" in verdict and "(rated Again)" in verdict
    assert _progress(progress)[2:] == ("1", "0%")
    verdict, progress = web.quiz_override("ana", state, True)
    assert "overruled" in verdict and _progress(progress)[2:] == ("1", "100%")
    later = Web(app_server.tutor)  # a new visit: the same store on disk
    progress = later.quiz_next("ana")[3]
    assert _progress(progress)[2:] == ("1", "100%")


def test_hostile_card_text_is_escaped(app_server):
    from nnqa.render import answer_markdown as answer_md
    from nnqa.render import deck_markdown as deck_md
    from nnqa.render import quote_md

    card = next(c for c in app_server.tutor.cards if "hostile" in c.front)
    md = deck_md([card]) + "\n" + quote_md(card.back)
    body = re.sub(r"(?m)^> ", "", md)  # the quote's own marks
    assert "<" not in body and ">" not in body
    assert "&lt;script&gt;" in md and "&lt;img src=x onerror=" in md
    assert not re.search(r"(?<!\\)\]\(", md)  # the link's brackets are escaped: it stays text
    assert "\\](javascript" in md
    answer = app_server.tutor.ask("what is a hostile flashcard")
    assert answer.hits[0].card == card and "<script>" not in answer_md(answer)


def test_quote_keeps_bullets_as_a_list():
    from nnqa.render import escape_md, quote_md

    assert quote_md("- Effects:\n- Slow *convergence*") == (
        "> - Effects:\n> - Slow \\*convergence\\*"
    )
    assert escape_md("a_b [c](d) $x$") == r"a\_b \[c\](d) \$x\$"  # no link without brackets


def test_a_quote_copies_as_the_card_reads(app_server):
    """The copy button copies a message's Markdown: only marks that would act are escaped."""
    from nnqa.faces.web import Web

    messages, *_ = Web(app_server.tutor).chat_submit("what causes vanishing gradients")
    assert "Sigmoid and hyperbolic tangent (tanH) squash" in messages[-1]["content"]


# ---------------------------------------------------------------- Hugging Face Spaces


def _front_matter() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert m, "README.md must start with the Spaces YAML front matter"
    out, key = {}, None
    for line in m.group(1).splitlines():
        if line.startswith("  - ") and key:
            out.setdefault(key, []).append(line[4:].strip())
        elif ":" in line:
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip().strip('"')
            if value:
                out[key] = value
    return out


def test_spaces_front_matter_matches_the_build():
    meta = _front_matter()
    required = {"title", "emoji", "colorFrom", "colorTo", "sdk", "sdk_version", "app_file",
                "python_version", "license", "short_description"}  # fmt: skip
    assert required <= set(meta), required - set(meta)
    assert meta["sdk"] == "gradio" and (ROOT / meta["app_file"]).is_file()
    assert len(meta["short_description"]) <= 60  # the Hub's limit

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = [d for d in project["dependencies"] if d.startswith("gradio")]
    assert pins == [f"gradio=={meta['sdk_version']}"]
    py = tuple(int(x) for x in meta["python_version"].split("."))
    assert py >= tuple(int(x) for x in project["requires-python"].lstrip(">=").split("."))

    reqs = [
        ln.split("#")[0].strip()
        for ln in (ROOT / "requirements.txt").read_text().splitlines()
        if ln.split("#")[0].strip()
    ]
    # Spaces installs requirements.txt alone (before the repo is copied in), so it lists
    # the package's dependencies, the same pins as pyproject's.
    assert sorted(reqs) == sorted(project["dependencies"])


def test_building_the_app_loads_no_model_torch_or_demo():
    """Start-up pays only for what the page needs; the model loads on (or before) a request."""
    import subprocess
    import sys

    heavy = ("torch", "sentence_transformers", "transformers", "faiss", "matplotlib", "sklearn")
    code = (
        "import sys; from nnqa.faces.webapp import build_app; build_app(warm=False); "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- the learner's loop (issue 15)


def test_a_user_mistake_logs_one_line_not_a_traceback(client, capfd):
    from gradio_client.exceptions import AppError

    capfd.readouterr()
    with pytest.raises(AppError, match="limited to"):
        client.predict("x" * 10_000, api_name="/ask")
    err = capfd.readouterr().err
    assert "nnqa: user error: Questions are limited to" in err
    assert "Traceback" not in err


def test_two_checks_of_one_showing_record_one_review(app_server):
    from concurrent.futures import ThreadPoolExecutor

    from nnqa.faces.web import Web
    from nnqa.study.store import Store

    web = Web(app_server.tutor)
    _, state, *_ = web.quiz_next("eve")
    with ThreadPoolExecutor(4) as pool:  # a double click: both events see the same showing
        outs = list(pool.map(lambda _: web.quiz_check("eve", "no idea", state), range(4)))
    assert sum("How well did you remember" in str(o[2]) for o in outs) == 1
    assert Store(app_server.dir / "data" / "progress.sqlite3").reviews("eve") == []
    with ThreadPoolExecutor(4) as pool:  # a click and a key press on the ratings
        outs = list(pool.map(lambda r: web.quiz_rate("eve", state, r), (1, 3, 1, 3)))
    assert sum("Due again" in str(o[2]) for o in outs) == 1
    assert len(Store(app_server.dir / "data" / "progress.sqlite3").reviews("eve")) == 1
    _, _, verdict, *_ = web.quiz_check("eve", "   ", web.quiz_next("eve")[1])
    assert "Nothing was recorded" in verdict  # an empty answer is a prompt, not a failure
    assert len(Store(app_server.dir / "data" / "progress.sqlite3").reviews("eve")) == 1


def test_a_demo_result_lands_after_what_was_asked_meanwhile(app_server):
    from nnqa.faces.visit import Visit
    from nnqa.faces.web import Web

    web = Web(app_server.tutor)
    visit = Visit(web.new_chat("fay"))
    _, ticket = visit.placeholder({"role": "assistant", "content": "⏳ Running"})
    visit.add({"role": "user", "content": "q"}, {"role": "assistant", "content": "a"})
    out = visit.settle(ticket, {"role": "assistant", "content": "figure"}, "done: below")
    assert [m["content"] for m in out] == ["done: below", "q", "a", "figure"]
    _, ticket = visit.placeholder({"role": "assistant", "content": "⏳ Running"})
    out = visit.settle(ticket, {"role": "assistant", "content": "figure 2"}, "unused")
    assert out[-1]["content"] == "figure 2" and len(out) == 5  # nothing after it: replaced
    _, ticket = visit.placeholder({"role": "assistant", "content": "⏳ Running"})
    visit.clear(web.new_chat("fay"))  # New chat: a demo of the old conversation is dropped
    assert visit.settle(ticket, {"role": "assistant", "content": "late"}, "x") == []


def test_the_saved_conversation_brings_back_its_topic(app_server):
    from nnqa.faces.visit import Visit
    from nnqa.faces.web import Web

    web = Web(app_server.tutor)
    messages, _, visit, *_, saved = web.chat_submit("what is the vanishing gradient problem?")
    saved = json.loads(json.dumps(saved))  # what the browser keeps is JSON
    back = Visit(web.new_chat("gus"))
    assert back.restore(saved) == [{k: m[k] for k in ("role", "content", "options")
                                    if k in m} for m in messages]  # fmt: skip
    reply = back.chat.send("what causes it?")
    assert reply.answer.hits[0].section.heading == "What causes them?"
    assert Visit(web.new_chat("gus")).restore({"version": 99}) == []
    forged = {"version": 1, "chat": {"topic": {"card_id": ["x"]}, "pending": [3],
                                     "shown": {"a": "b"}, "quizzed": "abc", "history": "hi"},
              "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": 5},
                           {"role": "user", "content": "y" * 60_000},
                           {"role": "assistant", "content": "ok", "options": [{"value": 1}]}]}  # fmt: skip
    back = Visit(web.new_chat("gus"))
    assert back.restore(forged) == [{"role": "assistant", "content": "ok"}]
    assert back.chat.topic is None and back.chat.pending is None and back.chat.history == []


@pytest.mark.parametrize(
    "question", ["what is a neural network?", "what is an RNN?", "what is the capital of France"]
)
def test_follow_up_buttons_name_each_card_once(app_server, question):
    from nnqa.faces.web import Web

    messages, *_ = Web(app_server.tutor).chat_submit(question)
    labels = [o["label"].removeprefix("Ask: ") for o in messages[-1].get("options", ())]
    assert labels and len(labels) == len(set(labels)), labels


def test_a_chat_demo_says_how_long_it_took_with_the_wait_and_offers_follow_ups(app_server):
    import time

    from nnqa.faces.web import Web

    web = Web(app_server.tutor)
    messages, _, visit, job, _ = web.chat_submit("/demo perceptron")
    assert messages[-1]["content"].startswith("⏳ Running")
    time.sleep(1.0)  # waiting in the demo queue behind someone else's demo
    messages, saved = web.chat_demo(visit, job, progress=lambda *a, **k: None)
    text = messages[-1]["content"][1]
    seconds = re.search(r"in \*\*([\d.]+) s\*\* \(([\d.]+) s from asking to the result", text)
    assert seconds and float(seconds[2]) >= 1.0 > float(seconds[1]), text
    assert [o["value"] for o in messages[-1]["options"]] == ["Quiz me", "Tell me more"]
    assert "not kept after a reload" in saved["messages"][-1]["content"]  # no figure stored


def test_two_demos_asked_at_once_run_once_each(app_server):
    from nnqa.faces.web import Web

    web = Web(app_server.tutor)
    _, _, visit, first, _ = web.chat_submit("/demo perceptron")
    _, _, visit, second, _ = web.chat_submit("/demo perceptron", visit)
    quiet = {"progress": lambda *a, **k: None}
    web.chat_demo(visit, second, **quiet)  # both events read the request as it is by then
    messages, _ = web.chat_demo(visit, second, **quiet)
    texts = [m["content"] if isinstance(m["content"], str) else "figure" for m in messages]
    assert not any(t.startswith("⏳") for t in texts), texts  # every note settled...
    assert texts.count("figure") == 2  # ...by one result each
    import gradio as gr

    assert web.chat_demo(visit, second, **quiet) == (gr.skip(), gr.skip())  # nothing left


def test_a_guest_quizzed_in_the_chat_is_told_to_give_a_name(app_server):
    from nnqa.faces.web import Web

    web = Web(app_server.tutor)
    messages, _, visit, *_ = web.chat_submit("quiz me")
    assert "no name on the Quiz tab yet" in messages[-1]["content"]
    messages, *_ = web.chat_submit("quiz me", None, "hal")
    assert "no name" not in messages[-1]["content"]


def test_a_guests_chat_quiz_is_credited_once_they_give_a_name(app_server):
    """Issue 15, item 3: quizzes taken before a name went to a hidden guest id for good."""
    from nnqa.faces.web import Web

    web = Web(app_server.tutor)
    _, _, visit, *_ = web.chat_submit("quiz me")
    card = visit.chat.pending
    web.chat_submit("I don't know", visit)
    guest = visit.chat.learner
    assert guest.startswith("guest-") and [r.card_id for r in web.store.reviews(guest)] == [card.id]
    web.chat_submit("quiz me", visit, "ines")  # the name typed on the Quiz tab
    assert web.store.reviews(guest) == []
    assert [r.card_id for r in web.store.reviews("ines")] == [card.id]
    assert card.id in web.store.schedule("ines")


def test_page_load_never_wipes_a_name_typed_while_loading(app_server):
    """The load event answers late on a busy server: with no saved name it must leave the
    box alone (a name typed meanwhile stays), and a saved one fills only an empty box."""
    import gradio as gr

    from nnqa.faces.web import Web

    web = Web(app_server.tutor)
    assert web.remembered_learner("", "") == gr.skip()
    assert web.remembered_learner("ana", "") == "ana"
    assert web.remembered_learner("ana", "bea") == gr.skip()


def test_the_review_screen_labels_each_rating_with_its_interval_and_counts_the_session(
    app_server,
):
    from nnqa.faces.web import Web

    web = Web(app_server.tutor)
    front, state, _, _, counts, *_ = web.quiz_next("fay")
    n = len(app_server.tutor.cards)
    assert counts == f"**{n}** new · **0** learning · **0** due"
    out = web.quiz_check("fay", "no idea", state)
    ratings, buttons = out[10], out[11:15]
    assert ratings["visible"] and out[5]["interactive"] is False  # the answer box locked
    labels = [b["value"] for b in buttons]
    assert [re.match(r"(\d) · (\w+) · ", x).groups() for x in labels] == [
        ("1", "Again"), ("2", "Hard"), ("3", "Good"), ("4", "Easy")]  # fmt: skip
    assert [b["variant"] for b in buttons] == ["primary"] + ["secondary"] * 3  # suggested
    out = web.quiz_rate("fay", state, 2)
    assert out[4] == f"**{n - 1}** new · **0** learning · **0** due"  # back in 6m
    assert "(rated Hard)" in out[2] and not out[10]["visible"] and out[9]["visible"]  # Undo
    fig = web.quiz_plot("fay")
    assert [ax.get_title() for ax in fig.axes][:2] == ["Reviews per day",
                                                       "Retention per week (not Again)"]  # fmt: skip
    assert sum(p.get_height() for p in fig.axes[0].patches) == 1  # the one review


def test_done_for_now_when_nothing_is_due_and_no_new_card_is_left(app_server):
    from nnqa.faces.web import Web

    web = Web(app_server.tutor)
    for _ in range(len(app_server.tutor.cards)):  # every card rated Easy: days away
        _, state, *_ = web.quiz_next("ida")
        web.quiz_check("ida", "no idea", state)
        web.quiz_rate("ida", state, 4)
    front, state, _, _, counts, box, *_ = web.quiz_next("ida")
    assert front.startswith("### 🎉 Done for now") and state == {}
    assert counts.startswith("🎉 **Done for now**: nothing is due and no new card is left.")
    assert re.search(r"The next card comes back in \d+d\.$", counts)
    assert box["interactive"] is False
