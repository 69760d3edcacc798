"""Time every demo at its default parameters and print name, seconds and device.

Usage:
    PYTHONPATH=src python benchmarks/bench_demos.py [--device cpu] [--repeat 1] [--json out.json]
    [--only name,name]

Torch, matplotlib and scikit-learn are imported, and a tiny demo that builds an optimiser is
run, before timing: the first ``torch.optim`` optimiser in a process costs about 2 s of
one-time set-up (torch 2.13 on this machine), which would otherwise land on whichever demo
happens to run first. ``seconds`` is the demo's own
``DemoResult.seconds`` (computation and building the figure; saving PNG is not included);
``wall`` adds what ``run_demo`` does around it; ``cpu`` is the process CPU time of the run,
which is about what the wall time would be with a core to itself (useful when the machine is
shared and busy). With --repeat > 1 the median is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=None, help="cpu, cuda, mps (default: pick_device())")
    ap.add_argument("--repeat", type=int, default=1, help="runs per demo; the median is kept")
    ap.add_argument("--only", default="", help="comma-separated demo names")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = ap.parse_args(argv)

    from nnqa.demos import list_demos, run_demo

    names = [d["name"] for d in list_demos()]
    if args.only:
        names = [n for n in args.only.split(",") if n]

    import sklearn.datasets  # noqa: F401  warm-up imports, not timed
    import torch

    run_demo("feedforward", device=args.device, samples=50, steps=10)

    print(f"{'demo':<22} {'seconds':>8} {'wall':>8} {'cpu':>8}  device")
    rows = []
    for name in names:
        secs, walls, cpus = [], [], []
        for _ in range(max(1, args.repeat)):
            t0, c0 = time.perf_counter(), time.process_time()
            result = run_demo(name, device=args.device)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            secs.append(result.seconds)
        rows.append(
            {
                "name": name,
                "seconds": round(statistics.median(secs), 3),
                "wall": round(statistics.median(walls), 3),
                "cpu": round(statistics.median(cpus), 3),
                "device": result.device,
            }
        )
        r = rows[-1]
        line = f"{r['name']:<22} {r['seconds']:>8.2f} {r['wall']:>8.2f} {r['cpu']:>8.2f}"
        print(f"{line}  {r['device']}", flush=True)
    total = sum(r["seconds"] for r in rows)
    print(f"{'total':<22} {total:>8.2f}")

    if args.json:
        meta = {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cpu_count": os.cpu_count(),
            "machine": platform.machine(),
            "threads_env": os.environ.get("NNQA_DEMO_THREADS", "1 (default)"),
            "repeat": args.repeat,
            "load_average_at_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"format": 1, "meta": meta, "results": rows}, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
