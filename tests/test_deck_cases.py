"""Real export shapes a learner brings (the failing inputs filed with issue 16, in
../shared/cases/), each imported as the learner expects; and every real public deck in
../shared/data/decks/ imported with no card lost, counted."""

import csv
import json
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import pytest
import zstandard

from nnqa import DeckError
from nnqa.add import add_deck
from nnqa.decks.cards import parse_markdown_deck
from nnqa.decks.imported import guid_id
from nnqa.decks.imports import read_deck_file, to_markdown

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CASES = SHARED / "cases"
DECKS = SHARED / "data" / "decks"
pytestmark = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/cases is not here")


def cards_of(name: str):
    return read_deck_file(CASES / name).cards


def test_modern_export_reads_the_zstd_collection_the_meta_names():
    deck = read_deck_file(CASES / "modern_export.apkg")
    assert [(c.deck, c.front, c.back) for c in deck.cards] == [
        ("Deep Learning", "What is a convolution layer?", "A layer that slides shared filters over the input."),
        ("Deep Learning", "Why use pooling?", "To shrink feature maps and add some translation invariance."),
    ]  # fmt: skip
    assert not any("update" in c.front.lower() for c in deck.cards)  # not the dummy anki2


def test_real_modern_anki_export_web3_reads_all_25_notes_and_shows_its_picture():
    deck = read_deck_file(DECKS / "format_samples" / "Web3.apkg")
    assert len(deck.cards) == 25 and deck.decks == ["Web3"]
    picture = next(c for c in deck.cards if c.front == "What does blockchain look like?")
    assert picture.back == "[image: blockchain.png]"
    assert "1 image(s) and 0 sound(s) shown as placeholders" in deck.notes
    table = next(c for c in deck.cards if c.front.startswith("What is the difference between web2"))
    assert table.back.splitlines()[:2] == [
        "Web2 | Web3",
        "centralized server | distributed network",
    ]
    pros = next(c for c in deck.cards if c.front == "What are the pros of blockchain?")
    assert pros.back.splitlines()[0] == "- no human/institutional middleman"  # list kept


def test_anki_reversed_cards_and_a_third_field(tmp_path):
    import genanki

    model = genanki.Model(
        1607392320,
        "Basic (and reversed card) + Extra",
        fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Extra"}],
        templates=[
            {
                "name": "Card 1",
                "qfmt": "{{Front}}",
                "afmt": "{{FrontSide}}<hr>{{Back}}<br>{{Extra}}",
            },
            {"name": "Card 2", "qfmt": "{{Back}}", "afmt": "{{FrontSide}}<hr>{{Front}}"},
        ],
    )
    deck = genanki.Deck(11, "Nets")
    deck.add_note(genanki.Note(model=model, fields=["What is ReLU?", "max(0, x)", "cheap"]))
    genanki.Package(deck).write_to_file(str(tmp_path / "rev.apkg"))
    cards = read_deck_file(tmp_path / "rev.apkg").cards
    assert [(c.front, c.back) for c in cards] == [
        ("What is ReLU?", "max(0, x)\nExtra: cheap"),
        ("max(0, x)", "What is ReLU?"),
    ]
    assert cards[0].id != cards[1].id
    export = tmp_path / "rev.txt"
    export.write_text(
        "#separator:tab\n#html:true\n#notetype column:1\n"
        "Basic (and reversed card)\tWhat is ReLU?\tmax(0, x)\n"
    )
    assert [(c.front, c.back) for c in read_deck_file(export).cards] == [
        ("What is ReLU?", "max(0, x)"),
        ("max(0, x)", "What is ReLU?"),
    ]


def test_legacy_export_reads_anki21_not_the_dummy_anki2():
    deck = read_deck_file(CASES / "legacy_export.apkg")
    assert [c.front for c in deck.cards] == ["What is a convolution layer?", "Why use pooling?"]


def test_a_collection_package_reads_like_an_apkg_and_a_damaged_one_is_refused(tmp_path):
    colpkg = tmp_path / "Web3.colpkg"
    colpkg.write_bytes((DECKS / "format_samples" / "Web3.apkg").read_bytes())
    assert len(read_deck_file(colpkg).cards) == 25
    bad = tmp_path / "bad.colpkg"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("meta", bytes([0x08, 0x03]))
        z.writestr("collection.anki21b", b"not zstd at all")
    with pytest.raises(DeckError, match=r"bad.colpkg: the package is damaged"):
        read_deck_file(bad)


def test_package_whose_meta_names_a_missing_collection_is_refused(tmp_path):
    p = tmp_path / "odd.apkg"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("meta", bytes([0x08, 0x03]))  # "the collection is collection.anki21b"
        z.writestr("collection.anki2", b"")
    with pytest.raises(DeckError, match="the package's meta names collection.anki21b"):
        read_deck_file(p)


def test_cloze_nested_hints_and_one_card_per_cloze_number():
    cards = cards_of("cloze.apkg")
    fronts = [c.front for c in cards]
    assert fronts == [
        "[activation name] outputs max(0, x) for an input x.",
        "ReLU outputs [formula] for an input x.",
        "[technique] zeroes random units and [what else] during training.",
        "Dropout zeroes [what] and rescales the rest during training.",
        "Adam keeps [...] per weight.",
        "Adam keeps running averages of [...] and of its square per weight.",
        "In PyTorch the module is [torch.nn::?].",
    ]
    adam = [c for c in cards if c.front.startswith("Adam")]
    assert {c.back for c in adam} == {
        "Adam keeps running averages of the gradient and of its square per weight."
    }
    assert not any("{{" in c.front + c.back or "}}" in c.front + c.back for c in cards)
    assert len({c.id for c in cards}) == len(cards)  # each cloze card its own id


def test_anki_notes_text_export_with_cloze_rows_and_an_extra_field():
    deck = read_deck_file(CASES / "notes.txt")
    got = [(c.deck, c.front, c.back, c.tags) for c in deck.cards]
    assert got == [
        ("ML::Activations", "What is ReLU?",
         "max(0, x): zero for negative inputs, the input itself otherwise.", ("activation",)),
        ("ML::Activations", "[...] squashes any input into the range (0, 1).",
         "Sigmoid squashes any input into the range (0, 1).", ("activation",)),
        ("ML::Activations", "Sigmoid squashes any input into the range [...].",
         "Sigmoid squashes any input into the range (0, 1).", ("activation",)),
        ("ML::Regularization", "What does dropout do?",
         "Randomly zeroes units while training.\nIt is switched off at test time.\n"
         "See the 2014 JMLR paper.", ("regularization",)),
    ]  # fmt: skip
    # the guid column gives the id, the same one an .apkg of that note gives
    assert deck.cards[0].id == guid_id("k2#Vx9aQ1z")
    assert deck.cards[2].id == guid_id("b7@Pq3LmR0", "c2")


def test_old_anki_export_without_headers_is_cleaned_of_html_and_keeps_its_tags():
    cards = cards_of("old_anki_export_no_header.txt")
    assert [(c.front, c.back, c.tags) for c in cards] == [
        ("What is ReLU?", "max(0, x)\nzero for negative inputs", ("activation",)),
        ("What is the vanishing gradient problem?",
         "gradients shrink layer by layer & early layers stop learning", ("gradients",)),
    ]  # fmt: skip


def test_quizlet_comma_keeps_the_whole_definition():
    cards = cards_of("quizlet_comma.csv")
    assert [(c.front, c.back) for c in cards] == [
        ("epoch", "one full pass over the training set"),
        ("ReLU", "max(0, x), cheap to compute, no saturation for positive inputs"),
        ("learning rate", "the step size of each gradient update"),
    ]


def test_quizlet_semicolon_row_separator_gives_three_cards():
    cards = cards_of("quizlet_semicolon_rows.txt")
    assert [(c.front, c.back) for c in cards] == [
        ("epoch", "one full pass over the training set"),
        ("ReLU", "max(0, x), the usual hidden-layer activation"),
        ("learning rate", "the step size of each gradient update"),
    ]


def test_quizlet_tab_export_with_a_definition_over_two_lines():
    cards = cards_of("quizlet_tab_multiline.txt")
    assert [(c.front, c.back) for c in cards] == [
        ("epoch", "one full pass over the training set"),
        ("backpropagation", "applies the chain rule from the loss back to every weight\n"
         "it reuses the gradients of later layers"),
        ("learning rate", "the step size of each gradient update"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "name, text",
    [
        ("dash.txt", "epoch - one pass over the data, all of it\nReLU - max(0, x)\n"),
        ("colons.txt", "epoch::one pass over the data, all of it\nReLU::max(0, x)\n"),
        (
            "excel_eu.csv",
            "Question;Answer\nepoch;one pass over the data, all of it\nReLU;max(0, x)\n",
        ),
    ],
)
def test_quizlet_custom_separators_and_a_european_spreadsheet(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    assert [(c.front, c.back) for c in read_deck_file(tmp_path / name).cards] == [
        ("epoch", "one pass over the data, all of it"),
        ("ReLU", "max(0, x)"),
    ]


def test_anki_type_in_the_answer_card_does_not_show_the_answer_on_its_front(tmp_path):
    import genanki

    model = genanki.Model(
        1607392321,
        "Basic (type in the answer)",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}\n\n{{type:Back}}",
                    "afmt": "{{Front}}<hr id=answer>{{type:Back}}"}],
    )  # fmt: skip
    deck = genanki.Deck(12, "Nets")
    deck.add_note(genanki.Note(model=model, fields=["What is ReLU?", "max(0, x)"]))
    genanki.Package(deck).write_to_file(str(tmp_path / "typed.apkg"))
    (card,) = read_deck_file(tmp_path / "typed.apkg").cards
    assert (card.front, card.back) == ("What is ReLU?", "max(0, x)")


def test_short_answers_added_into_a_folder_with_no_knowledge_yet(tmp_path, embedder):
    added = add_deck(
        CASES / "short_answers.md",
        knowledge=tmp_path / "knowledge",
        index=tmp_path / "index",
        embedder=embedder,
    )
    assert (tmp_path / "knowledge" / "short_answers.md").read_bytes() == (
        CASES / "short_answers.md"
    ).read_bytes()
    assert added.cards == 5 and added.decks == ("Short answers",)
    written = (tmp_path / "knowledge" / "short_answers.md").read_text()
    backs = [c.back for c in parse_markdown_deck(written, "knowledge/short_answers.md")]
    assert backs == ["Euclidean distance", "Adam", "ReLU", "Cross-entropy loss", "2.4"]


def test_a_failed_first_add_leaves_no_knowledge_folder(tmp_path, embedder):
    bad = tmp_path / "bad.csv"
    bad.write_text("What is ReLU?,max(0, x)\nWhat is a tensor?\n")
    with pytest.raises(DeckError, match="bad.csv:2"):
        add_deck(bad, knowledge=tmp_path / "knowledge", index=tmp_path / "index", embedder=embedder)
    assert not (tmp_path / "knowledge").exists()


def test_markdown_answers_with_html_and_a_code_fence(tmp_path):
    md = tmp_path / "formulas.md"
    md.write_text(
        "# Formulas\n\n## What is the softplus?\n<strong>log(1 + e<sup>x</sup>)</strong>, "
        'x<sub>i</sub> per unit<br><img src="softplus.png">\n\n'
        "## How do I print a heading in Python?\n```python\n# a comment, not a card\n"
        "print('# Title')\n```\n"
    )
    deck = read_deck_file(md)
    assert [c.front for c in deck.cards] == [
        "What is the softplus?",
        "How do I print a heading in Python?",
    ]
    assert deck.cards[0].back == "log(1 + e^x), x_i per unit\n[image: softplus.png]"
    assert deck.cards[1].back.splitlines()[1] == "# a comment, not a card"
    assert deck.format == "markdown+html"
    back = parse_markdown_deck(to_markdown(deck), "knowledge/formulas.md")  # reads back
    assert [c.back for c in back] == [c.back for c in deck.cards]


def test_obsidian_and_logseq_cards_and_question_semicolon_answer(tmp_path):
    note = tmp_path / "notes.md"
    note.write_text(
        "#flashcards/ML/Basics\n\nSome prose about nets.\n\nWhat is ReLU?::max(0, x)\n"
        "Epoch:::one pass over the data\n\nWhat does dropout do\nwhile training?\n?\n"
        "Zeroes random units.\nRescales the rest.\n\n```\nnot::a card\n```\n"
    )
    got = [(c.deck, c.front, c.back) for c in read_deck_file(note).cards]
    assert got == [
        ("ML::Basics", "What is ReLU?", "max(0, x)"),
        ("ML::Basics", "Epoch", "one pass over the data"),
        ("ML::Basics", "one pass over the data", "Epoch"),  # ::: makes the reversed card
        ("ML::Basics", "What does dropout do while training?",
         "Zeroes random units.\nRescales the rest."),
    ]  # fmt: skip
    logseq = tmp_path / "page.md"
    logseq.write_text("- What is a tensor? #card\n\t- an n-dimensional array\n- unrelated\n")
    assert [(c.front, c.back) for c in read_deck_file(logseq).cards] == [
        ("What is a tensor?", "- an n-dimensional array")
    ]
    plain = tmp_path / "qa.txt"
    plain.write_text("What is ReLU?; max(0, x)\nWhat is an epoch?; one pass over the data\n")
    assert [(c.front, c.back) for c in read_deck_file(plain).cards] == [
        ("What is ReLU?", "max(0, x)"),
        ("What is an epoch?", "one pass over the data"),
    ]


def test_spreadsheet_csv_bom_crlf_quoted_newlines_header_and_encodings(tmp_path):
    p = tmp_path / "sheet.csv"
    p.write_bytes(
        "\ufeffTerm,Definition,Notes\r\n"
        '"What is ReLU?","max(0, x)\r\nzero below",from class\r\n'.encode("utf-8")
    )
    (c,) = read_deck_file(p).cards
    assert (c.front, c.back) == ("What is ReLU?", "max(0, x)\nzero below\nnotes: from class")
    p.write_bytes("Term\tDefinition\nÉpoque\tun passage\n".encode("utf-16"))
    assert read_deck_file(p).cards[0].front == "Époque"
    p.write_bytes("Époque,un passage\n".encode("cp1252"))
    with pytest.raises(DeckError, match=r"sheet.csv:1: not UTF-8 text; save the file as UTF-8"):
        read_deck_file(p)


def test_a_parent_deck_covers_its_children_and_exact_duplicates_are_one_card(tmp_path):
    from nnqa.decks.library import DeckLibrary

    csv_file = tmp_path / "nets.csv"
    csv_file.write_text(
        "front,back,deck\nWhat is a stride?,The step of a kernel.,Nets::Vision\n"
        "What is a token?,A unit of text.,Nets::Text\nWhat is a token?,A unit of text.,Nets::Text\n"
        "What is a token?,A coin.,Crypto\n"
    )
    deck = read_deck_file(csv_file)
    assert [(c.deck, c.front) for c in deck.cards] == [
        ("Nets::Vision", "What is a stride?"),
        ("Nets::Text", "What is a token?"),
        ("Crypto", "What is a token?"),  # the same front in another deck: its own card
    ]
    assert deck.notes == ("line 4: a duplicate of an earlier card; skipped",)
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "knowledge" / "nets.md").write_text(to_markdown(deck))
    lib = DeckLibrary(tmp_path / "knowledge")
    fronts = {lib.cards[i].front for i in lib.positions("Nets").values()}
    assert fronts == {"What is a stride?", "What is a token?"}
    assert len(lib.positions("Nets::Text")) == 1 and len(lib.positions("Crypto")) == 1
    with pytest.raises(KeyError, match="2 cards have the front 'What is a token\\?', in decks"):
        lib.card("What is a token?")
    crypto = next(c for c in lib.cards if c.deck == "Crypto")
    assert lib.card(crypto.id).back == "A coin."


# -- the corpus of real public decks ---------------------------------------------------


def anki_card_count(apkg: Path) -> int:
    """Cards in a package, read straight from its collection (zstd or not)."""
    with zipfile.ZipFile(apkg) as z, tempfile.TemporaryDirectory() as tmp:
        names = set(z.namelist())
        db = Path(tmp) / "c.sqlite"
        if "collection.anki21b" in names:
            db.write_bytes(
                zstandard.ZstdDecompressor().stream_reader(z.read("collection.anki21b")).read()
            )
        else:
            db.write_bytes(
                z.read("collection.anki21" if "collection.anki21" in names else "collection.anki2")
            )
        con = sqlite3.connect(db)
        try:
            return con.execute("select count(*) from cards").fetchone()[0]
        finally:
            con.close()


def csv_rows(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for r in csv.reader(f) if any(x.strip() for x in r))


def cloze_numbers(text: str) -> int:
    import re

    return len(set(re.findall(r"\{\{c(\d+)::", text)))


def expected_cards(path: Path) -> int:
    """Cards a learner should get from each file, counted without nnqa's readers."""
    if path.suffix == ".apkg":
        return anki_card_count(path)
    if path.name == "deck.json":  # CrowdAnki: a card per note, a card per cloze number
        notes = json.loads(path.read_text())["notes"]
        return sum(max(1, cloze_numbers(n["fields"][0])) for n in notes)
    if path.suffix == ".jsonl":
        return sum(1 for ln in path.read_text().splitlines() if ln.strip())
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        return len(data if isinstance(data, list) else data["entries"])
    if path.name == "cloze.csv":
        with open(path, newline="", encoding="utf-8") as f:
            return sum(cloze_numbers(r["text"]) for r in csv.DictReader(f))
    has_header = path.read_text().split(",", 1)[0].strip('"').lower() in ("country", "guid")
    return csv_rows(path) - has_header


def corpus() -> list[Path]:
    files = sorted(DECKS.glob("*/original/*.csv")) + sorted(DECKS.glob("*/original/*.json"))
    return files + sorted(DECKS.glob("*/cards.jsonl")) + sorted(DECKS.glob("format_samples/*.apkg"))


@pytest.mark.skipif(not DECKS.is_dir(), reason="../shared/data/decks is not here")
def test_every_real_deck_imports_with_no_card_lost(tmp_path):
    counts = {}
    for path in corpus():
        deck = read_deck_file(path)
        assert len(deck.cards) == expected_cards(path), path
        assert all(c.front.strip() and c.back.strip() for c in deck.cards), path
        assert not any("<div" in c.back or "&nbsp;" in c.back for c in deck.cards), path
        # the readable form nnqa writes reads back to the same cards
        again = parse_markdown_deck(to_markdown(deck), f"knowledge/{path.stem}.md")
        assert [(c.front, c.back) for c in again] == [(c.front, c.back) for c in deck.cards], path
        counts[str(path.relative_to(DECKS))] = len(deck.cards)
    assert counts == {
        "chemistry_periodic_table/cards.jsonl": 118,
        "chemistry_periodic_table/original/data.json": 118,
        "format_samples/2020_ITPATFR_Benton.apkg": 3,
        "format_samples/Web3.apkg": 25,
        "geography_capitals/cards.jsonl": 219,
        "geography_capitals/original/capital.csv": 219,
        "geography_capitals/original/capital_hint.csv": 6,
        "geography_capitals/original/capital_info.csv": 28,
        "geography_capitals/original/main.csv": 323,
        "geology_and_us_presidents/cards.jsonl": 122,
        "geology_and_us_presidents/original/O957_General_Knowledge.json": 122,
        "history_ultimate_history/cards.jsonl": 205,
        "history_ultimate_history/original/cloze.csv": 12,
        "history_ultimate_history/original/deck.json": 215,
        "history_ultimate_history/original/event.csv": 78,
        "history_ultimate_history/original/person.csv": 120,
        "history_ultimate_history/original/qa.csv": 5,
        "programming_basics/cards.jsonl": 53,
        "programming_basics/original/programming-basic.csv": 53,
    }
