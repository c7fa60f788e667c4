"""Accuracy–alignment fronts over guidance strength (docs/statistics.md §1.22; issue 26 item 2).

Rao et al. (ICCV 2023, arXiv 2303.11932) compare guidance losses by their Pareto fronts of classification
score against localization (EPG) as the guidance weight grows. Here, per cell (dataset × arch), every point is
a (x, y) pair oriented so that larger is better on both axes (``orient``), and:

- ``pareto_front``: which points no other point dominates (maximize both);
- ``hypervolume_2d``: the area a set of points dominates above a reference point (Zitzler & Thiele 1999),
  vectorized over leading axes (seeds);
- ``dominated_share``: the descriptive share of one set's points that another set's points dominate;
- ``compare_fronts``: per pair of methods, the paired t-test of the per-seed hypervolume differences
  (``paired.paired_stats``: ``scipy.stats.ttest_rel``, the exact sign-flip test at zero spread), its 95%
  interval, Holm over the pairs of the cell (``multiple.holm``) and a verdict.

What the test is, its unit, correction and reference point are stated once, in ``FRONT_TEST`` and
``REFERENCE_RULE``, which every page prints.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .description import TestDescription
from .multiple import holm
from .paired import IDENTICAL, paired_stats, shared

REFERENCE_RULE = (
    "the reference point of a cell is each (oriented) axis's minimum over every run of the cell (every method, "
    "scale and seed), computed once per cell before any pair is compared and shared by every method and seed"
)
FRONT_TEST = TestDescription(
    name="two-sided paired t-test of the per-seed difference in 2-D hypervolume of two methods' points (each "
    "method's scales plus the baseline's point of the same seed, above the cell's reference point); the exact "
    "sign-flip test where every difference is the same; every difference 0: identical runs",
    function="scipy.stats.ttest_rel",
    unit="the seeds of a cell (dataset × arch): one hypervolume per method and seed, paired by seed",
    correction="Holm over the pairs of guided methods of each cell and alignment metric (the baseline is every "
    "series' zero point, not a member of the pairs)",
    reference="Zitzler & Thiele 1999; Rao et al. 2023; Holm 1979",
    short="paired t on per-seed hypervolume, Holm per cell",
)
NOT_SEPARATED, UNTESTED = "not separated", "n.a."


def _points(points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, dtype=float)
    if p.ndim < 2 or p.shape[-1] != 2:
        raise ValueError(f"points must have shape (..., n, 2), got {p.shape}")
    return p


def dominance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``out[i, j]``: point ``a[i]`` dominates ``b[j]`` (>= on both axes, > on one; maximize both). A point with a
    NaN coordinate neither dominates nor is dominated."""
    a, b = _points(a), _points(b)
    ge = (a[:, None, :] >= b[None, :, :]).all(-1)
    gt = (a[:, None, :] > b[None, :, :]).any(-1)
    return np.asarray(ge & gt, dtype=bool)


def pareto_front(points: np.ndarray) -> np.ndarray:
    """Boolean mask (n,): the points that no other point dominates (maximize both axes).

    Ties: a point equal to another on one axis is on the front when it is better on the other (it dominates
    the other, which leaves). Duplicates: equal points do not dominate each other, so every copy of a
    non-dominated point is on the front (the report draws them once). Points with a NaN coordinate are never
    on it and dominate nothing."""
    p = _points(points)
    finite = np.isfinite(p).all(-1)
    return finite & ~dominance(p, p).any(0)


def hypervolume_2d(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Area dominated by ``points`` (..., n, 2) and bounded below by ``reference`` (2,): the area of the union
    of the boxes [reference, p] (Zitzler & Thiele 1999), maximize both axes; a point below the reference on an
    axis adds nothing. Over the leading axes at once: sort by x descending, each point adds its x times the rise
    of the running maximum of y. NaN where a set has a NaN coordinate (a missing run leaves its seed out)."""
    p = _points(points)
    gain = np.clip(p - np.asarray(reference, dtype=float), 0.0, None)
    missing = np.isnan(gain).any(axis=(-1, -2))
    gain = np.nan_to_num(gain, nan=0.0)
    order = np.argsort(-gain[..., 0], axis=-1, kind="stable")
    ranked = np.take_along_axis(gain, order[..., None], axis=-2)
    top = np.maximum.accumulate(ranked[..., 1], axis=-1)
    rise = np.diff(top, axis=-1, prepend=0.0)
    volume = (ranked[..., 0] * rise).sum(-1)
    return np.where(missing, np.nan, volume)[()]


def reference_point(points: np.ndarray) -> np.ndarray:
    """``REFERENCE_RULE``: the minimum of each axis over every finite point given (any shape (..., 2))."""
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    p = p[np.isfinite(p).all(-1)]
    if not p.size:
        raise ValueError("no finite point to fix the reference point from")
    return p.min(0)


def dominated_share(front: np.ndarray, points: np.ndarray) -> float:
    """The share of the finite ``points`` (k, 2) that some point of ``front`` (n, 2) dominates; NaN for none."""
    p = _points(points)
    p = p[np.isfinite(p).all(-1)]
    if not p.size:
        return float("nan")
    return float(dominance(front, p).any(0).mean())


def seed_hypervolumes(own: np.ndarray, anchor: np.ndarray | None, reference: np.ndarray) -> np.ndarray:
    """One method's hypervolume per seed: ``own`` (k scales, s seeds, 2) and the baseline's point of the same
    seed ``anchor`` (s, 2) (None: no baseline point); (s,), NaN at a seed where one of the points is missing."""
    own = np.asarray(own, dtype=float)
    stacked = own if anchor is None else np.concatenate([np.asarray(anchor, float)[None], own], axis=0)
    return hypervolume_2d(np.swapaxes(stacked, 0, 1), reference)


def verdict(a: str, b: str, diff: float, p_holm: float, identical: bool, alpha: float) -> str:
    """ "A's front dominates B's" when the Holm-adjusted p < alpha (by the sign of the mean difference A − B)."""
    if identical:
        return IDENTICAL
    if not np.isfinite(p_holm):
        return UNTESTED
    if p_holm < alpha and diff != 0:
        first, second = (a, b) if diff > 0 else (b, a)
        return f"{first}'s front dominates {second}'s"
    return NOT_SEPARATED


COMPARISON_COLUMNS = ["a", "b", "n", "hv_a", "hv_b", "diff", "diff_low", "diff_high", "t", "p", "p_holm", "verdict"]


def compare_fronts(
    volumes: np.ndarray, names: list[str], alpha: float = 0.05, confidence: float = 0.95
) -> pd.DataFrame:
    """Every pair (i < j) of ``names`` from the per-seed hypervolumes ``volumes`` (methods, seeds; NaN = missing):
    ``a, b, n`` (shared seeds), ``hv_a, hv_b`` (means over them), ``diff`` (mean of hv_a − hv_b) with its
    t-interval, ``t, p`` (``paired.paired_stats``: ``ttest_rel``; exact sign flip at zero spread), ``p_holm``
    (Holm over the pairs given: one cell and alignment metric) and ``verdict`` (``FRONT_TEST``)."""
    v = np.asarray(volumes, dtype=float)
    if v.ndim != 2 or v.shape[0] != len(names):
        raise ValueError(f"volumes must be (methods, seeds) with one row per name, got {v.shape} for {len(names)}")
    rows, flat = [], []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            a, b = shared(v[i], v[j])
            row = dict.fromkeys(COMPARISON_COLUMNS[3:10], np.nan) | {"a": names[i], "b": names[j], "n": int(a.size)}
            if a.size:
                row.update(hv_a=float(a.mean()), hv_b=float(b.mean()), diff=float((a - b).mean()))
            out = paired_stats(a, b, "higher", confidence) if a.size >= 2 else {}
            if out:
                row.update(diff_low=float(out["gain_low"]), diff_high=float(out["gain_high"]))
                row.update(t=float(out["t"]), p=float(out["p_t"]))
            rows.append(row)
            flat.append(bool(out.get("identical", False)))
    frame = pd.DataFrame(rows, columns=COMPARISON_COLUMNS[:-2])
    frame["p_holm"] = holm(frame["p"].to_numpy(dtype=float)) if len(frame) else []
    frame["verdict"] = [verdict(r.a, r.b, r.diff, r.p_holm, same, alpha) for r, same in zip(frame.itertuples(), flat)]
    return frame[COMPARISON_COLUMNS]
