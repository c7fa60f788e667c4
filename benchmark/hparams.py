"""A declared hyperparameter (methods, datasets, architectures) and its resolution against overrides."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ContractError

_SCALAR_TYPES = (bool, int, float, str)


@dataclass(frozen=True)
class HParam:
    """A declared hyperparameter: default, one-line meaning, optional allowed values or an
    inclusive numeric range ``[low, high]`` (either bound may be None)."""

    default: Any
    help: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None

    def validate(self, name: str, value: Any, owner: str) -> Any:
        """Return ``value`` coerced to the default's type, or raise naming the culprit."""
        kind = type(self.default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is not type(value):
            raise ContractError(
                f"{owner}: hyperparameter '{name}' expects {kind.__name__}, got {value!r} ({type(value).__name__})"
            )
        if kind is float and not math.isfinite(value):
            raise ContractError(f"{owner}: hyperparameter '{name}' must be finite, got {value!r}")
        if kind in (int, float) and (
            (self.low is not None and value < self.low) or (self.high is not None and value > self.high)
        ):
            bounds = f"[{'-inf' if self.low is None else self.low}, {'inf' if self.high is None else self.high}]"
            raise ContractError(f"{owner}: hyperparameter '{name}' must be in {bounds}, got {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ContractError(f"{owner}: hyperparameter '{name}' must be one of {list(self.choices)}, got {value!r}")
        return value


def resolve_hparams(declared: Mapping[str, HParam], overrides: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """Defaults updated by ``overrides``; unknown names fail with the list of known ones."""
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ContractError(f"{owner}: unknown hyperparameter(s) {unknown}; known: {sorted(declared)}")
    return {name: hp.validate(name, overrides.get(name, hp.default), owner) for name, hp in declared.items()}
