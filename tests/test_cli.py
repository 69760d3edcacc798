"""The command line, driven as a user would: arguments, stdin, --json, and mistakes."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def nnqa(*args, stdin=None, cwd=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NNQA_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "nnqa", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=120,
    )


def test_ask_prints_the_quote_and_json(workdir):
    base = ["--knowledge", str(workdir / "knowledge"), "--index", str(workdir / "index")]
    r = nnqa(*base, "ask", "what", "causes", "vanishing", "gradients")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Vanishing Gradient — What causes them?")
    assert "knowledge/neural_networks.txt:4" in r.stdout
    r = nnqa(*base, "ask", "--json", "-k", "2", stdin="what is dropout")
    d = json.loads(r.stdout)
    assert d["hits"][0]["front"] == "What is dropout in neural networks?" and len(d["hits"]) <= 2


def test_light_import():
    code = (
        "import sys, nnqa; heavy = [m for m in ('torch', 'gradio', 'sentence_transformers', "
        "'faiss', 'matplotlib', 'nnqa.demos') if m in sys.modules]; print(heavy)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_user_mistakes_are_one_line_errors(tmp_path):
    r = nnqa("--knowledge", str(tmp_path / "missing"), "ask", "relu")
    assert (
        r.returncode == 2 and r.stderr.strip() == f"nnqa: no knowledge folder at {tmp_path}/missing"
    )
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "bad.md").write_text("text before\n## Q\nA\n")
    r = nnqa("--knowledge", str(tmp_path / "k"), "--index", str(tmp_path / "i"), "ask", "relu")
    assert r.returncode == 2 and "k/bad.md:1" in r.stderr and "Traceback" not in r.stderr


def test_index_command_reports_what_it_embedded(workdir, tmp_path):
    import shutil

    shutil.copytree(workdir / "index", tmp_path / "index")
    r = nnqa(
        "--knowledge",
        str(workdir / "knowledge"),
        "--index",
        str(tmp_path / "index"),
        "index",
        "--json",
    )
    d = json.loads(r.stdout)
    assert d["cards"] == 15 and d["embedded"] == 0 and d["rows"] > 15


def test_demo_command_lists_runs_and_checks_bounds(tmp_path):
    r = nnqa("demo", "--list")
    assert r.returncode == 0 and "vanishing_gradients" in r.stdout and "[2..60]" in r.stdout
    out = tmp_path / "p.png"
    r = nnqa("demo", "perceptron", "--epochs", "20", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["metrics"]["separable_accuracy"] == 1.0 and d["device"] == "cpu"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = nnqa("demo", "vanishing_gradients", "--layers", "10000")
    assert r.returncode == 2 and "layers must be between 2 and 60" in r.stderr


def test_a_bug_is_a_traceback_not_a_user_mistake(monkeypatch, capsys):
    """Only a user's mistake is exit 2 with one line; a bug inside a command propagates."""
    import pytest

    from nnqa.faces import cli

    def buggy(args):
        return {}["no such key"]  # a KeyError that is nobody's input

    monkeypatch.setattr(cli, "cmd_ask", buggy)
    with pytest.raises(KeyError):
        cli.main(["ask", "relu"])
    assert "nnqa:" not in capsys.readouterr().err


# ---------------------------------------------------------------- on a terminal (a pty)


class Terminal:
    """`python -m nnqa ARGS` on a pseudo-terminal, read and typed into as a person would."""

    def __init__(self, *args):
        import pty  # noqa: F401 - POSIX only, as the terminal itself

        master, slave = os.openpty()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "NNQA_THREADS": "1", "TERM": "xterm"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nnqa", *args], stdin=slave, stdout=slave, stderr=slave,
            cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.fd, self.seen = master, b""

    def expect(self, text: bytes, timeout: float = 180, after: int = 0) -> int:
        """Wait until `text` is printed past byte `after`; returns the byte just past it
        (fails after `timeout` seconds). Everything printed so far is in `seen`."""
        import select
        import time

        end = time.monotonic() + timeout
        while text not in self.seen[after:]:
            left = end - time.monotonic()
            assert left > 0, f"waited {timeout} s for {text!r}; got {self.seen[-2000:]!r}"
            if select.select([self.fd], [], [], min(left, 1.0))[0]:
                try:
                    self.seen += os.read(self.fd, 65536)
                except OSError:  # the program ended
                    assert text in self.seen[after:], (
                        f"ended before {text!r}: {self.seen[-2000:]!r}"
                    )
        return self.seen.index(text, after) + len(text)

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=60)
        finally:
            os.close(self.fd)


def test_ask_on_a_terminal_without_a_question_prints_usage():
    t = Terminal("ask")
    at = t.expect(b"usage: nnqa ask", timeout=60)  # not a silent wait for stdin
    t.expect(b"give the question, or pipe it in", after=at)
    assert t.close() == 2


def test_demo_help_lists_the_demos_parameters():
    r = nnqa("demo", "perceptron", "--help")
    assert r.returncode == 0, r.stderr
    assert "usage: nnqa demo perceptron" in r.stdout and "--epochs INT  1 to 200" in r.stdout


def test_terminal_chat_edits_lines_and_prints_plain_text(workdir):
    base = ["--knowledge", str(workdir / "knowledge"), "--index", str(workdir / "index")]
    t = Terminal(*base, "chat", "--learner", "tia")
    at = t.expect(b"you> ")
    t.type(b"what is dropout?x\x1b[D\x1b[C\x7f\r")  # arrows move, backspace drops the x
    at = t.expect(b"random neurons are ignored", timeout=120, after=at)
    assert b"^[[" not in t.seen  # arrow keys were not echoed as raw escapes
    start = at = t.expect(b"you> ", after=at)  # the next prompt: readline reads again
    t.type(b"quiz me\r")
    at = t.expect(b"Type your answer, or say", timeout=60, after=at)
    at = t.expect(b"you> ", after=at)
    t.type(b"skip\r")
    t.expect(b"no review recorded", timeout=60, after=at)
    out = t.seen[start:]
    assert b"Quiz: " in out and b"**" not in out and b"_Type" not in out and b"\\(" not in out
    t.type(b":q\r")
    assert t.close() == 0


def test_terminal_quiz_edits_lines_and_an_empty_line_records_nothing(workdir):
    base = ["--knowledge", str(workdir / "knowledge"), "--index", str(workdir / "index")]
    t = Terminal(*base, "quiz", "--learner", "uma")
    at = t.expect(b"> ", timeout=120, after=t.expect(b"Q: ", timeout=120))
    t.type(b"\r")  # nothing typed: what to type, and the same card again
    at = t.expect(b"Type your answer and press Enter; :idk", timeout=30, after=at)
    at = t.expect(b"> ", timeout=30, after=at)  # the next prompt: readline reads again
    t.type(b"neural netsx\x1b[D\x1b[C\x7f\r")
    at = t.expect(b"rate 1-4 (Enter: ", timeout=60, after=at)  # the grade, then the ratings
    t.type(b"\r")  # the grader's rating
    t.expect(b"due again", timeout=60, after=at)
    assert b"^[[" not in t.seen
    t.type(b":q\r")
    assert t.close() == 0
    from nnqa.study.store import Store

    [r] = Store().reviews("uma")  # NNQA_DATA_DIR is this test's temp folder
    assert r.typed == "neural nets"
