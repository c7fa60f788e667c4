"""Floating-point operations of one training step, counted by ``torch.utils.flop_counter.FlopCounterMode``
(shape-based formulas of the matrix products and convolutions, forward and backward; an operator
without a formula counts 0, so element-wise work and the optimizer are not in the count).

FlopCounterMode attributes FLOPs to modules through a ``ModuleTracker`` whose hooks break
``torch.autograd.grad`` with respect to a leaf input (pytorch/pytorch#131753: "A leaf node was
passed to _will_engine_execute_node"), which RRR, SGT and SMOOT call inside their loss. Only the
total is needed here, so the tracker is replaced by one that attributes everything to "Global"
and hooks nothing; the counting itself (the dispatch mode and its formulas) is FlopCounterMode's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch.utils.flop_counter import FlopCounterMode


class _GlobalOnly:
    """Stands in for FlopCounterMode's ModuleTracker: no module hooks, every FLOP in "Global"."""

    parents = frozenset({"Global"})

    def __enter__(self) -> _GlobalOnly:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


def counter() -> FlopCounterMode:
    """A FlopCounterMode (no table printed) counting the total only (module docstring)."""
    mode = FlopCounterMode(display=False)
    if hasattr(mode, "mod_tracker"):
        mode.mod_tracker = _GlobalOnly()
    return mode


def step_flops(step: Callable[[], None]) -> int:
    """FLOPs of one call of ``step``."""
    with counter() as mode:
        step()
    return int(mode.get_total_flops())


def flops_per_second(flops: int, seconds: float) -> float:
    """Achieved FLOP/s: the step's counted FLOPs over its median wall time."""
    return flops / seconds if seconds > 0 else 0.0
