"""Group-sequential seeds: looks, Lan–DeMets alpha spending and exact boundaries (docs/statistics.md §1.18).

A **look** evaluates a claim with the seeds it has so far: ``n_1`` (the study's seeds, 5; 3 for an ablation
arm), then ``group`` more per look up to ``max_seeds``; the information fraction of look k is
``t_k = n_k / n_max`` (a paired mean's information grows with its pairs). Looking repeatedly at the data
with a fixed alpha inflates the type I error; an alpha-spending function says how much of the two-sided
alpha may be spent by information t. Here the O'Brien–Fleming type of Lan & DeMets (1983, Biometrika
70:659) on each side at alpha/2, as DeMets & Lan (1994) tabulate it and gsDesign's ``sfLDOF`` computes it:

    alpha(t) = 2 · (2 - 2 Phi(z_{1 - alpha/4} / sqrt(t)))       (alpha(1) = alpha)

The standardized statistics of successive looks are Brownian motion in t, so ``corr(Z_i, Z_j) = sqrt(t_i / t_j)`` (i <= j; Jennison &
Turnbull 2000, §3.1); the critical value c_k of look k solves, given the earlier ones,

    P(|Z_1| < c_1, ..., |Z_{k-1}| < c_{k-1}, |Z_k| < c_k) = 1 - alpha(t_k)

(``scipy.stats.multivariate_normal.cdf`` with ``lower_limit``, solved with ``scipy.optimize.brentq``). The
verdict rules then run at look k with alpha replaced by its **nominal level** ``2 - 2 Phi(c_k)`` (every p,
Holm step and TOST of the table compares against it). The boundaries assume normal statistics with a known
variance; a t test at 5 seeds uses the nominal level as its own (an approximation, whose overall type I
error ``tests/test_sequential.py`` checks by simulation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

MVN_SEED = 20_231  # the multivariate normal CDF is a seeded quasi-Monte Carlo integral: byte-identical reruns
MVN_EPS = 1e-6


def looks(first: int, group: int, max_seeds: int) -> list[int]:
    """Seeds at each look: ``first``, then ``group`` more per look, the last capped at ``max_seeds``."""
    if group < 1 or first < 1 or max_seeds < first:
        raise ValueError(f"looks: need group >= 1 and 1 <= first <= max_seeds, got {first}, {group}, {max_seeds}")
    return sorted({*range(first, max_seeds, group), max_seeds})


def obf_spending(t: np.ndarray | float, alpha: float) -> np.ndarray:
    """Cumulative two-sided alpha spent by information ``t``: Lan & DeMets' (1983) O'Brien–Fleming-type
    function on each side at alpha/2, ``2 · (2 - 2 Phi(z_{1 - alpha/4} / sqrt(t)))`` (DeMets & Lan 1994;
    gsDesign's ``sfLDOF`` with ``test.type = 2``); ``alpha`` at t = 1."""
    info = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore"):
        spent = 4 * stats.norm.sf(stats.norm.isf(alpha / 4) / np.sqrt(info))
    return np.where(info > 0, spent, 0.0)


def look_correlation(t: Sequence[float] | np.ndarray) -> np.ndarray:
    """corr(Z_i, Z_j) = sqrt(t_min / t_max) of the statistics at information fractions ``t``."""
    info = np.asarray(t, dtype=float)
    return np.sqrt(np.minimum.outer(info, info) / np.maximum.outer(info, info))


def _continue_probability(bounds: Sequence[float], corr: np.ndarray) -> float:
    """P(|Z_i| < bounds_i for every look i): a seeded Genz–Bretz integral."""
    c = np.asarray(bounds, dtype=float)
    if c.size == 1:
        return float(1 - 2 * stats.norm.sf(c[0]))
    rng = np.random.default_rng(MVN_SEED)
    return float(stats.multivariate_normal.cdf(c, cov=corr, lower_limit=-c, abseps=MVN_EPS, releps=MVN_EPS, rng=rng))


def _gap(c: float, earlier: list[float], corr: np.ndarray, target: float) -> float:
    return _continue_probability([*earlier, c], corr) - target


def boundaries(t: Sequence[float], alpha: float = 0.05) -> np.ndarray:
    """Two-sided critical values c_k of the O'Brien–Fleming-type spending design at information ``t``
    (increasing, the last 1), solved one look at a time (module docstring)."""
    info = np.asarray(t, dtype=float)
    if info.size == 0 or np.any(np.diff(info) <= 0) or info[0] <= 0 or info[-1] > 1:
        raise ValueError(f"boundaries: information fractions must increase in (0, 1], got {info.tolist()}")
    spent = obf_spending(info, alpha)
    corr = look_correlation(info)
    out: list[float] = []
    for k in range(info.size):
        target = 1 - spent[k]
        if k == 0:
            out.append(float(stats.norm.isf((1 - target) / 2)))
            continue
        args = (out.copy(), corr[: k + 1, : k + 1], target)
        out.append(optimize.brentq(_gap, 0.5, 12.0, args=args, xtol=1e-6))
    return np.array(out)


def nominal_levels(t: Sequence[float], alpha: float = 0.05) -> np.ndarray:
    """The nominal two-sided level 2 - 2 Phi(c_k) of each look: what a look's tests compare their p with."""
    return 2 * stats.norm.sf(boundaries(t, alpha))


@dataclass(frozen=True)
class Plan:
    """A row's sequential plan: its seeds per look and each look's nominal two-sided alpha."""

    seeds: tuple[int, ...]
    alphas: tuple[float, ...]

    @property
    def information(self) -> tuple[float, ...]:
        return tuple(n / self.seeds[-1] for n in self.seeds)


def plan(first: int, group: int, max_seeds: int, alpha: float = 0.05) -> Plan:
    """The plan of a row starting at ``first`` seeds (``looks``) with its nominal levels; one look
    (``first == max_seeds``) is the fixed design at ``alpha``."""
    n = looks(first, group, max_seeds)
    if len(n) == 1:
        return Plan((n[0],), (alpha,))
    return Plan(tuple(n), tuple(float(a) for a in nominal_levels([k / n[-1] for k in n], alpha)))


def rejects_anywhere(z: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """Per row of ``z`` (replicates x looks), whether any look's |z| crosses its nominal two-sided level."""
    return (np.abs(z) > stats.norm.isf(np.asarray(levels, dtype=float) / 2)).any(-1)
