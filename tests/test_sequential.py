"""Group-sequential seeds (benchmark/statistics/sequential.py, docs/statistics.md §1.18): the boundaries
against published values and the overall type I error of repeated looks by a seeded simulation."""

import numpy as np
import pytest
from scipy import stats

from benchmark.statistics import sequential as sq

# Lan–DeMets O'Brien–Fleming-type spending, two-sided alpha = 0.05, K equally spaced looks: the critical z
# of each look as DeMets & Lan (1994, Stat Med 13:1341, Table I for K = 5) tabulate them and R's gsDesign
# prints them (gsDesign(k = K, test.type = 2, alpha = 0.025, sfu = sfLDOF)$upper$bound)
PUBLISHED = {
    2: [2.963, 1.969],
    3: [3.710, 2.511, 1.993],
    4: [4.333, 2.963, 2.359, 2.014],
    5: [4.877, 3.357, 2.680, 2.290, 2.031],
}


@pytest.mark.parametrize("k", sorted(PUBLISHED))
def test_boundaries_match_the_published_obrien_fleming_type_values(k):
    got = sq.boundaries(np.arange(1, k + 1) / k, alpha=0.05)
    assert got == pytest.approx(PUBLISHED[k], abs=2e-3)


def test_one_look_is_the_fixed_design_and_the_spending_reaches_alpha():
    assert sq.obf_spending(1.0, 0.05) == pytest.approx(0.05)
    assert sq.boundaries([1.0])[0] == pytest.approx(stats.norm.isf(0.025))
    assert sq.plan(5, 3, 5) == sq.Plan((5,), (0.05,))


def test_looks_and_plan_of_the_study_and_the_ablation_arms():
    assert sq.looks(5, 3, 11) == [5, 8, 11]
    assert sq.looks(3, 3, 11) == [3, 6, 9, 11]
    assert sq.looks(5, 4, 11) == [5, 9, 11]
    plan = sq.plan(5, 3, 11)
    assert plan.seeds == (5, 8, 11) and plan.information == pytest.approx((5 / 11, 8 / 11, 1.0))
    assert plan.alphas[0] < plan.alphas[1] < plan.alphas[2] < 0.05  # spends little early, most at the end
    with pytest.raises(ValueError):
        sq.looks(5, 0, 11)
    with pytest.raises(ValueError):
        sq.looks(5, 3, 4)


def test_boundaries_are_byte_identical_on_rerun():
    t = [5 / 11, 8 / 11, 1.0]
    assert sq.boundaries(t).tobytes() == sq.boundaries(t).tobytes()


def _type_one(levels, n, reps=40_000, seed=7):
    """Share of null experiments (paired differences N(0, 1)) whose two-sided paired t test rejects at any
    look (n seeds at each) at that look's level; vectorised over replicates."""
    x = np.random.default_rng(seed).standard_normal((reps, n[-1]))
    rejected = np.zeros(reps, bool)
    for k, level in zip(n, levels):
        d = x[:, :k]
        t = d.mean(1) / (d.std(1, ddof=1) / np.sqrt(k))
        rejected |= 2 * stats.t.sf(np.abs(t), k - 1) < level
    return rejected.mean()


def test_spending_keeps_the_type_one_error_over_all_looks_where_naive_looks_inflate_it():
    reps = 40_000
    mc = 3 * np.sqrt(0.05 * 0.95 / reps)  # three Monte Carlo standard errors
    for first in (5, 3):  # the study's arms and the ablations'
        plan = sq.plan(first, 3, 11)
        assert _type_one(plan.alphas, plan.seeds, reps) <= 0.05 + mc
        assert _type_one([0.05] * len(plan.seeds), plan.seeds, reps) > 0.05 + mc


def test_rejects_anywhere_on_normal_statistics_of_correlated_looks():
    t = np.array([5 / 11, 8 / 11, 1.0])
    rng = np.random.default_rng(3)
    increments = rng.standard_normal((100_000, 3)) * np.sqrt(np.diff(np.concatenate([[0.0], t])))
    z = np.cumsum(increments, axis=1) / np.sqrt(t)  # Brownian motion in t, standardized
    share = sq.rejects_anywhere(z, sq.nominal_levels(t)).mean()
    assert share == pytest.approx(0.05, abs=3 * np.sqrt(0.05 * 0.95 / 100_000))
