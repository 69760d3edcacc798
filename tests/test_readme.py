"""The README is the front door: its commands are the ones CI runs, its API exists."""

import re
from pathlib import Path

import nnqa

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, flags=re.S)


def test_ci_runs_the_readmes_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in [b.strip() for b in _bash_blocks()], "README and .ci/run disagree"
    assert "torch==2.13.0" in ci and "pytest" in ci


def test_start_command_installs_pinned_torch_first_and_starts_the_app():
    start = _bash_blocks()[0].strip()
    assert start.index("torch==2.13.0") < start.index("pip install -e .")
    assert start.endswith("python app.py")


def test_the_python_api_in_the_readme_exists():
    for name in ("ask", "grade", "grade_text", "Tutor", "Chat", "Quiz", "add_deck"):
        assert hasattr(nnqa, name), name
    from nnqa.demos import list_demos, run_demo  # noqa: F401


def test_every_cli_command_in_the_readme_exists():
    from nnqa.faces.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    used = {m for b in _bash_blocks() for m in re.findall(r"^nnqa (\w+)", b, flags=re.M)}
    assert used and used <= set(sub.choices), used - set(sub.choices)


def test_numbers_are_filled_in():
    assert not re.search(r"\b(WARM|COLD|LOAD|GRADE)_[A-Z_]+\b", README)
