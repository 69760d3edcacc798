"""Property-based tests: any input either works or raises the documented error, quickly."""

import contextlib
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnqa.decks.cards import DeckError, parse_markdown_deck, parse_text_deck
from nnqa.search.query import Vocabulary, clean

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.text(max_size=3000))
def test_text_parser_returns_cards_or_a_deck_error(text):
    try:
        cards = parse_text_deck(text, "knowledge/x.txt")
    except DeckError as e:
        assert str(e).startswith("knowledge/x.txt")
        return
    assert cards and all(c.front.strip() and c.back.strip() for c in cards)
    for c in cards:
        assert "\n".join(s.text for s in c.sections) == c.back


@FAST
@given(st.text(max_size=3000))
def test_markdown_parser_returns_cards_or_a_deck_error(text):
    try:
        cards = parse_markdown_deck(text, "knowledge/x.md")
    except DeckError as e:
        assert str(e).startswith("knowledge/x.md")
        return
    assert cards and all(c.front.strip() for c in cards)


@FAST
@given(
    st.lists(
        st.sampled_from(["Q?", "- b", "plain", "", "  ", "- ", "## h", "\x00", "é"]), max_size=40
    )
)
def test_line_soup_never_crashes_the_parsers(lines):
    text = "Title\n" + "\n".join(lines)
    for parse in (parse_text_deck, parse_markdown_deck):
        with contextlib.suppress(DeckError):
            parse(text, "k/soup")


@FAST
@given(st.text(max_size=5000))
def test_clean_is_bounded_and_printable(text):
    out = clean(text, max_chars=2000)
    assert len(out) <= 2000
    assert all(ch.isprintable() or ch == " " for ch in out)


@FAST
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_rewrite_is_total(text):
    v = Vocabulary(["vanishing gradients", "Long Short-Term Memory (LSTM)"], ["the", "is"])
    assert isinstance(v.rewrite(clean(text)), str)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=400))
def test_ask_answers_any_text_quickly(tutor, text):
    t0 = time.perf_counter()
    a = tutor.ask(text)
    assert time.perf_counter() - t0 < 2.0
    assert a.abstained or a.hits[0].quote


@pytest.mark.parametrize("size", [1_000_000])
def test_ask_a_megabyte(tutor, size):
    t0 = time.perf_counter()
    a = tutor.ask("x" * size)
    assert time.perf_counter() - t0 < 2.0 and a.abstained


def test_concurrent_asks_from_threads_match_asking_alone(tutor):
    questions = [
        "what causes vanishing gradients",
        "what is relu",
        "LSTM",
        "preceptron",
        "how do I fix exploding gradients",
        "what is a random forest",
    ] * 4
    alone = {q: tutor.ask(q).to_dict() for q in set(questions)}
    results, errors = [], []

    def worker(qs):
        try:
            for q in qs:
                results.append((q, tutor.ask(q).to_dict()))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(questions[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == len(questions)
    for q, d in results:
        assert d["hits"] == alone[q]["hits"] and d["abstained"] == alone[q]["abstained"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=2000), st.sampled_from([".txt", ".md"]))
def test_deck_files_of_any_bytes_load_or_name_the_file(tmp_path_factory, data, ext):
    from nnqa.decks.cards import load_deck

    path = tmp_path_factory.mktemp("bytes") / f"deck{ext}"
    path.write_bytes(data)
    try:
        cards = load_deck(path)
    except DeckError as e:
        assert f"deck{ext}" in str(e)
        return
    assert all(c.front for c in cards)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=600), st.integers(0, 14))
def test_grade_any_typed_text_quickly(tutor, typed, i):
    card = tutor.cards[i]
    t0 = time.perf_counter()
    g = tutor.grader.grade_card(card, typed)
    assert time.perf_counter() - t0 < 2.0
    assert g.verdict in ("correct", "partial", "incorrect") and 0.0 <= g.score <= 1.0
    assert set(g.covered) | set(g.partly) | set(g.missed)  # every key point is in one list


def test_grade_a_megabyte_answer(tutor):
    t0 = time.perf_counter()
    g = tutor.grader.grade_card(tutor.card("What is ReLU?"), "max(0, x) " * 100_000)
    assert time.perf_counter() - t0 < 3.0 and g.verdict in ("correct", "partial", "incorrect")


_VALUES = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
)


@FAST
@given(st.data())
def test_demo_parameters_are_checked_before_anything_runs(data):
    from nnqa.demos import get_spec, list_demos

    demo = data.draw(st.sampled_from(list_demos()))
    param = data.draw(st.sampled_from([p["name"] for p in demo["params"]] + ["bogus"]))
    value = data.draw(_VALUES)
    spec = get_spec(demo["name"])
    try:
        resolved = spec.resolve({param: value})
    except ValueError as e:
        assert param in str(e)
        return
    p = next(p for p in demo["params"] if p["name"] == param)
    v = resolved[param]
    if p.get("min") is not None:
        assert p["min"] <= v <= p["max"]
    if p.get("choices"):
        assert v in p["choices"]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=200), min_size=1, max_size=4))
def test_chat_replies_to_any_messages(tutor, messages):
    from nnqa import Chat

    chat = Chat(tutor, learner="hypothesis", run_demo=lambda name: pytest.fail("ran a demo"))
    for m in messages:
        reply = chat.send(m, defer_demos=True)
        assert reply.kind in ("answer", "quiz_question", "grade", "demo_request", "more",
                              "guide", "notice")  # fmt: skip
