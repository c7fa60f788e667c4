"""Aggregate normalized gain and probability of improvement across cells, with stratified-bootstrap CIs.

docs/statistics.md §1.13 (across cells, step 4), §1.6 and §1.15 (rliable's stratified bootstrap, a few lines over a
seeded ``numpy.random.Generator``; IQM = ``scipy.stats.trim_mean(x, 0.25)`` over the pooled
(cell, seed) gains). For each method only the seeds it shares with the baseline (both finite)
enter. Per cell c and shared seed s the normalized gain is

    g[m, c, s] = sign * (y[m, c, s] - mean_s y[base, c, s]) / scale_c

with ``scale_c`` chosen by ``scale``: ``"rope"`` (default: the metric's pre-registered ROPE in every
cell, so g = 1 is a gain of exactly the smallest effect of interest; it is fixed in advance, never
estimated from the runs and defined for metrics near 0), ``"baseline_sd"`` (the baseline's SD over
its seeds in the cell, Glass's delta) or ``"baseline_mean"`` (|baseline mean|: relative gain).
Cells whose scale is 0 or undefined are left out (``n_cells`` says how many entered).
The bootstrap resamples seeds with replacement within each cell (strata), the same resampled
seeds for the method and the baseline (paired), ``reps`` times (default 10,000); the
uniforms are shared by all methods (common random numbers). Percentile intervals.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .bootstrap import REPS, SEED, percentile_interval, stratified, uniforms
from .frames import Cube
from .orient import Family

SCALES = ("rope", "baseline_sd", "baseline_mean")


def cell_scale(base: np.ndarray, fam: Family, scale: str) -> np.ndarray:
    """scale_c per cell from the baseline's (cells, seeds) values (see module docstring)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got '{scale}'")
    if scale == "rope":
        return np.full(base.shape[0], fam.rope)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanstd(base, axis=1, ddof=1) if scale == "baseline_sd" else np.abs(np.nanmean(base, axis=1))


def a12(x: np.ndarray, y: np.ndarray) -> float:
    """Vargha–Delaney A12 = P(X > Y) + P(X = Y)/2 = ``mannwhitneyu(x, y).statistic / (n_x n_y)`` (unpaired)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(((x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])).mean())


def _compact(values: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shared finite seeds moved to the front of each cell: (method, base, counts); padding is NaN."""
    both = np.isfinite(values) & np.isfinite(base)
    order = np.argsort(~both, axis=1, kind="stable")
    counts = both.sum(axis=1)
    pad = np.arange(values.shape[1])[None, :] >= counts[:, None]
    ym = np.where(pad, np.nan, np.take_along_axis(values, order, 1))
    yb = np.where(pad, np.nan, np.take_along_axis(base, order, 1))
    return ym, yb, counts


def _statistics(
    ym: np.ndarray, yb: np.ndarray, valid: np.ndarray, sign: int, scale: np.ndarray
) -> dict[str, np.ndarray]:
    """Mean gain, IQM gain, raw pooled paired gain and paired PoI of (..., cells, seeds) arrays; ``valid`` is
    the (cells, seeds) mask of real pairs (the others are padding)."""
    factor = (sign / scale)[:, None]
    if valid.all():  # the usual case: same seeds everywhere, no masking needed
        g = (ym - yb.mean(axis=-1, keepdims=True)) * factor
        d = ym - yb
        flat_g = g.reshape(g.shape[:-2] + (-1,))
        return {
            "gain_mean": flat_g.mean(axis=-1),
            "gain_iqm": stats.trim_mean(flat_g, 0.25, axis=-1),
            "delta": sign * d.mean(axis=(-2, -1)),
            "poi": (np.sign(d) * sign + 1).mean(axis=(-2, -1)) / 2,
        }
    counts = valid.sum(axis=-1)
    base_mean = np.where(valid, yb, 0.0).sum(axis=-1) / counts
    g = (ym - base_mean[..., None]) * factor
    d = sign * (ym - yb)
    flat_g, flat_d = g[..., valid], d[..., valid]
    better = np.where(valid, (np.sign(d) + 1) / 2, 0.0).sum(axis=-1) / counts
    return {
        "gain_mean": flat_g.mean(axis=-1),
        "gain_iqm": stats.trim_mean(flat_g, 0.25, axis=-1),
        "delta": flat_d.mean(axis=-1),
        "poi": better.mean(axis=-1),
    }


def gains(
    data: Cube,
    fam: Family,
    baseline: str,
    *,
    scale: str = "rope",
    reps: int = REPS,
    seed: int | np.random.Generator = SEED,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per non-baseline method: ``method, n_cells, n_pairs, scale, gain_mean(_low/_high),
    gain_iqm(_low/_high), delta(_low/_high)`` (pooled mean oriented paired difference, metric units),
    ``poi(_low/_high)`` (paired P(improvement): per cell mean of 1[d>0] + 0.5·1[d=0], averaged over
    cells) and ``poi_unpaired`` (rliable's A12 per cell, averaged; no interval)."""
    b = data.index(baseline)
    base_all = data.values[b]
    scales = cell_scale(base_all, fam, scale)
    u = uniforms(len(data.cells), data.values.shape[2], reps, seed)
    rows = []
    for m, method in enumerate(data.methods):
        if m == b:
            continue
        ym, yb, counts = _compact(data.values[m], base_all)
        keep = (counts > 0) & np.isfinite(scales) & (scales > 0)
        row = {"method": method, "n_cells": int(keep.sum()), "n_pairs": int(counts[keep].sum()), "scale": scale}
        if not keep.any():
            rows.append(row)
            continue
        ym, yb, counts, sc = ym[keep], yb[keep], counts[keep], scales[keep]
        valid = np.arange(ym.shape[1])[None, :] < counts[:, None]
        point = _statistics(ym, yb, valid, fam.sign, sc)
        flat = stratified(counts, u[:, keep]) + (np.arange(len(counts)) * ym.shape[1])[None, :, None]
        boot = _statistics(ym.ravel()[flat], yb.ravel()[flat], valid, fam.sign, sc)
        for name, value in point.items():
            low, high = percentile_interval(boot[name], confidence)
            row.update({name: float(value), f"{name}_low": float(low), f"{name}_high": float(high)})
        runs, base_runs = data.values[m][keep], base_all[keep]
        row["poi_unpaired"] = float(
            np.mean([a12(fam.sign * r[np.isfinite(r)], fam.sign * q[np.isfinite(q)]) for r, q in zip(runs, base_runs)])
        )
        rows.append(row)
    return pd.DataFrame(rows)
