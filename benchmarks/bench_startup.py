"""Benchmark: seconds from `python app.py` to the page answering, against a floor.

App: start `python app.py` on a free port, poll until `/` answers HTTP 200, then ask one
question through `gradio_client` (`/ask`) and stop the clock when it is answered.
Floor: a fresh python that imports gradio and sentence-transformers, loads the bundled
model and encodes one sentence: what any app serving this model must pay.
Both are measured in this run, each as the median of `--rounds` fresh processes.

    HF_HUB_OFFLINE=1 python benchmarks/bench_startup.py [--rounds 3]
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = """
import gradio, sentence_transformers
from nnqa.search.embeddings import bundled_model_path
m = sentence_transformers.SentenceTransformer(str(bundled_model_path()), device="cpu")
m.encode(["what causes vanishing gradients"])
"""


def _env(data_dir: str, port: int | None = None) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NNQA_DATA_DIR": data_dir,
           "PYTHONPATH": str(ROOT / "src"), "GRADIO_ANALYTICS_ENABLED": "False"}  # fmt: skip
    if port:
        env.update(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port))
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def floor_seconds(data_dir: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR], env=_env(data_dir), check=True, cwd=ROOT)
    return time.perf_counter() - t


def app_seconds(data_dir: str) -> tuple[float, float]:
    """(seconds to HTTP 200 on /, seconds to the first /ask answered), from process start."""
    from gradio_client import Client

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], env=_env(data_dir, port), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("app.py exited before serving")
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        page = time.perf_counter() - t
        text, _ = Client(url, verbose=False).predict(
            "what causes vanishing gradients", api_name="/ask"
        )
        assert text.startswith("Vanishing Gradient"), text[:80]
        return page, time.perf_counter() - t
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    rounds = ap.parse_args().rounds
    with tempfile.TemporaryDirectory() as data_dir:
        floors = [floor_seconds(data_dir) for _ in range(rounds)]
        apps = [app_seconds(data_dir) for _ in range(rounds)]
    floor = statistics.median(floors)
    page = statistics.median(a[0] for a in apps)
    first = statistics.median(a[1] for a in apps)
    print(f"floor (import gradio + sentence-transformers, encode one sentence): {floor:.2f} s")
    print(f"app: HTTP 200 on /                                                 {page:.2f} s")
    print(f"app: first /ask answered                                           {first:.2f} s"
          f"  ({first / floor:.2f}x the floor)")  # fmt: skip


if __name__ == "__main__":
    main()
