"""How many seeds / cells a test needs (docs/statistics.md §1.11, §1.12, §1.8).

Power is computed for an effect the size of the metric's ROPE (the smallest effect of interest),
never for the observed effect (Colas et al. 2018; Card et al. 2020). The ROPE is standardized by
a *safeguard* SD, the upper bound of a two-sided 60% confidence interval of the observed SD
(:func:`safeguard_sd`; Perugini, Gallucci & Costantini 2014): a pilot's SD from 3-5 seeds is too
often an underestimate, and a seed count computed from it would be too often too small. One rule
for the leaderboard's underpowered flag and the claims' seeds to settle.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import integrate, special, stats
from statsmodels.stats.power import TTestIndPower, TTestPower

ALPHA = 0.05
POWER = 0.8
MIN_WILCOXON_N = 6
GRID = 32  # integer n tried per round by seeds_needed  # 2 / 2**6 = 0.031 is the first exact two-sided p below 0.05
MAX_SEEDS = 10_000  # power searches stop here: "more than 10000" means the effect is hopeless at this SD
SAFEGUARD_LEVEL = 0.6  # the two-sided level of the SD's confidence interval whose upper bound is used
ALTERNATIVES = ("two-sided", "larger")


def safeguard_sd(sd: float | np.ndarray, n: int | np.ndarray, level: float = SAFEGUARD_LEVEL) -> np.ndarray | float:
    """Upper bound of the two-sided ``level`` chi-square interval of a normal SD from ``n`` values (n-1 df):
    ``sd * sqrt((n-1) / chi2.ppf((1-level)/2, n-1))`` (Perugini, Gallucci & Costantini 2014, safeguard
    power; at 60% the bound is the 80th percentile). NaN below 2 values."""
    sd_arr, n_arr = np.broadcast_arrays(np.asarray(sd, float), np.asarray(n, float))
    df = n_arr - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(df >= 1, sd_arr * np.sqrt(df / stats.chi2.ppf((1 - level) / 2, np.maximum(df, 1))), np.nan)
    return float(out) if out.ndim == 0 else out


def paired_power(effect: float, n: int, alpha: float = ALPHA) -> float:
    """Power of a two-sided paired t-test with ``n`` pairs for standardized effect d_z = ``effect``."""
    if n < 2 or not np.isfinite(effect):
        return float("nan")
    return float(TTestPower().power(effect_size=effect, nobs=n, alpha=alpha, alternative="two-sided"))


def seeds_needed(
    rope: float | np.ndarray,
    sd_diff: float | np.ndarray,
    alpha: float | np.ndarray = ALPHA,
    power: float = POWER,
    alternative: str = "two-sided",
) -> np.ndarray | float:
    """Paired seeds for ``power`` at ``alpha`` against an effect of one ROPE, d_z = rope / sd_diff.

    The smallest integer n >= 2 whose paired-t power ``TTestPower().power(rope/sd_diff, n, alpha,
    alternative=alternative)`` ('two-sided' or 'larger') reaches ``power``: ``ceil(TTestPower().solve_power(
    effect_size=rope/sd_diff, alpha=alpha, power=power, alternative=alternative))`` (tested equal), but
    evaluated on an integer grid around the normal approximation, vectorized over cells (the root finder
    costs ~8 ms per call). For large effects (>~4) statsmodels' non-central t returns NaN power (and
    solve_power then fails or stops below the true n): those grid points are computed by
    :func:`power_by_quadrature`. NaN when ``sd_diff`` is NaN or 0 (no spread: the t-test is undefined) or
    ``rope`` is 0. Pass :func:`safeguard_sd` of the observed SD, not the SD itself.
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    scalar = np.ndim(rope) == 0 and np.ndim(sd_diff) == 0 and np.ndim(alpha) == 0
    rope, sd, level = np.broadcast_arrays(np.asarray(rope, float), np.asarray(sd_diff, float), np.asarray(alpha, float))
    out = np.full(rope.shape, np.nan)
    ok = np.isfinite(sd) & (sd > 0) & np.isfinite(rope) & (rope > 0) & (level > 0)
    effect, level = rope[ok] / sd[ok], level[ok]
    sides = 2 if alternative == "two-sided" else 1
    z = stats.norm.isf(level / sides) + stats.norm.ppf(power)
    start = np.maximum(2, np.floor((z / effect) ** 2)).astype(np.int64)
    found = np.full(effect.shape, np.nan)
    while np.isnan(found).any():
        todo = np.flatnonzero(np.isnan(found))
        grid = start[todo, None] + np.arange(GRID)[None, :]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = TTestPower().power(
                effect_size=effect[todo, None], nobs=grid, alpha=level[todo, None], alternative=alternative
            )
        for row in np.flatnonzero(np.isnan(values).any(axis=1)):  # power is monotone in n: stop at the first hit
            for j in range(GRID):
                if np.isnan(values[row, j]):
                    values[row, j] = power_by_quadrature(
                        float(effect[todo[row]]), int(grid[row, j]), float(level[todo[row]]), alternative
                    )
                if values[row, j] >= power:
                    break
        reached = values >= power
        first = grid[np.arange(len(todo)), np.argmax(reached, axis=1)].astype(float)
        found[todo] = np.where(reached.any(axis=1), first, np.nan)
        start[todo] += GRID
    out[ok] = found
    return float(out) if scalar else out


def power_by_quadrature(effect: float, n: int, alpha: float = ALPHA, alternative: str = "two-sided") -> float:
    """Paired-t power by integrating over the sample SD: with S = sqrt(V/df), V ~ chi²(df), two-sided
    power = E_S[Phi(delta - c S) + Phi(-delta - c S)], c = t.isf(alpha/2, df); one-sided ('larger')
    E_S[Phi(delta - c S)], c = t.isf(alpha, df); delta = effect·sqrt(n). Used where statsmodels'
    non-central t returns NaN (large noncentrality, few df)."""
    df = n - 1
    two = alternative == "two-sided"
    c, delta = stats.t.isf(alpha / 2 if two else alpha, df), effect * np.sqrt(n)

    log_norm = (df / 2 - 1) * np.log(2) + special.gammaln(df / 2) - 0.5 * np.log(df)

    def integrand(s: float) -> float:  # chi(df) density of s·sqrt(df), times sqrt(df); plain special functions (fast)
        x = s * np.sqrt(df)
        density = np.exp((df - 1) * np.log(x) - x * x / 2 - log_norm) if x > 0 else 0.0
        return (special.ndtr(delta - c * s) + (special.ndtr(-delta - c * s) if two else 0.0)) * density

    return float(integrate.quad(integrand, 0, np.inf, limit=200)[0])


def tost_power(rope: float, sd: float, n: int, alpha: float = ALPHA, design: str = "paired") -> float:
    """Approximate power of a TOST within ±rope at a true difference of 0 (Chow, Shao & Wang, *Sample Size
    Calculations in Clinical Research*, 2nd ed., sec. 3.2): ``max(0, 2 F_df(rope/se - t_{1-alpha,df}) - 1)``.
    ``design='paired'``: n pairs, sd of the differences, se = sd/sqrt(n), df = n-1; ``'unpaired'``: n per arm,
    sd the arms' pooled SD, se = sd·sqrt(2/n), df = 2n-2 (Welch's df when the arms' SDs are equal)."""
    if n < 2 or not (np.isfinite(sd) and sd > 0 and rope > 0):
        return float("nan")
    se, df = (sd / np.sqrt(n), n - 1) if design == "paired" else (sd * np.sqrt(2 / n), 2 * n - 2)
    return float(max(0.0, 2 * stats.t.cdf(rope / se - stats.t.ppf(1 - alpha, df), df) - 1))


def tost_seeds_needed(
    rope: float, sd: float, alpha: float = ALPHA, power: float = POWER, design: str = "paired"
) -> float:
    """The smallest n >= 2 (pairs, or seeds per arm) with :func:`tost_power` >= ``power``; NaN when the SD is
    0/NaN; inf beyond ``MAX_SEEDS``."""
    if not (np.isfinite(sd) and sd > 0 and rope > 0):
        return float("nan")
    arms = 1 if design == "paired" else 2
    z = stats.norm.ppf(1 - alpha) + stats.norm.ppf(1 - (1 - power) / 2)
    n = max(2, int(np.floor(arms * (z * sd / rope) ** 2)) - 2)  # the normal approximation, then walk up
    while tost_power(rope, sd, n, alpha, design) < power:
        n += 1
        if n > MAX_SEEDS:
            return float("inf")
    return float(n)


def welch_seeds_needed(
    rope: float, sd: float, sd_ref: float, alpha: float = ALPHA, power: float = POWER, alternative: str = "larger"
) -> float:
    """Seeds per arm for an unpaired comparison: the smallest n >= 2 with ``TTestIndPower().power(rope / s,
    nobs1=n, alpha, ratio=1, alternative)`` >= ``power``, s = sqrt((sd² + sd_ref²)/2) (equal arms: Welch's
    test and the pooled t then coincide up to the df), i.e. ``ceil(TTestIndPower().solve_power(...))``
    (tested). NaN without spread; inf beyond ``MAX_SEEDS``."""
    pooled = float(np.sqrt((sd**2 + sd_ref**2) / 2))
    if not (np.isfinite(pooled) and pooled > 0 and rope > 0):
        return float("nan")
    effect = rope / pooled
    sides = 2 if alternative == "two-sided" else 1
    z = stats.norm.isf(alpha / sides) + stats.norm.ppf(power)
    n = max(2, int(np.floor(2 * (z / effect) ** 2)) - 2)  # the normal approximation, then the grid upwards
    while n <= MAX_SEEDS:
        grid = np.arange(n, n + GRID)
        values = TTestIndPower().power(effect_size=effect, nobs1=grid, alpha=alpha, ratio=1.0, alternative=alternative)
        if (values >= power).any():
            return float(grid[np.argmax(values >= power)])
        n += GRID
    return float("inf")


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
