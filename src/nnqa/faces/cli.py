"""The `nnqa` command line: each command parses, calls the Python API and prints.

Plain text by default, JSON with `--json`. User mistakes (`nnqa.errors.UserError`: a bad
deck, an unknown card, a parameter out of bounds) print one line to stderr and exit with
status 2, no traceback; a bug keeps its traceback (and a non-zero status).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time

__all__ = ["main"]


def _tutor(args, warm: bool = False, grading: bool = False):
    from ..tutor import Tutor

    tutor = Tutor(
        knowledge=args.knowledge, index=args.index, model=args.model, progress=_progress_bar()
    )
    if warm:  # load before the first answer, saying so when it takes over a second
        with _status("loading the model and the index"):
            tutor.warm(grading=grading)
    return tutor


@contextlib.contextmanager
def _status(what: str, after: float = 1.0):
    """Write `nnqa: what...` on stderr if the block is still running after `after` seconds."""
    say = threading.Timer(after, lambda: print(f"nnqa: {what}...", file=sys.stderr, flush=True))
    say.daemon = True
    say.start()
    try:
        yield
    finally:
        say.cancel()


def _progress_bar():
    """A progress(done, total) callback drawing a bar on a terminal's stderr, else None."""
    if not sys.stderr.isatty():
        return None
    state = {}

    def progress(done: int, total: int) -> None:
        if total < 256:  # a few cards embed in a blink; no bar
            return
        if "bar" not in state:
            from tqdm import tqdm

            state["bar"] = tqdm(total=total, desc="embedding", unit="text", file=sys.stderr)
        state["bar"].update(done - state["bar"].n)
        if done >= total:
            state.pop("bar").close()

    return progress


def _print(obj, as_json: bool) -> None:
    if as_json:
        data = obj.to_dict() if hasattr(obj, "to_dict") else obj
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(obj)


def _no_input_on_a_terminal(args, what: str) -> bool:
    """True (after printing the usage) when `what` is neither given nor piped in: reading a
    terminal would wait for it in silence."""
    if sys.stdin.isatty():
        args.usage(sys.stderr)
        print(f"nnqa: give the {what}, or pipe it in", file=sys.stderr)
        return True
    return False


def cmd_ask(args) -> int:
    if not args.question and _no_input_on_a_terminal(args, "question"):
        return 2
    question = " ".join(args.question) if args.question else sys.stdin.read()
    answer = _tutor(args, warm=True).ask(question, k=args.k, deck=args.deck)
    _print(answer, args.json)
    return 0


def cmd_index(args) -> int:
    tutor = _tutor(args)
    t0 = time.perf_counter()
    status = tutor.rebuild()  # always rebuilt; vectors of unchanged text are reused
    result = {
        "rebuilt": status.rebuilt,
        "reason": status.reason,
        "cards": len(tutor.cards),
        "rows": status.rows,
        "embedded": status.embedded,
        "seconds": round(time.perf_counter() - t0, 3),
        "index": str(tutor.settings.index),
        "model": tutor.embedder.model_id,
    }
    if args.json:
        _print(result, True)
    else:
        print(
            f"{status}; {len(tutor.cards)} cards from {tutor.settings.knowledge}/ "
            f"-> {tutor.settings.index}/ in {result['seconds']:.2f} s"
        )
    return 0


def cmd_add(args) -> int:
    from ..add import add_deck

    added = add_deck(
        args.path,
        knowledge=args.knowledge,
        index=args.index,
        deck=args.deck,
        replace=args.replace,
        progress=_progress_bar(),
        embedder=_embedder(args),
    )
    _print(added, args.json)
    return 0


def _embedder(args):
    from ..search.embeddings import Embedder
    from ..settings import Settings

    return Embedder.from_settings(Settings.from_env(model=args.model))


def cmd_eval(args) -> int:
    from ..eval.reports import all_reports  # evaluation code, loaded only for this command

    reports = all_reports(
        _tutor(args), args.questions, args.grading, args.conversations, args.intents
    )
    if args.json:
        _print({k: v.to_dict() for k, v in reports.items()}, True)
    else:
        for name, rep in reports.items():
            print(f"== {name} ==\n{rep}\n")
    return 0


def cmd_grade(args) -> int:
    if not args.answer and _no_input_on_a_terminal(args, "answer"):
        return 2
    tutor = _tutor(args, warm=True, grading=True)
    typed = " ".join(args.answer) if args.answer else sys.stdin.read()
    g = tutor.grade(args.card, typed, section=args.section)
    _print(g, args.json)
    return 0


def cmd_quiz(args) -> int:
    from ..study.quiz import Quiz, run_terminal_quiz

    quiz = Quiz(args.learner, tutor=_tutor(args, warm=True, grading=True))
    run_terminal_quiz(args.learner, quiz=quiz)
    return 0


def cmd_chat(args) -> int:
    from ..conversation.chat import Chat, run_terminal_chat

    run_terminal_chat(Chat(_tutor(args, warm=True), learner=args.learner))
    return 0


def _demo_params(words: list[str]) -> dict[str, str]:
    """`--layers 30 --seed 1` or `layers=30` -> {"layers": "30", ...}; demos check the values."""
    from ..errors import InputError

    params, i = {}, 0
    while i < len(words):
        w = words[i]
        if "=" in w:
            k, v = w.lstrip("-").split("=", 1)
            i += 1
        elif w.startswith("--") and i + 1 < len(words):
            k, v = w[2:], words[i + 1]
            i += 2
        else:
            raise InputError(f"demo parameters look like --name value, got {w!r}")
        params[k.replace("-", "_")] = v
    return params


def cmd_demo(args) -> int:
    from .. import demos

    if args.list or not args.name:
        specs = demos.list_demos()
        if args.json:
            _print(specs, True)
            return 0
        linked = _linked_cards(args)
        for d in specs:
            params = ", ".join(
                f"{p['name']}={p['default']}"
                + (f" [{p['min']}..{p['max']}]" if p.get("min") is not None else "")
                + (f" {{{'|'.join(p['choices'])}}}" if p.get("choices") else "")
                for p in d["params"]
            )
            cards = "; ".join(linked.get(d["name"], ())) or "(none in these decks)"
            print(
                f"{d['name']:22s} {d['title']}\n{'':22s} cards: {cards}\n{'':22s} params: {params}"
            )
        return 0
    words = list(args.params)  # options given after NAME land here too
    if "-h" in words or "--help" in words:
        print(_demo_help(demos.get_spec(args.name)))
        return 0
    for flag in ("--json", "--list"):
        if flag in words:
            words.remove(flag)
            setattr(args, flag[2:], True)
    for opt in ("--out", "--device"):
        if opt in words[:-1]:
            i = words.index(opt)
            setattr(args, opt[2:], words[i + 1])
            del words[i : i + 2]
    result = demos.run_demo(args.name, device=args.device, **_demo_params(words))
    out = args.out or f"{args.name}.png"
    result.save_figure(out)
    if args.json:
        _print({**result.to_dict(), "figure_path": out}, True)
    else:
        print(f"{result}\n\nfigure saved to {out}")
    return 0


def _demo_help(spec) -> str:
    """`nnqa demo NAME --help`: what the demo shows and its parameters with their bounds."""
    lines = [f"usage: nnqa demo {spec.name} [--PARAM VALUE ...] [--out FILE] [--device DEVICE]"
             " [--json]", "", spec.title]  # fmt: skip
    lines += [spec.summary] if spec.summary else []
    lines += ["", "parameters:"]
    for p in spec.params:
        if p.choices:
            allowed = "one of " + ", ".join(p.choices)
        elif p.min is not None:
            allowed = f"{p.min} to {p.max}"
        else:
            allowed = p.type
        lines.append(f"  --{p.name.replace('_', '-')} {p.type.upper()}  {allowed}, default "
                     f"{p.default}" + (f": {p.help}" if p.help else ""))  # fmt: skip
    return "\n".join(lines)


def _linked_cards(args) -> dict[str, list[str]]:
    """Demo name -> the fronts of the cards it is linked to in the knowledge folder."""
    from ..decks.library import DeckLibrary
    from ..settings import Settings

    library = DeckLibrary(Settings.from_env(knowledge=args.knowledge).knowledge)
    out: dict[str, list[str]] = {}
    for card in library.cards:
        for name in library.demos_for(card):
            out.setdefault(name, []).append(card.front)
    return out


def cmd_stats(args) -> int:
    from ..study.quiz import Quiz

    quiz = Quiz(args.learner, tutor=_tutor(args))
    _print(quiz.stats(), args.json)
    if args.plot:
        from ..study.progress import progress, save_progress_png

        shown = progress(quiz.store, quiz.learner, now=quiz.clock(), cards=quiz.cards)
        path = save_progress_png(shown, args.plot, quiz.desired_retention)
        print(f"nnqa: wrote {path}", file=sys.stderr)
    return 0


def cmd_optimise(args) -> int:
    from ..study.optimise import optimise
    from ..study.store import Store

    with _status("fitting FSRS parameters to the review log"):
        _print(optimise(Store(), args.learner, min_reviews=args.min_reviews), args.json)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nnqa",
        description="A study companion that answers by quoting your flashcards, grades typed "
        "answers and schedules reviews.",
    )
    p.add_argument("--knowledge", help="folder of decks (default ./knowledge, NNQA_KNOWLEDGE)")
    p.add_argument("--index", help="index folder (default ./index, NNQA_INDEX)")
    p.add_argument("--model", help="sentence-transformers model name or folder (NNQA_MODEL)")
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("ask", help="answer a question by quoting the best card")
    a.add_argument("question", nargs="*", help="the question (read from stdin when absent)")
    a.add_argument("-k", type=int, default=4, help="how many cards to show (default 4)")
    a.add_argument("--deck", help="only this deck")
    a.add_argument("--json", action="store_true", help="print JSON")
    a.set_defaults(func=cmd_ask, usage=a.print_usage)

    ad = sub.add_parser(
        "add", help="import a deck (.apkg, Anki/Quizlet .txt/.csv, .md) into the knowledge folder"
    )
    ad.add_argument("path", help="the file to import")
    ad.add_argument("--deck", help="name the imported deck (default: the file's own)")
    ad.add_argument("--replace", action="store_true", help="replace a deck file of the same name")
    ad.add_argument("--json", action="store_true", help="print JSON")
    ad.set_defaults(func=cmd_add)

    i = sub.add_parser("index", help="rebuild the index, reusing unchanged vectors")
    i.add_argument("--json", action="store_true", help="print JSON")
    i.set_defaults(func=cmd_index)

    e = sub.add_parser("eval", help="measure answers against the labelled sets in tests/data")
    e.add_argument("--questions", default="tests/data/questions.jsonl")
    e.add_argument("--grading", default="tests/data/grading.jsonl")
    e.add_argument("--conversations", default="tests/data/conversations.jsonl")
    e.add_argument("--intents", default="tests/data/intents.jsonl")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.set_defaults(func=cmd_eval)

    g = sub.add_parser("grade", help="grade a typed answer to a card")
    g.add_argument("card", help="the card's front (close enough) or id")
    g.add_argument("answer", nargs="*", help="the typed answer (read from stdin when absent)")
    g.add_argument("--section", help="grade against one section of the card (its heading)")
    g.add_argument("--json", action="store_true", help="print JSON")
    g.set_defaults(func=cmd_grade, usage=g.print_usage)

    q = sub.add_parser("quiz", help="an interactive review of due cards (FSRS); :q to stop")
    q.add_argument("--learner", default=os.environ.get("USER", "me"), help="learner id")
    q.set_defaults(func=cmd_quiz)

    c = sub.add_parser("chat", help="a conversation: questions, follow-ups, quiz, demos; :q ends")
    c.add_argument("--learner", default=os.environ.get("USER", "me"), help="learner id")
    c.set_defaults(func=cmd_chat)

    d = sub.add_parser("demo", help="run a PyTorch demo and save its figure (--list for all)")
    d.add_argument("name", nargs="?", help="demo name (see --list)")
    d.add_argument("params", nargs=argparse.REMAINDER, help="--param value pairs")
    d.add_argument("--list", action="store_true", help="list the demos and their parameters")
    d.add_argument("--out", help="where to save the figure (default NAME.png)")
    d.add_argument("--device", help="cuda, mps or cpu (default: best available, NNQA_DEVICE)")
    d.add_argument("--json", action="store_true", help="print JSON")
    d.set_defaults(func=cmd_demo)

    st = sub.add_parser("stats", help="cards due, reviewed, retention per card")
    st.add_argument("--learner", default=os.environ.get("USER", "me"), help="learner id")
    st.add_argument("--json", action="store_true", help="print JSON")
    st.add_argument("--plot", metavar="FILE.png", help="also draw the progress as a PNG")
    st.set_defaults(func=cmd_stats)

    o = sub.add_parser("optimise", help="fit FSRS parameters to a learner's reviews (Anki-like)")
    o.add_argument("--learner", default=os.environ.get("USER", "me"), help="learner id")
    o.add_argument("--min-reviews", type=int, default=400, help="refuse below this (default 400)")
    o.add_argument("--json", action="store_true", help="print JSON")
    o.set_defaults(func=cmd_optimise)
    return p


def main(argv: list[str] | None = None) -> int:
    from ..errors import UserError

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as e:  # a mistake in what was given; anything else is a bug: traceback
        print(f"nnqa: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `nnqa ... | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit-time flush
        return 0


if __name__ == "__main__":
    sys.exit(main())
