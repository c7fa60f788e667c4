"""One cell of a claim: a method against its reference on one metric, the test the claim names (docs/statistics.md §1.16).

A cell is *paired* when both sides ran in the same dataset: the same seed then fixes the same
initialisation and data order for both, and the unit of replication is the seed pair (paired t,
``scipy.stats.ttest_rel``; TOST ``paired.tost_p``). A cell comparing two datasets (e.g. CYBORG on the small
set against ERM on 7x more images) shares no randomness between its arms (the initialisation is derived
from the dataset), so it is *unpaired*: Welch's t (``scipy.stats.ttest_ind(equal_var=False)``; Welch 1947),
Welch's TOST (``statsmodels ttost_ind(usevar='unequal')``) and the Welch-Satterthwaite interval, over all
seeds of each side.

Orientation: ``gain = sign * (method - reference)`` is positive when the method is better. The row keeps
what any interval needs (``gain``, ``se``, ``df``: :func:`interval`), so the verdict can ask for the
level its family-wise standard needs. Zero spread (every pair differs by the same amount; both arms
constant when unpaired) leaves the t statistic undefined: the p-values then come from the exact
permutation test (sign flips when paired, relabelling when unpaired; ``scipy.stats.permutation_test``)
and there is no interval; every difference exactly 0 is ``identical``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import stats
from statsmodels.stats.weightstats import ttost_ind

from .exact import DECIMALS, relabel_p, relabel_tost_p, sign_flip_p
from .orient import sign
from .paired import SIGN_FLIP, T_TEST, paired_stats, shared, tost_p
from .power import POWER, safeguard_sd, seeds_needed, tost_seeds_needed, welch_seeds_needed

TESTS = ("superiority", "equivalence", "difference")
PAIRED, UNPAIRED = "paired", "unpaired"
WELCH, RELABEL = "Welch, unpaired", "exact permutation, unpaired, zero spread"
FIELDS = (
    "design",
    "n",
    "n_ref",
    "mean",
    "mean_ref",
    "gain",
    "se",
    "df",
    "sd_diff",
    "sd",
    "sd_ref",
    "d_z",
    "p",
    "p_tost",
    "p_method",
    "zero_spread",
    "identical",
)


def complete(row: Mapping[str, Any]) -> dict[str, Any]:
    """A cell row with every field of ``FIELDS``: a row measured elsewhere (e.g. the consistency path) that
    gives only ``n, mean, mean_ref, gain, sd_diff, p`` is read as a paired t row (``se = sd_diff/sqrt(n)``,
    ``df = n-1``); give ``se`` and ``df`` when the estimator's standard error is another (a jackknife)."""
    out: dict[str, Any] = dict(row)
    n = float(out.get("n", 0) or 0)
    defaults = {
        "design": PAIRED,
        "n_ref": out.get("n", 0),
        "se": float(out.get("sd_diff", np.nan)) / np.sqrt(n) if n > 0 else np.nan,
        "df": n - 1 if n > 1 else np.nan,
        "zero_spread": False,
        "identical": False,
        "p_method": "",
    }
    for key in FIELDS:
        out.setdefault(key, defaults.get(key, np.nan))
    return out


def interval(row: Mapping[str, Any], confidence: float) -> tuple[float, float]:
    """Two-sided ``confidence`` t-interval of the gain, ``scipy.stats.t.interval(confidence, df, gain, se)``;
    NaN without a spread (zero-spread or untestable rows)."""
    se, df, gain = (float(row.get(k, np.nan)) for k in ("se", "df", "gain"))
    if not (np.isfinite(se) and se > 0 and np.isfinite(df) and df > 0 and np.isfinite(gain)):
        return float("nan"), float("nan")
    low, high = stats.t.interval(confidence, df, loc=gain, scale=se)
    return float(low), float(high)


def _alternative(test: str) -> str:
    return "greater" if test == "superiority" else "two-sided"


def _empty(design: str, n: int, n_ref: int, mean: float, mean_ref: float) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(FIELDS, np.nan)
    out.update(design=design, n=n, n_ref=n_ref, mean=mean, mean_ref=mean_ref, p_method="")
    out.update(zero_spread=False, identical=False)
    return out


def _paired(y: np.ndarray, y_ref: np.ndarray, test: str, direction: str, rope: float) -> dict[str, Any]:
    y, y_ref = shared(y, y_ref)
    n = int(y.size)
    out = _empty(PAIRED, n, n, float(y.mean()) if n else np.nan, float(y_ref.mean()) if n else np.nan)
    if n < 2:
        return out
    s = paired_stats(y, y_ref, direction)
    flat, d = bool(s["zero_spread"]), sign(direction) * (y - y_ref)
    out.update({k: float(s[k]) for k in ("gain", "sd_diff", "d_z")})
    out.update(se=float(s["sd_diff"]) / np.sqrt(n), df=float(n - 1), zero_spread=flat, identical=bool(s["identical"]))
    out["p_method"] = SIGN_FLIP if flat else T_TEST
    out["p_tost"] = float(tost_p(y, y_ref, rope))
    if test == "equivalence":
        out["p"] = out["p_tost"]
    elif test == "difference":
        out["p"] = float(s["p_t"])
    elif flat:
        out["p"] = sign_flip_p(d, "greater")
    else:
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # near-constant differences: scipy's precision warning
            out["p"] = float(
                stats.ttest_rel(sign(direction) * y, sign(direction) * y_ref, alternative="greater").pvalue
            )
    return out


def _unpaired(y: np.ndarray, y_ref: np.ndarray, test: str, direction: str, rope: float) -> dict[str, Any]:
    a = sign(direction) * np.asarray(y, float)[np.isfinite(y)]
    b = sign(direction) * np.asarray(y_ref, float)[np.isfinite(y_ref)]
    n, n_ref = int(a.size), int(b.size)
    out = _empty(
        UNPAIRED, n, n_ref, sign(direction) * a.mean() if n else np.nan, sign(direction) * b.mean() if n_ref else np.nan
    )
    if n < 2 or n_ref < 2:
        return out
    sd, sd_ref = float(a.std(ddof=1)), float(b.std(ddof=1))
    flat = bool(np.ptp(np.round(a, DECIMALS)) == 0 and np.ptp(np.round(b, DECIMALS)) == 0)
    out.update(gain=float(a.mean() - b.mean()), sd=sd, sd_ref=sd_ref, zero_spread=flat)
    if flat:
        out.update(se=0.0, p_method=RELABEL)
        out["p_tost"] = relabel_tost_p(a, b, rope)
        out["p"] = out["p_tost"] if test == "equivalence" else relabel_p(a, b, _alternative(test))
        return out
    welch = stats.ttest_ind(a, b, equal_var=False, alternative=_alternative(test))
    out.update(se=float(np.sqrt(sd**2 / n + sd_ref**2 / n_ref)), df=float(welch.df), p_method=WELCH)
    out["p_tost"] = float(ttost_ind(a, b, -rope, rope, usevar="unequal")[0])
    out["p"] = out["p_tost"] if test == "equivalence" else float(welch.pvalue)
    return out


def claim_test(
    y: np.ndarray, y_ref: np.ndarray, *, test: str, direction: str, rope: float, paired: bool = True
) -> dict[str, Any]:
    """Everything a claim's cell reports before any correction (``FIELDS``).

    Paired: seed-aligned arrays, NaN pairs dropped; ``n = n_ref`` = pairs. Unpaired: each side's finite
    values (``n``, ``n_ref`` seeds). ``p`` is the test's own p (one-sided t for superiority, TOST for
    equivalence, two-sided t for difference), ``p_tost`` the TOST within ±rope for every test, ``p_method``
    which test gave ``p``; ``se``/``df`` feed :func:`interval`; ``sd_diff`` (paired) or ``sd``/``sd_ref``
    (unpaired) feed the seed counts."""
    if test not in TESTS:
        raise ValueError(f"unknown test '{test}'; known: {TESTS}")
    return (_paired if paired else _unpaired)(np.asarray(y, float), np.asarray(y_ref, float), test, direction, rope)


def cell_seeds(cell: Mapping[str, Any], test: str, rope: float, alpha: float, power: float = POWER) -> float:
    """Seeds (pairs, or per arm when unpaired) for ``power`` against a one-ROPE effect at ``alpha`` for the test
    the cell uses, at the safeguard SD of its observed spread; NaN without spread."""
    if cell["design"] == UNPAIRED:
        sd = float(safeguard_sd(cell["sd"], cell["n"]))
        sd_ref = float(safeguard_sd(cell["sd_ref"], cell["n_ref"]))
        if test == "equivalence":
            return tost_seeds_needed(rope, float(np.sqrt((sd**2 + sd_ref**2) / 2)), alpha, power, "unpaired")
        alternative = "larger" if test == "superiority" else "two-sided"
        return welch_seeds_needed(rope, sd, sd_ref, alpha, power, alternative)
    sd = float(safeguard_sd(cell["sd_diff"], cell["n"]))
    if test == "equivalence":
        return tost_seeds_needed(rope, sd, alpha, power)
    return float(seeds_needed(rope, sd, alpha, power, "larger" if test == "superiority" else "two-sided"))
