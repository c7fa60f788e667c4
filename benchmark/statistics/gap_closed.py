"""The fraction of the shortcut gap a method closes, per cell and across cells (docs/statistics.md, "The
across-cell leaderboard"; issue 24).

Per cell c (a dataset x arch with a shortcut, scored on its own metric, oriented by ``sign[c]``) the gap is

    gap_c = sign_c * (mean reference ERM - mean baseline ERM)

where the reference is ERM trained on the same images without the shortcut on the same network. A cell enters
the score only when the gap is real: ``gap_c >= rope_c`` (the metric's ROPE) and the one-sided Welch t-test of
reference vs baseline (``scipy.stats.ttest_ind(equal_var=False)``) has p < alpha; otherwise the ratio below has a
denominator near 0 (unstable, any sign) and the cell is kept in the raw tables only, with its reason.

Per shared (method, baseline) seed s of a usable cell (``aggregate._compact``):

    g[m, c, s] = sign_c * (y[m, c, s] - mean_s y[base, c, s]) / gap_c

so 0 is ERM and 1 is the reference; g > 1 closes more than the gap (better than ERM without the shortcut on this
metric), g < 0 widens it. A method's score is the IQM of its pooled (cell, seed) g (``scipy.stats.trim_mean(g,
0.25)``, Agarwal et al. 2021); its interval is IQM ± t(Σ(n_c − 1)) × SE, the SE the SD of rliable's stratified
bootstrap (seeds resampled within each cell, method and baseline paired, the reference's seeds resampled too
since the denominator is estimated; the seeds spread by sqrt(n_c / (n_c − 1)) first, as ``aggregate.iqm_interval``
does), at confidence 1 − alpha/K over the K ranked rows (Bonferroni: the K intervals hold together).
Coverage (``tests/test_gap_closed.py::simulate``, 2,000 simulated studies, 6 cells x 5 seeds, cells far apart in
gap, spread and fraction closed, the reference and the baseline both estimated, 400 bootstrap draws): 95.7% at 95%
for one row; 4 rows sharing ERM and the reference all covered together 96.4% at the Bonferroni level 1 − 0.05/4
(86% without the correction); rliable's percentile interval of the same bootstrap 90% at 95%.

The cell x row matrix of per-cell mean g feeds ``across`` (mean ranks, Friedman / Iman–Davenport, pairwise
Wilcoxon–Holm, the CD diagram): the cells are the units there (Demšar 2006).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .across_descriptions import board_tests
from .aggregate import _compact, _spread
from .bootstrap import REPS, SEED, generator, stratified, uniforms
from .description import TestDescription


def cell_gaps(
    reference: np.ndarray, baseline: np.ndarray, sign: np.ndarray, rope: np.ndarray, alpha: float
) -> pd.DataFrame:
    """Per cell (rows of the (cells, seeds) arrays, NaN padding): ``reference_mean, erm_mean, gap, n_reference,
    n_erm, p, usable, reason``; ``gap`` oriented, ``p`` the one-sided Welch t-test that the reference is better."""
    rows = []
    for c, (r, b) in enumerate(zip(reference, baseline)):
        r, b = r[np.isfinite(r)], b[np.isfinite(b)]
        row = {
            "reference_mean": float(r.mean()) if r.size else np.nan,
            "erm_mean": float(b.mean()) if b.size else np.nan,
            "n_reference": int(r.size),
            "n_erm": int(b.size),
        }
        row["gap"] = float(sign[c] * (row["reference_mean"] - row["erm_mean"]))
        p = np.nan
        if r.size >= 2 and b.size >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                p = float(
                    stats.ttest_ind(
                        r, b, equal_var=False, alternative="greater" if sign[c] > 0 else "less", nan_policy="omit"
                    ).pvalue
                )
        if r.size < 2 or b.size < 2:
            reason = f"{r.size} reference and {b.size} ERM runs: a gap needs 2 of each"
        elif not row["gap"] >= rope[c]:
            reason = f"gap {row['gap']:.3g} < ROPE {rope[c]:g}: the ratio would be unstable"
        elif not p < alpha:
            reason = f"reference not better than ERM (one-sided Welch p = {p:.3g} >= {alpha:g}): unstable ratio"
        else:
            reason = ""
        rows.append({**row, "p": p, "usable": not reason, "reason": reason})
    return pd.DataFrame(rows)


def score(ym: np.ndarray, yb: np.ndarray, counts: np.ndarray, yr: np.ndarray, rcounts: np.ndarray) -> np.ndarray:
    """IQM of the pooled g of (..., cells, width) compacted arrays (``counts`` / ``rcounts`` real seeds per cell for
    the method-baseline pairs / the reference, the rest padding); the gap from the same baseline seeds."""
    valid = np.arange(ym.shape[-1])[None, :] < counts[:, None]
    rvalid = np.arange(yr.shape[-1])[None, :] < rcounts[:, None]
    base = np.where(valid, yb, 0.0).sum(axis=-1) / counts
    ref = np.where(rvalid, yr, 0.0).sum(axis=-1) / rcounts
    g = (ym - base[..., None]) / (ref - base)[..., None]
    return stats.trim_mean(g[..., valid], 0.25, axis=-1)


def score_interval(
    ym: np.ndarray,
    yb: np.ndarray,
    counts: np.ndarray,
    yr: np.ndarray,
    rcounts: np.ndarray,
    u: np.ndarray,
    ur: np.ndarray,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(IQM, low, high): IQM ± t(Σ(n_c − 1)) × the SD of the stratified bootstrap of spread seeds (module
    docstring); ``u`` / ``ur`` the (reps, cells, width) uniforms of the pairs and of the reference. The arrays
    are oriented already (multiplied by the cell's sign)."""
    idx, ridx = stratified(counts, u), stratified(rcounts, ur)
    lead = (1,) * (ym.ndim - 2)
    pick, rpick = idx.reshape(lead + idx.shape), ridx.reshape(lead + ridx.shape)
    boot_m = np.take_along_axis(_spread(ym, counts)[..., None, :, :], pick, axis=-1)
    boot_b = np.take_along_axis(_spread(yb, counts)[..., None, :, :], pick, axis=-1)
    boot_r = np.take_along_axis(_spread(yr, rcounts)[..., None, :, :], rpick, axis=-1)
    se = score(boot_m, boot_b, counts, boot_r, rcounts).std(axis=-1, ddof=1)
    point = score(ym, yb, counts, yr, rcounts)
    half = stats.t.ppf(0.5 + confidence / 2, int((counts - 1).sum())) * se
    return point, point - half, point + half


@dataclass(frozen=True)
class Board:
    """The across-cell scores: ``cells`` (``cell_gaps`` with ``cell``), ``rows`` (one per ranked row: ``method,
    n_cells, seeds, gap_closed, gap_closed_low, gap_closed_high, confidence, marker``) and ``matrix`` (usable cell
    x row mean g, the baseline's column 0)."""

    cells: pd.DataFrame
    rows: pd.DataFrame
    matrix: pd.DataFrame
    tests: dict[str, TestDescription]


def marker(low: float, high: float) -> str:
    """▲ when the row's own simultaneous interval is above 0 (ERM), ▼ below, else blank."""
    return "▲" if low > 0 else "▼" if high < 0 else ""


def board(
    values: np.ndarray,
    reference: np.ndarray,
    methods: Sequence[str],
    cells: Sequence[str],
    baseline: str,
    sign: np.ndarray,
    rope: np.ndarray,
    *,
    alpha: float = 0.05,
    reps: int = REPS,
    seed: int | np.random.Generator = SEED,
) -> Board:
    """``values[m, c, s]`` (rows x cells x seeds, NaN where absent, seeds paired across rows), ``reference[c, s]``
    (the reference ERM's seeds); every non-baseline method is a ranked row (give it only rows present in every
    usable cell). Intervals at 1 − alpha/K, K the ranked rows."""
    methods, sign, rope = list(methods), np.asarray(sign, float), np.asarray(rope, float)
    b = methods.index(baseline)
    oriented, ref = values * sign[None, :, None], reference * sign[:, None]
    gaps = cell_gaps(reference, values[b], sign, rope, alpha)
    gaps.insert(0, "cell", list(cells))
    keep = gaps["usable"].to_numpy(bool)
    ranked = [m for m in methods if m != baseline]
    confidence = 1 - alpha / max(len(ranked), 1)
    rng = generator(seed)
    u = uniforms(int(keep.sum()), values.shape[2], reps, rng)
    ur = uniforms(int(keep.sum()), reference.shape[1], reps, rng)
    yr, rcounts = _compact_one(ref[keep])
    rows, matrix = [], {}
    for m, method in enumerate(methods):
        ym, yb, counts = _compact(oriented[m][keep], oriented[b][keep])
        with np.errstate(invalid="ignore", divide="ignore"):
            per_cell = (np.nanmean(ym, axis=1) - np.nanmean(yb, axis=1)) / (
                np.nanmean(yr, axis=1) - np.nanmean(yb, axis=1)
            )
        matrix[method] = per_cell
        if m == b:
            continue
        point = low = high = np.nan
        if keep.any() and (counts > 1).all() and (rcounts > 1).all():
            point, low, high = map(float, score_interval(ym, yb, counts, yr, rcounts, u, ur, confidence))
        rows.append(
            {
                "method": method,
                "n_cells": int((counts > 0).sum()),
                "seeds": _seeds_text(counts),
                "gap_closed": point,
                "gap_closed_low": low,
                "gap_closed_high": high,
                "confidence": confidence,
                "marker": marker(low, high),
            }
        )
    frame = pd.DataFrame(matrix, index=pd.Index(np.asarray(cells)[keep], name="cell"))
    frame.columns.name = "method"
    columns = ["method", "n_cells", "seeds", "gap_closed", "gap_closed_low", "gap_closed_high", "confidence", "marker"]
    return Board(gaps, pd.DataFrame(rows, columns=columns), frame, board_tests(alpha))


def _compact_one(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The finite seeds of each cell moved to the front (NaN padding) and their counts."""
    out, _, counts = _compact(y, y)
    return out, counts


def _seeds_text(counts: np.ndarray) -> str:
    """Seeds per cell: "5" when every cell has the same number, else "4–5"."""
    if counts.size == 0:
        return "0"
    low, high = int(counts.min()), int(counts.max())
    return str(low) if low == high else f"{low}–{high}"


def same_run_groups(run_ids: Mapping[str, frozenset[str]], keep: str | None = None) -> list[list[str]]:
    """Labels with identical run ids, grouped, each group's shown label first: ``keep`` when the group has it,
    else a label without ``[tuned]`` first, then the shorter, then by name; groups in first-label order."""
    groups: dict[frozenset[str], list[str]] = {}
    for label, ids in run_ids.items():
        groups.setdefault(ids, []).append(label)
    return [sorted(labels, key=lambda x: (x != keep, x.endswith("[tuned]"), len(x), x)) for labels in groups.values()]


def distinct_rows(run_ids: Mapping[str, frozenset[str]]) -> tuple[list[str], dict[str, str]]:
    """One row per distinct set of runs: labels with identical run ids in every cell are one row, shown as the
    default label (``same_run_groups``). Returns (rows kept, note per kept row: "tuned = defaults" when a tuned
    label merged into its default, else "same runs as ...")."""
    kept, notes = [], {}
    for head, *rest in same_run_groups(run_ids):
        kept.append(head)
        if rest:
            tuned = [x for x in rest if x == f"{head}[tuned]"]
            others = [x for x in rest if x not in tuned]
            parts = (["tuned = defaults"] if tuned else []) + ([f"same runs as {', '.join(others)}"] if others else [])
            notes[head] = "; ".join(parts)
    return sorted(kept, key=list(run_ids).index), notes
