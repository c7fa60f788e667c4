"""Saliency consistency across independent runs: the run (seed) is the unit (docs/statistics.md §2.2).

The per-image similarity of two runs' maps is ``statistics.map_similarity``. The consistency of a
method is the mean over images of the mean over run pairs, a U-statistic of degree 2 over runs with kernel h(r, s) = the image-mean similarity of runs r and s. The run
(seed), not the image, is the unit of replication: uncertainty comes from the leave-one-seed-out
jackknife of that U-statistic (Quenouille 1956; Tukey 1958; Arvesen 1969 for U-statistics;
Efron & Stein 1981), computed from the pair matrix without re-ranking, with a t reference on
m - 1 df (m runs, or m seeds both methods have for a paired difference). It needs m >= 3.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .map_similarity import MEASURES, constant_maps, pair_mean, pair_similarities
from .multiple import holm
from .verdicts import claim_test

RANGES = {"spearman": (-1.0, 1.0), "pearson": (-1.0, 1.0), "topk_iou": (0.0, 1.0)}  # where each measure lies
MIN_RUNS = 3  # leave-one-out needs a pair left after dropping a run, and two pseudo-values
NEEDS_RUNS = f"n.a. (needs >= {MIN_RUNS} runs)"


def run_kernel(pairs: np.ndarray) -> np.ndarray:
    """(..., images, runs, runs) pair similarities -> (..., runs, runs) their mean over images: the kernel
    h(r, s) of the consistency U-statistic (whose pair mean is the mean over images of the per-image pair mean)."""
    return np.asarray(pairs, dtype=float).mean(axis=-3)


def pseudo_values(kernel: np.ndarray) -> np.ndarray:
    """Leave-one-run-out jackknife pseudo-values of U = mean_{r<s} h(r, s): (..., m, m) -> (..., m) with
    P_j = m U - (m - 1) U_(-j) and U_(-j) = (S - row_j) / C(m-1, 2) (S the sum over pairs, row_j run j's
    pairs): no map is re-ranked. Their mean is U; their SD / sqrt(m) is Tukey's jackknife SE (Arvesen 1969)."""
    kernel = np.asarray(kernel, dtype=float)
    m = kernel.shape[-1]
    if m < MIN_RUNS:
        raise ValueError(f"the jackknife needs >= {MIN_RUNS} runs, got {m}")
    h = np.where(np.eye(m, dtype=bool), 0.0, kernel)
    total = h.sum(axis=(-2, -1)) / 2
    left_out = (total[..., None] - h.sum(axis=-1)) / math.comb(m - 1, 2)
    return m * (total / math.comb(m, 2))[..., None] - (m - 1) * left_out


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """(p two-sided vs 0, low, high) of ``scipy.stats.ttest_1samp`` over ``values`` (m - 1 df)."""
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # identical pseudo-values: scipy's precision warning
        res = stats.ttest_1samp(values, 0.0)
        ci = res.confidence_interval(confidence)
    return float(res.pvalue), float(ci.low), float(ci.high)


def summarize(pairs: Mapping[str, np.ndarray], *, confidence: float = 0.95) -> pd.DataFrame:
    """``measure, mean, ci_low, ci_high, n_runs``: each measure's consistency (mean over images of the mean over
    run pairs) with the t-interval of the jackknife over the runs, cut to the measure's range (``RANGES``: a
    cut interval still covers whatever the true value covers; NaN bounds below ``MIN_RUNS`` runs).
    ``pairs``: :func:`pair_similarities` of one method, each (images, runs, runs)."""
    rows = []
    for measure in MEASURES:
        kernel = run_kernel(pairs[measure])
        m = kernel.shape[-1]
        low = high = np.nan
        if m >= MIN_RUNS:
            _, low, high = _t_interval(pseudo_values(kernel), confidence)
            low, high = max(low, RANGES[measure][0]), min(high, RANGES[measure][1])
        rows.append({"measure": measure, "mean": float(pair_mean(kernel)), "ci_low": low, "ci_high": high, "n_runs": m})
    return pd.DataFrame(rows)


def _positions(seeds: Sequence[int], chosen: Sequence[int]) -> list[int]:
    """Where each of ``chosen`` sits in ``seeds`` (the runs' order in the maps and kernels)."""
    order = list(seeds)
    return [order.index(s) for s in chosen]


def paired_pseudo_values(
    kernel: np.ndarray, seeds: Sequence[int], kernel_ref: np.ndarray, seeds_ref: Sequence[int]
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The seeds both sides have (sorted) and each side's pseudo-values over exactly those runs (the two
    methods paired by seed); empty arrays below ``MIN_RUNS`` shared seeds."""
    both = sorted(set(seeds) & set(seeds_ref))
    if len(both) < MIN_RUNS:
        return both, np.array([]), np.array([])
    a, b = _positions(seeds, both), _positions(seeds_ref, both)
    return both, pseudo_values(np.asarray(kernel)[np.ix_(a, a)]), pseudo_values(np.asarray(kernel_ref)[np.ix_(b, b)])


def _shared_mean(kernel: np.ndarray, seeds: Sequence[int], shared: list[int]) -> float:
    """The consistency over the runs of ``shared`` only (NaN below 2)."""
    idx = _positions(seeds, shared)
    return float(pair_mean(np.asarray(kernel)[np.ix_(idx, idx)])) if len(idx) >= 2 else np.nan


def compare(
    kernels: Mapping[str, tuple[Sequence[int], np.ndarray]], measure: str = "spearman", *, confidence: float = 0.95
) -> pd.DataFrame:
    """Every pair of methods of one group, paired by seed: ``{method: (seeds, run_kernel)}`` of one measure.

    Each pair: ``method, other, measure, n_runs`` (shared seeds), ``mean_diff`` (method minus other, both over
    the shared seeds; higher is more consistent), ``diff_low, diff_high, p`` (two-sided jackknife t on m - 1 df,
    :func:`paired_pseudo_values`; NaN below ``MIN_RUNS`` shared seeds or when every paired difference is 0,
    ``note`` says which) and ``p_holm`` (Holm over all method pairs)."""
    rows = []
    for a, b in itertools.combinations(list(kernels), 2):
        (seeds_a, ka), (seeds_b, kb) = kernels[a], kernels[b]
        shared, pa, pb = paired_pseudo_values(ka, seeds_a, kb, seeds_b)
        p = low = high = np.nan
        note = NEEDS_RUNS if not pa.size else ""
        if pa.size and np.all(pa == pb):
            low = high = 0.0
            note = "identical runs: every paired difference is 0"
        elif pa.size:
            p, low, high = _t_interval(pa - pb, confidence)
        rows.append(
            {
                "method": a,
                "other": b,
                "measure": measure,
                "n_runs": len(shared),
                "mean_diff": _shared_mean(ka, seeds_a, shared) - _shared_mean(kb, seeds_b, shared),
                "diff_low": low,
                "diff_high": high,
                "p": p,
                "note": note,
            }
        )
    columns = ["method", "other", "measure", "n_runs", "mean_diff", "diff_low", "diff_high", "p", "note"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["p_holm"] = holm(frame["p"].to_numpy(dtype=float))
    return frame


def consistency_claim_test(
    maps: np.ndarray,
    seeds: Sequence[int],
    maps_ref: np.ndarray,
    seeds_ref: Sequence[int],
    *,
    test: str,
    direction: str,
    rope: float,
) -> dict[str, Any]:
    """A consistency claim's row: ``verdicts.claim_test`` on the two sides' jackknife pseudo-values of the
    Spearman consistency over their shared seeds (runs paired by seed), so ``n`` = paired runs, ``mean`` and
    ``mean_ref`` the two consistencies over those runs, ``gain`` their difference with its jackknife t-interval,
    ``sd_diff`` the SD of the per-seed (pseudo-value) differences and ``p`` the claim's test on m - 1 df.
    Also ``images`` and ``constant`` / ``constant_ref`` (the (run, image) maps that are constant, scored 0).
    Below ``MIN_RUNS`` shared seeds: the two means only (no gain, no p), ``note`` = ``NEEDS_RUNS``."""
    maps, maps_ref = np.asarray(maps), np.asarray(maps_ref)
    shared = sorted(set(seeds) & set(seeds_ref))
    extra: dict[str, Any] = {
        "images": int(maps.shape[1]),
        "constant": int(constant_maps(maps[_positions(seeds, shared)]).sum()),
        "constant_ref": int(constant_maps(maps_ref[_positions(seeds_ref, shared)]).sum()),
        "note": "",
    }
    untested = claim_test(np.array([]), np.array([]), test=test, direction=direction, rope=rope)
    if len(shared) < 2:
        return {**untested, "n": len(shared), **extra}
    kernel = run_kernel(pair_similarities(maps, measures=("spearman",))["spearman"])
    kernel_ref = run_kernel(pair_similarities(maps_ref, measures=("spearman",))["spearman"])
    means = {"mean": _shared_mean(kernel, seeds, shared), "mean_ref": _shared_mean(kernel_ref, seeds_ref, shared)}
    _, pseudo, pseudo_ref = paired_pseudo_values(kernel, seeds, kernel_ref, seeds_ref)
    if not pseudo.size:
        return {**untested, "n": len(shared), **means, **extra, "note": NEEDS_RUNS}
    return {**claim_test(pseudo, pseudo_ref, test=test, direction=direction, rope=rope), **means, **extra}
