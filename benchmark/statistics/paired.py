"""Within a cell: each method against the baseline over shared, paired seeds (docs/statistics.md §1.9-1.13).

Only seeds where both the method and the baseline have a finite value enter (a run whose
metric is undefined drops that seed from the pair). Differences are oriented by the
metric's direction: ``gain = sign * (y_method - y_base)`` is positive when the method is
better, and so are ``t`` and ``d_z``. Two-sided p-values do not depend on the orientation.

Degenerate pairs (docs/statistics.md §1.9): when every pair differs by the same amount the t
statistic is undefined; such rows get the exact sign-flip test of ``exact`` instead, no t-interval,
and, when every difference is exactly 0, the label ``IDENTICAL`` ("identical runs": p = 1, every
sign flip gives the same mean).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .exact import DECIMALS, sign_flip_p, sign_flip_tost_p, where_flat, zero_spread
from .frames import cube, select
from .multiple import bh, markers
from .orient import Family, sign
from .power import ALPHA, MIN_WILCOXON_N, POWER, safeguard_sd, seeds_needed, underpowered

IDENTICAL = "identical runs"  # every paired difference exactly 0: the leaderboard's and the claims' label
T_TEST, SIGN_FLIP = "paired t", "exact sign-flip, zero spread"  # which test gave a row's p (``p_method``)


def shared(y: np.ndarray, y_base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (same seed) where both values are finite."""
    y, y_base = np.asarray(y, dtype=float), np.asarray(y_base, dtype=float)
    both = np.isfinite(y) & np.isfinite(y_base)
    return y[both], y_base[both]


def paired_stats(
    y: np.ndarray, y_base: np.ndarray, direction: str = "higher", confidence: float = 0.95
) -> dict[str, np.ndarray]:
    """Paired t statistics along the last axis (seeds), vectorized over leading axes; inputs without NaN.

    Returns ``n, gain`` (mean oriented difference), ``sd_diff, gain_low, gain_high`` (t-interval of
    the mean difference), ``t`` (oriented) and ``p_t`` (``scipy.stats.ttest_rel(y, y_base)``),
    ``d_z = gain / sd_diff`` and ``rho`` (Pearson correlation of the paired values). Rows with zero
    spread (:func:`zero_spread`) have ``sd_diff`` 0, no t, interval or d_z, and the two-sided
    :func:`sign_flip_p` as ``p_t``; ``zero_spread`` and ``identical`` (every difference 0) mark them.
    """
    y, y_base = np.asarray(y, dtype=float), np.asarray(y_base, dtype=float)
    d = sign(direction) * (y - y_base)
    n = d.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gain = d.mean(axis=-1)
        sd = d.std(axis=-1, ddof=1) if n > 1 else np.full(gain.shape, np.nan)
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
        test = stats.ttest_rel(y, y_base, axis=-1) if n > 1 else None
        cy, cb = y - y.mean(axis=-1, keepdims=True), y_base - y_base.mean(axis=-1, keepdims=True)
        rho = (cy * cb).sum(-1) / np.sqrt((cy**2).sum(-1) * (cb**2).sum(-1))
        d_z = gain / sd
    nan = np.full(np.shape(gain), np.nan)
    flat = zero_spread(d) if n > 1 else np.zeros(np.shape(gain), bool)
    p_t = where_flat(test.pvalue, flat, d, sign_flip_p) if test else nan

    def degenerate(x: np.ndarray) -> np.ndarray:
        return np.where(flat, np.nan, x)

    return {
        "n": np.full(np.shape(gain), n),
        "gain": gain,
        "sd_diff": np.where(flat, 0.0, sd),
        "gain_low": degenerate(gain - half),
        "gain_high": degenerate(gain + half),
        "t": degenerate(sign(direction) * test.statistic) if test else nan,
        "p_t": p_t[()],
        "d_z": degenerate(d_z),
        "rho": rho,
        "zero_spread": flat,
        "identical": flat & (np.round(gain, DECIMALS) == 0),
    }


def wilcoxon_p(d: np.ndarray) -> tuple[float, str]:
    """Two-sided ``scipy.stats.wilcoxon(d, zero_method='zsplit', method='auto')`` p and the method scipy used.

    'auto' (scipy >= 1.15, docs/statistics.md §1.12) is exact without ties or zeros for n <= 50, an exhaustive
    sign-flip permutation test with ties or zeros for n <= 13, asymptotic otherwise. Below
    ``MIN_WILCOXON_N`` pairs the smallest attainable p (2/2**n) exceeds 0.05: returns (NaN, 'n.a. (n<6)').
    """
    d = np.round(np.asarray(d, dtype=float), DECIMALS)
    n = d.size
    if n < MIN_WILCOXON_N:
        return float("nan"), f"n.a. (n<{MIN_WILCOXON_N})"
    if np.all(d == 0):
        return 1.0, "all differences zero"
    ties = np.unique(np.abs(d)).size < n or np.any(d == 0)
    used = "asymptotic" if n > 50 else ("exact" if not ties else ("permutation" if n <= 13 else "asymptotic"))
    return float(stats.wilcoxon(d, zero_method="zsplit", method="auto").pvalue), used


def tost_p(y: np.ndarray, y_base: np.ndarray, rope: float) -> np.ndarray:
    """Paired TOST p that the mean difference lies within (-rope, +rope), along the last axis: the larger of
    the one-sided t-test p's against -rope and +rope, as ``ttost_paired(y, y_base, -rope, rope)[0]`` (tested).
    Zero spread: :func:`sign_flip_tost_p`. NaN for n < 2 or rope <= 0."""
    d = np.asarray(y, dtype=float) - np.asarray(y_base, dtype=float)
    n = d.shape[-1]
    if n < 2 or rope <= 0:
        return np.full(d.shape[:-1], np.nan)[()]
    with np.errstate(divide="ignore", invalid="ignore"):
        se = d.std(axis=-1, ddof=1) / np.sqrt(n)
        mean = d.mean(axis=-1)
        p = np.maximum(stats.t.sf((mean + rope) / se, n - 1), stats.t.cdf((mean - rope) / se, n - 1))
    return where_flat(p, zero_spread(d), d, lambda row: sign_flip_tost_p(row, rope))[()]


def _tests(
    pairs: list[tuple[np.ndarray, np.ndarray]], fam: Family, alpha: float, confidence: float, power: float
) -> list[dict[str, float | str | bool]]:
    """:func:`paired_test` for many seed-aligned (y, y_base) pairs, batched by the number of shared seeds."""
    shared_pairs = [shared(y, y_base) for y, y_base in pairs]
    results: list[dict] = [{} for _ in pairs]
    sizes = np.array([y.size for y, _ in shared_pairs])
    for n in np.unique(sizes):
        members = np.flatnonzero(sizes == n)
        y = np.stack([shared_pairs[i][0] for i in members]) if n else np.zeros((len(members), 0))
        y_base = np.stack([shared_pairs[i][1] for i in members]) if n else np.zeros((len(members), 0))
        batch = paired_stats(y, y_base, fam.direction, confidence) if n else {}
        tost = tost_p(y, y_base, fam.rope) if n else np.full(len(members), np.nan)
        for row, i in enumerate(members):
            out: dict[str, float | str | bool] = (
                {k: (bool(v[row]) if v.dtype == bool else float(v[row])) for k, v in batch.items()}
                if n
                else {
                    **{k: float("nan") for k in ("gain", "sd_diff", "gain_low", "gain_high", "t", "p_t", "d_z", "rho")},
                    "zero_spread": False,
                    "identical": False,
                }
            )
            out["p_method"] = SIGN_FLIP if out["zero_spread"] else T_TEST
            out["n"] = int(n)
            out["mean"] = float(y[row].mean()) if n else float("nan")
            out["mean_base"] = float(y_base[row].mean()) if n else float("nan")
            out["p_wilcoxon"], out["wilcoxon_method"] = wilcoxon_p(y[row] - y_base[row])
            out["p_tost"] = float(np.atleast_1d(tost)[row])
            results[i] = out
    sd = safeguard_sd(np.array([r["sd_diff"] for r in results], dtype=float), np.array([r["n"] for r in results]))
    needed = seeds_needed(fam.rope, sd, alpha, power)
    for r, k in zip(results, np.atleast_1d(needed)):
        r["seeds_needed"], r["underpowered"] = float(k), underpowered(r["n"], float(k))
    return results


def paired_test(
    y: np.ndarray,
    y_base: np.ndarray,
    *,
    direction: str,
    rope: float,
    alpha: float = ALPHA,
    confidence: float = 0.95,
    power: float = POWER,
) -> dict[str, float | str | bool]:
    """Everything one cell says about one method vs the baseline (seed-aligned arrays, NaN allowed).

    Keys: the :func:`paired_stats` fields, ``p_method`` (``T_TEST`` or ``SIGN_FLIP``), ``mean, mean_base``
    (over shared seeds), ``p_wilcoxon, wilcoxon_method``, ``p_tost`` (equivalence within the ROPE;
    uncorrected), ``seeds_needed`` (:func:`power.seeds_needed` for one ROPE at the safeguard SD,
    :func:`power.safeguard_sd`) and ``underpowered``.
    """
    fam = Family("", "", direction, rope)
    return _tests([(y, y_base)], fam, alpha, confidence, power)[0]


def verdicts(
    gain: np.ndarray, adjusted: np.ndarray, alpha: float = ALPHA, identical: np.ndarray | None = None
) -> np.ndarray:
    """'win' / 'loss' when the adjusted p < alpha (by the sign of the oriented gain), 'tie' otherwise, 'n.a.' for
    NaN p; ``IDENTICAL`` where every paired difference is exactly 0 (a tie that no test was needed for)."""
    gain, p = np.asarray(gain, float), np.asarray(adjusted, float)
    out = np.where(np.isfinite(p), "tie", "n.a.").astype(object)
    out[(p < alpha) & (gain > 0)] = "win"
    out[(p < alpha) & (gain < 0)] = "loss"
    if identical is not None:
        out[np.asarray(identical, bool)] = IDENTICAL
    return out


def paired_cells(
    scores: pd.DataFrame,
    fam: Family,
    baseline: str,
    *,
    alpha: float = ALPHA,
    confidence: float = 0.95,
    power: float = POWER,
) -> pd.DataFrame:
    """One row per cell x non-baseline method of one family, BH over all of them (docs/statistics.md §1.13).

    Columns: ``dataset, arch, split, metric, method, baseline, n`` (shared seeds), ``mean, mean_base, gain,
    sd_diff, gain_low, gain_high, t, p_t, p_method, zero_spread, identical, d_z, rho, p_wilcoxon,
    wilcoxon_method, seeds_needed, underpowered, p_tost, p_bh`` (BH of ``p_t``), ``marker`` (from ``p_bh``
    only), ``verdict`` (win/tie/loss/n.a. from ``p_bh``, or ``IDENTICAL``), ``p_tost_bh`` and ``equivalent``
    (``p_tost_bh < alpha``: "no loss beyond one ROPE").
    """
    data = cube(select(scores, fam))
    b = data.index(baseline)
    keys, pairs = [], []
    for c, (dataset, arch) in enumerate(data.cells):
        for m, method in enumerate(data.methods):
            if m != b and np.isfinite(data.values[m, c]).any():
                keys.append(
                    {
                        "dataset": dataset,
                        "arch": arch,
                        "split": fam.split,
                        "metric": fam.metric,
                        "method": method,
                        "baseline": baseline,
                    }
                )
                pairs.append((data.values[m, c], data.values[b, c]))
    rows = [{**k, **r} for k, r in zip(keys, _tests(pairs, fam, alpha, confidence, power))]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["p_bh"] = bh(frame["p_t"].to_numpy())
    frame["marker"] = markers(frame["p_bh"].to_numpy(), alpha)
    frame["verdict"] = verdicts(
        frame["gain"].to_numpy(), frame["p_bh"].to_numpy(), alpha, frame["identical"].to_numpy(bool)
    )
    frame["p_tost_bh"] = bh(frame["p_tost"].to_numpy())
    frame["equivalent"] = frame["p_tost_bh"].to_numpy() < alpha
    return frame


def win_tie_loss(paired: pd.DataFrame) -> pd.DataFrame:
    """Per method: ``wins, ties, losses, untested, n_cells`` from the BH-adjusted per-cell verdicts."""
    counts = pd.crosstab(paired["method"], paired["verdict"])
    out = pd.DataFrame(index=counts.index)
    for name, verdict in (("wins", "win"), ("losses", "loss"), ("untested", "n.a.")):
        out[name] = counts[verdict] if verdict in counts else 0
    out["ties"] = sum(counts[v] for v in ("tie", IDENTICAL) if v in counts)  # identical runs: a tie, exactly
    out = out[["wins", "ties", "losses", "untested"]]
    out["n_cells"] = counts.sum(axis=1)
    return out.reset_index()
