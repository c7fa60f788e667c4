"""Multiple-comparison corrections (docs/statistics.md §1.8): Holm for headline claims, BH for per-cell markers.

Thin NaN-aware wrappers over ``statsmodels.stats.multitest.multipletests``: untestable
comparisons (NaN p) are left out of the family and stay NaN, so they never dilute or
inflate it. Markers are computed from *adjusted* p only.
"""

from __future__ import annotations

import numpy as np
from statsmodels.stats.multitest import multipletests

MARKERS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))


def adjust(pvalues: np.ndarray, method: str) -> np.ndarray:
    """Adjusted p-values (``multipletests(p, method=method)[1]``) over the finite entries; NaN elsewhere."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        out[finite] = multipletests(p[finite], method=method)[1]
    return out


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni (FWER under any dependence): p~(i) = max_{j<=i} min(1, (m-j+1) p(j)) over the sorted
    finite p. Equal to ``multipletests(p, method='holm')[1]`` (tested), written out because statsmodels'
    Holm branch calls ``gc.collect()`` on every call (~0.1 s in a process holding torch)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    out[order] = np.minimum(1.0, np.maximum.accumulate(p[order] * np.arange(m, 0, -1)))
    return out


def holm_steps(pvalues: np.ndarray, alpha: float) -> np.ndarray:
    """The Holm threshold each finite p is compared with: alpha / (m - rank + 1), rank 1 for the smallest p
    (ties in the order :func:`holm` sorts them); NaN where p is NaN. A claim must reach its step to be rejected
    (and every smaller p its own): the level a power analysis for that claim has to plan for."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    out[order] = alpha / np.arange(order.size, 0, -1)
    return out


def bh(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg (FDR; independent or positively dependent tests)."""
    return adjust(pvalues, "fdr_bh")


def markers(adjusted: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """'***' / '**' / '*' for adjusted p below 0.001 / 0.01 / alpha, else ''. Only levels <= alpha are used."""
    p = np.asarray(adjusted, dtype=float)
    out = np.full(p.shape, "", dtype=object)
    for level, mark in sorted(MARKERS, reverse=True):
        if level <= alpha:
            out[np.isfinite(p) & (p < level)] = mark
    return out
