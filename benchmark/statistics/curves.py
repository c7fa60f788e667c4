"""Annotation budget and quality curves (docs/statistics.md §1.21): a method's metric against an annotation level.

Input: ``points``, one row per (cell, axis, method, level, seed) with the run's value (columns ``CURVE_COLUMNS``;
``reference`` marks the method's own full-budget / true-map arm placed on the axis), and ``baseline``, the
baseline's (ERM's) runs of each cell (``dataset, arch, seed, value``). Per level: the mean with its 95%
t-interval over seeds (``descriptive.describe``). Per level, two paired comparisons on the seeds
(``paired.paired_stats``: ``scipy.stats.ttest_rel``, the exact sign-flip test at zero spread): the method vs
the baseline (does the guidance still help at this level?) and the method vs its own reference arm (what is
lost), each with the t-interval of the mean paired difference. Holm (``multiple.holm``) over the methods x levels
of one family, a family being one (cell, axis, comparison). Gains are oriented by the metric's direction:
positive = the method (at this level) is better. Every result carries its test descriptions (``curve_tests``),
which every page prints once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .description import TestDescription
from .descriptive import describe
from .multiple import holm
from .paired import SIGN_FLIP, T_TEST, paired_stats, shared, verdicts

CURVE_COLUMNS = ("dataset", "arch", "axis", "method", "level", "reference", "seed", "value")
CELL_AXIS = ["dataset", "arch", "axis"]
VERSUS_BASELINE, VERSUS_REFERENCE = "baseline", "reference"  # the two comparisons of each level

LEVEL_INTERVAL = TestDescription(
    name="95% t-interval of the mean over seeds at each level (and of the baseline's band)",
    function="scipy.stats.t.interval",
    unit="the seeds of one (cell, method, level)",
    correction="none (one interval per point)",
    reference="Student 1908; docs/statistics.md §1.21",
    short="95% t-interval over seeds",
)
LEVEL_PAIRED = TestDescription(
    name="two-sided paired t-test per level, with the 95% t-interval of the mean paired difference (the exact "
    "sign-flip test where every pair differs by the same amount; every difference 0: identical runs)",
    function="scipy.stats.ttest_rel",
    unit="the seeds of a cell: the method's run at a level paired by seed with the baseline's run (vs baseline) "
    "or with the method's own full-budget / true-map run (vs reference)",
    correction="Holm over the methods × levels of one cell, axis and comparison (`statistics.multiple.holm`)",
    reference="Student 1908; Holm 1979; docs/statistics.md §1.21",
    short="paired t over seeds per level, Holm per cell, axis and comparison",
)
CURVE_TESTS = {"interval": LEVEL_INTERVAL, "paired": LEVEL_PAIRED}


def curve_tests(alpha: float) -> dict[str, TestDescription]:
    """The curves' tests at significance level ``alpha`` (read at call time, like ``descriptions.family_tests``)."""
    return {key: test.at(alpha) for key, test in CURVE_TESTS.items()}


def level_summaries(values: np.ndarray, confidence: float = 0.95) -> pd.DataFrame:
    """One row per level (row of ``values``, shape (levels, seeds), NaN = no run): ``n, mean, sd, ci_low,
    ci_high`` (``descriptive.describe``: the t-interval over the finite seeds; NaN below 2 seeds)."""
    keys = ("n", "mean", "sd", "ci_low", "ci_high")
    rows = [{k: v for k, v in describe(row, confidence).items() if k in keys} for row in np.atleast_2d(values)]
    return pd.DataFrame(rows, columns=list(keys))


def paired_rows(y: np.ndarray, y_ref: np.ndarray, direction: str = "higher", confidence: float = 0.95) -> pd.DataFrame:
    """Row k of ``y`` against row k of ``y_ref`` (both (K, seeds), seed-aligned, NaN = no run), on the seeds where
    both are finite: ``n, mean, mean_ref, gain`` (oriented mean difference), ``gain_low, gain_high``, ``t``,
    ``p`` (two-sided ``ttest_rel``; the exact sign-flip p at zero spread), ``test`` (which gave p) and
    ``identical``; every number NaN below 2 shared seeds."""
    rows = []
    for a, b in zip(np.atleast_2d(y), np.atleast_2d(y_ref)):
        a, b = shared(a, b)
        row: dict[str, object] = {"n": int(a.size), "test": "n.a. (n<2)", "identical": False}
        if a.size >= 2:
            s = paired_stats(a, b, direction, confidence)
            row.update(mean=float(a.mean()), mean_ref=float(b.mean()))
            row.update({k: float(s[k]) for k in ("gain", "gain_low", "gain_high", "t")}, p=float(s["p_t"]))
            row.update(test=SIGN_FLIP if bool(s["zero_spread"]) else T_TEST, identical=bool(s["identical"]))
        rows.append(row)
    columns = ["n", "mean", "mean_ref", "gain", "gain_low", "gain_high", "t", "p", "test", "identical"]
    return pd.DataFrame(rows, columns=columns)


def holm_family(rows: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """``rows`` (one family) with ``p_holm`` (``multiple.holm`` of ``p``; NaN stays out) and ``verdict``
    (win / loss / tie / n.a. / identical runs from ``p_holm`` and the oriented gain, ``paired.verdicts``)."""
    out = rows.copy()
    out["p_holm"] = holm(out["p"].to_numpy(float))
    out["verdict"] = verdicts(out["gain"].to_numpy(float), out["p_holm"].to_numpy(), alpha, out["identical"].to_numpy())
    return out


@dataclass(frozen=True)
class CurvesResult:
    """One metric's curves: ``points`` (one row per cell, axis, method, level: ``n, mean, sd, ci_low, ci_high``),
    ``baseline`` (per cell, the band), ``comparisons`` (per cell, axis, method, level and ``versus``) and the tests."""

    metric: str
    direction: str
    baseline_label: str
    alpha: float
    points: pd.DataFrame
    baseline: pd.DataFrame
    comparisons: pd.DataFrame
    tests: dict[str, TestDescription]


def _seeded(frame: pd.DataFrame, keys: list[str], seeds: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct ``keys`` of ``frame`` (sorted) and their values as a (rows, seeds) array, NaN where absent."""
    duplicated = frame.duplicated([*keys, "seed"])
    if duplicated.any():
        first = frame.loc[duplicated, [*keys, "seed"]].iloc[0].to_dict()
        raise ValueError(f"{int(duplicated.sum())} duplicated curve rows, e.g. {first}")
    table = frame.set_index([*keys, "seed"])["value"].astype(float).unstack("seed")
    table = table.reindex(columns=seeds).sort_index()
    return table.index.to_frame(index=False), table.to_numpy(float)


def analyze_curves(
    points: pd.DataFrame,
    baseline: pd.DataFrame,
    *,
    metric: str,
    direction: str,
    baseline_label: str = "erm",
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> CurvesResult:
    """Summaries and the two paired comparisons of every level (module docstring); ``points`` must hold
    ``CURVE_COLUMNS``, ``baseline`` ``dataset, arch, seed, value``."""
    missing = [c for c in CURVE_COLUMNS if c not in points.columns]
    if missing:
        raise ValueError(f"curve points lack columns {missing}; expected {list(CURVE_COLUMNS)}")
    seeds = np.sort(pd.concat([points["seed"], baseline["seed"]]).unique())
    keys = [*CELL_AXIS, "method", "level", "reference"]
    index, values = _seeded(points, keys, seeds)
    summary = pd.concat([index, level_summaries(values, confidence)], axis=1)
    cells, base_values = _seeded(baseline, ["dataset", "arch"], seeds)
    band = pd.concat([cells, level_summaries(base_values, confidence)], axis=1)
    base_of = {(d, a): base_values[i] for i, (d, a) in enumerate(zip(cells["dataset"], cells["arch"]))}
    nan_row = np.full(seeds.size, np.nan)
    families = []
    for (dataset, arch, _axis), group in index.groupby(CELL_AXIS, sort=True):
        rows = group.index.to_numpy()
        y = values[rows]
        versus_base = np.stack([base_of.get((dataset, arch), nan_row)] * rows.size)
        ref_of = {m: values[i] for i, m, r in zip(rows, group["method"], group["reference"]) if r}
        plain = [j for j, r in enumerate(group["reference"]) if not r]
        versus_ref = np.stack([ref_of.get(m, nan_row) for m in group["method"].iloc[plain]]) if plain else y[:0]
        for versus, sub, ys, refs in (
            (VERSUS_BASELINE, group, y, versus_base),
            (VERSUS_REFERENCE, group.iloc[plain], y[plain], versus_ref),
        ):
            if len(sub):
                tested = paired_rows(ys, refs, direction, confidence)
                head = sub.reset_index(drop=True).assign(versus=versus)
                families.append(holm_family(pd.concat([head, tested], axis=1), alpha))
    comparisons = pd.concat(families, ignore_index=True) if families else pd.DataFrame()
    return CurvesResult(metric, direction, baseline_label, alpha, summary, band, comparisons, curve_tests(alpha))
