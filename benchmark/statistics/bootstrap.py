"""Seeded, vectorized bootstrap helpers (rliable's stratified bootstrap, Agarwal et al. 2021;
docs/statistics.md §1.6, §1.15).

Every function takes a seed or a ``numpy.random.Generator``; all repetitions are drawn as one
array (no Python loop over repetitions), so a rerun with the same seed is byte-identical.
Intervals are percentile intervals. ``REPS`` (10,000) is the default number of repetitions.
"""

from __future__ import annotations

import numpy as np

REPS = 10_000
SEED = 0


def generator(seed: int | np.random.Generator = SEED) -> np.random.Generator:
    """``seed`` itself when it is a Generator, else ``numpy.random.default_rng(seed)``."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def percentile_interval(samples: np.ndarray, confidence: float = 0.95, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) percentiles ``(1 -/+ confidence) / 2`` of bootstrap samples along ``axis``; NaN-aware."""
    tail = 100 * (1 - confidence) / 2
    low, high = np.nanpercentile(samples, [tail, 100 - tail], axis=axis)
    return low, high


def indices(n: int, reps: int = REPS, seed: int | np.random.Generator = SEED) -> np.ndarray:
    """(reps, n) indices drawn with replacement from range(n): a plain bootstrap over n units."""
    return generator(seed).integers(0, n, size=(reps, n))


def stratified(counts: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Within-stratum resampling indices from uniforms of shape (reps, strata, width).

    ``idx[r, c, j] = floor(u[r, c, j] * counts[c])`` is uniform over the ``counts[c]`` units of
    stratum c (entries j >= counts[c] are padding; 0 when the stratum is empty). Reusing the
    same ``uniforms`` for every method gives common random numbers: a method's interval does not
    depend on which other methods are analysed.
    """
    counts = np.asarray(counts, dtype=np.int64)
    idx = np.floor(uniforms * counts[None, :, None]).astype(np.int64)
    return np.minimum(idx, np.maximum(counts - 1, 0)[None, :, None])


def uniforms(strata: int, width: int, reps: int = REPS, seed: int | np.random.Generator = SEED) -> np.ndarray:
    """(reps, strata, width) uniforms in [0, 1) for :func:`stratified`."""
    return generator(seed).random((reps, strata, width))


def mean_interval(
    x: np.ndarray, reps: int = REPS, seed: int | np.random.Generator = SEED, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Mean of the finite values of ``x`` and its percentile bootstrap interval over units: (mean, low, high)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    samples = x[indices(x.size, reps, seed)].mean(axis=1)
    low, high = percentile_interval(samples, confidence)
    return float(x.mean()), float(low), float(high)
