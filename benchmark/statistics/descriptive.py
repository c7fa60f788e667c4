"""Per cell: mean, SD, n and a 95% t-interval (docs/statistics.md §1.13, "Within each cell" step 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .frames import select
from .orient import Family


def t_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """``scipy.stats.t.interval(confidence, n-1, loc=mean, scale=sd/sqrt(n))`` over the finite values; NaN for n < 2."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return float("nan"), float("nan")
    scale = x.std(ddof=1) / np.sqrt(x.size)
    if scale == 0:
        return float(x.mean()), float(x.mean())
    low, high = stats.t.interval(confidence, x.size - 1, loc=x.mean(), scale=scale)
    return float(low), float(high)


def describe(values: np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """n (finite values), n_nan, mean, sd (ddof=1), t-interval, median, min, max of one cell's seeds."""
    x = np.asarray(values, dtype=float)
    finite = x[np.isfinite(x)]
    n = int(finite.size)
    low, high = t_interval(finite, confidence)
    nan = float("nan")
    return {
        "n": n,
        "n_nan": int(x.size - n),
        "mean": float(finite.mean()) if n else nan,
        "sd": float(finite.std(ddof=1)) if n > 1 else nan,
        "ci_low": low,
        "ci_high": high,
        "median": float(np.median(finite)) if n else nan,
        "min": float(finite.min()) if n else nan,
        "max": float(finite.max()) if n else nan,
    }


def describe_cells(scores: pd.DataFrame, fam: Family, confidence: float = 0.95) -> pd.DataFrame:
    """One row per cell x method: ``dataset, arch, split, metric, method, n, n_nan, mean, sd, ci_low, ci_high,
    median, min, max``. ``n_nan`` counts runs whose value is undefined (NaN); absent runs are not rows."""
    rows = select(scores, fam)
    out = [
        {
            "dataset": dataset,
            "arch": arch,
            "split": fam.split,
            "metric": fam.metric,
            "method": method,
            **describe(runs["value"].to_numpy(dtype=float), confidence),
        }
        for (dataset, arch, method), runs in rows.groupby(["dataset", "arch", "method"], sort=True)
    ]
    return pd.DataFrame(out)
