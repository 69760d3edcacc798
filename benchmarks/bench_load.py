"""Benchmark: many learners asking and grading at once against the real app on 127.0.0.1.

Starts `python app.py` on a free local port (learner data in a temp folder), answers every
question and grade of the workload once, alone, as the reference; then runs `--learners`
threads, each with its own `gradio_client.Client`, sending a seeded mix of `/ask` and
`/grade` requests (questions from tests/data/questions.jsonl, answers from
tests/data/grading.jsonl) for `--seconds`, at most `--max-requests` in all. Checks that every
request was answered (none lost, none failed) and that every answer equals the one given
alone; reports p50/p95 latency and throughput. With `--demos N`, N more clients run
PyTorch demos through `/demo` back to back the whole time (the heaviest thing the app does);
their results are checked too (the same metrics as alone, a figure every time). The
learners run in this process, on the same machine as the server: on a small machine they
take CPU from it too.

    HF_HUB_OFFLINE=1 python benchmarks/bench_load.py [--learners 32] [--seconds 60]
        [--demos 2] [--max-requests 20000] [--json [PATH]]

`tests/test_load.py` runs a small version of the same check against the test app.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def workload() -> list[tuple[str, tuple]]:
    """Every (api_name, args) of the mix: each labelled question and each labelled answer."""
    data = ROOT / "tests" / "data"
    asks = [json.loads(line)["question"] for line in (data / "questions.jsonl").open()]
    grades = [json.loads(line) for line in (data / "grading.jsonl").open()]
    return [("/ask", (q,)) for q in asks] + [("/grade", (g["card"], g["typed"])) for g in grades]


def canonical(result) -> str:
    """A result as comparable text (tuples and lists alike, keys sorted)."""
    return json.dumps(result, sort_keys=True, default=str)


# Demos at small, seeded settings: the same metrics every run (their timings excluded).
DEMOS = [("perceptron", {}), ("vanishing_gradients", {}), ("activation_functions", {}),
         ("backpropagation", {})]  # fmt: skip


def demo_key(result) -> str:
    """A demo's result without what varies between runs (seconds, device)."""
    _png, res = result
    keep = {k: v for k, v in res.items() if k not in ("seconds", "device", "waited_seconds")}
    keep["metrics"] = {k: v for k, v in (res.get("metrics") or {}).items() if "second" not in k}
    return canonical(keep)


def run_demos(url: str, n: int, deadline: float, expected: dict[str, str]) -> dict:
    """`n` clients running demos back to back until `deadline`; counts and mismatches."""
    from gradio_client import Client

    out = {"sent": 0, "answered": 0, "errors": [], "mismatches": []}
    lock = threading.Lock()

    def runner(k: int) -> None:
        client = Client(url, verbose=False)
        i = k
        while time.perf_counter() < deadline:
            name, params = DEMOS[i % len(DEMOS)]
            i += 1
            with lock:
                out["sent"] += 1
            try:
                got = client.submit(name, params, api_name="/demo").result(timeout=180)
            except Exception as e:
                with lock:
                    out["errors"].append(f"demo {name}: {type(e).__name__}: {e}")
                continue
            with lock:
                out["answered"] += 1
                if not str(got[0]).startswith("data:image/png") or demo_key(got) != expected[name]:
                    out["mismatches"].append(f"demo {name}")
        client.close()

    threads = [threading.Thread(target=runner, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    out["threads"] = threads
    return out


def baseline(url: str, items: list[tuple[str, tuple]]) -> dict[int, str]:
    """Item index -> its answer when asked alone, one request at a time."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    return {
        i: canonical(client.predict(*args, api_name=api)) for i, (api, args) in enumerate(items)
    }


def run_learners(url: str, items, expected: dict[int, str], learners: int, seconds: float,
                 max_requests: int, seed: int = 0) -> dict:  # fmt: skip
    """`learners` threads sending random items until `seconds` pass or `max_requests` are sent.

    Returns counts (sent, answered, errors, mismatches), latencies and wall time.
    """
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(learners)]  # connected before the clock
    lock = threading.Lock()
    sent = [0]
    out = {"answered": 0, "errors": [], "mismatches": [], "latencies": []}
    start = time.perf_counter()
    deadline = start + seconds

    def learner(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        while time.perf_counter() < deadline:
            with lock:
                if sent[0] >= max_requests:
                    return
                sent[0] += 1
            i = rng.randrange(len(items))
            api, args = items[i]
            t = time.perf_counter()
            try:
                got = canonical(clients[k].submit(*args, api_name=api).result(timeout=120))
            except Exception as e:  # counted, never lost
                with lock:
                    out["errors"].append(f"{api} {args[0][:40]!r}: {type(e).__name__}: {e}")
                continue
            dt = time.perf_counter() - t
            with lock:
                out["answered"] += 1
                out["latencies"].append(dt)
                if got != expected[i]:
                    out["mismatches"].append(f"{api} {args[0][:60]!r}")

    threads = [threading.Thread(target=learner, args=(k,)) for k in range(learners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["wall"] = time.perf_counter() - start
    out["sent"] = sent[0]
    for c in clients:
        c.close()
    return out


def summary(run: dict, learners: int) -> dict:
    lat = sorted(run["latencies"]) or [float("nan")]
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else lat * 99
    return {
        "learners": learners,
        "sent": run["sent"],
        "answered": run["answered"],
        "lost": run["sent"] - run["answered"] - len(run["errors"]),
        "errors": len(run["errors"]),
        "mismatches": len(run["mismatches"]),
        "seconds": round(run["wall"], 2),
        "throughput_rps": round(run["answered"] / run["wall"], 2),
        "latency_s": {"p50": round(q[49], 3), "p95": round(q[94], 3), "max": round(lat[-1], 3)},
        "error_samples": run["errors"][:5],
        "mismatch_samples": run["mismatches"][:5],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(data_dir: str) -> tuple[subprocess.Popen, str]:
    """`python app.py` on 127.0.0.1 and a free port; returns (process, url) once it answers."""
    from gradio_client import Client

    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_SERVER_PORT": str(port), "NNQA_DATA_DIR": data_dir,
           "GRADIO_ANALYTICS_ENABLED": "False"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            Client(url, verbose=False).close()
            return proc, url
        except Exception:
            time.sleep(1)
    proc.kill()
    raise RuntimeError("app.py did not answer within 180 s")


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--learners", type=int, default=32)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--max-requests", type=int, default=20_000, help="stop after this many")
    p.add_argument("--demos", type=int, default=0, help="clients running demos alongside")
    p.add_argument("--json", nargs="?", const="-", help="write the results as JSON (to PATH)")
    args = p.parse_args()

    items = workload()
    with tempfile.TemporaryDirectory() as data_dir:
        proc, url = start_app(data_dir)
        try:
            t = time.perf_counter()
            baseline(url, items[:4])  # warm the model, the index and the grader
            expected = baseline(url, items)
            alone = (time.perf_counter() - t) / (len(items) + 4)
            demos = None
            if args.demos:
                from gradio_client import Client

                c = Client(url, verbose=False)
                demo_expected = {n: demo_key(c.predict(n, p, api_name="/demo")) for n, p in DEMOS}
                c.close()
                deadline = time.perf_counter() + args.seconds
                demos = run_demos(url, args.demos, deadline, demo_expected)
            run = run_learners(url, items, expected, args.learners, args.seconds,
                               args.max_requests)  # fmt: skip
            if demos:
                for th in demos.pop("threads"):
                    th.join()
            server_mb = _rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)
    res = summary(run, args.learners)
    res["alone_mean_latency_s"] = round(alone, 3)
    if demos:
        res["demos"] = {"clients": args.demos, "sent": demos["sent"], "answered": demos["answered"],
                        "errors": len(demos["errors"]), "mismatches": len(demos["mismatches"]),
                        "samples": (demos["errors"] + demos["mismatches"])[:5]}  # fmt: skip
    res["server_peak_rss_mb"] = server_mb
    res["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(),
                      "processor": platform.machine(), "python": platform.python_version()}  # fmt: skip
    if args.json:
        text = json.dumps(res, indent=2)
        print(text) if args.json == "-" else Path(args.json).write_text(text + "\n")
    if args.json != "-":
        lat = res["latency_s"]
        print(f"{res['learners']} learners, {res['seconds']} s on {os.cpu_count()} CPUs: "
              f"{res['answered']}/{res['sent']} answered, {res['errors']} errors, "
              f"{res['lost']} lost, {res['mismatches']} differ from alone")  # fmt: skip
        print(
            f"latency p50 {lat['p50']} s, p95 {lat['p95']} s, max {lat['max']} s; "
            f"throughput {res['throughput_rps']} req/s (alone: {alone:.3f} s each)"
        )
        if demos:
            d = res["demos"]
            print(f"alongside: {d['clients']} demo clients, {d['answered']}/{d['sent']} demos "
                  f"answered, {d['errors']} errors, {d['mismatches']} differ from alone")  # fmt: skip
    ok = res["errors"] == 0 and res["lost"] == 0 and res["mismatches"] == 0
    if demos:
        d = res["demos"]
        ok = ok and d["errors"] == 0 and d["mismatches"] == 0 and d["answered"] == d["sent"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
