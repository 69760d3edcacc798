"""Scale benchmark: a synthetic deck of 100,000 cards through build, search and ask().

Measures, in one run and one process (numbers go into docs/scale.md):

1. search: exact (IndexFlatIP) against IVF on clustered unit vectors at several sizes:
   median single-query latency and recall@5 against exact, to pick `APPROX_ABOVE_ROWS`;
2. build: a fresh index over the synthetic decks plus the shipped one; the time spent
   inside the model's encode against the whole build, and build throughput against the
   model's own batch-encode throughput on a random sample of the same texts;
3. recall@5 of the built IVF index against exact search over the same (real) vectors;
4. warm `ask()` median on the shipped 15-card deck and on the 100,000-card index, and with
   `deck=` restricted to the shipped deck inside the large index;
5. adding one 1,000-card deck to the large index (only its cards are embedded);
6. peak memory (max RSS) and file sizes.

The synthetic deck is written under --out and never committed. Run the search part apart
(--cards 0), so that its million vectors do not set the peak memory of the card run:

    HF_HUB_OFFLINE=1 PYTHONPATH=src python benchmarks/bench_scale.py --cards 0 --json s.json
    HF_HUB_OFFLINE=1 PYTHONPATH=src python benchmarks/bench_scale.py --cards 100000 \\
        --search-sizes "" --out /tmp/nnqa-scale --json cards.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

QUESTIONS = [
    "what causes vanishing gradients",
    "how do I fix exploding gradients",
    "what is dropout",
    "what does an activation function do",
    "what is backpropagation",
    "why use batch normalization",
    "what is overfitting",
    "what is a learning rate",
    "how does gradient descent work",
    "what is a convolutional neural network",
    "what is an lstm",
    "what is the relu function",
]

# -- the synthetic deck ---------------------------------------------------------------
ADJ = [
    "sparse",
    "dense",
    "residual",
    "recurrent",
    "convolutional",
    "gated",
    "shallow",
    "deep",
    "wide",
    "narrow",
    "quantised",
    "pruned",
    "distilled",
    "pretrained",
    "frozen",
    "adaptive",
    "stochastic",
    "deterministic",
    "bayesian",
    "causal",
    "masked",
    "dilated",
    "grouped",
    "depthwise",
    "separable",
    "normalised",
    "attentive",
    "contrastive",
    "generative",
    "discriminative",
    "variational",
    "autoregressive",
    "hierarchical",
    "modular",
]
NOUN = [
    "encoder",
    "decoder",
    "layer",
    "kernel",
    "filter",
    "optimiser",
    "scheduler",
    "embedding",
    "tokenizer",
    "head",
    "block",
    "bottleneck",
    "gate",
    "memory",
    "cell",
    "attention",
    "router",
    "classifier",
    "regressor",
    "critic",
    "policy",
    "sampler",
    "discriminator",
    "generator",
    "autoencoder",
    "transformer",
    "perceptron",
    "network",
    "mixer",
    "pooler",
    "projector",
]
ASK = [
    "What is a {a} {n}",
    "How does a {a} {n} work",
    "Why would you use a {a} {n}",
    "When does a {a} {n} fail",
    "What limits a {a} {n}",
    "How do you train a {a} {n}",
]
CTX = """in vision|in speech recognition|for time series|in language models|on small
datasets|at inference time|under distribution shift|with noisy labels|in reinforcement
learning|on edge devices|for graph data|in recommender systems|with mixed precision|
during fine-tuning|in medical imaging|for anomaly detection|in machine translation|with
long sequences|on tabular data|in self-supervised learning""".replace("\n", " ").split("|")
VERB = [
    "reduces",
    "increases",
    "stabilises",
    "speeds up",
    "slows down",
    "regularises",
    "smooths",
    "sharpens",
    "compresses",
    "expands",
]
THING = """the variance of the gradients|the memory footprint|the number of parameters|the
training time|the calibration of its outputs|the error on held-out data|the sensitivity to
the learning rate|the cost of each forward pass|how well features transfer|the effect of
outliers|the size of the receptive field|the noise in each update""".replace("\n", " ").split("|")
WHY = """because it shares weights across positions|since it rescales activations per
batch|because each unit sees only part of the input|as it keeps a running average of past
updates|because gating lets information skip steps|since it discards small weights|as it
mixes information across tokens|because it bounds the output range|since errors flow back
through a shorter path|as it samples a different subnetwork each step""".replace("\n", " ").split(
    "|"
)


def synthetic_decks(n_cards: int, out: Path, per_deck: int = 10_000, seed: int = 0) -> int:
    """Write n_cards varied cards as Markdown decks of `per_deck` cards; returns the count."""
    rng = random.Random(seed)
    combos = [(q, a, n, c) for q in ASK for a in ADJ for n in NOUN for c in CTX]
    rng.shuffle(combos)
    assert n_cards <= len(combos), f"at most {len(combos)} distinct fronts"
    out.mkdir(parents=True, exist_ok=True)
    for d in range(0, n_cards, per_deck):
        lines = [f"# Synthetic {d // per_deck + 1:02d}", ""]
        for q, a, n, c in combos[d : min(d + per_deck, n_cards)]:
            lines.append(f"## {q.format(a=a, n=n)} {c}?")
            v, t, w = rng.choice(VERB), rng.choice(THING), rng.choice(WHY)
            if rng.random() < 0.1:  # one card in ten has bullet points
                lines += [f"- It {v} {t}.", f"- This holds {c}, {w}.", f"- Compare a plain {n}."]
            else:
                lines.append(f"A {a} {n} {v} {t} {c}, {w}.")
            lines.append("")
        (out / f"synthetic_{d // per_deck + 1:02d}.md").write_text("\n".join(lines))
    return n_cards


# -- helpers ------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def recall_at(exact_ids: np.ndarray, approx_ids: np.ndarray) -> float:
    k = exact_ids.shape[1]
    hits = sum(len(set(e) & set(a)) for e, a in zip(exact_ids, approx_ids, strict=True))
    return hits / (k * len(exact_ids))


def clustered(n: int, dim: int, rng, centres: int = 2000) -> np.ndarray:
    """Unit vectors around random centres (timing only: recall is measured on real vectors)."""
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def near(x: np.ndarray, n: int, rng, noise: float = 0.05) -> np.ndarray:
    """Queries that sit near n of the indexed vectors, as real questions sit near cards."""
    q = x[rng.choice(len(x), n, replace=False)]
    q = q + noise * rng.standard_normal(q.shape).astype(np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


class StandIn:
    """A stand-in encoder: hashed bag-of-words unit vectors, ~1000x faster than the model.

    Texts of the shipped deck go to the real model, so its cards still answer real
    questions inside the large index. Only for measuring everything except the model.
    """

    def __init__(self, embedder, real_texts: set[str], dim: int = 384):
        self.embedder, self.real, self.dim = embedder, real_texts, dim
        self.model_id, self.load_from = embedder.model_id, embedder.load_from
        self.words: dict[str, np.ndarray] = {}

    def _word(self, w: str) -> np.ndarray:
        if w not in self.words:
            seed = int.from_bytes(w.encode()[:8].ljust(8, b"\0"), "little") ^ len(w)
            self.words[w] = np.random.default_rng(seed).standard_normal(self.dim, np.float32)
        return self.words[w]

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        real = [i for i, t in enumerate(texts) if t in self.real]
        if real:
            out[real] = self.embedder.encode([texts[i] for i in real])
        for i, t in enumerate(texts):
            if t not in self.real:
                v = sum(self._word(w) for w in t.lower().split())
                out[i] = v / np.linalg.norm(v)
        return out


def bench_search(sizes: list[int], dim: int = 384, n_queries: int = 200) -> list[dict]:
    import faiss

    from nnqa.search.index import make_faiss

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    out = []
    for n in sizes:
        x = clustered(n, dim, rng)
        q = near(x, n_queries, rng)
        flat = make_faiss(x, approx_above=n)  # exact
        t = time.perf_counter()
        ivf = make_faiss(x, approx_above=0)
        build_s = time.perf_counter() - t
        _, exact = flat.search(q, 5)
        _, approx = ivf.search(q, 5)
        row = {
            "rows": n,
            "flat_ms": round(median_ms(lambda f=flat, q=q: f.search(q[:1], 256), 30), 3),
            "ivf_ms": round(median_ms(lambda f=ivf, q=q: f.search(q[:1], 256), 30), 3),
            "ivf_build_s": round(build_s, 2),
            "ivf_lists": ivf.nlist,
            "ivf_nprobe": ivf.nprobe,
            "ivf_recall_at_5_synthetic": round(recall_at(exact, approx), 4),
        }
        print("search", row, flush=True)
        out.append(row)
        del x, flat, ivf
    return out


def memory_of(what: str, work: Path) -> float:
    """Peak RSS (MB) of a fresh process that serves ask() or rebuilds the index of `work`."""
    import subprocess

    code = f"""
import sys
sys.path.insert(0, {str(ROOT / "src")!r})
from nnqa import Tutor
t = Tutor(knowledge={str(work / "knowledge")!r}, index={str(work / "index")!r})
if {what!r} == "serve":
    for q in {QUESTIONS!r}:
        t.ask(q)
else:
    t.rebuild(force=True)  # every vector reused: the rebuild's own memory
status = open("/proc/self/status").read()  # VmHWM: this process's own peak (ru_maxrss
print(int(status.split("VmHWM:")[1].split()[0]) / 1024)  # is inherited across fork+exec)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return round(float(out.stdout.strip().splitlines()[-1]), 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cards", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/nnqa-scale"))
    ap.add_argument("--sample", type=int, default=4000, help="texts in the encode baseline")
    ap.add_argument("--search-sizes", default="10000,50000,100000,300000,1000000")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument(
        "--stand-in",
        action="store_true",
        help="embed the synthetic cards with hashed bag-of-words vectors; the model's time "
        "is then projected from its measured throughput (when a full model run is too long)",
    )
    args = ap.parse_args()

    import faiss

    from nnqa import Tutor
    from nnqa.decks.cardtext import rows_for
    from nnqa.search.embeddings import Embedder

    faiss.omp_set_num_threads(1)
    result: dict = {"cards": args.cards}
    sizes = [int(s) for s in args.search_sizes.split(",") if s]
    result["search"] = bench_search(sizes) if sizes else []
    if not args.cards:  # search only: run it apart, so its 1M vectors do not set peak memory
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
        return

    work = args.out
    shutil.rmtree(work, ignore_errors=True)
    (work / "knowledge").mkdir(parents=True)
    shutil.copy(ROOT / "knowledge" / "neural_networks.txt", work / "knowledge")
    synthetic_decks(args.cards, work / "knowledge")
    (work / "small").mkdir()
    shutil.copy(ROOT / "knowledge" / "neural_networks.txt", work / "small")

    embedder = Embedder(threads=int(os.environ.get("NNQA_THREADS", "1")))
    embedder.encode(["warm up"])
    rss_model = peak_rss_mb()

    # Time spent inside the model during the build, against the whole build.
    in_encode = [0.0]

    from nnqa.decks.cards import load_decks

    shipped_rows = {r.text for c in load_decks(work / "small") for r in rows_for(c)}
    encoder = StandIn(embedder, shipped_rows) if args.stand_in else embedder

    def timed_encode(texts):
        t = time.perf_counter()
        v = encoder.encode(texts)
        in_encode[0] += time.perf_counter() - t
        return v

    class Timed:
        model_id = embedder.model_id
        encode = staticmethod(timed_encode)
        load_from = embedder.load_from

    t0 = time.perf_counter()
    big = Tutor(knowledge=work / "knowledge", index=work / "index", embedder=Timed())
    load_s = time.perf_counter() - t0
    texts = sorted({r.text for c in big.cards for r in rows_for(c)})
    print(f"{len(big.cards)} cards, {len(texts)} distinct row texts; parse {load_s:.1f} s")

    # The model's own throughput, on a random sample of the same texts, same batch size.
    sample = random.Random(1).sample(texts, min(args.sample, len(texts)))
    t = time.perf_counter()
    embedder.encode(sample)
    base_tps = len(sample) / (time.perf_counter() - t)
    print(f"model batch-encode: {base_tps:.0f} texts/s", flush=True)

    last = [0.0]

    def progress(done, total):
        if time.perf_counter() - last[0] > 30 or done == total:
            last[0] = time.perf_counter()
            print(f"  build: {done}/{total} texts embedded", flush=True)

    big.progress = progress
    t = time.perf_counter()
    status = big.rebuild()
    build_s = time.perf_counter() - t
    build_tps = status.embedded / build_s
    if args.stand_in:  # the model's time for these texts, from its measured throughput
        model_s = status.embedded / base_tps
        build_tps = status.embedded / (model_s + build_s - in_encode[0])
    result["build"] = {
        "stand_in_encoder": args.stand_in,
        "rows": status.rows,
        "embedded": status.embedded,
        "seconds": round(build_s, 1),
        "seconds_in_encode": round(in_encode[0], 1),
        "encode_share": round(in_encode[0] / build_s, 4),
        "build_texts_per_s": round(build_tps, 1),
        "model_texts_per_s": round(base_tps, 1),
        "throughput_ratio": round(build_tps / base_tps, 3),
        "index_type": big.index.manifest["index_type"],
        "tutor_parse_s": round(load_s, 2),
    }
    print("build", result["build"], flush=True)

    # Recall@5 of the built index against exact search on the same vectors.
    vecs = big.index.vectors()
    qtexts = random.Random(2).sample([c.front for c in big.cards], 200)
    q = embedder.encode([s.lower().rstrip("?") for s in qtexts])
    exact = faiss.IndexFlatIP(vecs.shape[1])
    exact.add(vecs)
    _, e_ids = exact.search(q, 5)
    _, a_ids = big.index.search(q, 5)
    result["recall_at_5_built_index"] = round(recall_at(e_ids, a_ids), 4)
    del exact, vecs
    print("recall@5 (built index vs exact):", result["recall_at_5_built_index"], flush=True)

    # A fresh tutor over the built index: cold start, then warm ask() medians.
    t = time.perf_counter()
    big = Tutor(knowledge=work / "knowledge", index=work / "index", embedder=embedder)
    big.ask("warm up the index")
    cold_s = time.perf_counter() - t
    small = Tutor(knowledge=work / "small", index=work / "small_index", embedder=embedder)
    small.ask("warm up")
    for t_ in (small, big):
        for qq in QUESTIONS:
            t_.ask(qq)
    reps = 5

    def ask_all(t_, deck=None):
        return [median_ms(lambda qq=qq: t_.ask(qq, deck=deck), reps) for qq in QUESTIONS]

    small_ms = statistics.median(ask_all(small))
    big_ms = statistics.median(ask_all(big))
    shipped = small.decks[0]
    deck_ms = statistics.median(ask_all(big, deck=shipped))
    right = sum(
        big.ask(qq, deck=shipped).hits[0].card.front == small.ask(qq).hits[0].card.front
        for qq in QUESTIONS
    )
    result["ask"] = {
        "small_cards": len(small.cards),
        "big_cards": len(big.cards),
        "small_median_ms": round(small_ms, 2),
        "big_median_ms": round(big_ms, 2),
        "ratio": round(big_ms / small_ms, 3),
        "big_deck_filter_median_ms": round(deck_ms, 2),
        "deck_filter_same_top_card": f"{right}/{len(QUESTIONS)}",
        "cold_start_s": round(cold_s, 2),
    }
    print("ask", result["ask"], flush=True)

    # Adding one 1,000-card deck to the large index embeds only that deck.
    extra = work / "extra"
    synthetic_decks(1000, extra, per_deck=1000, seed=7)
    text = (extra / "synthetic_01.md").read_text().replace("# Synthetic 01", "# Added deck")
    text = text.replace("## ", "## (added) ")
    (work / "knowledge" / "added.md").write_text(text)
    in_encode[0] = 0.0
    t = time.perf_counter()
    added = Tutor(knowledge=work / "knowledge", index=work / "index", embedder=Timed())
    st = added.rebuild(force=False)
    add_s = time.perf_counter() - t
    a = added.ask("how does a sparse encoder work", deck="Added deck")
    result["add_deck"] = {
        "top_card_deck": a.hits[0].card.deck if a.hits else None,
        "cards": 1000,
        "embedded": st.embedded,
        "seconds": round(add_s, 2),
        "seconds_in_encode": round(in_encode[0], 2),
        "overhead_s": round(add_s - in_encode[0], 2),
    }
    print("add", result["add_deck"], flush=True)

    files = {p.name: p.stat().st_size for p in (work / "index").iterdir() if p.is_file()}
    result["memory"] = {
        "this_process_peak_rss_mb": round(peak_rss_mb(), 0),  # several tutors at once
        "rss_after_model_mb": round(rss_model, 0),
        "serve_peak_rss_mb": memory_of("serve", work),
        "rebuild_peak_rss_mb": memory_of("rebuild", work),
        "index_files_mb": {k: round(v / 2**20, 1) for k, v in files.items()},
    }
    print("memory", result["memory"], flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
