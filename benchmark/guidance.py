"""Which hyperparameter weighs a method's guidance term: declared once, on the method class.

A study axis over guidance strength (``guidance: [0.1, 0.3, 1, 3]`` in a study) needs, for every
method, the hyperparameter(s) that set how strongly the saliency term pulls against the data term,
and where that pull is zero. Each guided method declares it as ``guidance = Guidance(...)``
(``contracts.Method.guidance``; None for ERM, the weight-zero point of every method's curve), so the
axis needs no per-method code. Two forms cover the methods of the suite:

- ``weight``: loss = CE + w * G for each named hyperparameter w (RRR's and GRADIA's ``lam``, SGT's
  ``kl_weight``, SAGE's triplet and JS weights scaled together). Strength s scales every w: w_s = s * w_0;
  off at w = 0.
- ``ce_share``: loss = a * CE + (1 - a) * G (CYBORG's ``alpha``). The strength is the ratio of the two
  weights, r = (1 - a) / a, so the guidance-to-data balance scales as in the ``weight`` form:
  r_s = s * r_0, i.e. a_s = 1 / (1 + s * r_0); off at a = 1.

Scale 1 is the method's default (the same run id as an unscaled run: a value equal to its default is
left out of the identity); scale 0 is plain training.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ContractError

FORMS = ("weight", "ce_share")


@dataclass(frozen=True)
class Guidance:
    """The hyperparameter(s) weighing a method's guidance term and how they scale (module docstring)."""

    params: tuple[str, ...]
    form: str = "weight"

    def __post_init__(self) -> None:
        if not self.params or not all(isinstance(p, str) and p for p in self.params):
            raise ContractError(f"Guidance: params must be a non-empty tuple of names, got {self.params!r}")
        if self.form not in FORMS:
            raise ContractError(f"Guidance: form must be one of {list(FORMS)}, got {self.form!r}")
        if self.form == "ce_share" and len(self.params) != 1:
            raise ContractError(f"Guidance: form 'ce_share' takes one hyperparameter, got {list(self.params)}")

    def check_defaults(self, defaults: Mapping[str, Any], owner: str) -> None:
        """Each named hyperparameter is declared with a default that has a guidance strength to scale
        (> 0 for ``weight``; in (0, 1) for ``ce_share``); one ``ContractError`` naming it otherwise."""
        for name in self.params:
            if name not in defaults:
                raise ContractError(f"{owner}: guidance hyperparameter '{name}' is not declared in hparams")
            value = defaults[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ContractError(
                    f"{owner}: guidance hyperparameter '{name}' must default to a number, got {value!r}"
                )
            ok = 0 < value < 1 if self.form == "ce_share" else value > 0
            if not ok:
                want = "in (0, 1)" if self.form == "ce_share" else "> 0"
                raise ContractError(
                    f"{owner}: guidance hyperparameter '{name}' must default to a value {want} "
                    f"(a strength to scale), got {value!r}"
                )

    def scaled(self, defaults: Mapping[str, Any], scale: float) -> dict[str, float]:
        """The guidance hyperparameters at ``scale`` times the default strength (scale >= 0)."""
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale >= 0 or math.isinf(scale):
            raise ContractError(f"guidance scale must be a finite number >= 0, got {scale!r}")
        if self.form == "ce_share":
            (name,) = self.params
            a0 = float(defaults[name])
            return {name: 1.0 / (1.0 + scale * (1.0 - a0) / a0)}
        return {name: float(scale) * float(defaults[name]) for name in self.params}

    def scale_of(self, values: Mapping[str, Any], defaults: Mapping[str, Any]) -> float:
        """The scale of ``values`` relative to ``defaults`` (1.0 at the defaults, 0.0 when off): the first
        named hyperparameter's ratio; the others of a ``weight`` guidance must share it, else ``ContractError``."""
        if self.form == "ce_share":
            (name,) = self.params
            a, a0 = float(values.get(name, defaults[name])), float(defaults[name])
            if not 0 < a <= 1:
                raise ContractError(f"guidance '{name}' = {a!r} has no strength (ce_share: a in (0, 1])")
            return ((1.0 - a) / a) / ((1.0 - a0) / a0)
        ratios = [float(values.get(name, defaults[name])) / float(defaults[name]) for name in self.params]
        if any(not math.isclose(r, ratios[0], rel_tol=1e-9, abs_tol=1e-12) for r in ratios[1:]):
            shown = {name: values.get(name, defaults[name]) for name in self.params}
            raise ContractError(f"guidance hyperparameters {shown} are not one scale of their defaults")
        return ratios[0]
