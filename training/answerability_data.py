"""Training data for the answerability model: decks and questions from public data.

Each source becomes one deck of cards plus questions: a question whose card is in the
deck is answerable; a question whose card was held out of the deck is near-domain and
unanswerable (the deck is on its subject but has no card on it); questions from other
sources are far and unanswerable. Sources (see each README under ../shared/data):

* CovidFAQ: 67 FAQ answers as cards, real user queries as questions;
* StackFAQ: 125 threads (question + top answer) as cards, their written paraphrases;
* MedQuAD (one collection) and three Anki decks (chemistry, capitals, history): cards as
  they are; questions are the fronts, their meaningful words only ("capital france"),
  and the fronts with one typo, because these sources carry no paraphrases;
* the shipped deck with the team's tuning questions (tests/data/questions.jsonl).

The decks the blind sets use (programming, geology) and ds_interview (the blind sets'
source of real interview questions) are never used here.
"""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
HELD_OUT = 0.25  # share of each deck's cards held out: their questions are near-domain
FAR_PER_DECK = 40  # far questions (from other sources) per deck
MAX_CARDS = 150  # cards per deck at most (keeps encoding time down)

_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/div|/p|/li)\s*/?>", re.IGNORECASE)


def plain(text: str) -> str:
    """Anki HTML as plain lines: breaks kept, tags dropped, entities decoded."""
    text = _BREAK.sub("\n", text)
    text = html.unescape(_TAG.sub(" ", text))
    lines = [" ".join(x.split()) for x in text.splitlines()]
    return "\n".join(x.lstrip("#").strip() for x in lines if x.strip())


@dataclass
class Deck:
    name: str
    cards: list[tuple[str, str]]  # (front, back) in the deck
    questions: list[tuple[str, str | None, str]] = field(default_factory=list)
    # (question, front of the card that answers it or None, kind: answerable/near/far)

    def markdown(self) -> str:
        out = [f"# {self.name}", ""]
        for front, back in self.cards:
            out += [f"## {' '.join(front.split())}", back, ""]
        return "\n".join(out)


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(x) for x in f if x.strip()]


def keywords(front: str) -> str:
    from nnqa.text import terms

    return " ".join(terms(front)) or front


def typo(front: str, rng: random.Random) -> str:
    words = front.split()
    long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if not long:
        return front
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def _split(items: list, rng: random.Random) -> tuple[list, list]:
    items = list(items)
    rng.shuffle(items)
    cut = int(len(items) * HELD_OUT)
    return items[cut:], items[:cut]


def from_cards(name: str, pairs: list[tuple[str, str]], rng: random.Random) -> Deck:
    """A deck of cards whose only questions are their fronts (three forms each)."""
    seen, unique = set(), []
    for f, b in pairs:
        if f.lower() not in seen and b.strip():
            seen.add(f.lower())
            unique.append((f, b))
    kept, held = _split(unique[: int(MAX_CARDS / (1 - HELD_OUT))], rng)
    deck = Deck(name, kept)
    for group, kind in ((kept, "answerable"), (held, "near")):
        for f, _ in group:
            label = f if kind == "answerable" else None
            form = rng.choice(("front", "keywords", "typo"))
            q = {"front": f, "keywords": keywords(f), "typo": typo(f, rng)}[form]
            deck.questions.append((q, label, kind))
    return deck


def anki_deck(folder: str, rng: random.Random) -> Deck:
    rows = _jsonl(SHARED / "decks" / folder / "cards.jsonl")
    pairs = [(plain(r["front"]), plain(r["back"])) for r in rows if r.get("note_type") != "cloze"]
    pairs = [(f, b) for f, b in pairs if f and b and "[image" not in f]
    return from_cards(folder, pairs, rng)


def covid_deck(rng: random.Random) -> Deck:
    rows = _jsonl(SHARED / "qa" / "covidfaq.jsonl")
    by_answer: dict[str, list[str]] = {}
    for r in rows:
        by_answer.setdefault(r["answer"], []).append(r["question"])
    answers = list(by_answer)
    kept, held = _split(answers, rng)
    # the FAQ's own question is the first one listed for an answer; the rest are queries
    deck = Deck("covidfaq", [(by_answer[a][0], a[:1500]) for a in kept])
    for group, kind in ((kept, "answerable"), (held, "near")):
        for a in group:
            qs = by_answer[a][1:] or by_answer[a][:1]
            for q in rng.sample(qs, min(4, len(qs))):
                deck.questions.append((q, by_answer[a][0] if kind == "answerable" else None, kind))
    return deck


def stack_deck(rng: random.Random) -> Deck:
    rows = [r for r in _jsonl(SHARED / "qa" / "stackfaq.jsonl") if r["answer_rank"] == 0]
    kept, held = _split(rows, rng)
    deck = Deck("stackfaq", [(r["question"], r["answer"][:1500]) for r in kept])
    for group, kind in ((kept, "answerable"), (held, "near")):
        for r in group:
            qs = r.get("paraphrases") or [r["question"]]
            for q in rng.sample(qs, min(3, len(qs))):
                deck.questions.append((q, r["question"] if kind == "answerable" else None, kind))
    return deck


def medquad_deck(rng: random.Random, collection: str = "5_NIDDK_QA") -> Deck:
    rows = [r for r in _jsonl(SHARED / "qa" / "medquad.jsonl") if r["collection"] == collection]
    rng.shuffle(rows)
    pairs = [(r["question"], r["answer"][:1500]) for r in rows[:400]]
    return from_cards("medquad", pairs, rng)


def shipped_deck() -> tuple[Path, list[tuple[str, str | None, str]]]:
    """The shipped deck's file and the team's tuning questions over it."""
    qs = []
    for r in _jsonl(ROOT / "tests" / "data" / "questions.jsonl"):
        cards = r.get("cards") or []
        qs.append((r["question"], cards[0] if cards else None, "answerable" if cards else "near"))
    return ROOT / "knowledge" / "neural_networks.txt", qs


def far_questions(rng: random.Random) -> list[str]:
    """Questions about anything: CMU's general-knowledge questions (never a deck here)."""
    rows = _jsonl(SHARED / "qa" / "cmu_qa.jsonl")
    qs = sorted({r["question"] for r in rows if len(r["question"].split()) >= 4})
    rng.shuffle(qs)
    return qs


def bank_questions(rng: random.Random, n: int = 300) -> list[str]:
    """Off-deck questions whose scores in a deck calibrate it (stored with the model)."""
    far = far_questions(random.Random(7))[-n // 2 :]  # disjoint from the far questions used
    med = [
        r["question"]
        for r in _jsonl(SHARED / "qa" / "medquad.jsonl")
        if r["collection"] == "1_CancerGov_QA"
    ]
    rng.shuffle(med)
    return far + med[: n - len(far)]


def decks(seed: int = 13) -> list[Deck]:
    rng = random.Random(seed)
    out = [
        covid_deck(rng),
        stack_deck(rng),
        medquad_deck(rng),
        anki_deck("chemistry_periodic_table", rng),
        anki_deck("geography_capitals", rng),
        anki_deck("history_ultimate_history", rng),
    ]
    far = far_questions(random.Random(7))[:-150]
    for i, d in enumerate(out):
        for q in far[i * FAR_PER_DECK : (i + 1) * FAR_PER_DECK]:
            d.questions.append((q, None, "far"))
    return out
