"""Security checks: the running app serves no file it does not mean to, user data is never
unpickled, and every input has a cap (see SECURITY.md for what is and is not defended)."""

import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "nnqa"


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_the_app_serves_no_file_outside_what_it_means_to(app_server):
    from nnqa.study.store import Store

    progress = Store(app_server.dir / "data" / "progress.sqlite3").path  # make sure it exists
    secrets = {
        "/etc/passwd": b"root:",
        str(ROOT / "pyproject.toml"): b"[project]",
        str(progress): b"SQLite format 3",
        str(app_server.dir / "knowledge" / "imported.md"): b"hostile flashcard",
    }
    relative = ["../../../../../../etc/passwd", "..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
                "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/tmp/gradio/../../etc/passwd",
                "pyproject.toml", "./pyproject.toml"]  # fmt: skip
    base = app_server.url.rstrip("/")
    assert _get(base + "/gradio_api/info")[0] == 200  # the server is there and answering
    tried = 0
    for prefix in ("/file=", "/gradio_api/file=", "/gradio_api/file/", "/static/", "/assets/"):
        for path in [*secrets, *relative]:
            for quoted in {path, urllib.parse.quote(path)}:
                status, body = _get(base + prefix + quoted)
                tried += 1
                assert status in (400, 403, 404, 405), (prefix, quoted, status)
                for content in secrets.values():
                    assert content not in body, (prefix, quoted)
    assert tried > 50


# Loaders that can run code while reading bytes. The demo worker (nnqa/demos/limits.py)
# pickles on purpose: its pipe carries the parent's checked parameters one way and its own
# DemoResult back, never bytes a user supplied; it is the one exemption, checked below.
RISKY = re.compile(r"\b(pickle|cPickle|dill|joblib|marshal|shelve)\b|torch\.load|allow_pickle"
                   r"|yaml\.load\(|yaml\.unsafe_load|(?<![\w.`])(eval|exec|__import__)\(")  # fmt: skip
EXEMPT = {"demos/limits.py"}


def test_no_code_executing_loader_touches_user_data():
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        hits = [n for n, line in enumerate(path.read_text().splitlines(), 1)
                if RISKY.search(line) and not line.lstrip().startswith("#")]  # fmt: skip
        if hits:
            found[rel] = hits
    assert set(found) == EXEMPT, found  # the worker's own pipe only
    index = (SRC / "search" / "index.py").read_text()
    assert 'json.loads((folder / "rows.json")' in index  # the index metadata is JSON
    app = (ROOT / "app.py").read_text() + (SRC / "faces" / "webapp.py").read_text()
    assert "allowed_paths" not in app and "set_static_paths" not in app


@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


def test_every_endpoint_input_has_a_cap(client, app_server):
    from gradio_client.exceptions import AppError

    settings = app_server.tutor.settings
    with pytest.raises(AppError, match=f"limited to {settings.max_question_chars} characters"):
        client.predict("x" * (settings.max_question_chars + 1), api_name="/ask")
    for k in (0, 11, 10**9):
        with pytest.raises(AppError, match="k must be a whole number from 1 to 10"):
            client.predict("what is relu", k, api_name="/ask")
    with pytest.raises(AppError, match=f"limited to {settings.max_answer_chars} characters"):
        client.predict("What is ReLU?", "y" * (settings.max_answer_chars + 1), api_name="/grade")
    with pytest.raises(AppError, match="must be between"):
        client.predict("rnn_vs_lstm", {"steps": 10**6}, api_name="/demo")
    with pytest.raises(AppError, match="unknown parameter"):
        client.predict("perceptron", {"__class__": 1}, api_name="/demo")


def test_learner_names_are_capped():
    import gradio as gr

    from nnqa import Settings
    from nnqa.faces.web import Web

    MAX_LEARNER_CHARS = Settings().max_learner_chars

    with pytest.raises(gr.Error, match=f"limited to {MAX_LEARNER_CHARS}"):
        Web(tutor=None)._quiz("a" * (MAX_LEARNER_CHARS + 1))
