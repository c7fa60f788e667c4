"""Across cells (Q2): ranks, Friedman / Iman–Davenport, pairwise Wilcoxon with Holm
(docs/statistics.md §1.2, §1.3, §1.13).

Input: a cell x method matrix of seed means (``frames.cell_means``); cells are the independent
units (Demšar 2006), never (cell, seed) pairs. Rank-based tests need complete cells: rows with
a missing method are dropped (and reported) for ranks and Friedman; pairwise tests use the
cells where both methods have a mean. When a test cannot reach alpha with the cells at hand it
returns ``status = 'insufficient'`` and a ``reason`` instead of a p-value.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats

from .frames import complete_cells
from .gates import MIN_RANK_CELLS, too_few
from .multiple import holm
from .orient import ranks, sign
from .paired import wilcoxon_p
from .power import ALPHA, MIN_WILCOXON_N, cells_needed, min_wilcoxon_p

OK, INSUFFICIENT = "ok", "insufficient"


def mean_ranks(matrix: pd.DataFrame, direction: str, *, confidence: float = 0.95) -> pd.DataFrame:
    """``method, mean_rank, rank_low, rank_high, n_cells, rank_ci_na``: mean rank (1 = best by ``direction``) over
    complete cells, with a Student t interval over the cells (``scipy.stats.t.interval``, N - 1 df, clipped to the
    ranks' range [1, k]) from
    ``MIN_RANK_CELLS`` complete cells; below, the interval is NaN and ``rank_ci_na`` says "n.a. (N cells < 6)".

    The cells are the units. Coverage of the mean rank's interval (4 methods, 3,000 simulated sets of 6 cells,
    ``tests/test_statistics_coverage.py``): the t interval 93–94%, 87% for a method ranked first in most cells
    (a bounded, discrete mean); the percentile bootstrap over cells used before: 81–86%. Below 6 cells no rank test can
    separate two methods (Demšar 2006), and an interval would suggest a precision the tests do not have.
    """
    full, _ = complete_cells(matrix)
    r = ranks(full, direction).to_numpy()
    n = r.shape[0]
    gate = too_few(n, MIN_RANK_CELLS)
    if n == 0:
        return pd.DataFrame(
            {
                "method": matrix.columns,
                "mean_rank": np.nan,
                "rank_low": np.nan,
                "rank_high": np.nan,
                "n_cells": 0,
                "rank_ci_na": gate,
            }
        )
    mean = r.mean(axis=0)
    low, high = np.full(mean.shape, np.nan), np.full(mean.shape, np.nan)
    if not gate:
        sem = r.std(axis=0, ddof=1) / np.sqrt(n)
        with np.errstate(invalid="ignore", divide="ignore"):
            low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=sem)
        low, high = np.where(sem > 0, low, mean), np.where(sem > 0, high, mean)
        low, high = np.clip(low, 1, r.shape[1]), np.clip(high, 1, r.shape[1])  # a rank lies in [1, k]
    return pd.DataFrame(
        {
            "method": list(matrix.columns),
            "mean_rank": mean,
            "rank_low": low,
            "rank_high": high,
            "n_cells": n,
            "rank_ci_na": gate,
        }
    )


def friedman_min_p(k: int, n: int) -> float:
    """Smallest exact Friedman p with n cells and k methods: every cell ordering the methods alike, (k!)^(1-n)."""
    return float(math.factorial(k) ** (1 - n)) if n >= 1 else 1.0


def friedman(matrix: pd.DataFrame, alpha: float = ALPHA) -> dict[str, float | int | str]:
    """Friedman chi² (``scipy.stats.friedmanchisquare``, tie-corrected) and Iman–Davenport
    F = (N-1)chi²/(N(k-1) - chi²) with p = ``scipy.stats.f.sf(F, k-1, (k-1)(N-1))`` over complete cells.

    Keys: ``k, n_cells, dropped_cells, chi2, p_chi2, f, p_f, status, reason``. Insufficient when k < 3, N < 2,
    or no ordering of N cells could reach alpha (exact smallest p (k!)^(1-N) > alpha).
    """
    full, dropped = complete_cells(matrix)
    k, n = full.shape[1], full.shape[0]
    out: dict[str, float | int | str] = {
        "k": k,
        "n_cells": n,
        "dropped_cells": len(dropped),
        "chi2": np.nan,
        "p_chi2": np.nan,
        "f": np.nan,
        "p_f": np.nan,
        "status": OK,
        "reason": "",
    }
    if k < 3:
        return {**out, "status": INSUFFICIENT, "reason": f"Friedman needs >= 3 methods (k={k})"}
    if n < 2 or friedman_min_p(k, n) > alpha:
        return {
            **out,
            "status": INSUFFICIENT,
            "reason": f"N={n} complete cells: smallest exact Friedman p (k!)^(1-N) = {friedman_min_p(k, n):.3g} > {alpha}",
        }
    columns = [full[c].to_numpy() for c in full.columns]
    test = stats.friedmanchisquare(*columns)
    chi2 = float(test.statistic)
    denominator = n * (k - 1) - chi2
    f = np.inf if denominator <= 0 else (n - 1) * chi2 / denominator
    p_f = 0.0 if not np.isfinite(f) else float(stats.f.sf(f, k - 1, (k - 1) * (n - 1)))
    reason = "chi2 p approximate for N <= 10 (scipy docs); Iman-Davenport preferred" if n <= 10 else ""
    return {**out, "chi2": chi2, "p_chi2": float(test.pvalue), "f": float(f), "p_f": p_f, "reason": reason}


def pairwise_wilcoxon(
    matrix: pd.DataFrame, direction: str, *, baseline: str | None = None, alpha: float = ALPHA
) -> pd.DataFrame:
    """Wilcoxon signed-rank over cell means for each pair, Holm over the pairs tested (Benavoli et al. 2016).

    ``baseline=None``: all pairs (the family behind the CD diagram); else each method vs ``baseline``.
    Columns: ``method, other, n_cells, wins, ties, losses`` (cells where ``method`` is better / equal / worse by
    ``direction``), ``median_gain`` (oriented), ``p, wilcoxon_method, p_holm, status, reason``. Pairs with
    fewer than 6 cells are 'insufficient' (2/2^N > 0.05) and left out of the Holm family; ``reason`` also says
    when N is too small to pass Holm's first step over the family (docs/statistics.md §1.8).
    """
    methods = list(matrix.columns)
    if baseline is None:
        pairs = list(itertools.combinations(methods, 2))
    else:
        pairs = [(m, baseline) for m in methods if m != baseline]
    sgn = sign(direction)
    rows = []
    for a, b in pairs:
        both = matrix[[a, b]].dropna()
        gain = sgn * (both[a].to_numpy() - both[b].to_numpy())
        p, used = wilcoxon_p(gain)
        n = len(both)
        rows.append(
            {
                "method": a,
                "other": b,
                "n_cells": n,
                "wins": int((gain > 0).sum()),
                "ties": int((gain == 0).sum()),
                "losses": int((gain < 0).sum()),
                "median_gain": float(np.median(gain)) if n else np.nan,
                "p": p,
                "wilcoxon_method": used,
                "status": OK if np.isfinite(p) else INSUFFICIENT,
                "reason": ""
                if np.isfinite(p)
                else f"N={n} cells < {MIN_WILCOXON_N}: smallest exact Wilcoxon p 2/2^N = {min_wilcoxon_p(n):.3g} > 0.05",
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "method",
            "other",
            "n_cells",
            "wins",
            "ties",
            "losses",
            "median_gain",
            "p",
            "wilcoxon_method",
            "status",
            "reason",
        ],
    )
    frame.insert(9, "p_holm", holm(frame["p"].to_numpy()))
    family = int(np.isfinite(frame["p"]).sum())
    for i in frame.index[frame["status"] == OK]:
        n = int(frame.at[i, "n_cells"])
        if min_wilcoxon_p(n) > alpha / family:
            frame.at[i, "reason"] = (
                f"N={n} cells cannot pass Holm over {family} comparisons (needs N >= {cells_needed(alpha, family)})"
            )
    return frame


def cd_gate(matrix: pd.DataFrame) -> str:
    """ "n.a. (N cells < 6)" when the complete cells are too few for the CD diagram and its group letters (every
    pair of ranked methods tested by the Wilcoxon over cells), else ""."""
    return too_few(len(complete_cells(matrix)[0]), MIN_RANK_CELLS)


def significance_matrix(pairwise: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """Square, symmetric matrix of Holm-adjusted p for ``scikit_posthocs.critical_difference_diagram(ranks, sig)``:
    diagonal 1, untested ('insufficient') pairs 1. The diagram and the group letters are only drawn from
    ``MIN_RANK_CELLS`` complete cells (``cd_gate``), where every pair of ranked methods is tested."""
    sig = pd.DataFrame(1.0, index=pd.Index(methods), columns=pd.Index(methods))
    for row in pairwise.itertuples(index=False):
        p = row.p_holm if np.isfinite(row.p_holm) else 1.0
        sig.loc[row.method, row.other] = sig.loc[row.other, row.method] = p
    return sig
