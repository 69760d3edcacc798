"""Gradient descent on a 2-D loss surface: a learning rate too small, good, and too large.

The surface is f(x, y) = (x² + c·y²)/2, a valley ``c`` times steeper across than along
(the Hessian has eigenvalues 1 and c). Plain gradient descent, ``θ ← θ − lr·∇f(θ)``, with
the gradient from autograd, starts from the same random point for each learning rate.
On a quadratic the answer is known exactly: each direction shrinks by |1 − lr·λ| per step,
so descent converges only when lr < 2/c, is fastest near lr = 2/(1 + c), and crawls when lr
is tiny. Defaults (c = 5): 0.005 crawls, 0.3 converges, 0.42 > 2/5 oscillates and diverges.

Leaves out: momentum, Adam, stochastic minibatches, non-convex surfaces.
Worst case at max params (2000 steps): 3.3 s measured on the 2-core CPU at load
average ~6; the defaults take about 0.1 s.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch

from .figures import new_figure
from .registry import check_config
from .result import DemoResult

NAME = "gradient_descent"
START_RADIUS = 2.0


@dataclass(frozen=True)
class Config:
    """Parameters of this demo; bounds are declared in ``registry.DEMOS["gradient_descent"]``
    and checked when a Config is made (ValueError naming the parameter)."""

    lr_small: float = 0.005  # too small: crawls along the valley floor
    lr_good: float = 0.3  # near 2/(1 + c): converges fast
    lr_large: float = 0.42  # above 2/c: overshoots further each step
    steps: int = 40  # gradient steps per run
    curvature: float = 5.0  # c, how much steeper the valley is across than along
    seed: int = 0  # picks the starting point on a circle of radius 2

    def __post_init__(self):
        check_config(NAME, self)


def loss_surface(theta: torch.Tensor, c: float) -> torch.Tensor:
    """f(θ) = (θ₀² + c·θ₁²)/2 for θ of shape (..., 2); minimum 0 at the origin."""
    return 0.5 * (theta[..., 0] ** 2 + c * theta[..., 1] ** 2)


def descend(start: torch.Tensor, lr: float, steps: int, c: float) -> list[list[float]]:
    theta = start.clone().requires_grad_(True)  # (2,)
    path = [theta.detach().tolist()]
    for _ in range(steps):
        (grad,) = torch.autograd.grad(loss_surface(theta, c), theta)  # (2,)
        with torch.no_grad():
            theta -= lr * grad
        path.append(theta.detach().tolist())
        if not all(math.isfinite(v) and abs(v) < 1e150 for v in path[-1]):
            break  # diverged beyond any use; stop instead of overflowing
    return path


def run(cfg: Config, device: str = "cpu") -> DemoResult:
    t0 = time.perf_counter()
    g = torch.Generator().manual_seed(cfg.seed)
    # Start on the circle at an angle away from both axes, so both directions matter.
    angle = (0.15 + 0.2 * torch.rand(1, generator=g).item()) * math.pi
    angle += math.pi * torch.randint(0, 2, (1,), generator=g).item()
    dtype = torch.float32 if device.startswith("mps") else torch.float64
    start = (
        torch.tensor([math.cos(angle), math.sin(angle)], dtype=dtype, device=device) * START_RADIUS
    )

    runs = {"small": cfg.lr_small, "good": cfg.lr_good, "large": cfg.lr_large}
    paths = {k: descend(start, lr, cfg.steps, cfg.curvature) for k, lr in runs.items()}

    def dist(p):
        return math.hypot(*p)

    metrics: dict = {
        "start_distance": dist(paths["good"][0]),
        "stable_lr_limit": 2.0 / cfg.curvature,
    }
    for k, path in paths.items():
        d = [dist(p) for p in path]
        metrics[f"final_distance_{k}"] = d[-1]
        metrics[f"final_loss_{k}"] = 0.5 * (path[-1][0] ** 2 + cfg.curvature * path[-1][1] ** 2)
        metrics[f"distances_{k}"] = d

    fig, (ax1, ax2) = new_figure(2, width=4.6)
    lim = START_RADIUS * 1.6
    grid = torch.linspace(-lim, lim, 121, dtype=torch.float64)
    gx, gy = torch.meshgrid(grid, grid, indexing="xy")  # (121, 121) each
    z = loss_surface(torch.stack([gx, gy], dim=-1), cfg.curvature)  # (121, 121)
    ax1.contour(gx, gy, z, levels=15, cmap="Greys", linewidths=0.6)
    for k, path in paths.items():
        xs = [p[0] for p in path]
        ys = [p[1] for p in path]
        ax1.plot(xs, ys, marker=".", ms=4, lw=1, label=f"lr={runs[k]:g} ({k})")
        metrics_d = metrics[f"distances_{k}"]
        ax2.semilogy(
            range(len(metrics_d)), [max(v, 1e-300) for v in metrics_d], label=f"lr={runs[k]:g}"
        )
    ax1.plot([0], [0], "k*", ms=10)
    ax1.set_xlim(-lim, lim)
    ax1.set_ylim(-lim, lim)
    ax1.set_title(f"f = (x² + {cfg.curvature:g}·y²)/2")
    ax1.legend(fontsize=7, loc="lower right")
    ax2.set_xlabel("step")
    ax2.set_ylabel("distance to the minimum (log)")
    ax2.set_title("Convergence")
    ax2.legend(fontsize=8)

    def verdict(k: str) -> str:
        d0, d1 = metrics["start_distance"], metrics[f"final_distance_{k}"]
        if not math.isfinite(d1) or d1 > d0:
            return f"moved away, to distance {d1:.3g} (diverged)"
        if d1 < 1e-3 * d0:
            return f"reached distance {d1:.1e} (converged)"
        return f"is still at distance {d1:.3g} ({d1 / d0:.0%} of its starting distance)"

    text = (
        f"Starting {metrics['start_distance']:.2f} from the minimum, after {cfg.steps} steps "
        f"gradient descent with lr = {cfg.lr_small:g} {verdict('small')}; with lr = "
        f"{cfg.lr_good:g} it {verdict('good')}; with lr = {cfg.lr_large:g} it {verdict('large')}. "
        f"On this surface descent is stable only for lr < 2/{cfg.curvature:g} = "
        f"{2 / cfg.curvature:.3g}: the learning rate sets how far each step moves against the "
        f"gradient, and too large a step overshoots the valley floor."
    )
    return DemoResult(
        name=NAME,
        title="Gradient descent on a 2-D loss surface: learning rate too small, good, too large",
        figure=fig,
        metrics=metrics,
        text=text,
        device=device,
        seconds=time.perf_counter() - t0,
        params=asdict(cfg),
    )
