"""Tests for nnqa.demos: each demo checks the science it claims, not just that it ran.

Small parameters keep the whole file fast on a 2-core CPU. Results are cached per
(name, params) so a demo that several tests read runs once.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnqa.decks.library import DeckLibrary
from nnqa.decks.links import read_links
from nnqa.demos import (
    DemoResult,
    UnknownDemoError,
    get_spec,
    list_demos,
    pick_device,
    run_demo,
)

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
LINKS = ROOT / "knowledge" / "neural_networks.links.json"
CARD_FRONTS = tuple(read_links(LINKS, LINKS.name))  # the cards the shipped deck links demos to
_CACHE: dict = {}


def run(name: str, **params) -> DemoResult:
    key = (name, tuple(sorted(params.items())))
    if key not in _CACHE:
        _CACHE[key] = run_demo(name, device="cpu", **params)
    return _CACHE[key]


# --- the science -------------------------------------------------------------------------


def test_vanishing_gradients_sigmoid_first_layer_far_below_relu_he():
    m = run("vanishing_gradients", layers=20, width=32, batch=64).metrics
    assert m["first_layer_grad_relu_he"] >= 100 * m["first_layer_grad_sigmoid"]
    # and the sigmoid gradient shrinks towards the input
    assert m["first_layer_grad_sigmoid"] < m["last_layer_grad_sigmoid"] / 100
    assert len(m["grad_norms_sigmoid"]) == 20


def test_exploding_gradients_clipping_keeps_loss_finite():
    m = run("exploding_gradients", steps=30).metrics
    assert m["diverged_at_step_no_fix"] >= 0
    assert not math.isfinite(m["final_loss_no_fix"])
    assert m["diverged_at_step_clipping"] is None  # never: JSON null, shown as "never"
    assert math.isfinite(m["final_loss_clipping"])
    assert m["final_loss_clipping"] < m["initial_loss"]
    assert math.isfinite(m["final_loss_clipping_and_weight_decay"])


def test_backpropagation_by_hand_matches_autograd():
    m = run("backpropagation", hidden=5, samples=16, steps=10).metrics
    assert m["max_abs_grad_diff"] < 1e-6
    assert m["max_abs_grad_diff"] < 1e-12  # float64: agreement to rounding
    assert m["max_abs_param_diff_after_training"] < 1e-12
    assert m["loss_last"] < m["loss_first"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_solves_separable_not_xor(seed):
    m = run("perceptron", points=60, seed=seed).metrics
    assert m["separable_accuracy"] == 1.0
    assert m["separable_converged"] == 1
    assert m["xor_accuracy"] <= 0.75
    assert m["xor_converged"] == 0


def test_activation_derivatives_match_closed_forms():
    m = run("activation_functions", points=201).metrics
    for name in ("sigmoid", "tanh", "relu", "leaky_relu", "gelu", "swish"):
        assert m[f"max_abs_diff_{name}"] < 1e-10, name
    assert m["max_derivative_sigmoid"] == pytest.approx(0.25, abs=1e-6)
    assert m["max_derivative_tanh"] == pytest.approx(1.0, abs=1e-6)
    assert m["derivative_at_minus_relu"] == 0.0
    assert m["derivative_at_plus_relu"] == 1.0
    assert m["derivative_at_minus_leaky_relu"] == pytest.approx(0.05)
    assert m["derivative_at_plus_sigmoid"] < 0.01  # saturation at x = 6


def test_gradient_descent_small_good_large():
    m = run("gradient_descent").metrics
    d0 = m["start_distance"]
    assert m["final_distance_small"] > 0.5 * d0  # too small: still far away
    assert m["final_distance_good"] < 1e-3 * d0  # good: converged
    assert m["final_distance_large"] > d0  # too large: diverged
    far = m["distances_large"]
    assert far[-1] > far[len(far) // 2]  # and still growing


def test_feedforward_learns_moons():
    m = run("feedforward", samples=300, steps=200).metrics
    assert m["test_accuracy"] >= 0.9
    assert m["losses"][-1] < m["losses"][0]


def test_cross_entropy_gradient_stays_large_when_wrong():
    m = run("loss_functions", steps=50).metrics
    assert m["grad_ce_at_worst"] > 0.99
    assert m["grad_mse_at_worst"] < 0.01
    assert m["max_grad_mse"] > 10 * m["grad_mse_at_worst"]  # it saturates, it was not always tiny
    assert m["race_final_accuracy_ce"] > m["race_final_accuracy_mse"]


def test_dropout_narrows_the_gap():
    m = run("dropout").metrics
    assert m["gap_plain"] > 0  # the plain net overfits
    assert m["gap_dropout"] < m["gap_plain"]


def test_cnn_beats_parameter_matched_mlp_on_digits():
    m = run("cnn").metrics
    assert abs(m["cnn_parameters"] - m["mlp_parameters"]) < 0.1 * m["cnn_parameters"]
    assert m["cnn_test_accuracy"] > m["mlp_test_accuracy"]
    assert m["cnn_test_accuracy"] > 0.9
    assert m["cnn_shifted_accuracy"] > m["mlp_shifted_accuracy"]


def test_lstm_beats_rnn_at_longest_length():
    m = run("rnn_vs_lstm").metrics
    assert m["lstm_accuracy_longest"] > m["rnn_accuracy_longest"] + 0.1
    assert m["lstm_accuracy"][0] > 0.9 and m["rnn_accuracy"][0] > 0.9  # short: both can


def test_network_beats_linear_on_circles():
    m = run("deep_vs_classical", steps=200).metrics
    assert m["network_test_accuracy"] >= 0.9
    assert m["linear_test_accuracy"] <= 0.7
    assert m["linear_on_hidden_features_test_accuracy"] >= 0.9


# --- determinism, bounds, names -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("perceptron", {"points": 40}),
        ("feedforward", {"samples": 100, "steps": 30}),
        ("dropout", {"steps": 30, "hidden": 16}),
        ("exploding_gradients", {"steps": 10}),
    ],
)
def test_same_seed_same_metrics(name, params):
    a = run_demo(name, device="cpu", seed=3, **params).to_dict()
    b = run_demo(name, device="cpu", seed=3, **params).to_dict()
    assert a["metrics"] == b["metrics"]
    c = run_demo(name, device="cpu", seed=4, **params).to_dict()
    assert c["params"]["seed"] == 4


def test_out_of_bounds_names_parameter_and_bound():
    with pytest.raises(ValueError, match=r"layers must be between 2 and 60, got 10000"):
        run_demo("vanishing_gradients", layers=10000)
    with pytest.raises(ValueError, match=r"^lr must be between 1e-05 and 1.0, got -1.0"):
        run_demo("feedforward", lr=-1.0)
    with pytest.raises(ValueError, match=r"^lr_large must be between"):
        run_demo("gradient_descent", lr_large=5.0)


@pytest.mark.parametrize("bad", ["abc", 2.5, True, None, [3], float("nan")])
def test_wrong_type_raises_value_error(bad):
    with pytest.raises(ValueError, match="layers"):
        run_demo("vanishing_gradients", layers=bad)


def test_numeric_strings_and_integral_floats_are_accepted():
    spec = get_spec("vanishing_gradients")
    assert spec.resolve({"layers": "12", "width": 16.0})["layers"] == 12
    assert spec.resolve({"width": 16.0})["width"] == 16


def test_unknown_parameter_lists_valid_ones():
    with pytest.raises(
        ValueError, match=r"unknown parameter.*depth.*valid: layers, width, batch, seed"
    ):
        run_demo("vanishing_gradients", depth=3)


def test_unknown_demo_lists_valid_names():
    with pytest.raises(KeyError) as info:
        run_demo("transformer")
    assert "valid: vanishing_gradients" in str(info.value)
    with pytest.raises(ValueError):  # the same error is also a ValueError
        run_demo("transformer")
    assert issubclass(UnknownDemoError, KeyError)


def test_config_rejects_out_of_bounds_directly():
    mod = importlib.import_module("nnqa.demos.rnn_vs_lstm")
    with pytest.raises(ValueError, match="max_length"):
        mod.Config(max_length=10**6)


# --- registry shape -----------------------------------------------------------------------


def test_list_demos_shape():
    demos = list_demos()
    assert len(demos) >= 12
    assert len({d["name"] for d in demos}) == len(demos)
    linked = {n for names in read_links(LINKS, LINKS.name).values() for n in names}
    for d in demos:
        assert d["title"] and d["name"] in linked  # every demo illustrates a card of the deck
        names = [p["name"] for p in d["params"]]
        assert "seed" in names
        for p in d["params"]:
            assert {"name", "type", "default", "help"} <= set(p)
            assert p["type"] in ("int", "float", "str")
            if "choices" in p:
                assert p["default"] in p["choices"]
            else:
                assert p["min"] <= p["default"] <= p["max"], (d["name"], p)
    json.dumps(demos)


def demos_for_card(front: str, folder: Path = ROOT / "knowledge") -> list[str]:
    library = DeckLibrary(folder)
    return [n for c in library.cards if c.front == front for n in library.demos_for(c)]


def test_card_fronts_are_exact_deck_strings():
    assert len(CARD_FRONTS) == 15
    assert "What is gradient descent in neural netowrks?" in CARD_FRONTS  # typo kept
    lines = set((ROOT / "knowledge" / "neural_networks.txt").read_text("utf-8").splitlines())
    assert set(CARD_FRONTS) <= lines
    assert set(read_links(LINKS, LINKS.name)[f][0] for f in CARD_FRONTS) <= {
        d["name"] for d in list_demos()
    }


def test_every_card_front_has_a_demo():
    for front in CARD_FRONTS:
        assert demos_for_card(front), front
    assert demos_for_card("What is ReLU?")[0] == "activation_functions"
    assert demos_for_card("Vanishing Gradient")[0] == "vanishing_gradients"
    assert demos_for_card("What is a perceptron?") == ["perceptron"]
    assert demos_for_card("not a card") == []


def test_fixing_a_typo_in_a_front_keeps_its_demo(tmp_path):
    """Demos link to cards through data beside the deck, not through exact front text."""
    k = tmp_path / "knowledge"
    k.mkdir()
    deck = (ROOT / "knowledge" / "neural_networks.txt").read_text("utf-8")
    (k / "neural_networks.txt").write_text(deck.replace("netowrks", "networks"), "utf-8")
    (k / "neural_networks.links.json").write_bytes(LINKS.read_bytes())
    fixed = "What is gradient descent in neural networks?"
    assert demos_for_card(fixed, k) == ["gradient_descent"]
    assert len(DeckLibrary(k).cards) == 15  # the links file is not read as a deck


def test_any_deck_can_link_a_demo(tmp_path):
    (tmp_path / "mine.md").write_text("# Mine\n## What is a perceptron, really?\nA neuron.\n")
    (tmp_path / "mine.links.json").write_text(
        '{"format": 1, "cards": {"What is a perceptron, really?": ["perceptron"]}}'
    )
    assert demos_for_card("What is a perceptron, really?", tmp_path) == ["perceptron"]


@pytest.mark.parametrize("spec", list_demos(), ids=lambda d: d["name"])
def test_config_defaults_match_registry(spec):
    mod = importlib.import_module(f"nnqa.demos.{spec['name']}")
    fields = {f.name: f.default for f in dataclasses.fields(mod.Config)}
    assert fields == {p["name"]: p["default"] for p in spec["params"]}
    assert "\n" in mod.__doc__ and "Leaves out" in mod.__doc__


def test_import_is_light():
    code = (
        "import sys, nnqa.demos as d; d.list_demos(); d.get_spec('vanishing_gradients');"
        "d.get_spec('cnn').resolve({'epochs': 3});"
        "bad = [m for m in ('torch', 'matplotlib', 'sklearn') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# --- the result object and the device -----------------------------------------------------


def test_result_renders_and_serialises(tmp_path):
    r = run("exploding_gradients", steps=30)
    assert r.name == "exploding_gradients" and r.device == "cpu" and r.seconds > 0
    assert r.params["steps"] == 30
    s = str(r)
    assert r.title in s and "final_loss_clipping" in s
    d = r.to_dict()
    assert "figure" not in d
    json.dumps(d, allow_nan=False)  # the diverged NaN loss became null
    assert d["metrics"]["final_loss_no_fix"] is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.name = "x"
    path = r.save_figure(tmp_path / "fig.png")
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metrics_are_plain_numbers():
    for r in _CACHE.values() or [run("perceptron", points=20)]:
        for key, value in r.metrics.items():
            vals = value if isinstance(value, list) else [value]
            assert all(type(v) in (int, float, type(None)) for v in vals), (r.name, key)


def test_pick_device(monkeypatch):
    monkeypatch.delenv("NNQA_DEVICE", raising=False)
    assert pick_device("cpu") == "cpu"
    assert pick_device() in ("cpu", "cuda", "mps")
    monkeypatch.setenv("NNQA_DEVICE", "cpu")
    assert pick_device() == "cpu"
    with pytest.raises(ValueError, match="NNQA_DEVICE"):
        monkeypatch.setenv("NNQA_DEVICE", "tpu")
        pick_device()
    with pytest.raises(ValueError, match="device"):
        pick_device("quantum")


def test_cuda_request_without_cuda_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="CUDA is not available"):
        run_demo("perceptron", device="cuda")


def test_thread_setting_is_restored():
    import torch

    before = torch.get_num_threads()
    run_demo("activation_functions", device="cpu", points=11)
    assert torch.get_num_threads() == before


def test_deep_vanishing_gradients_text_says_underflow_not_a_ratio():
    """At 60 layers sigmoid's first-layer gradient is exactly 0 in float32 and BatchNorm's
    is far above 1: the text says so instead of "299 orders of magnitude" and "flowing"."""
    r = run("vanishing_gradients", layers=60)
    assert r.metrics["first_layer_grad_sigmoid"] == 0.0
    assert r.metrics["he_over_sigmoid_first_layer"] is None
    assert "underflowed to exactly 0" in r.text and "orders of magnitude" not in r.text
    assert r.metrics["first_layer_grad_relu_bn"] > 1e3 and "grow far past 1" in r.text
    assert "and BatchNorm keep" not in r.text
    shallow = run("vanishing_gradients", layers=10)
    assert "orders of magnitude more than sigmoid" in shallow.text


def test_a_run_that_never_diverged_reads_none_not_minus_one():
    from nnqa.render import demo_markdown

    r = run("exploding_gradients", steps=30)
    _, metrics, _ = demo_markdown(r)
    assert "| diverged at step clipping | none |" in metrics
    assert "diverged_at_step_clipping: none" in str(r)


# --- figures on a phone ------------------------------------------------------------------


def _text_fraction(figure) -> float:
    """The tick labels' font size as a share of the figure's width (both in points)."""
    size = figure.axes[0].xaxis.get_ticklabels()[0].get_fontsize()
    return size / (figure.get_size_inches()[0] * 72)


def test_a_phone_gets_side_by_side_panels_stacked_and_the_original_is_kept():
    from nnqa.demos.figures import narrowed

    fig = run("loss_functions", steps=50).figure
    before = tuple(fig.get_size_inches())
    narrow = narrowed(fig)
    assert narrow is not fig
    geometry = sorted(ax.get_subplotspec().get_geometry() for ax in narrow.axes)
    assert geometry == [(3, 1, 0, 0), (3, 1, 1, 1), (3, 1, 2, 2)]  # one panel per row
    assert narrow.get_size_inches()[0] <= 4.6 < narrow.get_size_inches()[1]
    # a label takes over twice the share of the image's width: on a 390 px phone it is
    # drawn at ~9 px instead of ~4 px
    assert _text_fraction(narrow) > 2 * _text_fraction(fig)
    assert tuple(fig.get_size_inches()) == before  # the desktop's figure is untouched
    assert sorted(ax.get_subplotspec().get_geometry()[:2] for ax in fig.axes) == [(1, 3)] * 3
    import io

    narrow.savefig(io.BytesIO(), format="png")  # the copy draws


def test_a_phone_gets_a_wide_single_panel_narrowed_and_a_small_one_as_is():
    from nnqa.demos.figures import narrowed, new_figure

    fig = run("exploding_gradients").figure  # one 7-inch panel
    narrow = narrowed(fig)
    assert narrow.get_size_inches()[0] == pytest.approx(4.6)
    assert _text_fraction(narrow) > 1.4 * _text_fraction(fig)
    small, (ax,) = new_figure(1, width=4.0)
    ax.plot([0, 1], [0, 1])
    assert narrowed(small) is small
