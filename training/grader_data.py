"""Training pairs for the answer judge: (question, reference, answer) -> one of four labels.

Labels (the SemEval-2013 Task 7 five-way scheme, with its two off-topic classes merged):
    0 correct       the answer says what the reference says
    1 partial       it says part of it, and nothing against it
    2 contradictory it says something the reference contradicts
    3 irrelevant    it says nothing about what was asked (irrelevant or non-domain)

Sources, all under ../shared/data (licenses in their READMEs):
    semeval2013/train.jsonl   the official training split (CC BY-SA 3.0); its test splits are
                              never read here
    nli/snli_{dev,test}.jsonl SNLI pairs (CC BY-SA 4.0): entailment -> correct,
                              contradiction -> contradictory; neutral pairs are left out (a
                              neutral hypothesis is neither a partial answer nor off-topic)
    decks/{history_ultimate_history,chemistry_periodic_table,geography_capitals}: cards turned
                              into answers: the card itself (correct), some of its parts
                              (partial), another card's answer (irrelevant), the card made
                              false by generic English edits (contradictory, see `perturb`)
    semeval2013 references    the same edits on the SemEval references

SICK is not used: it is NonCommercial. The decks nnqa's blind sets are written on
(programming basics, geology, the neural-networks deck) are not used either.
Leaves out: the model and the training loop (`train_grader.py`).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

LABELS = ("correct", "partial", "contradictory", "irrelevant")
LABEL5 = {
    "correct": 0,
    "partially_correct_incomplete": 1,
    "contradictory": 2,
    "irrelevant": 3,
    "non_domain": 3,
}


@dataclass(frozen=True)
class Pair:
    question: str  # '' when the teacher gave none
    reference: str
    answer: str
    label: int  # index into LABELS
    source: str


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------- generic English edits

_AUX = re.compile(
    r"\b(is|are|was|were|can|will|does|do|did|has|have|had|should|must|could|would|may)\b(?! not)",
    re.IGNORECASE,
)
_NEG = re.compile(
    r"\b(is|are|was|were|can|will|does|do|did|has|have|should|must|could|would)(?: not|n't)\b", re.I
)
_OPPOSITES = [
    ("increase", "decrease"),
    ("increases", "decreases"),
    ("increased", "decreased"),
    ("more", "less"),
    ("higher", "lower"),
    ("larger", "smaller"),
    ("bigger", "smaller"),
    ("before", "after"),
    ("always", "never"),
    ("first", "last"),
    ("above", "below"),
    ("faster", "slower"),
    ("longer", "shorter"),
    ("positive", "negative"),
    ("open", "closed"),
    ("connected", "separated"),
    ("inside", "outside"),
    ("same", "different"),
    ("all", "none"),
    ("many", "few"),
    ("most", "least"),
    ("maximum", "minimum"),
    ("add", "remove"),
    ("adds", "removes"),
    ("heavier", "lighter"),
    ("true", "false"),
    ("win", "lose"),
    ("won", "lost"),
    ("north", "south"),
    ("east", "west"),
    ("early", "late"),
    ("rise", "fall"),
    ("strong", "weak"),
    ("hot", "cold"),
    ("high", "low"),
    ("allow", "prevent"),
    ("allows", "prevents"),
    ("easier", "harder"),
    ("with", "without"),
    ("input", "output"),
]
_OPP = {a: b for a, b in _OPPOSITES} | {b: a for a, b in _OPPOSITES}
_WORD = re.compile(r"[A-Za-z]+")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")


def negate(text: str) -> str | None:
    """Flip the first verb's polarity: add 'not' after an auxiliary, or drop one."""
    if m := _NEG.search(text):
        return text[: m.start()] + m.group(1) + text[m.end() :]
    if m := _AUX.search(text):
        return text[: m.end()] + " not" + text[m.end() :]
    return None


def swap_opposite(text: str, rng: random.Random) -> str | None:
    """Replace one word with its opposite (generic English only)."""
    hits = [m for m in _WORD.finditer(text) if m.group(0).lower() in _OPP]
    if not hits:
        return None
    m = rng.choice(hits)
    word = _OPP[m.group(0).lower()]
    if m.group(0)[0].isupper():
        word = word.capitalize()
    return text[: m.start()] + word + text[m.end() :]


def swap_number(text: str, rng: random.Random) -> str | None:
    """Change one number to another (a wrong date, count or amount)."""
    hits = list(_NUMBER.finditer(text))
    if not hits:
        return None
    m = rng.choice(hits)
    value = float(m.group(0))
    new = value + rng.choice([-1, 1]) * max(1, round(abs(value) * rng.uniform(0.1, 0.5)))
    s = str(int(new)) if "." not in m.group(0) else f"{new:.{len(m.group(0).split('.')[1])}f}"
    return text[: m.start()] + s + text[m.end() :] if s != m.group(0) else None


_LIST_WORDS = {"and", "or", "nor", "&", "/", "versus", "vs", "vs."}


def swap_terms(text: str, rng: random.Random) -> str | None:
    """Swap the subject and object around a verb-like middle: 'A causes B' -> 'B causes A'.

    Two words joined as a list ('A and B', 'A, B') are not swapped: that keeps the meaning.
    """
    words = text.split()
    content = [i for i, w in enumerate(words) if len(w.strip(".,;:")) > 4]
    if len(content) < 2:
        return None
    i, j = sorted(rng.sample(content, 2))
    if words[i].strip(".,;:").lower() == words[j].strip(".,;:").lower():
        return None
    between = words[i:j]
    if j == i + 1 or any(w.lower() in _LIST_WORDS or w.endswith(",") for w in between):
        return None
    a, b = words[i].strip(".,;:"), words[j].strip(".,;:")
    words[i] = words[i].replace(a, b)
    words[j] = words[j].replace(b, a)
    return " ".join(words)


def perturb(text: str, rng: random.Random) -> str | None:
    """One contradicting edit, or None when none applies."""
    edits = [lambda t: negate(t), lambda t: swap_opposite(t, rng), lambda t: swap_number(t, rng)]
    rng.shuffle(edits)
    for edit in edits:
        if (out := edit(text)) and out != text:
            return out
    return None


def parts(text: str) -> list[str]:
    """A reference's parts: its sentences, clauses after ';', lines and list items."""
    bits = re.split(r"\s*(?:[;\n]|(?<=[.!?])\s+)\s*", text)
    return [b.strip(" .-*") for b in bits if len(b.strip(" .-*").split()) >= 2]


def clean_html(text: str) -> str:
    text = re.sub(r"<br\s*/?>|</div>|</p>|</li>", "\n", text, flags=re.I)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"\*\*|__|\*", "", text)
    text = text.replace("&nbsp;", " ").replace("&amp;", "&")
    return re.sub(r"[ \t]+", " ", text).strip()


# ---------------------------------------------------------------- sources


def semeval_pairs(data: Path, questions: set[str] | None = None) -> list[Pair]:
    """Student answers of the training split against their question's best reference."""
    out = []
    for r in read_jsonl(data / "semeval2013" / "train.jsonl"):
        if questions is not None and r["question_id"] not in questions:
            continue
        out.append(Pair(r["question"], r["best_reference"], r["student_answer"],
                        LABEL5[r["label5"]], f"semeval-{r['corpus']}"))  # fmt: skip
    return out


def semeval_synthetic(data: Path, rng: random.Random, questions: set[str]) -> list[Pair]:
    """Per training question: a reference as the answer (correct), edited (contradictory)."""
    out, seen = [], set()
    for r in read_jsonl(data / "semeval2013" / "train.jsonl"):
        if r["question_id"] in seen or r["question_id"] not in questions:
            continue
        seen.add(r["question_id"])
        refs = r["best_references"] or [r["best_reference"]]
        ref = r["best_reference"]
        for other in refs:
            out.append(Pair(r["question"], ref, other, 0, "semeval-ref"))
            if bad := perturb(other, rng):
                out.append(Pair(r["question"], ref, bad, 2, "semeval-edit"))
    return out


def snli_pairs(data: Path, rng: random.Random, n: int) -> list[Pair]:
    """SNLI with the hypothesis as the reference and the premise as the answer.

    That direction is grading's: an answer is correct when it entails the reference
    (saying more is fine), contradictory when they contradict, and partial when it is on
    the scene but does not establish all of the reference (neutral, a third as many).
    """
    rows = read_jsonl(data / "nli" / "snli_dev.jsonl") + read_jsonl(
        data / "nli" / "snli_test.jsonl"
    )
    label = {"entailment": 0, "contradiction": 2, "neutral": 1}
    rng.shuffle(rows)
    quota = {"entailment": n * 3 // 7, "contradiction": n * 3 // 7, "neutral": n // 7}
    out = []
    for r in rows:
        if quota.get(r["label"], 0) > 0:
            quota[r["label"]] -= 1
            out.append(Pair("", r["hypothesis"], r["premise"], label[r["label"]], "snli"))
    return out


DECKS = ("history_ultimate_history", "chemistry_periodic_table", "geography_capitals")


def deck_pairs(data: Path, rng: random.Random) -> list[Pair]:
    """Cards of decks nnqa is never measured on, turned into graded answers."""
    out = []
    for name in DECKS:
        cards = [
            (c["front"], clean_html(c["back"]))
            for c in read_jsonl(data / "decks" / name / "cards.jsonl")
        ]
        cards = [(f, b) for f, b in cards if f and b]
        backs = [b for _, b in cards]
        for front, back in cards:
            q = front if front.endswith("?") else f"What do you know about {front}?"
            bits = parts(back)
            if len(bits) >= 2:
                shuffled = bits[:]
                rng.shuffle(shuffled)
                out.append(Pair(q, back, "; ".join(shuffled).lower(), 0, f"deck-{name}"))
                k = rng.randint(1, max(1, len(bits) // 2))
                out.append(Pair(q, back, ", ".join(rng.sample(bits, k)), 1, f"deck-{name}"))
            else:
                out.append(Pair(q, back, back.lower(), 0, f"deck-{name}"))
            other = rng.choice(backs)
            if other != back:  # a neighbour's answer: a wrong term of the same kind, or off-topic
                short = len(other.split()) <= 3 and len(back.split()) <= 3
                wrong = other if short else rng.choice(parts(other) or [other])
                out.append(Pair(q, back, wrong, 2 if short else 3, f"deck-{name}"))
            if (bad := perturb(back, rng)) and rng.random() < 0.7:
                out.append(Pair(q, back, bad, 2, f"deck-{name}"))
    return out


def contrast_pairs(
    data: Path, rng: random.Random, questions: set[str], swaps: bool = False
) -> list[Pair]:
    """Minimal pairs: a reference against itself (correct) and against one generic English
    edit of itself (contradictory): negation added or removed, an opposite word, a number.

    Both directions of negation appear (a reference with "not" loses it), so "not" alone
    does not mean contradictory. With `swaps`, each reference also gets its two terms
    traded (`swap_terms`, contradictory): word order carries meaning. References: SemEval training references, cards of the
    training decks, SNLI premises.
    """
    refs: list[tuple[str, str]] = []
    for r in read_jsonl(data / "semeval2013" / "train.jsonl"):
        if r["question_id"] in questions:
            refs += [(r["question"], x) for x in r["reference_answers"] or [r["best_reference"]]]
    for name in DECKS:
        for c in read_jsonl(data / "decks" / name / "cards.jsonl"):
            back = clean_html(c["back"])
            refs += [(c["front"], b) for b in parts(back) or [back]]
    snli = read_jsonl(data / "nli" / "snli_dev.jsonl")
    rng.shuffle(snli)
    refs += [("", r["premise"]) for r in snli[:1500]]
    refs = list(dict.fromkeys(refs))
    rng.shuffle(refs)
    out = []
    for q, ref in refs:
        edits = [negate(ref), swap_opposite(ref, rng), swap_number(ref, rng)]
        edits = [e for e in edits if e and e != ref]
        swapped = swap_terms(ref, rng) if swaps else None
        if not edits and not swapped:
            continue
        out.append(Pair(q, ref, ref if rng.random() < 0.5 else ref.lower(), 0, "contrast"))
        if edits:
            out.append(Pair(q, ref, rng.choice(edits), 2, "contrast"))
        if (
            swapped and swapped != ref
        ):  # two of its terms trade places: 'A causes B' -> 'B causes A'
            out.append(Pair(q, ref, swapped, 2, "contrast-swap"))
    return out


def split_questions(data: Path, rng: random.Random, dev_share: float = 0.08) -> tuple[set, set]:
    """SemEval training questions split into train and dev (dev: unseen questions)."""
    ids = sorted({r["question_id"] for r in read_jsonl(data / "semeval2013" / "train.jsonl")})
    rng.shuffle(ids)
    n = int(len(ids) * dev_share)
    return set(ids[n:]), set(ids[:n])


def build(
    data: Path,
    seed: int = 13,
    snli: int = 8000,
    contrast: bool = False,
    dev_share: float = 0.08,
    swaps: bool = False,
) -> tuple[list[Pair], list[Pair]]:
    """(train, dev) pairs; dev is SemEval answers to questions train never sees.

    `contrast` adds `contrast_pairs` (drawn after everything else, so the rest is unchanged).
    """
    rng = random.Random(seed)
    train_q, dev_q = split_questions(data, rng, dev_share)
    train = (
        semeval_pairs(data, train_q)
        + semeval_synthetic(data, rng, train_q)
        + snli_pairs(data, rng, snli)
        + deck_pairs(data, rng)
    )
    rng.shuffle(train)
    stranger = [p.reference for p in train if p.source.startswith("deck")]
    for p in rng.sample([p for p in train if p.source.startswith("semeval")], 600):
        train.append(Pair(p.question, p.reference, rng.choice(stranger), 3, "cross-deck"))
    rng.shuffle(train)
    if contrast:
        train += contrast_pairs(data, rng, train_q, swaps)
        rng.shuffle(train)
    return train, semeval_pairs(data, dev_q)


if __name__ == "__main__":
    import collections
    import sys

    tr, dv = build(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
    print(len(tr), len(dv))
    print(collections.Counter((p.source, LABELS[p.label]) for p in tr))
    for p in tr[:15]:
        print(LABELS[p.label], "|", p.reference[:80], "|", p.answer[:80])
