"""Exact permutation tests for the cells where the t statistic is undefined (docs/statistics.md §1.9).

When every pair differs by the same amount (zero spread after rounding to ``DECIMALS``), the paired t
statistic is 0/0 or c/0 and its limit (p = 0) would call two equal gains significant. These cells get
the exact permutation test instead (Fisher 1935; ``scipy.stats.permutation_test`` with every
permutation): sign flips of the paired differences (one-sided p = 1/2^n when all share a sign, so n <= 4
pairs never reach 0.05), or, for two unpaired arms that are both constant, every relabelling.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

DECIMALS = (
    12  # differences are rounded before the rank test so that float roundoff makes no false ties/non-ties (scipy docs)
)


def zero_spread(d: np.ndarray) -> np.ndarray:
    """Along the last axis (n >= 2): do all differences equal each other after rounding to ``DECIMALS``?"""
    d = np.round(np.asarray(d, dtype=float), DECIMALS)
    return (d.shape[-1] >= 2) & (np.ptp(d, axis=-1) == 0) if d.shape[-1] else np.zeros(d.shape[:-1], bool)


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def _mean_difference(x: np.ndarray, z: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis) - np.mean(z, axis=axis)


def sign_flip_p(d: np.ndarray, alternative: str = "two-sided") -> float:
    """Exact sign-flip permutation p of mean(d) against 0 (``scipy.stats.permutation_test`` on one sample,
    ``permutation_type='samples'``, all 2^n flips)."""
    d = np.round(np.asarray(d, dtype=float), DECIMALS)
    return float(
        stats.permutation_test(
            (d,), _mean, vectorized=True, permutation_type="samples", n_resamples=np.inf, alternative=alternative
        ).pvalue
    )


def sign_flip_tost_p(d: np.ndarray, rope: float) -> float:
    """The TOST by sign flips: the larger of the exact one-sided p's that mean(d) > -rope and < +rope."""
    d = np.asarray(d, dtype=float)
    return max(sign_flip_p(d + rope, "greater"), sign_flip_p(d - rope, "less"))


def relabel_p(a: np.ndarray, b: np.ndarray, alternative: str) -> float:
    """Exact permutation p of mean(a) - mean(b) over every relabelling of the pooled values
    (``scipy.stats.permutation_test(permutation_type='independent')``)."""
    pair = (np.round(np.asarray(a, float), DECIMALS), np.round(np.asarray(b, float), DECIMALS))
    return float(
        stats.permutation_test(
            pair,
            _mean_difference,
            vectorized=True,
            permutation_type="independent",
            n_resamples=np.inf,
            alternative=alternative,
        ).pvalue
    )


def relabel_tost_p(a: np.ndarray, b: np.ndarray, rope: float) -> float:
    """The unpaired TOST by relabellings: the larger of the exact one-sided p's against -rope and +rope."""
    a = np.asarray(a, dtype=float)
    return max(relabel_p(a + rope, b, "greater"), relabel_p(a - rope, b, "less"))


def where_flat(values: np.ndarray, flat: np.ndarray, d: np.ndarray, test: Callable[[np.ndarray], float]) -> np.ndarray:
    """``values`` (one per row of ``d`` along its last axis) with ``test(row)`` where ``flat``."""
    out = np.array(values, dtype=float)
    if np.ndim(flat) == 0:
        return np.array(test(d)) if flat else out
    for index in zip(*np.nonzero(flat)):
        out[index] = test(d[index])
    return out
