"""Claim verdicts (statistics.verdicts) on tiny hand-made paired seeds, against scipy/statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.weightstats import ttost_paired

from benchmark.statistics.paired import tost_p
from benchmark.statistics.power import seeds_needed
from benchmark.statistics.verdicts import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    UNTESTABLE,
    claim_test,
    judge,
    tost_power,
    tost_seeds_needed,
)

BASE = np.array([0.80, 0.82, 0.79, 0.81, 0.80])


def row(y, ref, test, rope=0.01, direction="higher"):
    return claim_test(np.asarray(y, float), np.asarray(ref, float), test=test, direction=direction, rope=rope)


def test_superiority_p_is_scipys_one_sided_paired_t_and_respects_the_direction():
    y = BASE + np.array([0.05, 0.06, 0.04, 0.05, 0.07])
    r = row(y, BASE, "superiority")
    assert r["p"] == pytest.approx(stats.ttest_rel(y, BASE, alternative="greater").pvalue, rel=1e-12)
    assert r["gain"] == pytest.approx(np.mean(y - BASE))
    lower = row(BASE - 0.05 + np.array([0, 0.01, 0, 0.005, 0]), BASE, "superiority", direction="lower")
    assert lower["gain"] > 0 and lower["p"] < 0.01, "lower-is-better metrics: a smaller value is a gain"


def test_equivalence_p_is_statsmodels_ttost_paired():
    y = BASE + np.array([0.001, -0.002, 0.0015, 0.0, -0.001])
    r = row(y, BASE, "equivalence", rope=0.01)
    assert r["p"] == pytest.approx(ttost_paired(y, BASE, -0.01, 0.01)[0], rel=1e-9)


@pytest.mark.parametrize(
    "delta, test, expected",
    [
        ([0.05, 0.06, 0.04, 0.05, 0.07], "superiority", REPRODUCED),  # a clear gain
        ([-0.03, -0.02, -0.04, -0.03, -0.02], "superiority", NOT_REPRODUCED),  # a clear loss: CI below +ROPE
        ([0.001, -0.001, 0.0005, 0.0, -0.0005], "superiority", NOT_REPRODUCED),  # a tiny effect: CI below +ROPE
        ([0.06, -0.05, 0.08, -0.04, 0.03], "superiority", INCONCLUSIVE),  # noisy
        ([0.001, -0.002, 0.0015, 0.0, -0.001], "equivalence", REPRODUCED),  # inside the ROPE
        ([0.05, 0.06, 0.04, 0.05, 0.07], "equivalence", NOT_REPRODUCED),  # CI above +ROPE
        ([0.06, -0.05, 0.08, -0.04, 0.03], "equivalence", INCONCLUSIVE),
        ([0.05, 0.06, 0.04, 0.05, 0.07], "difference", "changes the result"),
        ([0.001, -0.002, 0.0015, 0.0, -0.001], "difference", "no practical difference"),
        ([0.06, -0.05, 0.08, -0.04, 0.03], "difference", INCONCLUSIVE),
    ],
)
def test_verdicts(delta, test, expected):
    (judged,) = judge([row(BASE + np.array(delta), BASE, test)], [test], [0.01])
    assert judged["verdict"] == expected
    if expected == INCONCLUSIVE:
        assert judged["seeds_needed"] >= 6, "an inconclusive verdict says how many seeds would settle it"
    else:
        assert np.isnan(judged["seeds_needed"])


def test_holm_runs_over_the_papers_claims():
    rows = [
        row(BASE + np.array(d), BASE, "superiority")
        for d in ([0.05, 0.06, 0.04, 0.05, 0.07], [0.02, 0.0, 0.03, 0.01, 0.02], [0.06, -0.05, 0.08, -0.04, 0.03])
    ]
    judged = judge(rows, ["superiority"] * 3, [0.01] * 3)
    raw = np.array([r["p"] for r in rows])
    order = np.argsort(raw)
    expected = np.minimum(1, np.maximum.accumulate(raw[order] * np.array([3, 2, 1])))
    assert [judged[i]["p_holm"] for i in order] == pytest.approx(list(expected))


def test_fewer_than_two_pairs_is_untestable_and_nan_pairs_are_dropped():
    (judged,) = judge([row([0.9, np.nan], [0.8, 0.7], "superiority")], ["superiority"], [0.01])
    assert judged["verdict"] == UNTESTABLE and judged["n"] == 1


def test_seed_counts_match_the_power_functions():
    noisy = row(BASE + np.array([0.06, -0.05, 0.08, -0.04, 0.03]), BASE, "superiority")
    (judged,) = judge([noisy], ["superiority"], [0.01])
    assert judged["seeds_needed"] == seeds_needed(0.01, noisy["sd_diff"])
    n = tost_seeds_needed(0.01, 0.01)
    assert tost_power(0.01, 0.01, int(n)) >= 0.8 > tost_power(0.01, 0.01, int(n) - 1)


def test_tost_power_is_close_to_a_seeded_simulation_and_conservative():
    rng = np.random.default_rng(0)
    d = rng.normal(0, 0.01, (20_000, 12))
    simulated = float((tost_p(d, np.zeros_like(d), 0.01) < 0.05).mean())
    approx = tost_power(0.01, 0.01, 12)
    assert approx <= simulated + 0.01 and simulated - approx < 0.03


def test_zero_spread_pairs_take_the_t_tests_limits():
    same = row(BASE, BASE, "difference")
    (judged,) = judge([same], ["difference"], [0.01])
    assert judged["verdict"] == "no practical difference", "an option that never took effect changes nothing"
    (judged,) = judge([row(BASE + 0.05, BASE, "superiority")], ["superiority"], [0.01])
    assert judged["verdict"] == REPRODUCED and judged["gain_low"] == pytest.approx(0.05)
    (judged,) = judge([row(BASE, BASE, "superiority")], ["superiority"], [0.01])
    assert judged["verdict"] == NOT_REPRODUCED
