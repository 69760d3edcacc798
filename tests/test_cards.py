"""The deck parser reads the user's deck as it is, and names file and line on bad input."""

from pathlib import Path

import pytest

from nnqa.decks.cards import DeckError, load_deck, load_decks, parse_markdown_deck, parse_text_deck

ROOT = Path(__file__).resolve().parents[1]
DECK = ROOT / "knowledge" / "neural_networks.txt"
FRONTS = [
    "What is deep learning, and how does it contrast with other machine learning algorithms?",
    "Vanishing Gradient",
    "Exploding Gradient",
    "Explain backpropagation in detail",
    "What is a perceptron?",
    "What is an activation function?",
    "What is gradient descent in neural netowrks?",
    "What is a feedforward neural network?",
    "What is a loss function in neural networks?",
    "What is backpropagation?",
    "What is ReLU?",
    "What is dropout in neural networks?",
    "What is a convolutional neural network (CNN)?",
    "What is a recurrent neural network (RNN)?",
    "What is a long short-term memory (LSTM)?",
]


def test_deck_is_the_users_file_byte_for_byte():
    seed = ROOT.parent / "shared" / "seeds" / "neural_networks_flashcards.txt"
    if not seed.exists():
        pytest.skip("../shared is not beside this checkout")
    assert DECK.read_bytes() == seed.read_bytes()


def test_fifteen_cards_with_exact_fronts_in_order():
    cards = load_decks(ROOT / "knowledge")
    assert [c.front for c in cards] == FRONTS
    assert {c.deck for c in cards} == {"Neural Networks Flashcards"}
    assert len({c.id for c in cards}) == 15


def test_sources_and_lines_point_at_the_front():
    cards = {c.front: c for c in load_deck(DECK, "knowledge/neural_networks.txt")}
    lines = DECK.read_text(encoding="utf-8").splitlines()
    for c in cards.values():
        assert lines[c.line - 1].strip() == c.front
    assert cards["Vanishing Gradient"].where == "knowledge/neural_networks.txt:4"


def test_flattened_sections_are_recovered():
    cards = {c.front: c for c in load_deck(DECK)}
    vg = [s.heading for s in cards["Vanishing Gradient"].sections]
    assert vg == ["", "What causes them?", "Effects", "Solutions"]
    assert [s.heading for s in cards["Exploding Gradient"].sections] == ["", "How to fix"]
    assert [s.heading for s in cards["Explain backpropagation in detail"].sections] == ["", "Steps"]
    causes = cards["Vanishing Gradient"].sections[1]
    assert "Weight Initialization:" in causes.text  # a sub-heading stays inside its section
    assert causes.text.startswith("- What causes them?")
    sols = cards["Vanishing Gradient"].sections[3].text
    assert "Batch Normalization" in sols and "Slow Convergence" not in sols


def test_sections_are_verbatim_and_cover_the_back():
    text = DECK.read_text(encoding="utf-8")
    for c in load_deck(DECK):
        assert "\n".join(s.text for s in c.sections) == c.back
        for s in c.sections:
            assert s.text in text


def test_ids_are_stable_and_content_derived():
    a = parse_text_deck("D\nQ one\nA one\nQ two\nA two\n", "d.txt")
    b = parse_text_deck("D\n\nQ one\nA one\n\nQ two\nA two changed\n", "d.txt")
    assert a[0].id == b[0].id and a[1].id != b[1].id


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("", None, "empty"),
        ("Title only\n", None, "no cards"),
        ("Title\n- bullet first\n", 2, "before any question"),
        ("Title\nQ1\nA1\nQ2\n", 4, "has no answer"),
    ],
)
def test_malformed_text_deck_names_file_and_line(text, line, words):
    with pytest.raises(DeckError) as e:
        parse_text_deck(text, "knowledge/bad.txt")
    assert e.value.line == line and words in str(e.value)
    assert str(e.value).startswith("knowledge/bad.txt" + (f":{line}" if line else ""))


def test_markdown_deck_with_sections():
    md = (
        "# My notes\n\n## What is SGD?\nGradient descent on mini-batches.\n\n"
        "## Overfitting\nWhen a model memorises noise.\n### How to fix\n- more data\n- dropout\n"
    )
    cards = parse_markdown_deck(md, "knowledge/notes.md")
    assert [c.front for c in cards] == ["What is SGD?", "Overfitting"]
    assert cards[0].deck == "My notes" and cards[0].line == 3
    assert [s.heading for s in cards[1].sections] == ["", "How to fix"]
    assert cards[1].sections[1].text == "### How to fix\n- more data\n- dropout"


@pytest.mark.parametrize(
    "md, line",
    [("stray text\n## Q\nA\n", 1), ("# D\n## Q without answer\n## Q2\nA\n", 2), ("# Only\n", None)],
)
def test_malformed_markdown_names_line(md, line):
    with pytest.raises(DeckError) as e:
        parse_markdown_deck(md, "knowledge/x.md")
    assert e.value.line == line and "knowledge/x.md" in str(e.value)


def test_invalid_utf8_and_unknown_extension(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Deck\nQ\n\xff\xfe answer\n")
    with pytest.raises(DeckError, match=r"bad.txt:3: not valid UTF-8"):
        load_deck(bad)
    other = tmp_path / "deck.pdf"
    other.write_text("x")
    with pytest.raises(DeckError, match="cannot read '.pdf'"):
        load_deck(other)


def test_every_file_in_the_folder_is_a_deck(tmp_path):
    (tmp_path / "a.txt").write_text("Deck A\nQ a?\nA a\n")
    (tmp_path / "b.md").write_text("# Deck B\n## Q b?\nA b\n")
    (tmp_path / ".hidden").write_text("ignored")
    cards = load_decks(tmp_path)
    assert [(c.deck, c.front) for c in cards] == [("Deck A", "Q a?"), ("Deck B", "Q b?")]
