"""Vanishing gradients: how big is each layer's gradient in a deep MLP at initialisation?

One batch of random inputs and random class labels goes through a deep MLP (``layers``
hidden layers of ``width`` units); one backward pass; we record the norm of the gradient of
each hidden layer's weight matrix. Five variants of the same net:

- sigmoid and tanh with PyTorch's default init (uniform, variance 1/(3·fan_in)),
- ReLU with the default init, ReLU with He (Kaiming) init, and ReLU + BatchNorm.

Sigmoid's derivative is at most 1/4, so each layer multiplies the backward signal by a number
well below one and the first layer's gradient shrinks exponentially with depth. He init keeps
the variance of ReLU activations (and of gradients) roughly constant across layers; BatchNorm
re-normalises each layer's inputs so the default init no longer matters much.

Leaves out: training (see ``exploding_gradients``), residual connections, LayerNorm.
Worst case at max params (60 layers, width 256, batch 2048): 11.7 s measured on the
2-core CPU while other jobs kept the load average near 6; the defaults take about 0.1 s.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .figures import new_figure
from .registry import check_config
from .result import DemoResult

NAME = "vanishing_gradients"
VARIANTS = ("sigmoid", "tanh", "relu", "relu_he", "relu_bn")
CLASSES = 10


@dataclass(frozen=True)
class Config:
    """Parameters of this demo; bounds are declared in ``registry.DEMOS["vanishing_gradients"]``
    and checked when a Config is made (ValueError naming the parameter)."""

    layers: int = 20  # hidden layers (2..60)
    width: int = 64  # units per hidden layer (4..256)
    batch: int = 256  # random inputs in the batch (8..2048)
    seed: int = 0

    def __post_init__(self):
        check_config(NAME, self)


def build_mlp(variant: str, layers: int, width: int) -> nn.Sequential:
    """A ``layers``-deep MLP of ``width`` units ending in a CLASSES-way linear head."""
    act = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh}.get(variant, nn.ReLU)
    mods: list[nn.Module] = []
    for _ in range(layers):
        lin = nn.Linear(width, width)
        if variant == "relu_he":
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)
        mods.append(lin)
        if variant == "relu_bn":
            mods.append(nn.BatchNorm1d(width))
        mods.append(act())
    mods.append(nn.Linear(width, CLASSES))
    return nn.Sequential(*mods)


def layer_grad_norms(net: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """Norm of dLoss/dW for each hidden Linear layer, input side first."""
    loss = nn.functional.cross_entropy(net(x), y)  # net(x): (B, CLASSES)
    loss.backward()
    linears = [m for m in net if isinstance(m, nn.Linear)][:-1]  # hidden layers, not the head
    return [m.weight.grad.norm().item() for m in linears]


USABLE = (1e-3, 1e3)  # a first-layer gradient norm that neither vanished nor blew up


def explain(layers: int, first: dict, last: dict) -> str:
    """What the numbers say, honestly at any depth: a gradient that underflowed to 0 is
    called that (not a ratio of 1e300), and a BatchNorm gradient far above 1 is not
    called "flowing".

    >>> f = {"sigmoid": 0.0, "tanh": 1e-16, "relu_he": 0.15, "relu_bn": 3e4}
    >>> "underflowed to exactly 0" in explain(60, f, {"sigmoid": 1e-3})
    True
    """
    s, he, bn = first["sigmoid"], first["relu_he"], first["relu_bn"]
    if s > 0:
        versus = f"about {math.log10(he / s):.1f} orders of magnitude more than sigmoid"
    else:
        versus = ("where sigmoid's gradient underflowed to exactly 0 (below float32's smallest "
                  "number, about 1e-45): no signal reaches its first layer at all")  # fmt: skip
    if bn > USABLE[1]:
        bn_says = (f"{bn:.2e}: BatchNorm stops the vanishing but, at this depth with its default "
                   "init, lets the gradient grow far past 1 instead")  # fmt: skip
    elif bn < USABLE[0]:
        bn_says = f"{bn:.2e}: at this depth BatchNorm alone does not stop the vanishing"
    else:
        bn_says = f"{bn:.2e}, also in a usable range"
    good = ["ReLU with a good init"] + (["BatchNorm"] if USABLE[0] <= bn <= USABLE[1] else [])
    return (
        f"In a {layers}-layer MLP the sigmoid network's first-layer gradient norm is "
        f"{s:.2e}, against {last['sigmoid']:.2e} at its last hidden layer: the signal shrinks on "
        f"every step back because sigmoid's slope is at most 0.25. With tanh the first layer "
        f"gets {first['tanh']:.2e}. ReLU with He initialisation gives the first layer "
        f"{he:.2e}, {versus}; with BatchNorm (default init) it is {bn_says}. That is the "
        f"Vanishing Gradient card: squashing activations and poor initialisation starve the "
        f"early layers; {' and '.join(good)} keep{'s' if len(good) == 1 else ''} the gradient "
        "in a usable range."
    )


def run(cfg: Config, device: str = "cpu") -> DemoResult:
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    x = torch.randn(cfg.batch, cfg.width, device=device)  # (B, W)
    y = torch.randint(0, CLASSES, (cfg.batch,), device=device)  # (B,)

    norms: dict[str, list[float]] = {}
    for i, variant in enumerate(VARIANTS):
        torch.manual_seed(cfg.seed * 100 + i)
        net = build_mlp(variant, cfg.layers, cfg.width).to(device)
        norms[variant] = layer_grad_norms(net, x, y)

    first = {v: norms[v][0] for v in VARIANTS}
    last = {v: norms[v][-1] for v in VARIANTS}
    # float32 underflows below ~1e-45: a gradient of exactly 0 has no ratio to speak of
    ratio = first["relu_he"] / first["sigmoid"] if first["sigmoid"] > 0 else None

    metrics: dict = {}
    for v in VARIANTS:
        metrics[f"first_layer_grad_{v}"] = first[v]
        metrics[f"last_layer_grad_{v}"] = last[v]
    metrics["he_over_sigmoid_first_layer"] = ratio
    for v in VARIANTS:
        metrics[f"grad_norms_{v}"] = norms[v]

    fig, (ax,) = new_figure(1, width=7.0, height=4.2)
    depth = list(range(1, cfg.layers + 1))
    for v in VARIANTS:
        ax.semilogy(depth, [max(n, 1e-45) for n in norms[v]], marker="o", ms=3, label=v)
    ax.set_xlabel("hidden layer (1 = next to the input)")
    ax.set_ylabel("‖dLoss/dW‖ (log scale)")
    ax.set_title(f"Gradient norm per layer, {cfg.layers}-layer MLP at init")
    ax.legend(fontsize=8)

    text = explain(cfg.layers, first, last)
    return DemoResult(
        name=NAME,
        title="Vanishing gradients: per-layer gradient norms in a deep MLP",
        figure=fig,
        metrics=metrics,
        text=text,
        device=device,
        seconds=time.perf_counter() - t0,
        params=asdict(cfg),
    )
