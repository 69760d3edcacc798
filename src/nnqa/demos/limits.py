"""Run a demo in a worker process under a time limit, so a slow run can be stopped.

A thread cannot be killed, and the slowest in-bounds demo (``rnn_vs_lstm`` at its maximum
parameters) trains for about a minute on a small CPU. So the web app runs demos in one warm
worker process (torch imported once) and kills it when a run passes its limit; the next run
starts a fresh worker. Parameters are checked here, in the parent, against the registry's
bounds (no torch needed), so bad input never reaches the worker.

The worker is a plain ``python -m nnqa.demos.limits`` child rather than a ``multiprocessing``
one: spawn and forkserver would re-run the app's ``__main__`` (``app.py`` builds the whole
app at import) in the child. Requests and results cross a pipe as pickles; both ends are
this module, and what crosses is the parent's already-checked plain values one way and a
DemoResult (its matplotlib Figure pickles) the other: no user-supplied bytes are unpickled.

Leaves out: which demo computes what (the demo modules), the parameter bounds (``registry``),
how many demos run at once (the web app's queue: one), and GPUs on a ZeroGPU Space (the web
app keeps those in-process under ``spaces.GPU``, which has its own duration limit). Waiting
on the pipe uses ``select``, so this runs on Linux and macOS, not Windows.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import InputError
from .registry import get_spec
from .result import DemoResult

__all__ = ["DemoWorker", "run_demo_limited", "demo_timeout"]

STARTUP_TIMEOUT = 120.0  # seconds for a fresh worker to import torch (not counted in a run)


def demo_timeout() -> float:
    """The per-demo time limit in seconds: ``Settings.demo_timeout`` (NNQA_DEMO_TIMEOUT, 60).

    Raises:
        ValueError: NNQA_DEMO_TIMEOUT is not a positive number of seconds.
    """
    from ..settings import Settings

    return Settings.from_env().demo_timeout


class DemoWorker:
    """One warm worker process running demos one at a time, each under a time limit.

    >>> w = DemoWorker()                                           # doctest: +SKIP
    >>> w.run("perceptron", timeout_s=30, points=40).metrics["separable_accuracy"]  # doctest: +SKIP
    1.0
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._ready = False
        self._lock = threading.Lock()  # one run at a time through the one pipe

    @property
    def pid(self) -> int | None:
        """The worker's process id, or None when none is running."""
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def start(self) -> None:
        """Start the worker now (it imports torch in the background); idempotent."""
        if self._proc is not None and self._proc.poll() is None:
            return
        src = str(Path(__file__).resolve().parents[2])  # the nnqa this process runs
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (src, os.environ.get("PYTHONPATH", "")) if p)}  # fmt: skip
        env.setdefault("MPLBACKEND", "Agg")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "nnqa.demos.limits"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._ready = False

    def stop(self) -> None:
        """Kill the worker (if any) and reap it."""
        proc, self._proc, self._ready = self._proc, None, False
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for f in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                f.close()

    def _receive(self, timeout: float) -> Any:
        """The next message from the worker, or TimeoutError after `timeout` seconds."""
        out = self._proc.stdout
        ready, _, _ = select.select([out], [], [], max(0.0, timeout))
        if not ready:
            raise TimeoutError
        try:
            return pickle.load(out)  # our own worker's reply (see the module docstring)
        except (EOFError, pickle.UnpicklingError) as e:
            code = self._proc.wait()
            raise RuntimeError(f"the demo worker stopped unexpectedly (exit code {code})") from e

    def run(self, name: str, timeout_s: float | None = None, device: str | None = None,
            **params: Any) -> DemoResult:  # fmt: skip
        """Run demo `name` in the worker; return its DemoResult, figure included.

        Raises UnknownDemoError / ValueError for a bad name or parameter (checked here, before
        the worker sees it), TimeoutError when the run takes longer than `timeout_s` (default
        `demo_timeout()`; the worker is killed and a fresh one started), and RuntimeError when
        the demo fails or the worker dies.
        """
        values = get_spec(name).resolve(params)
        limit = demo_timeout() if timeout_s is None else float(timeout_s)
        with self._lock:
            self.start()
            if not self._ready:
                try:
                    hello = self._receive(STARTUP_TIMEOUT)
                    if hello != "ready":
                        raise RuntimeError(f"the demo worker said {hello!r} instead of 'ready'")
                except TimeoutError:
                    self.stop()
                    raise RuntimeError(
                        f"the demo worker did not start within {STARTUP_TIMEOUT:g} s"
                    ) from None
                except RuntimeError:
                    self.stop()
                    raise
                self._ready = True
            try:
                pickle.dump((name, device, values), self._proc.stdin)
                self._proc.stdin.flush()
                start = time.perf_counter()
                kind, payload = self._receive(limit)
            except TimeoutError:
                self.stop()
                self.start()  # warm up the next worker while the learner reads the message
                raise TimeoutError(
                    f"the demo {name!r} ran past its {limit:g} s limit and was stopped; "
                    "try smaller parameters (fewer steps, a shorter sequence)"
                ) from None
            except (BrokenPipeError, RuntimeError) as e:
                self.stop()
                raise RuntimeError(f"the demo {name!r} could not finish: {e}") from None
        if kind == "ok":
            return payload
        if kind == "ValueError":
            raise InputError(payload)
        raise RuntimeError(f"the demo {name!r} failed after {time.perf_counter() - start:.1f} s:"
                           f" {payload}")  # fmt: skip


_default: DemoWorker | None = None
_default_lock = threading.Lock()


def run_demo_limited(name: str, timeout_s: float | None = None, device: str | None = None,
                     **params: Any) -> DemoResult:  # fmt: skip
    """`run_demo` in this process's one shared worker, stopped after `timeout_s` seconds.

    Takes and raises what `DemoWorker.run` does. The shared worker is created on first use
    and killed when this process exits.

    >>> r = run_demo_limited("perceptron", 30, points=40)   # doctest: +SKIP
    >>> r.metrics["separable_accuracy"]                     # doctest: +SKIP
    1.0
    """
    global _default
    with _default_lock:
        if _default is None:
            _default = DemoWorker()
            atexit.register(_default.stop)
    return _default.run(name, timeout_s, device, **params)


# ---------------------------------------------------------------- the worker's side


def _serve() -> None:
    """The worker: import torch, say "ready", then run each request until stdin closes."""
    out = os.fdopen(os.dup(1), "wb")  # replies go here; stray prints go to stderr instead
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    import matplotlib.figure  # noqa: F401  (warm imports, done once)
    import torch  # noqa: F401

    from .registry import run_demo

    pickle.dump("ready", out)
    out.flush()
    while True:
        try:
            name, device, values = pickle.load(requests)  # from our parent (see docstring)
        except EOFError:  # the parent closed the pipe or exited
            return
        try:
            reply = ("ok", run_demo(name, device=device, **values))
        except ValueError as e:
            reply = ("ValueError", str(e))
        except Exception as e:  # report it; the worker lives on for the next run
            reply = (type(e).__name__, f"{type(e).__name__}: {e}")
        pickle.dump(reply, out)
        out.flush()


if __name__ == "__main__":
    _serve()
