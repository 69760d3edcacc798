"""Property-based tests: any input either works or raises the documented error, quickly."""

import contextlib
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnqa.cards import DeckError, parse_markdown_deck, parse_text_deck
from nnqa.query import Vocabulary, clean

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
