"""Bring your own deck: real Anki packages, Anki/Quizlet text exports and Markdown, imported
into a copy of the shipped knowledge folder, asked about, and quoted with their deck.
Broken files get one clear error and leave knowledge/ and index/ exactly as they were."""

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import genanki
import pytest

from nnqa import DeckError, Tutor
from nnqa.add import add_deck
from nnqa.decks.anki import read_apkg
from nnqa.decks.cards import parse_markdown_deck
from nnqa.decks.imports import read_deck_file, read_delimited, to_markdown

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path):
    """knowledge/ and index/ copied from the repo: the shipped deck, already indexed."""
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    shutil.copytree(ROOT / "index", tmp_path / "index")
    return tmp_path


def snapshot(home: Path) -> dict[str, str]:
    """Every file under knowledge/ and index/ with its sha256 (hidden files included)."""
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for d in ("knowledge", "index")
        for p in sorted((home / d).rglob("*"))
        if p.is_file()
    }


def make_apkg(path: Path) -> Path:
    basic = genanki.Model(
        1607392319,
        "Basic",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}],
    )
    deck = genanki.Deck(2059400110, "Deep Learning::Optimisers")
    deck.add_note(
        genanki.Note(
            model=basic,
            fields=[
                "What does the <b>Adam</b> optimiser keep per weight?",
                "Running averages of the gradient and of its square<br>"
                "<ul><li>first moment: momentum</li><li>second moment: scale</li></ul>"
                '<img src="adam.png"> [sound:adam.mp3]',
            ],
            tags=["optimisers", "adam"],
        )
    )
    deck.add_note(
        genanki.Note(
            model=genanki.CLOZE_MODEL,
            fields=[
                "{{c1::Nesterov momentum}} evaluates the gradient at the "
                "{{c2::look-ahead::where?}} position",
                "",
            ],
            tags=["optimisers"],
        )
    )
    genanki.Package(deck).write_to_file(str(path))
    return path


def test_read_apkg_notes_cloze_html_tags_and_deck(tmp_path):
    deck = read_apkg(make_apkg(tmp_path / "optimisers.apkg"))
    assert deck.decks == ["Deep Learning::Optimisers"]
    adam, c1, c2 = deck.cards
    assert adam.front == "What does the Adam optimiser keep per weight?"
    assert adam.back.splitlines() == [
        "Running averages of the gradient and of its square",
        "- first moment: momentum",
        "- second moment: scale",
        "[image: adam.png] [sound: adam.mp3]",  # what the answer showed, not dropped unseen
    ]
    assert adam.tags == ("optimisers", "adam") and adam.origin.startswith("note ")
    assert c1.front == "[...] evaluates the gradient at the look-ahead position"
    assert c2.front == "Nesterov momentum evaluates the gradient at the [where?] position"
    assert (
        c1.back == c2.back == "Nesterov momentum evaluates the gradient at the look-ahead position"
    )
    assert deck.notes[0] == "1 image(s) and 1 sound(s) shown as placeholders"


def test_markdown_form_reads_back_to_the_same_cards(tmp_path):
    deck = read_apkg(make_apkg(tmp_path / "o.apkg"))
    cards = parse_markdown_deck(to_markdown(deck), "knowledge/o.md")
    assert [(c.deck, c.front, c.back, c.tags) for c in cards] == [
        (c.deck, c.front, c.back, c.tags) for c in deck.cards
    ]


def test_add_apkg_then_ask_quotes_it_with_its_deck(home, embedder):
    added = add_deck(
        make_apkg(home / "optimisers.apkg"),
        knowledge=home / "knowledge",
        index=home / "index",
        embedder=embedder,
    )
    assert added.written == "knowledge/optimisers.md" and added.cards == 3
    assert 0 < added.embedded < 20  # only the new cards; the shipped deck's vectors reused
    t = Tutor(knowledge=home / "knowledge", index=home / "index", embedder=embedder)
    a = t.ask("what does adam keep for each weight")
    assert not t.index_status.rebuilt
    assert a.hits[0].card.deck == "Deep Learning::Optimisers"
    assert "Running averages of the gradient" in a.hits[0].quote
    assert "Deep Learning::Optimisers" in str(a) and "knowledge/optimisers.md:" in str(a)
    assert a.hits[0].to_dict()["deck"] == "Deep Learning::Optimisers"
    assert a.hits[0].card.tags == ("optimisers", "adam")
    # the deck filter: the shipped deck alone never quotes the new card, and vice versa
    shipped = t.ask("what does adam keep for each weight", deck="Neural Networks Flashcards")
    assert all(h.card.deck == "Neural Networks Flashcards" for h in shipped.hits)
    mine = t.ask("what causes vanishing gradients", deck="Deep Learning::Optimisers")
    assert all(h.card.deck == "Deep Learning::Optimisers" for h in mine.hits)
    manifest = json.loads((home / "index" / "manifest.json").read_text())
    assert {d["deck"] for d in manifest["decks"]} == {
        "Neural Networks Flashcards",
        "Deep Learning::Optimisers",
    }


ANKI_TXT = """#separator:tab
#html:true
#deck:Sequence Models
#columns:Front\tBack\tTags
What does the forget gate of an LSTM decide?\tWhich parts of the cell state to <i>drop</i>.\trnn lstm
"Why clip gradients in an RNN?"\t"To stop exploding gradients;<br>the norm is capped."\trnn
"""


def test_add_anki_text_export_with_headers(home, embedder):
    (home / "seq.txt").write_text(ANKI_TXT)
    added = add_deck(
        home / "seq.txt", knowledge=home / "knowledge", index=home / "index", embedder=embedder
    )
    assert added.format == "delimited" and added.decks == ("Sequence Models",)
    t = Tutor(knowledge=home / "knowledge", index=home / "index", embedder=embedder)
    a = t.ask("what does the lstm forget gate decide")
    assert a.hits[0].card.front == "What does the forget gate of an LSTM decide?"
    assert a.hits[0].quote == "Which parts of the cell state to drop."
    assert a.hits[0].card.deck == "Sequence Models" and a.hits[0].card.tags == ("rnn", "lstm")
    clip = [c for c in t.cards if c.front == "Why clip gradients in an RNN?"][0]
    assert clip.back == "To stop exploding gradients;\nthe norm is capped."


def test_quizlet_comma_and_semicolon_exports():
    d = read_delimited("Epoch,One pass over the training set\nBatch,Examples per step\n", "q.csv")
    assert [(c.front, c.back, c.deck) for c in d.cards][1] == ("Batch", "Examples per step", "q")
    d = read_delimited("Epoch;One pass\n", "q.txt")
    assert d.cards[0].back == "One pass"


def test_add_markdown_keeps_the_file_as_written(home, embedder):
    md = "# Regularisation\n\n## What is weight decay?\nAn L2 penalty that shrinks weights.\n"
    (home / "reg.md").write_text(md)
    added = add_deck(
        home / "reg.md", knowledge=home / "knowledge", index=home / "index", embedder=embedder
    )
    assert added.embedded == 2 and (home / "knowledge" / "reg.md").read_text() == md
    t = Tutor(knowledge=home / "knowledge", index=home / "index", embedder=embedder)
    hit = t.ask("what is weight decay").hits[0]
    assert (hit.card.deck, hit.card.where) == ("Regularisation", "knowledge/reg.md:3")


def broken_zip(home):
    p = home / "broken.apkg"
    make_apkg(p)
    p.write_bytes(p.read_bytes()[:200])
    return p


def not_a_collection(home):
    p = home / "empty.apkg"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("media", "{}")
    return p


def missing_column(home):
    p = home / "cards.csv"
    p.write_text("What is ReLU?,max(0, x)\nWhat is a tensor?\n")
    return p


def empty_file(home):
    p = home / "empty.csv"
    p.write_text("")
    return p


def empty_markdown(home):
    p = home / "nothing.md"
    p.write_text("\n\n")
    return p


def clashing_deck(home):
    p = home / "other.md"
    p.write_text("# Neural Networks Flashcards\n\n## What is a GRU?\nA gated recurrent unit.\n")
    return p


def same_file_name(home):
    p = home / "neural_networks.txt"
    p.write_text("Another deck\nWhat is a GRU?\nA gated recurrent unit.\n")
    return p


@pytest.mark.parametrize(
    "make, message",
    [
        (broken_zip, "broken.apkg: not a readable Anki package"),
        (not_a_collection, "empty.apkg: not an Anki package: no collection.anki2"),
        (missing_column, "cards.csv:2: expected 2 comma-separated columns (front, back), found 1"),
        (empty_file, "empty.csv: the file is empty"),
        (empty_markdown, "nothing.md: the deck is empty"),
        (clashing_deck, "a deck named 'Neural Networks Flashcards' is already in"),
        (same_file_name, "knowledge/neural_networks.txt already exists; add --replace"),
    ],
)
def test_bad_imports_fail_clearly_and_change_nothing(home, embedder, make, message):
    before = snapshot(home)
    with pytest.raises(DeckError) as e:
        add_deck(make(home), knowledge=home / "knowledge", index=home / "index", embedder=embedder)
    assert message in str(e.value)
    assert snapshot(home) == before


def test_failed_index_update_puts_the_deck_and_index_back(home, embedder):
    before = snapshot(home)
    (home / "reg.md").write_text("# Reg\n\n## What is weight decay?\nAn L2 penalty.\n")

    class Broken:  # a model that fails halfway through embedding
        model_id, load_from = embedder.model_id, embedder.load_from

        def encode(self, texts):
            raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        add_deck(
            home / "reg.md", knowledge=home / "knowledge", index=home / "index", embedder=Broken()
        )
    assert snapshot(home) == before


def test_replace_and_rename(home, embedder):
    (home / "reg.md").write_text("# Reg\n\n## What is weight decay?\nAn L2 penalty.\n")
    kw = dict(knowledge=home / "knowledge", index=home / "index", embedder=embedder)
    add_deck(home / "reg.md", **kw)
    (home / "reg.md").write_text("# Reg\n\n## What is weight decay?\nAn L2 penalty on weights.\n")
    with pytest.raises(DeckError, match="already exists"):
        add_deck(home / "reg.md", **kw)
    added = add_deck(home / "reg.md", replace=True, deck="Regularisation", **kw)
    assert added.decks == ("Regularisation",) and added.written == "knowledge/reg.md"
    t = Tutor(knowledge=home / "knowledge", index=home / "index", embedder=embedder)
    assert "Reg" not in t.decks and "Regularisation" in t.decks


def test_removing_a_deck_file_removes_its_cards(home, embedder):
    (home / "reg.md").write_text("# Reg\n\n## What is weight decay?\nAn L2 penalty.\n")
    kw = dict(knowledge=home / "knowledge", index=home / "index", embedder=embedder)
    add_deck(home / "reg.md", **kw)
    (home / "knowledge" / "reg.md").unlink()
    t = Tutor(knowledge=home / "knowledge", index=home / "index", embedder=embedder)
    t.rebuild(force=False)
    assert t.index_status.embedded == 0 and "Reg" not in t.decks
    assert {r["card"] for r in t.index.rows} == {c.id for c in t.cards}


def test_unknown_extension_and_plain_text_deck(tmp_path):
    (tmp_path / "x.pdf").write_text("%PDF")
    with pytest.raises(DeckError, match="cannot import '.pdf'"):
        read_deck_file(tmp_path / "x.pdf")
    d = read_deck_file(ROOT / "knowledge" / "neural_networks.txt")
    assert d.format == "text" and len(d.cards) == 15


def test_progress_callback_sees_every_text_embedded(home, embedder):
    (home / "reg.md").write_text("# Reg\n\n## What is weight decay?\nAn L2 penalty.\n")
    seen = []
    added = add_deck(
        home / "reg.md",
        knowledge=home / "knowledge",
        index=home / "index",
        embedder=embedder,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[0] == (0, 2) and seen[-1] == (2, 2) and added.embedded == 2


def test_cli_add_prints_json_and_errors_in_one_line(home):
    import os
    import subprocess
    import sys

    def nnqa(*args):
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "NNQA_THREADS": "1"}
        base = ["--knowledge", str(home / "knowledge"), "--index", str(home / "index")]
        return subprocess.run(
            [sys.executable, "-m", "nnqa", *base, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
        )

    (home / "terms.csv").write_text("Epoch,One pass over the training set\n")
    r = nnqa("add", str(home / "terms.csv"), "--deck", "Training terms", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["written"] == "knowledge/terms.md" and d["decks"] == ["Training terms"]
    before = snapshot(home)
    (home / "bad.csv").write_text("Epoch\n")
    r = nnqa("add", str(home / "bad.csv"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().startswith("nnqa: bad.csv:1: expected 2 comma-separated columns")
    assert snapshot(home) == before


def test_an_apkg_with_two_decks_becomes_one_file_with_two_decks(tmp_path, embedder):
    basic = genanki.BASIC_MODEL
    a, b = genanki.Deck(1, "Vision"), genanki.Deck(2, "Language")
    a.add_note(genanki.Note(model=basic, fields=["What is a stride?", "The step of a kernel."]))
    b.add_note(genanki.Note(model=basic, fields=["What is a token?", "A unit of text."]))
    genanki.Package([a, b]).write_to_file(str(tmp_path / "two.apkg"))
    (tmp_path / "knowledge").mkdir()
    added = add_deck(
        tmp_path / "two.apkg",
        knowledge=tmp_path / "knowledge",
        index=tmp_path / "index",
        embedder=embedder,
    )
    assert added.decks == ("Vision", "Language")
    t = Tutor(knowledge=tmp_path / "knowledge", index=tmp_path / "index", embedder=embedder)
    assert t.ask("what is a token", deck="Language").hits[0].card.front == "What is a token?"
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["decks"][0]["decks"] == ["Vision", "Language"]


def test_anki_export_with_guid_notetype_and_deck_columns():
    text = (
        "#separator:tab\n#html:false\n#guid column:1\n#notetype column:2\n#deck column:3\n"
        "#tags column:6\n"
        "aB3x\tBasic\tNets::Basics\tWhat is an epoch?\tOne pass over the data\tbasics core\n"
    )
    c = read_delimited(text, "export.txt").cards[0]
    assert (c.front, c.back, c.deck, c.tags) == (
        "What is an epoch?",
        "One pass over the data",
        "Nets::Basics",
        ("basics", "core"),
    )
