"""``statistics.curves`` on hand-made numbers: intervals, paired p-values and Holm exactly as scipy / statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from benchmark.statistics.curves import (
    SIGN_FLIP,
    VERSUS_BASELINE,
    VERSUS_REFERENCE,
    analyze_curves,
    holm_family,
    level_summaries,
    paired_rows,
)

ERM = np.array([0.70, 0.72, 0.69, 0.71, 0.70])
LEVELS = {  # method -> level -> per-seed values (1.0 = the reference arm, full budget)
    "rrr": {
        0.2: [0.71, 0.74, 0.70, 0.73, 0.73],
        0.5: [0.75, 0.77, 0.74, 0.76, 0.78],
        1.0: [0.80, 0.83, 0.79, 0.82, 0.81],
    },
    "cyborg": {0.2: [0.69, 0.73, 0.70, 0.70, 0.71], 1.0: [0.74, 0.76, 0.75, 0.73, 0.77]},
}


def points() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [
        {"dataset": "faces", "arch": "gap_cnn", "axis": "budget", "method": m, "level": lv, "reference": lv == 1.0}
        | {"seed": s, "value": v}
        for m, levels in LEVELS.items()
        for lv, values in levels.items()
        for s, v in enumerate(values)
    ]
    base = pd.DataFrame({"dataset": "faces", "arch": "gap_cnn", "seed": range(5), "value": ERM})
    return pd.DataFrame(rows), base


def test_level_summaries_are_the_t_interval_over_seeds():
    values = np.array([[1.0, 2.0, 3.0, 6.0], [2.0, np.nan, 4.0, np.nan], [5.0, np.nan, np.nan, np.nan]])
    out = level_summaries(values)
    # hand: mean 3, sd sqrt(14/3), half-width t_{0.975,3} * sd / 2
    half = stats.t.ppf(0.975, 3) * np.sqrt(14 / 3) / 2
    assert out.loc[0, "mean"] == 3.0 and out.loc[0, "ci_low"] == pytest.approx(3 - half, abs=1e-12)
    assert out.loc[0, "ci_high"] == pytest.approx(3 + half, abs=1e-12) and out.loc[0, "n"] == 4
    assert out.loc[1, "n"] == 2 and out.loc[1, "mean"] == 3.0, "NaN seeds (no run) are left out"
    assert out.loc[2, "n"] == 1 and np.isnan(out.loc[2, "ci_low"]), "one seed: no interval"


def test_paired_rows_equal_scipy_and_the_hand_interval():
    y = np.array([[0.80, 0.83, 0.79, 0.82, 0.81], [0.5, 0.6, np.nan, 0.7, 0.9]])
    ref = np.array([ERM, [0.4, 0.5, 0.9, 0.7, np.nan]])
    out = paired_rows(y, ref, "higher")
    assert out.loc[0, "p"] == pytest.approx(stats.ttest_rel(y[0], ERM).pvalue, rel=1e-12)
    d = y[0] - ERM
    half = stats.t.ppf(0.975, 4) * d.std(ddof=1) / np.sqrt(5)
    assert out.loc[0, "gain"] == pytest.approx(d.mean()) and out.loc[0, "gain_low"] == pytest.approx(d.mean() - half)
    assert out.loc[0, "gain_high"] == pytest.approx(d.mean() + half) and out.loc[0, "n"] == 5
    # only the seeds both have: 0, 1, 3 (differences 0.1, 0.1, 0.0)
    assert out.loc[1, "n"] == 3
    assert out.loc[1, "p"] == pytest.approx(stats.ttest_rel([0.5, 0.6, 0.7], [0.4, 0.5, 0.7]).pvalue, rel=1e-12)
    lower = paired_rows(y[:1], ref[:1], "lower")
    assert lower.loc[0, "gain"] == pytest.approx(-d.mean()) and lower.loc[0, "p"] == out.loc[0, "p"]


def test_paired_rows_degenerate_pairs():
    same = np.array([[0.5, 0.6, 0.7]])
    shifted = paired_rows(same + 0.1, same)  # every pair differs by 0.1: t undefined, the exact sign-flip p
    assert shifted.loc[0, "test"] == SIGN_FLIP and shifted.loc[0, "p"] == pytest.approx(2 / 2**3)
    assert paired_rows(same, same).loc[0, "identical"]
    one = paired_rows(np.array([[0.5, np.nan]]), np.array([[0.4, 0.3]]))
    assert one.loc[0, "n"] == 1 and np.isnan(one.loc[0, "p"]) and one.loc[0, "test"] == "n.a. (n<2)"


def test_holm_family_equals_statsmodels_and_leaves_nan_out():
    rows = pd.DataFrame({"p": [0.01, 0.04, np.nan, 0.03], "gain": [0.1, -0.2, 0.0, 0.3], "identical": False})
    out = holm_family(rows, alpha=0.05)
    expected = multipletests([0.01, 0.04, 0.03], method="holm")[1]
    assert np.allclose(out["p_holm"].to_numpy()[[0, 1, 3]], expected) and np.isnan(out.loc[2, "p_holm"])
    assert list(out["verdict"]) == ["win", "tie", "n.a.", "tie"]  # 0.03, 0.04*1, 0.03*2 = 0.06


def test_analyze_curves_tests_each_level_against_erm_and_the_reference_with_holm_per_family():
    pts, base = points()
    result = analyze_curves(pts, base, metric="test_closed/auc", direction="higher", baseline_label="erm")
    comp = result.comparisons
    vs_erm = comp[comp["versus"] == VERSUS_BASELINE].set_index(["method", "level"])
    vs_ref = comp[comp["versus"] == VERSUS_REFERENCE].set_index(["method", "level"])
    assert sorted(vs_erm.index) == [("cyborg", 0.2), ("cyborg", 1.0), ("rrr", 0.2), ("rrr", 0.5), ("rrr", 1.0)]
    assert sorted(vs_ref.index) == [("cyborg", 0.2), ("rrr", 0.2), ("rrr", 0.5)], (
        "the reference is not tested on itself"
    )
    raw_erm = {k: stats.ttest_rel(LEVELS[k[0]][k[1]], ERM).pvalue for k in vs_erm.index}
    raw_ref = {k: stats.ttest_rel(LEVELS[k[0]][k[1]], LEVELS[k[0]][1.0]).pvalue for k in vs_ref.index}
    for table, raw in ((vs_erm, raw_erm), (vs_ref, raw_ref)):
        keys = list(raw)
        assert np.allclose(table.loc[keys, "p"], [raw[k] for k in keys], rtol=1e-12)
        holm = multipletests([raw[k] for k in keys], method="holm")[1]  # one family per (cell, axis, comparison)
        assert np.allclose(table.loc[keys, "p_holm"], holm, rtol=1e-12)
    assert vs_ref.loc[("rrr", 0.2), "verdict"] == "loss" and vs_erm.loc[("rrr", 1.0), "verdict"] == "win"
    pts_rrr = result.points.set_index(["method", "level"]).loc[("rrr", 0.5)]
    assert pts_rrr["mean"] == pytest.approx(np.mean(LEVELS["rrr"][0.5])) and pts_rrr["n"] == 5
    low, high = stats.t.interval(0.95, 4, loc=np.mean(ERM), scale=stats.sem(ERM))
    band = result.baseline.iloc[0]
    assert (band["ci_low"], band["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert "seeds" in result.tests["paired"].unit and "Holm" in result.tests["paired"].correction


def test_analyze_curves_refuses_duplicated_runs():
    pts, base = points()
    with pytest.raises(ValueError, match="duplicated curve rows"):
        analyze_curves(pd.concat([pts, pts.iloc[:1]]), base, metric="m", direction="higher")
