"""The unit times a method's declared ``Cost`` counts (``benchmark.contracts.COST_UNITS``), measured
on ERM's network, batch and precision on this machine, in train mode.

Each backward-type unit is timed after an untimed forward (the region starts once the graph exists):

- ``forward``: ``net(x)`` building the autograd graph;
- ``backward``: ``CE.backward()``, parameters and activations (Rumelhart et al. 1986);
- ``input_backward``: ``autograd.grad(sum_i log p_{y_i}(x_i), x)``, the input gradient alone
  (Simonyan et al. 2014), no graph kept;
- ``double_backward``: ``g = autograd.grad(sum log p(x), x, create_graph=True)`` then one
  ``(CE + ||g||^2).backward()`` through both (double back-propagation, Drucker & LeCun 1992;
  the term RRR trains with), in the layout such a step runs in (NCHW on the CPU,
  ``models.layout.cpu_channels_last``);
- ``grad_cam``: the extra time of Grad-CAM weights (Selvaraju et al. 2017, Eq. 1) built with
  ``create_graph=True`` and the loss's backward through them. Measured as the difference of two
  graphs timed in the same rounds, (A) ``CE + mean(CAM^2)`` with the Grad-CAM weights and
  (B) the same loss with those weights as constants: the per-round difference A - B, its median
  over rounds, floored at 0 (noise can make it negative when the weights are cheap). Exactly 0,
  not measured, when ``net.exact_cam`` is True (the CAM is the classifier row, in closed form).

A unit's time is the median over rounds (``timing.time_regions``, units interleaved).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from ..contracts import COST_UNITS, Cost
from .case import Case
from .timing import time_regions


def theoretical_ratio(cost: Cost, baseline: Cost, units: Mapping[str, float]) -> float:
    """``cost.seconds(units) / baseline.seconds(units)``: the step time the declared cost predicts,
    relative to the baseline's (ERM: 1F+1B)."""
    return cost.seconds(units) / baseline.seconds(units)


def _regions(case: Case) -> dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]]:
    net, batch = case.fresh_net(), case.batch

    def forward_out(x: torch.Tensor, double_backward: bool = False):
        net.zero_grad(set_to_none=True)
        with case.autocast(net, double_backward):
            return net(x)

    def forward(_: object) -> None:
        with case.autocast(net):
            net(batch.x)

    def ce_graph() -> torch.Tensor:
        return F.cross_entropy(forward_out(batch.x).logits.float(), batch.y)

    def input_graph() -> tuple[torch.Tensor, torch.Tensor]:
        x = batch.x.detach().requires_grad_(True)
        return F.log_softmax(forward_out(x).logits.float(), 1).gather(1, batch.y[:, None]).sum(), x

    def double_graph() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = batch.x.detach().requires_grad_(True)
        with sdpa_kernel(SDPBackend.MATH):  # the fused attention kernels have no double backward
            log_probs = F.log_softmax(forward_out(x, double_backward=True).logits.float(), 1)
        return log_probs, F.nll_loss(log_probs, batch.y), x

    def double_backward(graph: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> None:
        log_probs, ce, x = graph
        (grads,) = torch.autograd.grad(log_probs.sum(), x, create_graph=True)
        (ce + grads.pow(2).sum()).backward()

    regions = {
        "forward": (lambda: None, forward),
        "backward": (ce_graph, lambda loss: loss.backward()),
        "input_backward": (input_graph, lambda g: torch.autograd.grad(*g)),
        "double_backward": (double_graph, double_backward),
    }
    if not net.exact_cam:

        def cam_graph():
            out = forward_out(batch.x)
            constant = torch.ones(out.feature_map.shape[:2], device=case.device, dtype=out.feature_map.dtype)
            return out, F.cross_entropy(out.logits.float(), batch.y), constant

        def with_grad_cam(graph) -> None:  # (A): Grad-CAM weights with a graph, backward through them
            out, ce, _ = graph
            score = out.logits.gather(1, batch.y[:, None]).sum()
            (grads,) = torch.autograd.grad(score, out.feature_map, create_graph=True)
            cam = torch.einsum("bkhw,bk->bhw", out.feature_map, grads.mean(dim=(2, 3)))
            (ce + cam.float().pow(2).mean()).backward()

        def with_constant_weights(graph) -> None:  # (B): the same loss, the weights given
            out, ce, constant = graph
            cam = torch.einsum("bkhw,bk->bhw", out.feature_map, constant)
            (ce + cam.float().pow(2).mean()).backward()

        regions["grad_cam_graph"] = (cam_graph, with_grad_cam)
        regions["constant_cam_graph"] = (cam_graph, with_constant_weights)
    return regions


def measure_units(case: Case, rounds: int = 15, warmup: int = 2) -> dict[str, float]:
    """Seconds of every unit of ``COST_UNITS`` for ``case`` (see the module docstring)."""
    times = time_regions(_regions(case), rounds, warmup, case.device)
    units = {name: statistics.median(times[name]) for name in COST_UNITS if name in times}
    if "grad_cam_graph" in times:
        diffs = [a - b for a, b in zip(times["grad_cam_graph"], times["constant_cam_graph"])]
        units["grad_cam"] = max(0.0, statistics.median(diffs))
    else:
        units["grad_cam"] = 0.0
    return {name: units[name] for name in COST_UNITS}
