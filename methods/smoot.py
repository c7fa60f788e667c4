"""SMOOT: Saliency Guided Mask Optimized Online Training (Karkehabadi, Homayoun, Sasan; arXiv 2310.00772).

A RECONSTRUCTION: the paper body was not available and there is no public code. The
abstract says SMOOT is SGT whose number of masked features is not fixed but chosen online
"based on input, accuracy, and model loss", to avoid the information loss of masking too
much. What this file implements (docs/methods.md, SMOOT):

- the loss is SGT's, unchanged (``methods/sgt.py``: CE + lambda * KL(clean || masked));
- at every epoch end a controller moves the masked fraction by ``step`` from the epoch's
  training statistics: clean accuracy a, accuracy on the masked inputs a~, and the loss gap
  g = CE(masked) - CE(clean):
    * a - a~ > max_accuracy_drop               -> mask less (masking removes information);
    * a >= min_accuracy and g <= max_loss_gap   -> mask more (confident, masked stays close);
    * otherwise                                 -> keep the fraction;
  clipped to [min_fraction, max_fraction]. Starting at SGT's default fraction makes SMOOT
  vs SGT an ablation of the controller alone.

The fraction used in each epoch and the one chosen for the next are logged per epoch
(``mask_fraction``, ``mask_fraction_next`` in the run record's curves); the controller's
state is checkpointed, so a resumed run continues with the fraction it had reached.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from benchmark.contracts import Batch, ContractError, HParam, Network, TrainState
from benchmark.registry import register_method

from .sgt import SGT  # a plain import: SMOOT's code fingerprint covers sgt.py, whatever the load order

CONTROLLER_INPUTS = ("train_accuracy", "masked_accuracy", "ce", "masked_ce")


@dataclass(frozen=True)
class FractionController:
    """The reconstructed online rule: one additive step per update, within the bounds."""

    min_fraction: float
    max_fraction: float
    step: float
    min_accuracy: float
    max_accuracy_drop: float
    max_loss_gap: float

    def next(self, fraction: float, stats: Mapping[str, float]) -> float:
        """The fraction for the next interval, from the last one's mean statistics (CONTROLLER_INPUTS)."""
        drop = stats["train_accuracy"] - stats["masked_accuracy"]
        gap = stats["masked_ce"] - stats["ce"]
        if drop > self.max_accuracy_drop:
            fraction -= self.step
        elif stats["train_accuracy"] >= self.min_accuracy and gap <= self.max_loss_gap:
            fraction += self.step
        return round(min(self.max_fraction, max(self.min_fraction, fraction)), 10)


@register_method
class SMOOT(SGT):
    """Karkehabadi et al. 2023 (reconstruction): SGT whose masked fraction is chosen online each epoch."""

    name = "smoot"
    citation = (
        "Karkehabadi, Homayoun, Sasan. SMOOT: Saliency Guided Mask Optimized Online Training. "
        "arXiv 2310.00772 (2023); reconstruction, no public code"
    )
    url = "https://arxiv.org/abs/2310.00772"
    cost = SGT.cost  # the controller reads statistics the SGT step already computes
    hparams = {
        **SGT.hparams,
        "fraction": HParam(
            0.5,
            "initial masked fraction (then chosen online); default SGT's 0.5, so SMOOT vs SGT isolates the controller",
            low=0,
            high=1,
        ),
        "min_fraction": HParam(0.1, "lower bound of the masked fraction", low=0, high=1),
        "max_fraction": HParam(0.9, "upper bound of the masked fraction", low=0, high=1),
        "step": HParam(0.1, "change of the fraction per epoch-end update", low=0, high=1),
        "min_accuracy": HParam(
            0.9, "clean training accuracy at which the model counts as confident (mask more)", low=0, high=1
        ),
        "max_accuracy_drop": HParam(
            0.05,
            "clean minus masked training accuracy above which the fraction "
            "decreases; at or below it the masked prediction counts as close",
            low=0,
            high=1,
        ),
        "max_loss_gap": HParam(0.1, "masked minus clean cross-entropy (nats) up to which the fraction may grow", low=0),
    }

    def __init__(self, **overrides: Any) -> None:
        super().__init__(**overrides)
        for field in ("min_fraction", "max_fraction", "step"):
            self.check_fraction(field, getattr(self, field))
        if not self.min_fraction <= self.fraction <= self.max_fraction:
            raise ContractError(
                f"method 'smoot': need min_fraction <= fraction <= max_fraction, got "
                f"{self.min_fraction} <= {self.fraction} <= {self.max_fraction}"
            )
        self.controller = FractionController(
            self.min_fraction,
            self.max_fraction,
            self.step,
            self.min_accuracy,
            self.max_accuracy_drop,
            self.max_loss_gap,
        )
        self._sums: dict[str, Tensor] = {}
        self._batches = 0

    def loss(self, net: Network, batch: Batch, state: TrainState) -> tuple[Tensor, dict[str, Tensor]]:
        loss, scalars = super().loss(net, batch, state)
        for key in CONTROLLER_INPUTS:  # device tensors: no host sync per step
            self._sums[key] = self._sums.get(key, 0) + scalars[key]
        self._batches += 1
        return loss, scalars

    def on_epoch_end(self, state: TrainState) -> dict[str, float]:
        used = self.fraction
        if self._batches:
            stats = {key: float(total) / self._batches for key, total in self._sums.items()}
            self.fraction = self.controller.next(used, stats)
        self._sums, self._batches = {}, 0
        return {"mask_fraction": used, "mask_fraction_next": self.fraction}

    def state_dict(self) -> dict[str, Any]:
        return {"fraction": self.fraction}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if "fraction" not in state:
            raise ContractError(f"method 'smoot': checkpointed state lacks 'fraction', has {sorted(state)}")
        fraction = float(state["fraction"])
        if not self.min_fraction <= fraction <= self.max_fraction:
            raise ContractError(
                f"method 'smoot': checkpointed fraction {fraction} outside [{self.min_fraction}, {self.max_fraction}]"
            )
        self.fraction = fraction
