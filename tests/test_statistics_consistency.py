"""Saliency consistency across runs against direct scipy / numpy computations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from benchmark.statistics.consistency import compare, image_consistency, rank_maps, summarize


def test_ranks_equal_scipy_rankdata_with_ties():
    rng = np.random.default_rng(0)
    maps = rng.integers(0, 5, size=(3, 4, 6, 6)).astype(np.float16)  # many ties
    maps[0, 0] = 0  # a constant map
    assert np.array_equal(rank_maps(maps), stats.rankdata(maps.reshape(3, 4, 36), axis=-1))
    smooth = rng.random((2, 3, 7, 5))
    assert np.array_equal(rank_maps(smooth), stats.rankdata(smooth.reshape(2, 3, 35), axis=-1))


def test_identical_maps_give_one_and_independent_noise_near_zero():
    rng = np.random.default_rng(1)
    one = rng.random((1, 32, 28, 28)).astype(np.float16)
    same = image_consistency(np.repeat(one, 4, axis=0))
    for key in ("spearman", "pearson", "topk_iou"):
        assert np.allclose(same[key], 1.0)
    assert (same["n_pairs"] == 6).all()
    noise = image_consistency(rng.random((6, 32, 28, 28)).astype(np.float16))
    assert abs(noise["spearman"].mean()) < 0.01 and abs(noise["pearson"].mean()) < 0.01
    assert abs(noise["topk_iou"].mean() - 0.1 / 1.9) < 0.01  # chance IoU of two random 10% sets: k/(2P-k)


def test_per_image_measures_equal_pairwise_scipy():
    rng = np.random.default_rng(2)
    base = rng.random((1, 3, 10, 10))
    maps = base + 0.5 * rng.random((4, 3, 10, 10))
    maps[:, :, 0, 0] = 5.0  # an outlier pixel, clipped for Pearson
    out = image_consistency(maps)
    for image in range(3):
        flat = maps[:, image].reshape(4, -1)
        pairs = list(itertools.combinations(range(4), 2))
        spear = np.mean([stats.spearmanr(flat[i], flat[j]).statistic for i, j in pairs])
        clipped = np.minimum(flat, np.quantile(flat, 0.99, axis=1, keepdims=True))
        pear = np.mean([stats.pearsonr(clipped[i], clipped[j]).statistic for i, j in pairs])
        tops = [set(np.flatnonzero(f >= np.sort(f)[-10])) for f in flat]
        iou = np.mean([len(tops[i] & tops[j]) / len(tops[i] | tops[j]) for i, j in pairs])
        assert out["spearman"][image] == pytest.approx(spear, rel=1e-10)
        assert out["pearson"][image] == pytest.approx(pear, rel=1e-10)
        assert out["topk_iou"][image] == pytest.approx(iou, rel=1e-12)


def test_constant_maps_are_left_out_of_the_pair_mean():
    rng = np.random.default_rng(3)
    maps = rng.random((3, 2, 5, 5))
    maps[2, 0] = 1.0
    out = image_consistency(maps)
    flat = maps[:, 0].reshape(3, -1)
    assert out["n_pairs"][0] == 1 and out["spearman"][0] == pytest.approx(stats.spearmanr(flat[0], flat[1]).statistic)
    with pytest.raises(ValueError):
        image_consistency(maps[:1])


def test_summary_ci_is_seeded_and_over_images():
    rng = np.random.default_rng(4)
    per_image = {"spearman": rng.random(40), "pearson": rng.random(40), "topk_iou": rng.random(40)}
    first, again = summarize(per_image, reps=500, seed=3), summarize(per_image, reps=500, seed=3)
    assert first.equals(again)
    row = first.set_index("measure").loc["spearman"]
    idx = np.random.default_rng(3).integers(0, 40, size=(500, 40))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        tuple(np.percentile(per_image["spearman"][idx].mean(axis=1), [2.5, 97.5]))
    )
    assert row["mean"] == pytest.approx(per_image["spearman"].mean()) and row["n_images"] == 40


def test_compare_is_wilcoxon_over_images_with_holm():
    rng = np.random.default_rng(5)
    per_image = {"erm": rng.random(30), "cyborg": rng.random(30) + 0.3, "sgt": rng.random(30)}
    out = compare(per_image)
    assert len(out) == 3
    for row in out.itertuples():
        d = per_image[row.method] - per_image[row.other]
        assert row.p == pytest.approx(stats.wilcoxon(d, zero_method="zsplit").pvalue)
        assert row.mean_diff == pytest.approx(d.mean())
    assert np.allclose(out["p_holm"], multipletests(out["p"], method="holm")[1])
    better = out.query("method == 'erm' and other == 'cyborg'").iloc[0]
    assert better.p_holm < 0.05 and better.mean_diff < 0
