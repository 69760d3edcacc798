"""The demo registry: names, titles and parameter bounds, without torch.

This module is the light half of ``nnqa.demos``: ``list_demos()`` and ``get_spec()`` are
called by the chat and the web app, so nothing here imports torch or matplotlib. Each
demo's parameters (default, bounds, choices) are declared once, here; the demo module's
``Config`` checks itself against them in ``__post_init__``. ``run_demo`` imports the heavy
demo module only when a demo actually runs.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import InputError, NotFound


class UnknownDemoError(NotFound, InputError):
    """No demo has this name. A KeyError (lookup) and a ValueError (bad argument) at once."""


@dataclass(frozen=True)
class Param:
    """One tunable demo parameter: its default and the values it may take."""

    name: str
    default: int | float | str
    min: int | float | None = None  # inclusive bound for numbers
    max: int | float | None = None  # inclusive bound for numbers
    choices: tuple[str, ...] | None = None  # allowed values for an enum-like str parameter
    help: str = ""

    @property
    def type(self) -> str:
        """'int', 'float' or 'str' (the type of the default)."""
        return type(self.default).__name__

    def check(self, value: Any) -> int | float | str:
        """Return ``value`` as this parameter's type, or raise ValueError naming the bound.

        Integral floats (20.0) and numeric strings ("20") are accepted, since sliders and
        command lines send those; booleans, fractions for ints and NaN are not.
        """
        kind = self.type
        if kind == "str":
            if not isinstance(value, str):
                raise InputError(f"{self.name} must be a string, got {value!r}")
            if self.choices and value not in self.choices:
                raise InputError(
                    f"{self.name} must be one of {', '.join(self.choices)}, got {value!r}"
                )
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InputError(
                f"{self.name} must be {'an integer' if kind == 'int' else 'a number'}, got {value!r}"
            )
        try:
            number = float(value)
        except ValueError:
            raise InputError(f"{self.name} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise InputError(f"{self.name} must be a finite number, got {value!r}")
        if kind == "int":
            if isinstance(value, str):
                try:
                    number = int(value.strip())
                except ValueError:
                    raise InputError(f"{self.name} must be an integer, got {value!r}") from None
            elif number != int(number):
                raise InputError(f"{self.name} must be an integer, got {value!r}")
            number = int(number)
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise InputError(
                f"{self.name} must be between {self.min} and {self.max}, got {value!r}"
            )
        return number

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "type": self.type, "default": self.default, "help": self.help}
        if self.choices:
            out["choices"] = list(self.choices)
        else:
            out["min"], out["max"] = self.min, self.max
        return out


def _seed() -> Param:
    return Param("seed", 0, 0, 2**31 - 1, help="random seed: same seed, same numbers")


@dataclass(frozen=True)
class DemoSpec:
    """What the registry knows about one demo without importing it."""

    name: str
    title: str
    params: tuple[Param, ...]
    summary: str = ""
    module: str = field(default="")  # dotted path; "nnqa.demos.<name>" when empty

    @property
    def module_path(self) -> str:
        return self.module or f"{__package__}.{self.name}"

    def resolve(self, given: dict[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``given``, each value checked. Raises ValueError."""
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise InputError(
                f"unknown parameter(s) {', '.join(unknown)} for demo {self.name!r}; "
                f"valid: {', '.join(known)}"
            )
        return {n: p.check(given[n]) if n in given else p.default for n, p in known.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "summary": self.summary,
            "params": [p.to_dict() for p in self.params],
        }


DEMOS: dict[str, DemoSpec] = {
    s.name: s
    for s in (
        DemoSpec(
            "vanishing_gradients",
            "Vanishing gradients: per-layer gradient norms in a deep MLP",
            (
                Param("layers", 20, 2, 60, help="hidden layers in the MLP"),
                Param("width", 64, 4, 256, help="units per hidden layer"),
                Param("batch", 256, 8, 2048, help="random inputs in the batch"),
                _seed(),
            ),
            "Gradient norm of every layer's weights for sigmoid, tanh, ReLU, ReLU+He init and ReLU+BatchNorm.",
        ),
        DemoSpec(
            "exploding_gradients",
            "Exploding gradients: a badly initialised deep net diverges; clipping tames it",
            (
                Param("layers", 12, 2, 40, help="hidden layers in the MLP"),
                Param("width", 32, 4, 128, help="units per hidden layer"),
                Param("init_scale", 2.0, 0.5, 10.0, help="initial weights = init_scale × He init"),
                Param("steps", 100, 5, 500, help="SGD steps per run"),
                Param("lr", 0.05, 1e-5, 1.0, help="SGD learning rate"),
                Param("clip", 1.0, 1e-3, 100.0, help="max gradient norm for the clipped run"),
                Param(
                    "weight_decay", 0.1, 0.0, 1.0, help="L2 coefficient for the weight-decay run"
                ),
                _seed(),
            ),
            "Training loss with no fix, with gradient-norm clipping, and with weight decay.",
        ),
        DemoSpec(
            "backpropagation",
            "Backpropagation by hand: the chain rule against autograd",
            (
                Param("inputs", 3, 1, 32, help="input features"),
                Param("hidden", 4, 1, 64, help="hidden units"),
                Param("outputs", 3, 2, 16, help="classes"),
                Param("samples", 8, 1, 512, help="training examples"),
                Param("steps", 25, 1, 1000, help="gradient-descent steps"),
                Param("lr", 0.5, 1e-4, 10.0, help="learning rate"),
                _seed(),
            ),
            "Forward, loss, backward and update written out by hand, checked against autograd.",
        ),
        DemoSpec(
            "perceptron",
            "The perceptron rule: converges on separable data, never on XOR",
            (
                Param("points", 100, 10, 2000, help="points in the separable set"),
                Param("margin", 0.1, 0.01, 0.5, help="gap kept around the true separating line"),
                Param("epochs", 50, 1, 200, help="passes over the data"),
                Param("lr", 1.0, 1e-3, 10.0, help="perceptron learning rate"),
                _seed(),
            ),
            "Mistakes per epoch and the learned line on a separable set and on XOR.",
        ),
        DemoSpec(
            "activation_functions",
            "Activation functions and their derivatives (via autograd)",
            (
                Param("x_range", 6.0, 0.5, 50.0, help="plot x from -x_range to x_range"),
                Param("points", 1001, 11, 100001, help="grid points"),
                Param("leaky_slope", 0.05, 0.0, 0.5, help="Leaky ReLU slope for x < 0"),
                _seed(),
            ),
            "Sigmoid, tanh, ReLU, Leaky ReLU, GELU and Swish with derivatives checked against closed forms.",
        ),
        DemoSpec(
            "gradient_descent",
            "Gradient descent on a 2-D loss surface: learning rate too small, good, too large",
            (
                Param("lr_small", 0.005, 1e-5, 1.0, help="a learning rate that is too small"),
                Param("lr_good", 0.3, 1e-5, 1.0, help="a learning rate that converges"),
                Param("lr_large", 0.42, 1e-5, 1.0, help="a learning rate that is too large"),
                Param("steps", 40, 1, 2000, help="gradient steps"),
                Param("curvature", 5.0, 1.0, 100.0, help="how much steeper the surface is along y"),
                _seed(),
            ),
            "Trajectories of plain gradient descent on f(x, y) = (x² + c·y²)/2.",
        ),
        DemoSpec(
            "feedforward",
            "A feedforward network learns the two-moons boundary",
            (
                Param("hidden", 32, 2, 128, help="units per hidden layer"),
                Param("layers", 2, 1, 4, help="hidden layers"),
                Param("samples", 400, 50, 2000, help="points (half kept for testing)"),
                Param("noise", 0.2, 0.0, 0.5, help="noise in the moons"),
                Param("steps", 300, 10, 2000, help="Adam steps (full batch)"),
                Param("lr", 0.01, 1e-5, 1.0, help="Adam learning rate"),
                _seed(),
            ),
            "An MLP's decision boundary and accuracy on scikit-learn's two moons.",
        ),
        DemoSpec(
            "loss_functions",
            "MSE against cross-entropy: the gradient when the prediction is wrong",
            (
                Param(
                    "worst_logit",
                    -8.0,
                    -30.0,
                    -1.0,
                    help="how confidently wrong the worst prediction is",
                ),
                Param("points", 401, 11, 100001, help="grid points"),
                Param("steps", 100, 1, 5000, help="gradient steps for the training race"),
                Param("lr", 0.5, 1e-4, 10.0, help="learning rate for the training race"),
                _seed(),
            ),
            "Loss and gradient of MSE (after a sigmoid) and cross-entropy as a prediction gets more wrong.",
        ),
        DemoSpec(
            "dropout",
            "Dropout narrows the gap between training and validation loss",
            (
                Param("p", 0.5, 0.05, 0.9, help="dropout probability"),
                Param("hidden", 128, 8, 256, help="units per hidden layer"),
                Param("train_points", 30, 10, 200, help="noisy training points"),
                Param("noise", 0.5, 0.0, 2.0, help="std of the noise on y"),
                Param("steps", 800, 10, 3000, help="Adam steps (full batch)"),
                Param("lr", 0.01, 1e-5, 1.0, help="Adam learning rate"),
                _seed(),
            ),
            "Train and validation loss of the same MLP with and without dropout on a small noisy set.",
        ),
        DemoSpec(
            "cnn",
            "A small CNN against an MLP of similar size on 8×8 digits",
            (
                Param("filters", 8, 1, 32, help="filters in each conv layer"),
                Param("epochs", 20, 1, 50, help="passes over the training images"),
                Param("batch", 64, 16, 1024, help="minibatch size"),
                Param("lr", 0.01, 1e-5, 1.0, help="Adam learning rate"),
                _seed(),
            ),
            "Test accuracy of a CNN and a parameter-matched MLP on sklearn digits, and the learned filters.",
        ),
        DemoSpec(
            "rnn_vs_lstm",
            "RNN against LSTM: remembering the first token of a growing sequence",
            (
                Param("max_length", 40, 5, 60, help="longest sequence tried"),
                Param("lengths", 3, 1, 4, help="how many sequence lengths from 5 to max_length"),
                Param("vocab", 4, 2, 32, help="distinct tokens"),
                Param("hidden", 32, 4, 64, help="hidden units"),
                Param("steps", 300, 10, 500, help="Adam steps per model and length"),
                Param("batch", 64, 8, 128, help="sequences per step"),
                Param("lr", 0.01, 1e-5, 1.0, help="Adam learning rate"),
                _seed(),
            ),
            "Accuracy at recalling the first token as the sequence grows, for a tanh RNN and an LSTM.",
        ),
        DemoSpec(
            "deep_vs_classical",
            "A linear model against a small network on circles, and what the hidden layer learned",
            (
                Param("hidden", 8, 2, 64, help="hidden units"),
                Param("samples", 400, 50, 2000, help="points (half kept for testing)"),
                Param("noise", 0.1, 0.0, 0.3, help="noise in the circles"),
                Param("steps", 400, 10, 2000, help="Adam steps (full batch) for each model"),
                Param("lr", 0.03, 1e-5, 1.0, help="Adam learning rate"),
                _seed(),
            ),
            "Logistic regression against a one-hidden-layer net on concentric circles, and the hidden features.",
        ),
    )
}


def get_spec(name: str) -> DemoSpec:
    """The registry entry for ``name``. Raises UnknownDemoError listing the valid names."""
    try:
        return DEMOS[name]
    except (KeyError, TypeError):
        raise UnknownDemoError(f"unknown demo {name!r}; valid: {', '.join(DEMOS)}") from None


def list_demos() -> list[dict[str, Any]]:
    """Every demo as plain data: name, title, summary and params with bounds.

    >>> [d["name"] for d in list_demos()][:2]
    ['vanishing_gradients', 'exploding_gradients']
    """
    return [s.to_dict() for s in DEMOS.values()]


def check_config(name: str, cfg: Any) -> None:
    """Validate a demo's Config dataclass against its registry bounds; raise ValueError."""
    get_spec(name).resolve(asdict(cfg))


def run_demo(name: str, device: str | None = None, **params: Any):
    """Run demo ``name`` with ``params`` on ``device`` and return its DemoResult.

    Imports torch and matplotlib (on first use). Raises UnknownDemoError (a KeyError and a
    ValueError) for an unknown name and ValueError for an unknown or out-of-bounds parameter.

    >>> r = run_demo("perceptron", points=40)   # doctest: +SKIP
    >>> r.metrics["separable_accuracy"]         # doctest: +SKIP
    1.0
    """
    from .device import demo_threads, pick_device

    spec = get_spec(name)
    values = spec.resolve(params)
    dev = pick_device(device)
    module = importlib.import_module(spec.module_path)
    cfg = module.Config(**values)
    with demo_threads(dev):
        return module.run(cfg, dev)
