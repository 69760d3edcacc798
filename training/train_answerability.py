"""Fit the answerability model: "does this card answer this question?" (see its MODEL_CARD).

    python training/train_answerability.py            # writes src/nnqa/search/answerability_model/

Steps: build decks and questions from public data (`answerability_data`), index each deck
with the real retriever, take the JUDGED best candidates of every question and their
features, fit a one-hidden-layer network on (candidate answers the question?), then move the
intercept so that at most `--false-abstention` of the answerable questions are abstained
on (the policy abstains below 0.5). Reports leave-one-deck-out figures first, so the
numbers in the model card are on decks the fit did not see. Takes ~5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).parent))

import answerability_data as data  # noqa: E402

from nnqa.search.answerability import FEATURES, FORMAT, MODEL_DIR, below_floor  # noqa: E402
from nnqa.search.retrieval import JUDGED  # noqa: E402

HIDDEN = 16  # hidden units


def write_model(folder: Path, bank: np.ndarray, texts, model_id, net, meta):
    """Write the bank and `answerability.json`; `net` = (mean, scale, w1, b1, w2, b2)."""
    mean, scale, w1, b1, w2, b2 = net
    buf = io.BytesIO()
    np.save(buf, bank.astype(np.float16))
    raw = buf.getvalue()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bank.npy").write_bytes(raw)
    spec = {
        "format": FORMAT,
        "features": list(FEATURES),
        "mean": [round(float(x), 6) for x in mean],
        "scale": [round(float(x), 6) for x in scale],
        "w1": np.round(w1, 6).tolist(),
        "b1": np.round(b1, 6).tolist(),
        "w2": np.round(w2, 6).tolist(),
        "b2": round(float(b2), 6),
        "bank": {
            "file": "bank.npy",
            "sha256": hashlib.sha256(raw).hexdigest(),
            "model": model_id,
            "texts": list(texts),
        },
        **meta,
    }
    tmp = folder / "answerability.json.tmp"
    tmp.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    tmp.replace(folder / "answerability.json")
    import nnqa.search.retrieval as retrieval

    retrieval._MODEL = None  # the next rank reads the new file


def _far_ok(q: str, fronts: set[frozenset]) -> bool:
    """A far question is dropped when it shares most of its words with a card's front."""
    from nnqa.text import terms

    t = frozenset(terms(q))
    return not any(t and len(t & f) >= 0.6 * len(t) for f in fronts)


def collect(embedder, work: Path, deck_name, md_or_file, questions):
    """Features (n, F), labels (n,), question ids (n,) and kinds of one deck's questions."""
    from nnqa.search.query import clean
    from nnqa.text import terms
    from nnqa.tutor import Tutor

    know = work / deck_name / "knowledge"
    know.mkdir(parents=True)
    if isinstance(md_or_file, Path):
        shutil.copy(md_or_file, know / md_or_file.name)
    else:
        (know / "deck.md").write_text(md_or_file, encoding="utf-8")
    tutor = Tutor(know, work / deck_name / "index", embedder=embedder)
    fronts = {frozenset(terms(c.front)) for c in tutor.cards}
    rows, labels, qids, kinds = [], [], [], []
    for qi, (q, front, kind) in enumerate(questions):
        if kind == "far" and not _far_ok(q, fronts):
            continue
        text = clean(q)
        if not text:
            continue
        query, ranked = tutor.retriever.candidates(text)
        top = ranked[:JUDGED]
        if not top:
            continue
        x = tutor.retriever.features(query, top)
        for cs, row in zip(top, x, strict=True):
            rows.append(row)
            labels.append(front is not None and tutor.cards[cs.card].front == front)
            qids.append(qi)
            kinds.append(kind)
    return np.array(rows), np.array(labels), np.array(qids), np.array(kinds)


def fit(x, y, hidden=HIDDEN, alpha=1e-2):
    """Fit the network; returns (mean, scale, w1, b1, w2, b2)."""
    from sklearn.neural_network import MLPClassifier

    mean, scale = x.mean(0), x.std(0) + 1e-6
    net = MLPClassifier((hidden,), alpha=alpha, max_iter=800, random_state=0)
    net.fit((x - mean) / scale, y)
    w1, w2 = net.coefs_
    b1, b2 = net.intercepts_
    return mean, scale, w1, b1, w2[:, 0], float(b2[0])


def score(x, net, floor=-np.inf):
    mean, scale, w1, b1, w2, b2 = net
    h = np.maximum(((x - mean) / scale) @ w1 + b1, 0)
    return below_floor(1 / (1 + np.exp(-(h @ w2 + b2))), x[:, DECK_Z], floor)


DECK_Z = FEATURES.index("deck_z")
FLOORS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)  # deck_z floors tried, in standard deviations


def choose_floor(sets, net, weight, budget: float) -> float:
    """The highest `deck_z` floor whose added false abstention, over every answerable
    training question (weighted as in the fit), stays within `budget` (a share)."""
    before = {k: per_question(score(x, net), y, q, kinds) for k, (x, y, q, kinds) in sets.items()}
    total = sum(weight.get(k, 1) for k, qs in before.items() for _, _, ans, _ in qs if ans)
    best = -np.inf
    for floor in FLOORS:
        added = 0.0
        for k, (x, y, q, kinds) in sets.items():
            after = per_question(score(x, net, floor), y, q, kinds)
            for (p0, _, ans, _), (p1, _, _, _) in zip(before[k], after, strict=True):
                added += weight.get(k, 1) * (ans and p0 >= 0.5 > p1)
        if added <= budget * total:
            best = floor
    return best


def shifted(net, shift):
    return (*net[:5], net[5] + shift)


def per_question(p, y, qids, kinds):
    """[(best p, top-1 right, answerable, kind)] per question, judged order."""
    out = []
    for q in np.unique(qids):
        m = qids == q
        pq, yq = p[m], y[m]
        i = int(np.argmax(pq))
        out.append((float(pq[i]), bool(yq[i]), bool(yq.any()), kinds[m][0]))
    return out


def shift_for(questions, fa: float) -> float:
    """The logit shift that puts the cut (0.5) where `fa` of the answerable questions
    abstain, among those whose best card is the right one (abstaining on a wrong quote
    is no loss)."""
    ps = np.array([p for p, ok, ans, _ in questions if ans and ok])
    cut = float(np.quantile(ps, fa))
    cut = min(max(cut, 1e-4), 1 - 1e-4)
    return -np.log(cut / (1 - cut))


def report(questions, cut=0.5) -> dict:
    ans = [q for q in questions if q[2]]
    un = [q for q in questions if not q[2]]
    near = [q for q in un if q[3] == "near"]
    far = [q for q in un if q[3] == "far"]
    return {
        "answerable": len(ans),
        "top1": round(float(np.mean([q[1] for q in ans])), 4) if ans else None,
        "false_abstention": round(float(np.mean([q[0] < cut for q in ans])), 4) if ans else None,
        "abstention_near": round(float(np.mean([q[0] < cut for q in near])), 4) if near else None,
        "abstention_far": round(float(np.mean([q[0] < cut for q in far])), 4) if far else None,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=MODEL_DIR)
    ap.add_argument("--false-abstention", type=float, default=0.03)
    ap.add_argument("--shipped-weight", type=int, default=3)
    ap.add_argument("--alpha", type=float, default=1e-2, help="L2 penalty of the network")
    ap.add_argument("--floor-budget", type=float, default=0.005,
                    help="false abstention the deck_z floor may add (share of answerable)")  # fmt: skip
    ap.add_argument("--cache", type=Path, help="reuse/write the features here (.npz)")
    args = ap.parse_args(argv)
    from nnqa.search.embeddings import Embedder
    from nnqa.settings import Settings

    t0 = time.time()
    s = Settings.from_env()
    embedder = Embedder(s.model, threads=s.threads)
    bank_texts = data.bank_questions(random.Random(5))
    bank = embedder.encode(bank_texts)
    zeros = np.zeros(len(FEATURES))
    if args.cache and args.cache.exists():
        z = np.load(args.cache, allow_pickle=True)
        sets = z["sets"].item()
    else:
        # a provisional model: the features need the bank, not the coefficients
        net0 = (
            zeros,
            zeros + 1,
            np.zeros((len(zeros), HIDDEN)),
            np.zeros(HIDDEN),
            np.zeros(HIDDEN),
            0,
        )
        write_model(args.out, bank, bank_texts, embedder.model_id, net0, {})
        sets = {}
        with tempfile.TemporaryDirectory() as tmp:
            for d in data.decks():
                sets[d.name] = collect(embedder, Path(tmp), d.name, d.markdown(), d.questions)
                print(f"{d.name}: {len(d.cards)} cards, {len(d.questions)} questions", flush=True)
            path, qs = data.shipped_deck()
            sets["shipped"] = collect(embedder, Path(tmp), "shipped", path, qs)
        if args.cache:
            np.savez(args.cache, sets=np.array(sets, dtype=object))
    print(f"features in {time.time() - t0:.0f} s", flush=True)

    # leave one deck out: fit on the others, measure on it
    held = {}
    for name in sets:
        train_sets = [(k, v) for k, v in sets.items() if k != name]
        train = [v for _, v in train_sets]
        x = np.concatenate([t[0] for t in train])
        y = np.concatenate([t[1] for t in train])
        net = fit(x, y, alpha=args.alpha)
        qs_train = []
        for t in train:
            qs_train += per_question(score(t[0], net), t[1], t[2], t[3])
        net = shifted(net, shift_for(qs_train, args.false_abstention))
        floor = choose_floor(dict(train_sets), net, {}, args.floor_budget)
        xt, yt, qt, kt = sets[name]
        held[name] = {
            **report(per_question(score(xt, net, floor), yt, qt, kt)),
            "floor": None if floor == -np.inf else floor,
        }
        print(f"held out {name:28s} {held[name]}", flush=True)
    before = {}  # candidates come in dense + BM25 order: the first is the old top-1
    for name, (_, yt, qt, _k) in sets.items():
        first = [(0.0, bool(yt[qt == q][0]), bool(yt[qt == q].any()), "") for q in np.unique(qt)]
        before[name] = report(first)["top1"]
    # the shipped deck's questions are the only ones written as learners ask: weighted up
    weight = {"shipped": args.shipped_weight}
    x = np.concatenate([np.repeat(t[0], weight.get(k, 1), 0) for k, t in sets.items()])
    y = np.concatenate([np.repeat(t[1], weight.get(k, 1), 0) for k, t in sets.items()])
    net = fit(x, y, alpha=args.alpha)
    allq = []
    for k, t in sets.items():
        allq += per_question(score(t[0], net), t[1], t[2], t[3]) * weight.get(k, 1)
    net = shifted(net, shift_for(allq, args.false_abstention))
    floor = choose_floor(sets, net, weight, args.floor_budget)
    fitted, no_floor = {}, {}
    for name, (xt, yt, qt, kt) in sets.items():
        fitted[name] = report(per_question(score(xt, net, floor), yt, qt, kt))
        no_floor[name] = report(per_question(score(xt, net), yt, qt, kt))
    meta = {
        "trained": time.strftime("%Y-%m-%d"),
        "recipe": f"training/train_answerability.py --false-abstention {args.false_abstention}"
        f" --alpha {args.alpha} --shipped-weight {args.shipped_weight}"
        f" --floor-budget {args.floor_budget}",
        "leave_one_deck_out": held,
        "dense_order_top1": before,
        "fitted": fitted,
        "deck_z_floor": None if floor == -np.inf else floor,
        "fitted_without_floor": no_floor,
    }
    write_model(args.out, bank, bank_texts, embedder.model_id, net, meta)
    print(json.dumps(fitted, indent=1), f"\nwrote {args.out} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
