"""A training step's theoretical cost in measured units (``benchmark.profiling``; docs/methods.md, Conventions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ContractError

COST_UNITS = ("forward", "backward", "input_backward", "double_backward", "grad_cam")
NOMINAL_FORWARDS = {"forward": 1.0, "backward": 2.0, "input_backward": 1.0, "double_backward": 5.0, "grad_cam": 0.0}


@dataclass(frozen=True)
class Cost:
    """Theoretical cost of one training step, counted in units measured on the ERM step of the same
    network, batch and machine (``benchmark.profiling``), so a cost that depends on the network says so:

    - forward: forward passes; backward: full backward passes (parameters and activations);
    - input_backward: backward passes that only need the input gradient (no graph kept);
    - double_backward: an input gradient built with ``create_graph=True`` and one backward through
      both it and the forward (double back-propagation, Drucker & LeCun 1992). Measured, because
      through BatchNorm or max-pooling it costs more than two plain backward passes;
    - grad_cam: Grad-CAM weights of a head that is not global-average-pool -> linear (a backward
      through the head with ``create_graph=True`` and the loss's backward through that). Zero on a
      network whose ``exact_cam`` is True: there the CAM is the classifier row, in closed form.

    ERM is Cost(forward=1, backward=1).
    """

    forward: float
    backward: float
    input_backward: float = 0.0
    double_backward: float = 0.0
    grad_cam: float = 0.0

    def seconds(self, units: Mapping[str, float]) -> float:
        """Predicted step time from measured unit times (seconds per unit, keys ``COST_UNITS``;
        a unit the method does not use may be missing)."""
        total = 0.0
        for name in COST_UNITS:
            count = getattr(self, name)
            if count:
                if name not in units:
                    raise ContractError(f"cost unit '{name}' was not measured; measured: {sorted(units)}")
                total += count * units[name]
        return total

    def in_forward_units(self) -> float:
        """The nominal count of docs/methods.md (Conventions): F per forward, 2F per backward, 1F per
        input-only backward, 5F per double backward (an input backward and two backward passes);
        Grad-CAM counted as 0F."""
        return sum(getattr(self, name) * NOMINAL_FORWARDS[name] for name in COST_UNITS)

    def describe(self) -> str:
        """Compact form, e.g. ``1F+1B`` or ``1F+1DB+1CAM``."""
        short = {"forward": "F", "backward": "B", "input_backward": "IB", "double_backward": "DB", "grad_cam": "CAM"}
        return "+".join(f"{getattr(self, n):g}{short[n]}" for n in COST_UNITS if getattr(self, n)) or "0"
