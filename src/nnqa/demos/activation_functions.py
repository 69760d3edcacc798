"""Activation functions and their derivatives, the derivatives taken by autograd.

For sigmoid, tanh, ReLU, Leaky ReLU, GELU and Swish (SiLU) we evaluate f(x) on a grid, get
f'(x) from ``autograd.grad`` and compare it with the closed form:

- sigmoid' = s(1 − s)             (at most 0.25, at x = 0)
- tanh'    = 1 − tanh²            (at most 1)
- ReLU'    = 1 for x > 0, else 0  (PyTorch uses 0 at exactly x = 0)
- Leaky'   = 1 for x > 0, else α
- GELU'    = Φ(x) + x·φ(x)        (exact GELU, erf form)
- Swish'   = s(x) + x·s(x)(1 − s(x))

Saturation is what the Vanishing Gradient card is about: far from 0, sigmoid' and tanh' are
tiny while ReLU' stays 1 for positive inputs. Leaves out: softmax, ELU/SELU, Mish.
Worst case at max params (100001 points): 0.2 s measured on the 2-core CPU.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch
from torch.nn import functional as F

from .figures import new_figure
from .registry import check_config
from .result import DemoResult

NAME = "activation_functions"


@dataclass(frozen=True)
class Config:
    """Parameters of this demo; bounds are declared in ``registry.DEMOS["activation_functions"]``
    and checked when a Config is made (ValueError naming the parameter)."""

    x_range: float = 6.0  # grid from -x_range to x_range
    points: int = 1001  # grid points
    leaky_slope: float = 0.05  # Leaky ReLU slope α for x < 0
    seed: int = 0  # unused by the maths (it is deterministic); kept for a uniform API

    def __post_init__(self):
        check_config(NAME, self)


def closed_form_derivatives(x: torch.Tensor, alpha: float) -> dict[str, torch.Tensor]:
    s = torch.sigmoid(x)
    t = torch.tanh(x)
    pdf = torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)  # φ(x)
    cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))  # Φ(x)
    return {
        "sigmoid": s * (1 - s),
        "tanh": 1 - t**2,
        "relu": (x > 0).to(x.dtype),
        "leaky_relu": torch.where(x > 0, torch.ones_like(x), torch.full_like(x, alpha)),
        "gelu": cdf + x * pdf,
        "swish": s + x * s * (1 - s),
    }


def run(cfg: Config, device: str = "cpu") -> DemoResult:
    t0 = time.perf_counter()
    dtype = torch.float32 if device.startswith("mps") else torch.float64
    x = torch.linspace(-cfg.x_range, cfg.x_range, cfg.points, dtype=dtype, device=device)  # (P,)
    x.requires_grad_(True)
    funcs = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda v: F.leaky_relu(v, cfg.leaky_slope),
        "gelu": F.gelu,
        "swish": F.silu,
    }
    values, grads = {}, {}
    for name, f in funcs.items():
        y = f(x)  # (P,)
        (dy,) = torch.autograd.grad(y.sum(), x)  # (P,) elementwise derivative
        values[name], grads[name] = y.detach(), dy
    closed = closed_form_derivatives(x.detach(), cfg.leaky_slope)

    metrics: dict = {}
    for name in funcs:
        metrics[f"max_abs_diff_{name}"] = (grads[name] - closed[name]).abs().max().item()
    for name in funcs:
        metrics[f"max_derivative_{name}"] = grads[name].max().item()
    edge = cfg.x_range
    for name in funcs:  # derivative at the edges of the grid: saturation
        metrics[f"derivative_at_minus_{name}"] = grads[name][0].item()
        metrics[f"derivative_at_plus_{name}"] = grads[name][-1].item()

    fig, (ax1, ax2) = new_figure(2, width=4.6)
    xc = x.detach().cpu()
    for name in funcs:
        ax1.plot(xc, values[name].cpu(), label=name)
        ax2.plot(xc, grads[name].cpu(), label=name)
    ax1.set_title("f(x)")
    ax2.set_title("f'(x) by autograd")
    ax1.set_ylim(-1.5, min(edge, 4.0))
    for ax in (ax1, ax2):
        ax.axhline(0, color="gray", lw=0.5)
        ax.set_xlabel("x")
    ax1.legend(fontsize=8)

    worst = max(metrics[f"max_abs_diff_{n}"] for n in funcs)
    text = (
        f"Autograd's derivatives match the closed forms on {cfg.points} points to within "
        f"{worst:.1e}. Sigmoid's slope peaks at {metrics['max_derivative_sigmoid']:.3f} and "
        f"tanh's at {metrics['max_derivative_tanh']:.3f}; at x = {edge:g} they have shrunk to "
        f"{metrics['derivative_at_plus_sigmoid']:.1e} and {metrics['derivative_at_plus_tanh']:.1e} "
        f"(saturation, the root of vanishing gradients). ReLU's slope is exactly "
        f"{metrics['derivative_at_plus_relu']:.0f} for every positive input and 0 for negative "
        f"ones; Leaky ReLU keeps {cfg.leaky_slope:g} there, and GELU and Swish are smooth "
        f"versions whose slope at x = {-edge:g} is {metrics['derivative_at_minus_gelu']:.1e} and "
        f"{metrics['derivative_at_minus_swish']:.1e}. The non-linearity is what lets stacked "
        f"layers model more than a straight line."
    )
    return DemoResult(
        name=NAME,
        title="Activation functions and their derivatives (via autograd)",
        figure=fig,
        metrics=metrics,
        text=text,
        device=device,
        seconds=time.perf_counter() - t0,
        params=asdict(cfg),
    )
