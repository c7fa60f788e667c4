"""How many seeds / cells a test needs (docs/statistics.md §1.11, §1.12, §1.8).

Underpowered flag: the paired t-test's power is computed for an effect the size of the
metric's ROPE (the smallest effect of interest), never for the observed effect (Colas et
al. 2018; Card et al. 2020). The ROPE is standardized by the *observed* SD of the paired
differences of the cell, d = rope / sd_d, because the unit of ``TTestPower`` is d_z.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import integrate, special, stats
from statsmodels.stats.power import TTestPower

ALPHA = 0.05
POWER = 0.8
MIN_WILCOXON_N = 6
GRID = 32  # integer n tried per round by seeds_needed  # 2 / 2**6 = 0.031 is the first exact two-sided p below 0.05


def paired_power(effect: float, n: int, alpha: float = ALPHA) -> float:
    """Power of a two-sided paired t-test with ``n`` pairs for standardized effect d_z = ``effect``."""
    if n < 2 or not np.isfinite(effect):
        return float("nan")
    return float(TTestPower().power(effect_size=effect, nobs=n, alpha=alpha, alternative="two-sided"))


def seeds_needed(
    rope: float | np.ndarray, sd_diff: float | np.ndarray, alpha: float = ALPHA, power: float = POWER
) -> np.ndarray | float:
    """Paired seeds for ``power`` at ``alpha`` against an effect of one ROPE, d_z = rope / sd_diff.

    The smallest integer n >= 2 whose two-sided paired-t power ``TTestPower().power(rope/sd_diff, n)``
    reaches ``power``: ``ceil(TTestPower().solve_power(effect_size=rope/sd_diff, alpha=alpha,
    power=power, alternative='two-sided'))`` (tested equal), but evaluated on an integer grid around
    the normal approximation, vectorized over cells (the root finder costs ~8 ms per call). For
    large effects (>~4) statsmodels' non-central t returns NaN power (and solve_power then fails or
    stops below the true n): those grid points are computed by :func:`power_by_quadrature`. NaN when
    ``sd_diff`` is NaN or 0 (no spread: the t-test is undefined) or ``rope`` is 0.
    """
    scalar = np.ndim(rope) == 0 and np.ndim(sd_diff) == 0
    rope, sd = np.broadcast_arrays(np.asarray(rope, float), np.asarray(sd_diff, float))
    out = np.full(rope.shape, np.nan)
    ok = np.isfinite(sd) & (sd > 0) & np.isfinite(rope) & (rope > 0)
    effect = rope[ok] / sd[ok]
    z = stats.norm.isf(alpha / 2) + stats.norm.ppf(power)
    start = np.maximum(2, np.floor((z / effect) ** 2)).astype(np.int64)
    found = np.full(effect.shape, np.nan)
    while np.isnan(found).any():
        todo = np.flatnonzero(np.isnan(found))
        grid = start[todo, None] + np.arange(GRID)[None, :]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = TTestPower().power(effect_size=effect[todo, None], nobs=grid, alpha=alpha, alternative="two-sided")
        for row in np.flatnonzero(np.isnan(values).any(axis=1)):  # power is monotone in n: stop at the first hit
            for j in range(GRID):
                if np.isnan(values[row, j]):
                    values[row, j] = power_by_quadrature(float(effect[todo[row]]), int(grid[row, j]), alpha)
                if values[row, j] >= power:
                    break
        reached = values >= power
        first = grid[np.arange(len(todo)), np.argmax(reached, axis=1)].astype(float)
        found[todo] = np.where(reached.any(axis=1), first, np.nan)
        start[todo] += GRID
    out[ok] = found
    return float(out) if scalar else out


def power_by_quadrature(effect: float, n: int, alpha: float = ALPHA) -> float:
    """Two-sided paired-t power by integrating over the sample SD: with S = sqrt(V/df), V ~ chi²(df),
    power = E_S[Phi(delta - c S) + Phi(-delta - c S)], delta = effect·sqrt(n), c = t.isf(alpha/2, df).
    Used where statsmodels' non-central t returns NaN (large noncentrality, few df)."""
    df = n - 1
    c, delta = stats.t.isf(alpha / 2, df), effect * np.sqrt(n)

    log_norm = (df / 2 - 1) * np.log(2) + special.gammaln(df / 2) - 0.5 * np.log(df)

    def integrand(s: float) -> float:  # chi(df) density of s·sqrt(df), times sqrt(df); plain special functions (fast)
        x = s * np.sqrt(df)
        density = np.exp((df - 1) * np.log(x) - x * x / 2 - log_norm) if x > 0 else 0.0
        return (special.ndtr(delta - c * s) + special.ndtr(-delta - c * s)) * density

    return float(integrate.quad(integrand, 0, np.inf, limit=200)[0])


def underpowered(n: int, needed: float) -> bool:
    """True when fewer than 2 pairs, or fewer pairs than :func:`seeds_needed` (NaN needed: not flagged)."""
    return bool(n < 2 or (np.isfinite(needed) and n < needed))


def min_wilcoxon_p(n: int) -> float:
    """Smallest two-sided exact Wilcoxon signed-rank p with n non-tied pairs: 2 / 2**n (docs/statistics.md §1.12)."""
    return min(1.0, 2.0 / 2.0**n) if n > 0 else 1.0


def wilcoxon_reachable(n: int, alpha: float = ALPHA, comparisons: int = 1) -> bool:
    """Can an exact Wilcoxon with ``n`` pairs pass the first Holm step over ``comparisons`` tests?"""
    return min_wilcoxon_p(n) <= alpha / max(1, comparisons)


def cells_needed(alpha: float = ALPHA, comparisons: int = 1) -> int:
    """Smallest N with 2/2**N <= alpha/comparisons (docs/statistics.md §1.8 table: 1 -> 6, 10 -> 9, 15 -> 10)."""
    n = 1
    while not wilcoxon_reachable(n, alpha, comparisons):
        n += 1
    return n
