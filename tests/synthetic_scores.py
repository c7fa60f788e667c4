"""Synthetic tidy score frames for the statistics tests: paired seeds with a shared seed effect."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_scores(
    effects: dict[str, float],
    *,
    cells: int = 8,
    seeds: int = 10,
    metric: str = "accuracy",
    seed: int = 0,
    shared: float = 0.01,
    noise: float = 0.005,
) -> pd.DataFrame:
    """One row per method x cell x seed: cell level + the method's effect + a seed effect shared by
    every method of the cell (the pairing) + independent noise; columns as ``RecordSet.done()``."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(cells):
        level, seed_effect = 0.8 + rng.normal(0, 0.05), rng.normal(0, shared, seeds)
        for method, effect in effects.items():
            values = level + effect + seed_effect + rng.normal(0, noise, seeds)
            rows += [
                {
                    "method": method,
                    "arch": "cnn",
                    "dataset": f"d{c}",
                    "seed": s,
                    "split": "test",
                    "metric": metric,
                    "value": v,
                }
                for s, v in enumerate(values)
            ]
    return pd.DataFrame(rows)
