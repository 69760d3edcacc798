"""Exploding gradients: a deep ReLU net with too-large initial weights diverges under SGD.

The MLP's weights start at ``init_scale`` × He init, so every layer multiplies activations
(forward) and gradients (backward) by about ``init_scale``: after ``layers`` layers the loss
and its gradient are ``init_scale ** layers`` too big, the first SGD step overshoots, and the
loss becomes inf, then NaN. Four runs on the same data from the same initial weights:

- no fix;
- L2 weight decay alone (``weight_decay`` in SGD);
- gradient-norm clipping (``clip_grad_norm_`` to ``clip``);
- clipping and weight decay together.

What we measure: the loss per step, the step at which it first stops being finite, and the
largest gradient norm seen. Weight decay pulls weights towards zero a little each step; it
limits slow growth of the weights but cannot undo one enormous step, which is what clipping
prevents: we report what actually happened rather than what the card promises.

Leaves out: RNNs through time, Adam (which rescales steps itself), learning-rate warm-up.
Worst case at max params (40 layers, width 128, 500 steps): 38 s measured on the
2-core CPU at load average ~6; the defaults take about 1.2 s.
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

NAME = "exploding_gradients"
INPUTS = 8
SAMPLES = 256
RUNS = ("no_fix", "weight_decay", "clipping", "clipping_and_weight_decay")


@dataclass(frozen=True)
class Config:
    """Parameters of this demo; bounds are declared in ``registry.DEMOS["exploding_gradients"]``
    and checked when a Config is made (ValueError naming the parameter)."""

    layers: int = 12  # hidden layers (2..40)
    width: int = 32  # units per hidden layer (4..256)
    init_scale: float = 2.0  # initial weights = init_scale × He init (0.5..10); 1.0 is healthy
    steps: int = 100  # SGD steps per run (5..1000)
    lr: float = 0.05  # SGD learning rate
    clip: float = 1.0  # max global gradient norm in the clipped runs
    weight_decay: float = 0.1  # L2 coefficient in the weight-decay runs
    seed: int = 0

    def __post_init__(self):
        check_config(NAME, self)


def build_mlp(cfg: Config) -> nn.Sequential:
    mods: list[nn.Module] = []
    fan_in = INPUTS
    for _ in range(cfg.layers):
        lin = nn.Linear(fan_in, cfg.width)
        nn.init.normal_(lin.weight, 0.0, cfg.init_scale * math.sqrt(2.0 / fan_in))
        nn.init.zeros_(lin.bias)
        mods += [lin, nn.ReLU()]
        fan_in = cfg.width
    head = nn.Linear(fan_in, 1)
    nn.init.normal_(head.weight, 0.0, cfg.init_scale * math.sqrt(1.0 / fan_in))
    nn.init.zeros_(head.bias)
    return nn.Sequential(*mods, head)


def train(
    cfg: Config, x, y, state, clip: bool, decay: bool, device: str
) -> tuple[list[float], float]:
    """SGD from the initial ``state``; returns (loss per step, largest raw gradient norm)."""
    net = build_mlp(cfg).to(device)
    net.load_state_dict(state)
    opt = torch.optim.SGD(
        net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay if decay else 0.0
    )
    losses, max_grad = [], 0.0
    for _ in range(cfg.steps):
        loss = nn.functional.mse_loss(net(x), y)  # net(x): (N, 1)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            losses += [math.nan] * (cfg.steps - len(losses))  # once NaN, always NaN: stop early
            break
        opt.zero_grad()
        loss.backward()
        total = nn.utils.clip_grad_norm_(net.parameters(), cfg.clip if clip else math.inf)
        max_grad = max(max_grad, total.item())
        opt.step()
    return losses, max_grad


def first_bad_step(losses: list[float]) -> int | None:
    """Index of the first non-finite loss, or None if the run stayed finite."""
    return next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)


def run(cfg: Config, device: str = "cpu") -> DemoResult:
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    x = torch.randn(SAMPLES, INPUTS, device=device)  # (N, D)
    y = torch.sin(x[:, :1]) + 0.5 * x[:, 1:2]  # (N, 1) a smooth target
    state = {k: v.clone() for k, v in build_mlp(cfg).to(device).state_dict().items()}

    results = {}
    for name in RUNS:
        results[name] = train(cfg, x, y, state, "clipping" in name, "weight_decay" in name, device)

    metrics: dict = {"initial_loss": results["no_fix"][0][0]}
    for name, (losses, max_grad) in results.items():
        metrics[f"final_loss_{name}"] = losses[-1]
        metrics[f"diverged_at_step_{name}"] = first_bad_step(losses)
        metrics[f"max_grad_norm_{name}"] = max_grad
    for name, (losses, _) in results.items():
        metrics[f"losses_{name}"] = losses

    fig, (ax,) = new_figure(1, width=7.0, height=4.2)
    for name, (losses, _) in results.items():
        finite = [v if math.isfinite(v) else math.nan for v in losses]
        ax.semilogy(range(len(finite)), finite, label=name.replace("_", " "))
        bad = first_bad_step(losses)
        if bad is not None:
            ax.axvline(bad, ls=":", color=ax.lines[-1].get_color())
    ax.set_xlabel("SGD step (dotted line: loss became inf/NaN)")
    ax.set_ylabel("training MSE (log scale)")
    ax.set_title(f"{cfg.layers}-layer ReLU MLP, weights {cfg.init_scale:g}× He init")
    ax.legend(fontsize=8)

    def outcome(name: str) -> str:
        bad = first_bad_step(results[name][0])
        if bad is not None:
            return f"became non-finite at step {bad}"
        return f"stayed finite, ending at {results[name][0][-1]:.3g}"

    wd_note = (
        ": decay shrinks weights a little each step and cannot stop one huge step"
        if first_bad_step(results["weight_decay"][0]) is not None
        else ""
    )
    text = (
        f"With weights {cfg.init_scale:g}× the He scale, the {cfg.layers}-layer network starts at "
        f"a loss of {metrics['initial_loss']:.3g} with a gradient norm of "
        f"{results['no_fix'][1]:.3g}. Plain SGD {outcome('no_fix')}. With L2 weight decay alone "
        f"it {outcome('weight_decay')}{wd_note}. Clipping the gradient norm to {cfg.clip:g} it {outcome('clipping')}, and with "
        f"clipping plus weight decay it {outcome('clipping_and_weight_decay')}. That is the "
        f"Exploding Gradient card: divergence and numerical instability, and the fixes it lists "
        f"(gradient clipping, L2 regularisation) measured side by side."
    )
    return DemoResult(
        name=NAME,
        title="Exploding gradients: a badly initialised deep net diverges; clipping tames it",
        figure=fig,
        metrics=metrics,
        text=text,
        device=device,
        seconds=time.perf_counter() - t0,
        params=asdict(cfg),
    )
