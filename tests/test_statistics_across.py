"""Across-cell statistics against direct scipy / statsmodels / baycomp computations."""

from __future__ import annotations

import itertools

import baycomp
import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from benchmark.statistics import across, aggregate, bayes
from benchmark.statistics.bootstrap import percentile_interval, stratified, uniforms
from benchmark.statistics.frames import cell_means, cube, select
from benchmark.statistics.orient import family

matplotlib.use("Agg")

MATRIX = pd.DataFrame(
    {  # 7 cells x 4 methods, higher is better; c ties a in cell 3
        "erm": [0.80, 0.70, 0.90, 0.60, 0.75, 0.85, 0.65],
        "a": [0.83, 0.74, 0.91, 0.64, 0.79, 0.86, 0.69],
        "b": [0.81, 0.69, 0.92, 0.61, 0.74, 0.88, 0.66],
        "c": [0.79, 0.72, 0.89, 0.64, 0.77, 0.84, 0.63],
    },
    index=pd.MultiIndex.from_tuples([(f"d{i}", "cnn") for i in range(7)], names=["dataset", "arch"]),
)


def scores_from(values: np.ndarray, methods: list[str], metric: str = "accuracy") -> pd.DataFrame:
    """values[m, c, s] -> tidy scores."""
    rows = [
        {
            "method": methods[m],
            "arch": "cnn",
            "dataset": f"d{c}",
            "seed": s,
            "split": "test",
            "metric": metric,
            "value": values[m, c, s],
        }
        for m, c, s in itertools.product(*map(range, values.shape))
    ]
    return pd.DataFrame(rows)


def test_friedman_and_iman_davenport_match_scipy_and_the_formula():
    out = across.friedman(MATRIX)
    chi2, p = stats.friedmanchisquare(*[MATRIX[c] for c in MATRIX.columns])
    n, k = MATRIX.shape
    f = (n - 1) * chi2 / (n * (k - 1) - chi2)
    assert out["status"] == "ok" and out["chi2"] == pytest.approx(chi2) and out["p_chi2"] == pytest.approx(p)
    assert out["f"] == pytest.approx(f) and out["p_f"] == pytest.approx(stats.f.sf(f, k - 1, (k - 1) * (n - 1)))


def test_friedman_says_insufficient_instead_of_a_p_value():
    two = across.friedman(MATRIX[["erm", "a"]])
    assert two["status"] == "insufficient" and np.isnan(two["p_chi2"]) and "3 methods" in two["reason"]
    assert across.friedman(MATRIX.iloc[:1])["status"] == "insufficient"
    assert across.friedman(MATRIX[["erm", "a", "b"]].iloc[:2])["status"] == "insufficient"  # min exact p 1/6
    assert across.friedman(MATRIX[["erm", "a", "b"]].iloc[:3])["status"] == "ok"  # 1/36 < 0.05


def test_pairwise_wilcoxon_and_holm_match_scipy_and_multipletests():
    out = across.pairwise_wilcoxon(MATRIX, "higher")
    assert len(out) == 6
    for row in out.itertuples():
        d = np.round(MATRIX[row.method] - MATRIX[row.other], 12)
        assert row.p == pytest.approx(stats.wilcoxon(d, zero_method="zsplit").pvalue)
        assert row.wins == (d > 0).sum() and row.ties == (d == 0).sum()
    assert np.allclose(out["p_holm"], multipletests(out["p"], method="holm")[1])
    vs = across.pairwise_wilcoxon(MATRIX, "higher", baseline="erm")
    assert list(vs["method"]) == ["a", "b", "c"] and (vs["other"] == "erm").all()
    assert np.allclose(vs["p_holm"], multipletests(vs["p"], method="holm")[1])
    lower = across.pairwise_wilcoxon(MATRIX, "lower", baseline="erm")
    assert list(lower["wins"]) == list(vs["losses"]) and np.allclose(lower["p"], vs["p"])


def test_too_few_cells_are_insufficient_not_a_p_value():
    out = across.pairwise_wilcoxon(MATRIX.iloc[:5], "higher", baseline="erm")
    assert (out["status"] == "insufficient").all() and out["p"].isna().all() and out["p_holm"].isna().all()
    assert "N=5 cells < 6" in out["reason"].iloc[0]
    seven = across.pairwise_wilcoxon(MATRIX, "higher")  # 6 comparisons need N >= 8 to pass Holm
    assert seven["reason"].str.contains("cannot pass Holm over 6").all()


def test_significance_matrix_draws_a_cd_diagram():
    import matplotlib.pyplot as plt
    import scikit_posthocs as sp

    pairwise = across.pairwise_wilcoxon(MATRIX, "higher")
    sig = across.significance_matrix(pairwise, list(MATRIX.columns))
    assert (np.diag(sig) == 1).all() and np.allclose(sig, sig.T)
    assert sig.loc["a", "erm"] == pytest.approx(pairwise.query("method == 'erm' and other == 'a'")["p_holm"].item())
    ranks = across.mean_ranks(MATRIX, "higher", reps=50).set_index("method")["mean_rank"]
    fig, ax = plt.subplots()
    sp.critical_difference_diagram(ranks, sig, ax=ax)
    plt.close(fig)


def test_mean_ranks_orientation_and_bootstrap():
    out = across.mean_ranks(MATRIX, "higher", reps=2000, seed=5).set_index("method")
    r = MATRIX.rank(axis=1, ascending=False)
    assert np.allclose(out["mean_rank"], r.mean()) and out["mean_rank"].idxmin() == "a"
    idx = np.random.default_rng(5).integers(0, 7, size=(2000, 7))
    low, high = np.percentile(r.to_numpy()[idx].mean(axis=1), [2.5, 97.5], axis=0)
    assert np.allclose(out["rank_low"], low) and np.allclose(out["rank_high"], high)
    flipped = across.mean_ranks(MATRIX, "lower", reps=10).set_index("method")["mean_rank"]
    assert np.allclose(flipped, 5 - out["mean_rank"])


def test_bayesian_signed_rank_equals_baycomp():
    x, y = MATRIX["a"].to_numpy(), MATRIX["erm"].to_numpy()
    for rope in (0.01, 0.03):
        ours = bayes.signed_rank(x, y, rope, nsamples=20000, random_state=0)
        theirs = baycomp.SignedRankTest.probs(x, y, rope=rope, nsamples=20000, random_state=0)
        assert ours == pytest.approx(theirs, abs=1e-12)
    ours = bayes.signed_rank(x, y, 0.0, nsamples=5000, random_state=1)
    assert (ours[0], ours[2]) == pytest.approx(
        baycomp.SignedRankTest.probs(x, y, rope=0, nsamples=5000, random_state=1), abs=1e-12
    )
    fam = family("test/loss")  # lower is better: p_better is for the smaller values
    out = bayes.versus_baseline(MATRIX[["erm", "a"]], fam, "erm", nsamples=5000).iloc[0]
    probs = baycomp.SignedRankTest.probs(-x, -y, rope=fam.rope, nsamples=5000, random_state=0)
    assert (out["p_better"], out["p_rope"], out["p_worse"]) == pytest.approx(probs, abs=1e-12)


def test_stratified_bootstrap_of_gains_matches_a_direct_loop():
    rng = np.random.default_rng(2)
    values = 0.8 + rng.normal(0, 0.01, size=(3, 4, 6))  # methods x cells x seeds
    values[1] += 0.01
    values[2, 1, 0] = np.nan  # one run undefined: cell 1 has 5 shared seeds for method "b"
    scores = scores_from(values, ["erm", "a", "b"])
    fam = family("test/accuracy")
    data = cube(select(scores, fam))
    out = aggregate.gains(data, fam, "erm", reps=300, seed=9).set_index("method")
    u = uniforms(4, 6, 300, 9)
    for m, name in ((1, "a"), (2, "b")):
        shared = [np.flatnonzero(np.isfinite(values[m, c]) & np.isfinite(values[0, c])) for c in range(4)]
        counts = np.array([len(s) for s in shared])
        idx = stratified(counts, u)

        def stats_of(pick, shared=shared, m=m):
            g, d, poi = [], [], []
            for c in range(4):
                seeds = shared[c][pick[c]]
                ym, yb = values[m, c, seeds], values[0, c, seeds]
                g.append((ym - yb.mean()) / fam.rope)
                d.append(ym - yb)
                poi.append(np.mean((ym > yb) + 0.5 * (ym == yb)))
            g, d = np.concatenate(g), np.concatenate(d)
            return g.mean(), stats.trim_mean(g, 0.25), d.mean(), np.mean(poi)

        point = stats_of([np.arange(n) for n in counts])
        boot = np.array([stats_of([idx[r, c, : counts[c]] for c in range(4)]) for r in range(300)])
        low, high = percentile_interval(boot)
        for i, key in enumerate(("gain_mean", "gain_iqm", "delta", "poi")):
            assert out.loc[name, key] == pytest.approx(point[i], rel=1e-10)
            assert out.loc[name, f"{key}_low"] == pytest.approx(low[i], rel=1e-10)
            assert out.loc[name, f"{key}_high"] == pytest.approx(high[i], rel=1e-10)
        rliable = np.mean(
            [
                stats.mannwhitneyu(
                    values[m, c][np.isfinite(values[m, c])], values[0, c], alternative="greater"
                ).statistic
                / (np.isfinite(values[m, c]).sum() * 6)
                for c in range(4)
            ]
        )
        assert out.loc[name, "poi_unpaired"] == pytest.approx(rliable)
    assert out.loc["b", "n_pairs"] == 23


def test_gain_scales_and_orientation():
    values = np.zeros((2, 2, 4))
    values[0] = [[1.0, 1.2, 0.8, 1.0], [2.0, 2.2, 1.8, 2.0]]
    values[1] = values[0] - 0.1  # lower values: better for a loss
    scores = scores_from(values, ["erm", "a"], metric="loss")
    fam = family("test/loss")
    data = cube(select(scores, fam))
    by_rope = aggregate.gains(data, fam, "erm", reps=20).iloc[0]
    assert by_rope["gain_mean"] == pytest.approx(0.1 / fam.rope) and by_rope["delta"] == pytest.approx(0.1)
    assert by_rope["poi"] == 1.0
    sd = aggregate.gains(data, fam, "erm", scale="baseline_sd", reps=20).iloc[0]
    assert sd["gain_mean"] == pytest.approx(0.1 / np.std([1.0, 1.2, 0.8, 1.0], ddof=1))
    rel = aggregate.gains(data, fam, "erm", scale="baseline_mean", reps=20).iloc[0]
    assert rel["gain_mean"] == pytest.approx((0.1 / 1.0 * 4 + 0.1 / 2.0 * 4) / 8)
    assert aggregate.a12(np.array([1.0, 2.0]), np.array([1.0, 0.0])) == pytest.approx(
        stats.mannwhitneyu([1.0, 2.0], [1.0, 0.0]).statistic / 4
    )


def test_cell_means_ignore_undefined_runs():
    values = np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3)
    values[1, 0, 2] = np.nan
    matrix = cell_means(scores_from(values, ["erm", "a"]))
    assert matrix.loc[("d0", "cnn"), "a"] == pytest.approx(6.5) and matrix.loc[("d1", "cnn"), "erm"] == 4.0
