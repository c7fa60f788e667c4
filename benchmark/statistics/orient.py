"""Which way a metric points, and its ROPE: every ranking, win and gain is oriented by it.

A *family* key is ``"SPLIT/RECORD_KEY"`` (``"test/accuracy"``, ``"test/saliency/gradient/auroc"``):
each requested metric is its own correction family (docs/statistics.md §1.8). The direction and the
region of practical equivalence come from the metric's declaration
(``benchmark.saliency.metrics.spec``), never from this package. After orientation a positive
gain means "better" and rank 1 means "best", whatever the metric's direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.saliency import metrics as declared

DIRECTIONS = ("higher", "lower")


@dataclass(frozen=True)
class Family:
    """One correction family: a split and a record metric key, with its direction and ROPE."""

    split: str
    metric: str
    direction: str  # "higher" or "lower" is better
    rope: float  # smallest difference of interest, in the metric's unit

    @property
    def key(self) -> str:
        return f"{self.split}/{self.metric}"

    @property
    def sign(self) -> int:
        return sign(self.direction)


def split_key(family: str) -> tuple[str, str]:
    """``"test/saliency/gradient/auroc"`` -> ``("test", "saliency/gradient/auroc")``."""
    split, sep, metric = family.partition("/")
    if not sep or not split or not metric:
        raise ValueError(f"a metric family is 'SPLIT/METRIC' (e.g. 'test/accuracy'), got '{family}'")
    return split, metric


def family(key: str, *, direction: str | None = None, rope: float | None = None) -> Family:
    """The :class:`Family` of ``key``; ``direction``/``rope`` override the declaration (tests, ad-hoc metrics)."""
    split, metric = split_key(key)
    if direction is None or rope is None:
        spec = declared.spec(metric)
        direction = spec.direction if direction is None else direction
        rope = spec.rope if rope is None else rope
    sign(direction)
    if not rope >= 0:
        raise ValueError(f"rope must be >= 0, got {rope}")
    return Family(split, metric, direction, float(rope))


def sign(direction: str) -> int:
    """+1 when higher is better, -1 when lower is better."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got '{direction}'")
    return 1 if direction == "higher" else -1


def orient(values: np.ndarray, direction: str) -> np.ndarray:
    """Values multiplied by :func:`sign`: afterwards larger is better."""
    return sign(direction) * np.asarray(values, dtype=float)


def ranks(matrix: pd.DataFrame, direction: str) -> pd.DataFrame:
    """Within-row ranks of a cell x method matrix: 1 = best by ``direction``, ties averaged (Demšar 2006)."""
    return matrix.rank(axis=1, method="average", ascending=(direction == "lower"))
