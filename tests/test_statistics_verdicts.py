"""Claim verdicts (statistics.verdicts, statistics.claim_cells) on tiny hand-made seeds, against scipy/statsmodels.

Issue 22 items 2-4: one family-wise standard (intersection-union claims, Holm over claims, simultaneous
intervals, "significant but negligible"), Welch across datasets, the reason and the safeguard seed count of an
inconclusive claim, and no verdict from degenerate data.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import TTestIndPower, TTestPower
from statsmodels.stats.weightstats import ttost_ind, ttost_paired

from benchmark.statistics.multiple import holm, holm_steps
from benchmark.statistics.paired import IDENTICAL, tost_p
from benchmark.statistics.power import safeguard_sd, tost_power, tost_seeds_needed, welch_seeds_needed
from benchmark.statistics.verdicts import (
    CHANGES,
    INCONCLUSIVE,
    NEGLIGIBLE,
    NO_CHANGE,
    NOT_REPRODUCED,
    REPRODUCED,
    UNTESTABLE,
    claim_test,
    judge,
)

BASE = np.array([0.80, 0.82, 0.79, 0.81, 0.80])
CLEAR = [0.05, 0.06, 0.04, 0.05, 0.07]
NOISY = [0.06, -0.05, 0.08, -0.04, 0.03]
TINY = [0.001, -0.002, 0.0015, 0.0, -0.001]


def row(y, ref, test, rope=0.01, direction="higher", paired=True, cell=""):
    out = claim_test(
        np.asarray(y, float), np.asarray(ref, float), test=test, direction=direction, rope=rope, paired=paired
    )
    return {**out, "cell": cell}


def one(delta, test, rope=0.01, **options):
    """Judge a table of one one-cell claim."""
    (cell,), (claim,) = judge([row(BASE + np.array(delta), BASE, test, rope)], ["C"], [test], [rope], **options)
    return cell, claim


def test_superiority_p_is_scipys_one_sided_paired_t_and_respects_the_direction():
    y = BASE + np.array(CLEAR)
    r = row(y, BASE, "superiority")
    assert r["p"] == pytest.approx(stats.ttest_rel(y, BASE, alternative="greater").pvalue, rel=1e-12)
    assert r["gain"] == pytest.approx(np.mean(y - BASE)) and r["design"] == "paired"
    lower = row(BASE - 0.05 + np.array([0, 0.01, 0, 0.005, 0]), BASE, "superiority", direction="lower")
    assert lower["gain"] > 0 and lower["p"] < 0.01, "lower-is-better metrics: a smaller value is a gain"


def test_equivalence_p_is_statsmodels_ttost_paired():
    y = BASE + np.array(TINY)
    assert row(y, BASE, "equivalence")["p"] == pytest.approx(ttost_paired(y, BASE, -0.01, 0.01)[0], rel=1e-9)


@pytest.mark.parametrize(
    "delta, test, expected",
    [
        (CLEAR, "superiority", REPRODUCED),  # a clear gain, its interval above the ROPE
        ([-0.03, -0.02, -0.04, -0.03, -0.02], "superiority", NOT_REPRODUCED),  # a clear loss: interval below +ROPE
        (TINY, "superiority", NOT_REPRODUCED),  # a tiny effect: the interval lies below +ROPE
        (NOISY, "superiority", INCONCLUSIVE),
        (TINY, "equivalence", REPRODUCED),  # inside the ROPE
        (CLEAR, "equivalence", NOT_REPRODUCED),  # the interval lies above +ROPE
        (NOISY, "equivalence", INCONCLUSIVE),
        (CLEAR, "difference", CHANGES),
        (TINY, "difference", NO_CHANGE),
        (NOISY, "difference", INCONCLUSIVE),
    ],
)
def test_verdicts(delta, test, expected):
    _, claim = one(delta, test)
    assert claim["verdict"] == expected
    if expected == INCONCLUSIVE:
        assert claim["seeds_needed"] >= 6, "an inconclusive verdict says how many seeds would settle it"
    else:
        assert np.isnan(claim["seeds_needed"])


def test_a_significant_gain_inside_the_rope_is_significant_but_negligible():
    """Fails on the old code: a gain of 0.005 ± 0.0004 over a ROPE of 0.01 was 'reproduced' (H0: gain <= 0)."""
    delta = [0.005, 0.0055, 0.0045, 0.0052, 0.0048]
    cell, claim = one(delta, "superiority")
    assert claim["p_holm"] < 0.05 and -0.01 < cell["sim_low"] and cell["sim_high"] < 0.01
    assert claim["verdict"] == NEGLIGIBLE and "inside ±ROPE" in claim["reason"]
    assert one(delta, "difference")[1]["verdict"] == NEGLIGIBLE, "an ablation's negligible change too"
    assert one(CLEAR, "superiority")[1]["verdict"] == REPRODUCED, "a gain whose interval leaves the ROPE"


def test_not_reproduced_reads_the_simultaneous_interval_over_the_papers_cells():
    """Fails on the old code: its unadjusted 95% interval lay below +ROPE, so 'not reproduced' at any table size."""
    delta = BASE + np.array([0.002, -0.006, 0.005, -0.003, 0.002])
    alone = row(delta, BASE, "superiority")
    (cell,), (claim,) = judge([alone], ["C"], ["superiority"], [0.01])
    assert cell["sim_level"] == 0.95 and claim["verdict_tested"] == NOT_REPRODUCED  # the rule; its stability: 0.77
    others = [row(BASE + np.array(CLEAR), BASE, "superiority")] * 9  # nine more cells: R = 10
    cells, claims = judge([alone, *others], ["C", *["D"] * 9], ["superiority"] * 10, [0.01] * 10)
    n, d = 5, delta - BASE
    low, high = stats.t.interval(1 - 0.05 / 10, n - 1, loc=d.mean(), scale=d.std(ddof=1) / math.sqrt(n))
    assert (cells[0]["sim_low"], cells[0]["sim_high"]) == pytest.approx((low, high), rel=1e-12)
    assert (cells[0]["gain_low"], cells[0]["gain_high"]) == (cells[0]["sim_low"], cells[0]["sim_high"])
    assert high >= 0.01 and claims[0]["verdict"] == INCONCLUSIVE, "the 99.5% interval reaches +ROPE"


def test_equivalence_cells_show_the_90_percent_interval_of_the_tost():
    """Fails on the old code (a 95% interval): Lakens 2017, TOST at alpha <=> the 1 - 2 alpha interval in ±ROPE."""
    y = BASE + np.array([0.004, 0.001, 0.006, 0.003, 0.0])
    cell, claim = one(y - BASE, "equivalence")
    d = y - BASE
    assert cell["ci_level"] == pytest.approx(0.90)
    expected = stats.t.interval(0.90, 4, loc=d.mean(), scale=d.std(ddof=1) / math.sqrt(5))
    assert (cell["gain_low"], cell["gain_high"]) == pytest.approx(expected, rel=1e-12)
    inside = -0.01 < cell["gain_low"] and cell["gain_high"] < 0.01
    assert inside == (ttost_paired(y, BASE, -0.01, 0.01)[0] < 0.05) == (claim["verdict"] == REPRODUCED)


def test_a_claim_over_two_cells_is_one_intersection_union_test_counted_once():
    """Fails on the old code: each cell was its own Holm member and verdict; one significant cell of two now
    reproduces nothing, the claim p is the largest cell p, and the claim is counted once."""
    cells = [
        row(BASE + np.array(CLEAR), BASE, "superiority", cell="a"),
        row(BASE + np.array(NOISY), BASE, "superiority", cell="b"),
    ]
    judged, claims = judge(cells, ["C", "C"], ["superiority"] * 2, [0.01] * 2)
    assert len(claims) == 1 and claims[0]["n_cells"] == 2 and len(judged) == 2
    assert claims[0]["p"] == max(cells[0]["p"], cells[1]["p"]) and cells[0]["p"] < 0.05 <= cells[1]["p"]
    assert claims[0]["verdict"] == INCONCLUSIVE and claims[0]["reason"].endswith(" in b")
    losing = row(BASE - np.array(CLEAR), BASE, "superiority", cell="b")
    _, claims = judge([cells[0], losing], ["C", "C"], ["superiority"] * 2, [0.01] * 2)
    assert claims[0]["verdict"] == NOT_REPRODUCED and claims[0]["reason"].endswith("below +ROPE in b")


def test_holm_runs_over_claims_and_an_ablation_is_a_bonferroni_union():
    rows = [row(BASE + np.array(d), BASE, "superiority") for d in (CLEAR, [0.02, 0.0, 0.03, 0.01, 0.02], NOISY)]
    ablation = [row(BASE + np.array(d), BASE, "difference") for d in (NOISY, [0.02, 0.0, 0.03, 0.01, 0.02])]
    _, claims = judge(
        [*rows, *ablation], ["A", "B", "C", "D", "D"], ["superiority"] * 3 + ["difference"] * 2, [0.01] * 5
    )
    union = min(1.0, 2 * min(r["p"] for r in ablation))
    assert claims[3]["p"] == pytest.approx(union) and claims[3]["p_rule"].startswith("Bonferroni")
    assert claims[3]["p_tost"] == max(r["p_tost"] for r in ablation), "no difference: every cell equivalent"
    raw = np.array([c["p"] for c in claims])
    assert [c["p_holm"] for c in claims] == pytest.approx(list(holm(raw)))
    order = np.argsort(raw, kind="stable")
    assert [claims[i]["alpha_step"] for i in order] == pytest.approx([0.05 / 4, 0.05 / 3, 0.05 / 2, 0.05])
    assert list(holm_steps(np.array([0.2, np.nan, 0.01]), 0.05)[[0, 2]]) == [0.05, 0.025]


def test_an_inconclusive_claim_says_why():
    """Fails on the old code (no reason): 'after Holm' when only the correction failed, else the interval."""
    near = row(BASE + np.array([0.011, -0.002, 0.009, 0.002, 0.010]), BASE, "superiority")
    assert 0.025 < near["p"] < 0.05
    _, claims = judge([near, near], ["A", "B"], ["superiority"] * 2, [0.01] * 2)
    assert claims[0]["verdict"] == INCONCLUSIVE and claims[0]["p_holm"] == pytest.approx(2 * near["p"])
    assert claims[0]["reason"] == f"after Holm (p = {near['p']:.3f}, Holm {claims[0]['p_holm']:.3f})"
    _, noisy = one(NOISY, "superiority")
    assert noisy["reason"] == f"the interval spans zero (p = {noisy['p']:.3f})"
    assert one(NOISY, "equivalence")[1]["reason"].startswith("the 90% interval reaches beyond ±ROPE")
    assert one(NOISY, "difference")[1]["reason"].startswith("neither a change (p = ")


def test_seeds_to_settle_use_the_test_its_holm_step_and_a_safeguard_sd():
    """Fails on the old code (two-sided, alpha 0.05, the observed SD): the statsmodels computation at the claim's
    Holm step with sd * sqrt((n-1) / chi2.ppf(0.2, n-1)) (Perugini et al. 2014)."""
    noisy = row(BASE + np.array(NOISY), BASE, "superiority")
    strong = row(BASE + np.array(CLEAR), BASE, "superiority")
    _, claims = judge([noisy, strong], ["A", "B"], ["superiority"] * 2, [0.01] * 2)
    assert claims[0]["alpha_step"] == 0.05  # the larger p: Holm's last step
    safeguard = noisy["sd_diff"] * math.sqrt(4 / stats.chi2.ppf(0.2, 4))
    assert safeguard_sd(noisy["sd_diff"], 5) == pytest.approx(safeguard, rel=1e-12)
    expected = math.ceil(
        TTestPower().solve_power(effect_size=0.01 / safeguard, alpha=0.05, power=0.8, alternative="larger")
    )
    assert claims[0]["seeds_needed"] == expected
    _, (claim,) = judge([noisy], ["A"], ["difference"], [0.01])
    two = TTestPower().solve_power(effect_size=0.01 / safeguard, alpha=0.05, power=0.8, alternative="two-sided")
    assert claim["seeds_needed"] == math.ceil(two)
    _, (claim,) = judge([noisy], ["A"], ["equivalence"], [0.01])
    assert claim["seeds_needed"] == tost_seeds_needed(0.01, safeguard, 0.05)
    n = tost_seeds_needed(0.01, 0.01)
    assert tost_power(0.01, 0.01, int(n)) >= 0.8 > tost_power(0.01, 0.01, int(n) - 1)


def test_tost_power_is_close_to_a_seeded_simulation_and_conservative():
    rng = np.random.default_rng(0)
    d = rng.normal(0, 0.01, (20_000, 12))
    simulated = float((tost_p(d, np.zeros_like(d), 0.01) < 0.05).mean())
    approx = tost_power(0.01, 0.01, 12)
    assert approx <= simulated + 0.01 and simulated - approx < 0.03


def test_a_comparison_across_datasets_is_welch_over_every_seed_of_each_side():
    """Fails on the old code (a paired t over shared seeds): scipy's Welch t, statsmodels' Welch TOST, the
    Welch-Satterthwaite interval, and each side's own seeds."""
    y = np.array([0.59, 0.62, 0.55, 0.60, 0.58])
    ref = np.array([0.94, 0.95, 0.93, 0.96, np.nan, 0.92])
    r = row(y, ref, "superiority", rope=0.02, paired=False)
    finite = ref[np.isfinite(ref)]
    welch = stats.ttest_ind(y, finite, equal_var=False, alternative="greater")
    assert r["design"] == "unpaired" and (r["n"], r["n_ref"]) == (5, 5) and r["p_method"] == "Welch, unpaired"
    assert r["p"] == pytest.approx(welch.pvalue, rel=1e-12) and r["df"] == pytest.approx(welch.df, rel=1e-12)
    assert r["p_tost"] == pytest.approx(ttost_ind(y, finite, -0.02, 0.02, usevar="unequal")[0], rel=1e-9)
    (cell,), (claim,) = judge([r], ["X"], ["superiority"], [0.02])
    ci = stats.ttest_ind(y, finite, equal_var=False).confidence_interval(0.95)
    assert (cell["gain_low"], cell["gain_high"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert claim["verdict"] == NOT_REPRODUCED and claim["seeds_unit"] == "seeds per arm"
    noisy = row(y + np.array([0.1, -0.1, 0.05, -0.05, 0.0]), finite - 0.35, "superiority", rope=0.02, paired=False)
    (_,), (claim,) = judge([noisy], ["X"], ["superiority"], [0.02])
    sd, sd_ref = safeguard_sd(noisy["sd"], 5), safeguard_sd(noisy["sd_ref"], 5)
    effect = 0.02 / math.sqrt((sd**2 + sd_ref**2) / 2)
    per_arm = TTestIndPower().solve_power(effect_size=effect, alpha=0.05, power=0.8, ratio=1.0, alternative="larger")
    assert claim["verdict"] == INCONCLUSIVE and claim["seeds_needed"] == math.ceil(per_arm)
    assert welch_seeds_needed(0.02, sd, sd_ref) == math.ceil(per_arm)


def test_identical_arms_get_no_verdict_but_identical_runs():
    """Fails on the old code ('no practical difference' from the t limits): every paired difference 0."""
    same = row(BASE, BASE, "difference")
    assert same["identical"] and same["p"] == 1.0 and same["p_method"] == "exact sign-flip, zero spread"
    (cell,), (claim,) = judge([same], ["A"], ["difference"], [0.01])
    assert claim["verdict"] == IDENTICAL and np.isnan(cell["gain_low"]), "no interval without spread"
    _, (claim,) = judge([row(BASE, BASE, "superiority")], ["A"], ["superiority"], [0.01])
    assert claim["verdict"] == IDENTICAL


def test_a_constant_difference_at_two_pairs_is_not_significant():
    """Fails on the old code: two equal gains had p = 0 (the t limit) and were 'reproduced'. The exact sign-flip
    test gives 1/2^n (0.25 at n = 2), which cannot reach alpha below 5 pairs."""
    r = row([0.9, 0.8], [0.8, 0.7], "superiority")
    assert r["zero_spread"] and not r["identical"] and r["p"] == pytest.approx(0.25)
    assert r["p"] == pytest.approx(
        stats.permutation_test(([0.1, 0.1],), np.mean, permutation_type="samples", alternative="greater").pvalue
    )
    (cell,), (claim,) = judge([r], ["A"], ["superiority"], [0.01])
    assert claim["verdict"] == INCONCLUSIVE and claim["reason"] == "zero spread: exact permutation p = 0.250 at n = 2"
    assert np.isnan(cell["gain_low"]) and np.isnan(claim["seeds_needed"])
    five = row(BASE + 0.05, BASE, "superiority")
    assert five["p"] == pytest.approx(1 / 32), "n = 5: 1/32 < 0.05"
    assert row(BASE + 0.05, BASE, "equivalence", rope=0.1)["p"] == pytest.approx(1 / 32), "sign-flip TOST"


def test_fewer_than_two_pairs_is_untestable_and_nan_pairs_are_dropped():
    _, (claim,) = judge([row([0.9, np.nan], [0.8, 0.7], "superiority")], ["A"], ["superiority"], [0.01])
    assert claim["verdict"] == UNTESTABLE and np.isnan(claim["p"]) and claim["reason"] == "fewer than 2 pairs"
    lone = row([0.9, 0.8, 0.7], [0.8, np.nan], "superiority", paired=False)
    _, (claim,) = judge([lone], ["A"], ["superiority"], [0.01])
    assert claim["verdict"] == UNTESTABLE and claim["reason"] == "fewer than 2 seeds a side"
    untested = {**row([], [], "superiority"), "n": 2}  # e.g. a consistency row below 3 paired runs
    _, (claim,) = judge([untested], ["A"], ["superiority"], [0.01])
    assert claim["verdict"] == UNTESTABLE and claim["reason"] == "no test (see the cell's notes)"


def test_a_row_measured_elsewhere_is_read_as_a_paired_t_row_unless_it_gives_its_se():
    """The consistency path returns its own rows: without ``se``/``df`` they are a paired t's, with them its own."""
    full = row(BASE + np.array(NOISY), BASE, "superiority")
    bare = {k: full[k] for k in ("n", "mean", "mean_ref", "gain", "sd_diff", "p", "p_tost")}
    (a,), _ = judge([full], ["A"], ["superiority"], [0.01])
    (b,), _ = judge([bare], ["A"], ["superiority"], [0.01])
    assert (b["gain_low"], b["gain_high"]) == pytest.approx((a["gain_low"], a["gain_high"]), rel=1e-12)
    (c,), _ = judge([{**bare, "se": 0.01, "df": 3.0}], ["A"], ["superiority"], [0.01])
    assert c["gain_high"] == pytest.approx(bare["gain"] + stats.t.ppf(0.975, 3) * 0.01, rel=1e-12)
