"""A paper's claim judged from paired seeds: reproduced, not reproduced or inconclusive (docs/statistics.md §1.16).

Each claim compares a method with a reference on one metric over paired seeds (the same seed
list for both sides; the oriented gain ``sign * (y_method - y_ref)`` is positive when the method
is better) and names one of three tests. Every p-value of one paper's claims table is one Holm
family (a pre-registered set of headline claims, docs/statistics.md §1.8), and the verdict reads the
Holm-adjusted p:

- ``superiority`` (the method is better): one-sided paired t-test, H1: mean gain > 0
  (``scipy.stats.ttest_rel(..., alternative='greater')`` on the oriented values).
  *reproduced*: adjusted p < alpha. *not reproduced*: the two-sided 95% t-interval of the gain
  lies below +ROPE, so an improvement of practical size is ruled out (this includes a significant
  effect the other way). *inconclusive* otherwise.
- ``equivalence`` (the method preserves the metric, e.g. SGT's accuracy): paired TOST within
  (-ROPE, +ROPE) (``paired.tost_p``; Schuirmann 1987), never "no significant difference".
  *reproduced*: adjusted TOST p < alpha. *not reproduced*: the 95% interval lies entirely outside
  the ROPE (a difference of practical size is shown). *inconclusive* otherwise.
- ``difference`` (an ablation: does a choice change the result?): two-sided paired t-test.
  *changes the result*: adjusted p < alpha; *no practical difference*: TOST p (adjusted) < alpha;
  *inconclusive* otherwise.

An inconclusive verdict carries the paired seeds a power analysis says would settle it at 80%
power, for an effect of one ROPE standardized by the observed SD of the differences (never the
observed effect: Colas et al. 2018, Card et al. 2020): the paired t-test's n
(``power.seeds_needed``) for superiority and difference, and the TOST's n (:func:`tost_seeds_needed`)
for equivalence. Fewer than two shared seeds: "untestable". Pairs that all differ by the same amount
(zero spread, e.g. an ablation whose option never took effect) get the t-tests' limits: p = 0 when the
constant difference points the claimed way (or lies inside the ROPE, for TOST), else 1.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from .descriptions import VERDICT_TESTS
from .multiple import holm
from .paired import paired_stats, shared, tost_p
from .power import ALPHA, POWER, seeds_needed

TESTS = ("superiority", "equivalence", "difference")
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, UNTESTABLE = "reproduced", "not reproduced", "inconclusive", "untestable"
CHANGES, NO_CHANGE = "changes the result", "no practical difference"
TEST_NAMES = {key: test.short for key, test in VERDICT_TESTS.items()}  # the claims tables' test column
MAX_SEEDS = 10_000  # power searches stop here: "more than 10000" means the effect is hopeless at this SD


def tost_power(rope: float, sd_diff: float, n: int, alpha: float = ALPHA) -> float:
    """Approximate power of the paired TOST at a true difference of 0 (Chow, Shao & Wang, *Sample Size
    Calculations in Clinical Research*, 2nd ed., sec. 3.2): ``max(0, 2 F_{n-1}(ROPE sqrt(n)/sd - t_{1-alpha,n-1}) - 1)``."""
    if n < 2 or not (np.isfinite(sd_diff) and sd_diff > 0 and rope > 0):
        return float("nan")
    df = n - 1
    return float(max(0.0, 2 * stats.t.cdf(rope * np.sqrt(n) / sd_diff - stats.t.ppf(1 - alpha, df), df) - 1))


def tost_seeds_needed(rope: float, sd_diff: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest n >= 2 with :func:`tost_power` >= ``power`` (NaN when the SD is 0/NaN; inf beyond MAX_SEEDS)."""
    if not (np.isfinite(sd_diff) and sd_diff > 0 and rope > 0):
        return float("nan")
    z = stats.norm.ppf(1 - alpha) + stats.norm.ppf(1 - (1 - power) / 2)
    n = max(2, int(np.floor((z * sd_diff / rope) ** 2)) - 2)  # the normal approximation, then walk up
    while tost_power(rope, sd_diff, n, alpha) < power:
        n += 1
        if n > MAX_SEEDS:
            return float("inf")
    return float(n)


def one_sided_p(y: np.ndarray, y_ref: np.ndarray, direction: str) -> float:
    """Paired t-test p for H1 "the method is better" (oriented by ``direction``); NaN below 2 pairs."""
    if y.size < 2:
        return float("nan")
    sign = 1.0 if direction == "higher" else -1.0
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # near-constant differences: scipy's precision warning
        return float(stats.ttest_rel(sign * y, sign * y_ref, alternative="greater").pvalue)


def claim_test(
    y: np.ndarray, y_ref: np.ndarray, *, test: str, direction: str, rope: float, confidence: float = 0.95
) -> dict[str, float]:
    """Everything a claim row reports before correction (seed-aligned arrays; NaN pairs dropped).

    ``n, mean, mean_ref, gain, gain_low, gain_high, sd_diff, d_z, p`` (the test's own p: one-sided t,
    TOST, or two-sided t) and ``p_tost`` (for ``difference``: the no-difference side)."""
    if test not in TESTS:
        raise ValueError(f"unknown test '{test}'; known: {TESTS}")
    y, y_ref = shared(y, y_ref)
    n = int(y.size)
    out: dict[str, float] = {
        "n": n,
        "mean": float(y.mean()) if n else np.nan,
        "mean_ref": float(y_ref.mean()) if n else np.nan,
    }
    if n < 2:
        return {**out, **dict.fromkeys(("gain", "gain_low", "gain_high", "sd_diff", "d_z", "p", "p_tost"), np.nan)}
    s = paired_stats(y, y_ref, direction, confidence)
    out.update({k: float(s[k]) for k in ("gain", "gain_low", "gain_high", "sd_diff", "d_z")})
    out["p_tost"] = float(tost_p(y, y_ref, rope))
    if test == "superiority":
        out["p"] = one_sided_p(y, y_ref, direction)
    elif test == "equivalence":
        out["p"] = out["p_tost"]
    else:
        out["p"] = float(s["p_t"])
    if out["sd_diff"] == 0:  # every pair differs by the same amount: the t statistics' limits (a zero-width interval)
        out["p_tost"] = 0.0 if abs(out["gain"]) < rope else 1.0
        out["p"] = {
            "superiority": 0.0 if out["gain"] > 0 else 1.0,
            "equivalence": out["p_tost"],
            "difference": 0.0 if out["gain"] != 0 else 1.0,
        }[test]
    return out


def verdict(
    row: dict[str, float],
    *,
    test: str,
    rope: float,
    p_adjusted: float,
    p_tost_adjusted: float = np.nan,
    alpha: float = ALPHA,
) -> str:
    """The verdict of one claim row from its adjusted p-values and its interval (see the module docstring)."""
    if row["n"] < 2 or not np.isfinite(row["gain"]):
        return UNTESTABLE
    if test == "superiority":
        if p_adjusted < alpha:
            return REPRODUCED
        return NOT_REPRODUCED if row["gain_high"] < rope else INCONCLUSIVE
    if test == "equivalence":
        if p_adjusted < alpha:
            return REPRODUCED
        return NOT_REPRODUCED if (row["gain_low"] > rope or row["gain_high"] < -rope) else INCONCLUSIVE
    if p_adjusted < alpha:
        return CHANGES
    return NO_CHANGE if p_tost_adjusted < alpha else INCONCLUSIVE


def seeds_to_settle(
    row: dict[str, float], *, test: str, rope: float, alpha: float = ALPHA, power: float = POWER
) -> float:
    """Paired seeds for 80% power against a one-ROPE effect (TOST power for equivalence); NaN if undefined."""
    sd = row.get("sd_diff", np.nan)
    if test == "equivalence":
        return tost_seeds_needed(rope, sd, alpha, power)
    return float(seeds_needed(rope, sd, alpha, power))


def judge(
    rows: list[dict[str, float]], tests: list[str], ropes: list[float], alpha: float = ALPHA, power: float = POWER
) -> list[dict[str, float | str]]:
    """Holm over the rows' p (one paper = one family; the ``difference`` rows' TOST p are a second family),
    then each row's verdict and, when inconclusive, the seeds that would settle it."""
    p_holm = holm(np.array([r["p"] for r in rows], dtype=float))
    differences = [i for i, t in enumerate(tests) if t == "difference"]
    tost_holm = np.full(len(rows), np.nan)
    if differences:
        tost_holm[differences] = holm(np.array([rows[i]["p_tost"] for i in differences], dtype=float))
    out: list[dict[str, float | str]] = []
    for i, (row, test, rope) in enumerate(zip(rows, tests, ropes)):
        judged: dict[str, float | str] = {**row, "p_holm": float(p_holm[i]), "p_tost_holm": float(tost_holm[i])}
        judged["verdict"] = verdict(
            row, test=test, rope=rope, p_adjusted=p_holm[i], p_tost_adjusted=tost_holm[i], alpha=alpha
        )
        judged["seeds_needed"] = (
            seeds_to_settle(row, test=test, rope=rope, alpha=alpha, power=power)
            if judged["verdict"] == INCONCLUSIVE
            else np.nan
        )
        out.append(judged)
    return out
