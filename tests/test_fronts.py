"""Fronts over guidance strength (issue 26 item 2): the front, the hypervolume and the paired dominance test on
hand-made points (``benchmark.statistics.fronts``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from benchmark.statistics.fronts import (
    FRONT_TEST,
    compare_fronts,
    dominated_share,
    hypervolume_2d,
    pareto_front,
    reference_point,
    seed_hypervolumes,
)

NAN = float("nan")
# (1,3), (2,2), (3,1) are the front; (2,2) twice; (0.5,3) and (3,0.5) tie a front point on one axis and lose on
# the other; (1,1) is inside; the NaN point is missing
POINTS = np.array([[1, 3], [2, 2], [3, 1], [1, 1], [2, 2], [0.5, 3], [3, 0.5], [NAN, 5]])


def test_pareto_front_keeps_duplicates_and_drops_ties_that_lose_on_the_other_axis():
    assert pareto_front(POINTS).tolist() == [True, True, True, False, True, False, False, False]
    assert pareto_front(np.array([[1.0, 1.0], [1.0, 1.0]])).tolist() == [True, True]


def test_hypervolume_is_the_area_of_the_union_of_boxes_computed_by_hand():
    # staircase above (0, 0): x in [0,1] up to 3, [1,2] up to 2, [2,3] up to 1 -> 3 + 2 + 1
    assert hypervolume_2d(POINTS[:7], [0, 0]) == pytest.approx(6.0)
    # above (1, 1) only the box [1,2] x [1,2] is left; points on the reference line add nothing
    assert hypervolume_2d(POINTS[:7], [1, 1]) == pytest.approx(1.0)
    assert hypervolume_2d(np.array([[0.5, 0.5]]), [1, 1]) == 0.0, "a point below the reference adds nothing"
    assert np.isnan(hypervolume_2d(POINTS, [0, 0])), "a missing point makes the set's volume undefined"


def test_hypervolume_is_vectorized_over_seeds_and_equal_to_one_set_at_a_time():
    rng = np.random.default_rng(0)
    sets = rng.uniform(0, 1, (6, 4, 2))
    ref = reference_point(sets)
    assert ref.tolist() == sets.reshape(-1, 2).min(0).tolist()
    assert hypervolume_2d(sets, ref) == pytest.approx([hypervolume_2d(s, ref) for s in sets])
    # seed_hypervolumes: (scales, seeds, 2) plus the anchor (seeds, 2) = the sets transposed
    own, anchor = np.swapaxes(sets[:, 1:], 0, 1), sets[:, 0]
    assert seed_hypervolumes(own, anchor, ref) == pytest.approx(hypervolume_2d(sets, ref))


def test_dominated_share_counts_strict_dominance_only():
    front = np.array([[2.0, 2.0]])
    assert dominated_share(front, np.array([[1, 1], [2, 2], [2, 1], [3, 0], [NAN, 1]])) == pytest.approx(2 / 4)


VOLUMES = np.array(
    [
        [5.0, 6.0, 5.5, 6.5, 6.0],  # a: about 1 above c at every seed
        [4.1, 5.2, 4.4, 5.7, 5.1],  # b
        [4.0, 5.1, 4.6, 5.4, 4.9],  # c
    ]
)


def test_dominance_p_values_equal_scipys_and_holm_is_applied_over_the_pairs_of_the_cell():
    table = compare_fronts(VOLUMES, ["a", "b", "c"])
    assert [(r.a, r.b) for r in table.itertuples()] == [("a", "b"), ("a", "c"), ("b", "c")]
    p = [stats.ttest_rel(VOLUMES[i], VOLUMES[j]).pvalue for i, j in ((0, 1), (0, 2), (1, 2))]
    assert table["p"].tolist() == pytest.approx(p, rel=1e-12)
    order = np.argsort(p)  # Holm by hand: sorted p times 3, 2, 1, running maximum
    by_hand = np.empty(3)
    by_hand[order] = np.minimum(1, np.maximum.accumulate(np.sort(p) * np.array([3, 2, 1])))
    assert table["p_holm"].tolist() == pytest.approx(by_hand.tolist(), rel=1e-12)
    d = VOLUMES[0] - VOLUMES[2]
    low, high = stats.ttest_rel(VOLUMES[0], VOLUMES[2]).confidence_interval(0.95)
    row = table.iloc[1]
    assert (row["diff"], row["diff_low"], row["diff_high"]) == pytest.approx((d.mean(), low, high), rel=1e-9)
    assert row["verdict"] == "a's front dominates c's" and table.iloc[2]["verdict"] == "not separated"


def test_the_verdict_follows_the_sign_and_missing_seeds_leave_the_pair():
    flipped = compare_fronts(VOLUMES[[2, 0]], ["c", "a"]).iloc[0]
    assert flipped["verdict"] == "a's front dominates c's" and flipped["diff"] < 0
    gappy = VOLUMES.copy()
    gappy[1, :3] = NAN
    row = compare_fronts(gappy, ["a", "b", "c"]).iloc[2]
    assert row["n"] == 2 and row["p"] == pytest.approx(stats.ttest_rel(VOLUMES[1, 3:], VOLUMES[2, 3:]).pvalue)
    same = compare_fronts(np.vstack([VOLUMES[0], VOLUMES[0]]), ["a", "b"]).iloc[0]
    assert same["verdict"] == "identical runs" and same["p"] == 1.0
    alone = compare_fronts(np.array([[1.0, NAN], [NAN, 2.0]]), ["a", "b"]).iloc[0]
    assert alone["n"] == 0 and alone["verdict"] == "n.a."


def test_the_test_is_stated_once_with_unit_correction_and_reference():
    text = FRONT_TEST.at(0.05).text()
    assert "scipy.stats.ttest_rel" in text and "seeds" in text and "Holm" in text and "Zitzler" in text
