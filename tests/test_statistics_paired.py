"""Within-cell statistics against direct scipy / statsmodels computations on the same numbers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import synthetic_scores
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower
from statsmodels.stats.weightstats import ttost_paired

from benchmark.statistics import power
from benchmark.statistics.descriptive import describe_cells, t_interval
from benchmark.statistics.frames import cell_means, check_scores, cube, select
from benchmark.statistics.multiple import bh, holm, markers
from benchmark.statistics.orient import family, ranks, split_key
from benchmark.statistics.paired import paired_cells, paired_stats, paired_test, tost_p, wilcoxon_p, win_tie_loss

Y = np.array([0.912, 0.905, 0.921, 0.899, 0.915, 0.908, 0.917, 0.902])
B = np.array([0.901, 0.899, 0.910, 0.897, 0.903, 0.906, 0.905, 0.894])


def make_scores(effects: dict[str, float], **options) -> pd.DataFrame:
    return synthetic_scores.make_scores(effects, **{"cells": 6, **options})


def test_paired_test_matches_scipy_and_statsmodels():
    r = paired_test(Y, B, direction="higher", rope=0.01)
    d = Y - B
    n = len(d)
    assert r["n"] == n and r["gain"] == pytest.approx(d.mean(), abs=1e-15)
    assert r["sd_diff"] == pytest.approx(d.std(ddof=1), rel=1e-12)
    low, high = stats.t.interval(0.95, n - 1, loc=d.mean(), scale=d.std(ddof=1) / math.sqrt(n))
    assert (r["gain_low"], r["gain_high"]) == pytest.approx((low, high), rel=1e-12)
    test = stats.ttest_rel(Y, B)
    assert r["p_t"] == pytest.approx(test.pvalue, rel=1e-12) and r["t"] == pytest.approx(test.statistic, rel=1e-12)
    assert r["p_wilcoxon"] == pytest.approx(stats.wilcoxon(np.round(d, 12), zero_method="zsplit").pvalue, rel=1e-12)
    assert r["d_z"] == pytest.approx(d.mean() / d.std(ddof=1), rel=1e-12)
    assert r["rho"] == pytest.approx(stats.pearsonr(Y, B).statistic, rel=1e-10)
    assert r["p_tost"] == pytest.approx(ttost_paired(Y, B, -0.01, 0.01)[0], rel=1e-10)
    safeguard = d.std(ddof=1) * math.sqrt((n - 1) / stats.chi2.ppf(0.2, n - 1))  # Perugini et al. 2014: 60% bound
    expected = max(
        2,
        math.ceil(
            TTestPower().solve_power(effect_size=0.01 / safeguard, alpha=0.05, power=0.8, alternative="two-sided")
        ),
    )
    assert r["seeds_needed"] == expected and r["underpowered"] == (n < expected)


def test_lower_is_better_orients_the_gain_but_not_the_p_value():
    higher = paired_test(Y, B, direction="higher", rope=0.01)
    lower = paired_test(Y, B, direction="lower", rope=0.01)
    assert lower["gain"] == pytest.approx(-higher["gain"]) and lower["t"] == pytest.approx(-higher["t"])
    assert (lower["gain_low"], lower["gain_high"]) == pytest.approx((-higher["gain_high"], -higher["gain_low"]))
    assert lower["d_z"] == pytest.approx(-higher["d_z"]) and lower["p_t"] == higher["p_t"]


def test_only_shared_finite_seeds_enter():
    y, b = Y.copy(), B.copy()
    y[1], b[4] = np.nan, np.nan
    r = paired_test(y, b, direction="higher", rope=0.01)
    keep = np.isfinite(y) & np.isfinite(b)
    assert r["n"] == 6 and r["p_t"] == pytest.approx(stats.ttest_rel(Y[keep], B[keep]).pvalue)
    assert r["mean_base"] == pytest.approx(B[keep].mean())


def test_wilcoxon_is_not_available_below_six_pairs_and_labels_the_method():
    assert wilcoxon_p(np.array([0.1, 0.2, 0.3, 0.4, 0.5]))[1] == "n.a. (n<6)"
    assert np.isnan(wilcoxon_p(np.array([0.1, 0.2, 0.3, 0.4, 0.5]))[0])
    p, used = wilcoxon_p(np.array([0.1, -0.2, 0.3, 0.4, 0.5, 0.6]))
    assert used == "exact" and p == pytest.approx(
        stats.wilcoxon([0.1, -0.2, 0.3, 0.4, 0.5, 0.6], method="exact").pvalue
    )
    tied = np.array([0.01, 0.01, 0.0, 0.02, -0.01, 0.03, 0.02])
    p, used = wilcoxon_p(tied)
    assert used == "permutation" and p == pytest.approx(stats.wilcoxon(tied, zero_method="zsplit").pvalue)
    # float roundoff in y - y_base must not break ties (0.93-0.92 vs 0.94-0.93)
    y, b = np.array([0.93, 0.94, 0.95, 0.96, 0.97, 0.98]), np.array([0.92, 0.93, 0.94, 0.95, 0.96, 0.97])
    assert wilcoxon_p(y - b)[1] == "permutation"


def test_paired_stats_vectorized_equals_scalar_calls():
    rng = np.random.default_rng(3)
    y, b = rng.normal(size=(4, 7)), rng.normal(size=(4, 7))
    batch = paired_stats(y, b)
    for i in range(4):
        assert batch["p_t"][i] == pytest.approx(stats.ttest_rel(y[i], b[i]).pvalue, rel=1e-12)
        assert batch["rho"][i] == pytest.approx(np.corrcoef(y[i], b[i])[0, 1], rel=1e-10)
    assert tost_p(y, b, 0.5) == pytest.approx([ttost_paired(y[i], b[i], -0.5, 0.5)[0] for i in range(4)], rel=1e-10)


def test_seeds_needed_matches_solve_power_and_quadrature():
    effects = np.geomspace(0.05, 4.0, 60)
    got = power.seeds_needed(effects, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = [
            max(
                2,
                math.ceil(
                    TTestPower().solve_power(effect_size=e, alpha=0.05, power=0.8, alternative="two-sided") - 1e-9
                ),
            )
            for e in effects
        ]
    assert list(got) == want
    for e, n in [(0.5, 10), (2.0, 3), (4.56, 2)]:  # where statsmodels' non-central t is finite, they agree
        assert power.power_by_quadrature(e, n) == pytest.approx(power.paired_power(e, n), rel=1e-9)
    # at d_z = 6.34 statsmodels returns NaN power at n = 3 and solve_power stops at 2, whose power is ~0.52
    assert power.power_by_quadrature(6.34, 2) < 0.8 and power.seeds_needed(6.34, 1.0) == 3
    assert np.isnan(power.seeds_needed(0.01, 0.0)) and np.isnan(power.seeds_needed(0.01, np.nan))


def test_smallest_p_and_cells_needed_follow_the_protocol_tables():
    assert [round(power.min_wilcoxon_p(n), 4) for n in (3, 5, 6, 10)] == [0.25, 0.0625, 0.0312, 0.002]
    assert [power.cells_needed(0.05, m) for m in (1, 2, 3, 4, 6, 10, 15)] == [6, 7, 7, 8, 8, 9, 10]


def test_corrections_equal_multipletests_and_skip_nan():
    p = np.array([0.001, 0.04, np.nan, 0.03, 0.5, 0.012])
    finite = np.isfinite(p)
    for ours, method in ((holm(p), "holm"), (bh(p), "fdr_bh")):
        assert np.isnan(ours[2])
        assert np.allclose(ours[finite], multipletests(p[finite], method=method)[1], rtol=0, atol=0)
    assert list(markers(np.array([0.0005, 0.005, 0.03, 0.2, np.nan]))) == ["***", "**", "*", "", ""]


def test_paired_cells_uses_bh_over_the_whole_family_and_markers_from_adjusted_p():
    scores = make_scores({"erm": 0.0, "good": 0.02, "same": 0.0}, cells=5, seeds=8)
    fam = family("test/accuracy")
    out = paired_cells(scores, fam, "erm")
    assert len(out) == 10 and set(out["method"]) == {"good", "same"}
    assert np.allclose(out["p_bh"], multipletests(out["p_t"], method="fdr_bh")[1])
    assert list(out["marker"]) == list(markers(out["p_bh"].to_numpy()))
    raw_only = out[(out["p_t"] < 0.05) & (out["p_bh"] >= 0.05)]
    assert (raw_only["marker"] == "").all() and (raw_only["verdict"] == "tie").all()
    data = cube(select(scores, fam))
    row = out[(out["dataset"] == "d2") & (out["method"] == "good")].iloc[0]
    y, b = data.values[data.index("good"), 2], data.values[data.index("erm"), 2]
    assert row["p_t"] == pytest.approx(stats.ttest_rel(y, b).pvalue, rel=1e-12)
    assert np.allclose(out["p_tost_bh"], multipletests(out["p_tost"], method="fdr_bh")[1])
    wtl = win_tie_loss(out).set_index("method")
    assert wtl.loc["good", "wins"] == 5 and wtl.loc["good", "losses"] == 0


def test_describe_cells_matches_t_interval():
    scores = make_scores({"erm": 0.0, "a": 0.01}, cells=2, seeds=5)
    scores.loc[3, "value"] = np.nan
    cells = describe_cells(scores, family("test/accuracy"))
    row = cells[(cells["dataset"] == "d0") & (cells["method"] == "erm")].iloc[0]
    values = scores[(scores["dataset"] == "d0") & (scores["method"] == "erm")]["value"].dropna().to_numpy()
    assert row["n"] == 4 and row["n_nan"] == 1
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        stats.t.interval(0.95, 3, loc=values.mean(), scale=stats.sem(values)), rel=1e-12
    )
    assert np.isnan(t_interval(np.array([1.0]))[0])


def test_frames_validate_and_orient():
    scores = make_scores({"erm": 0.0, "a": 0.01}, cells=2, seeds=3)
    with pytest.raises(ValueError, match="duplicated"):
        check_scores(pd.concat([scores, scores.iloc[:1]]))
    with pytest.raises(ValueError, match="lack columns"):
        check_scores(scores.drop(columns="seed"))
    assert split_key("test/saliency/gradient/auroc") == ("test", "saliency/gradient/auroc")
    fam = family("test/saliency/gradient/wrong_reason_share")
    assert (fam.direction, fam.rope) == ("lower", 0.02)
    loss = cell_means(
        make_scores({"erm": 0.0, "best": -0.05, "worst": 0.05}, metric="loss", cells=3), ["erm", "best", "worst"]
    )
    assert (ranks(loss, family("test/loss").direction)["best"] == 1).all()
    assert (ranks(loss, "higher")["worst"] == 1).all()


def test_identical_arms_and_a_constant_difference_agree_with_the_claims_tables():
    """Fails on the old code: identical arms got p = NaN here ('n.a.') but p = 1 and 'no practical difference' in
    the claims; two equal gains got p = 0 (the t limit). Now both say 'identical runs', p = 1 (every sign flip
    gives the same mean), and a constant gain gets the exact sign-flip p (2/2^n two-sided)."""
    from benchmark.statistics.verdicts import claim_test, judge

    scores = make_scores({"erm": 0.0, "twin": 0.0, "shifted": 0.0}, cells=1, seeds=5, noise=0.0)
    base = scores["method"] == "erm"
    scores.loc[scores["method"] == "twin", "value"] = scores.loc[base, "value"].to_numpy()
    scores.loc[scores["method"] == "shifted", "value"] = scores.loc[base, "value"].to_numpy() + 0.02
    out = paired_cells(scores, family("test/accuracy"), "erm").set_index("method")
    assert out.loc["twin", "verdict"] == "identical runs" and out.loc["twin", "p_t"] == 1.0
    assert out.loc["twin", "p_method"] == "exact sign-flip, zero spread" and np.isnan(out.loc["twin", "gain_low"])
    assert out.loc["shifted", "p_t"] == pytest.approx(2 / 2**5) and np.isnan(out.loc["shifted", "t"])
    assert win_tie_loss(out.reset_index()).set_index("method").loc["twin", "ties"] == 1
    y = scores.loc[base, "value"].to_numpy()
    (cell,), (claim,) = judge(
        [claim_test(y, y, test="difference", direction="higher", rope=0.01)], ["A"], ["difference"], [0.01]
    )
    assert claim["verdict"] == out.loc["twin", "verdict"] and cell["p"] == out.loc["twin", "p_t"]
    two = paired_test(np.array([0.9, 0.8]), np.array([0.8, 0.7]), direction="higher", rope=0.01)
    assert two["p_t"] == pytest.approx(0.5) and two["p_method"] == "exact sign-flip, zero spread"
