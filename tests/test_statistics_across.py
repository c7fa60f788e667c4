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
from benchmark.statistics.bootstrap import stratified, uniforms
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
    ranks = across.mean_ranks(MATRIX, "higher").set_index("method")["mean_rank"]
    fig, ax = plt.subplots()
    sp.critical_difference_diagram(ranks, sig, ax=ax)
    plt.close(fig)


def test_mean_ranks_orientation_and_t_interval():
    out = across.mean_ranks(MATRIX, "higher").set_index("method")
    r = MATRIX.rank(axis=1, ascending=False)
    assert np.allclose(out["mean_rank"], r.mean()) and out["mean_rank"].idxmin() == "a"
    low, high = stats.t.interval(0.95, 6, loc=r.mean(), scale=r.std(ddof=1) / np.sqrt(7))
    k = MATRIX.shape[1]  # the interval is clipped to the ranks' range [1, k]
    assert np.allclose(out["rank_low"], np.clip(low, 1, k)) and np.allclose(out["rank_high"], np.clip(high, 1, k))
    assert (low < 1).any() or (high > k).any(), "the hand-made matrix exercises the clipping"
    assert (out["rank_ci_na"] == "").all()
    flipped = across.mean_ranks(MATRIX, "lower").set_index("method")["mean_rank"]
    assert np.allclose(flipped, 5 - out["mean_rank"])


@pytest.mark.parametrize("cells", [1, 2, 5])
def test_below_six_cells_the_mean_rank_has_no_interval_and_no_cd_diagram(cells):
    out = across.mean_ranks(MATRIX.iloc[:cells], "higher")
    assert out["rank_low"].isna().all() and out["rank_high"].isna().all()
    assert (out["rank_ci_na"] == f"n.a. ({cells} cells < 6)").all()
    assert across.cd_gate(MATRIX.iloc[:cells]) == f"n.a. ({cells} cells < 6)"
    assert across.cd_gate(MATRIX.iloc[:6]) == ""


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


def test_the_bayesian_signed_rank_needs_six_cells():
    """With one cell the test returns its prior (P(better) = 0.841 whatever the data, the figure of issue 22):
    below 6 cells it is not computed. 6 is the fewest cells at which P(better) can pass 0.95 wherever the prior's
    pseudo-observation lies (Beta(0.5, N) share of the posterior; checked against the sampler at 0)."""
    for n in (1, 3):
        far = bayes.signed_rank(np.full(n, 1.0), np.zeros(n), 0.01, nsamples=20000, random_state=0)[0]
        assert far == pytest.approx(stats.beta.cdf(1 / np.sqrt(2), 0.5, n), abs=0.01)
    assert bayes.lowest_best(5) < 0.95 <= bayes.lowest_best(6) and bayes.MIN_CELLS == 6
    fam = family("test/accuracy")
    for cells in (1, 2, 5):
        out = bayes.versus_baseline(MATRIX[["erm", "a"]].iloc[:cells], fam, "erm", nsamples=500).iloc[0]
        assert np.isnan(out["p_better"]) and out["bayes_na"] == f"n.a. ({cells} cells < 6)"
    six = bayes.versus_baseline(MATRIX[["erm", "a"]].iloc[:6], fam, "erm", nsamples=500).iloc[0]
    assert np.isfinite(six["p_better"]) and six["bayes_na"] == ""


def test_gains_intervals_match_direct_computations():
    """Mean gain and Δ: the Welch–Satterthwaite t interval of the pooled paired differences; P(improvement):
    Clopper–Pearson on the effective seeds; the IQM (10 cells): t × the SD of a direct stratified bootstrap loop
    over the seeds spread by sqrt(n/(n-1))."""
    rng = np.random.default_rng(2)
    cells = 10
    values = 0.8 + rng.normal(0, 0.01, size=(3, cells, 6))  # methods x cells x seeds
    values[1] += 0.01
    values[2, 1, 0] = np.nan  # one run undefined: cell 1 has 5 shared seeds for method "b"
    scores = scores_from(values, ["erm", "a", "b"])
    fam = family("test/accuracy")
    data = cube(select(scores, fam))
    out = aggregate.gains(data, fam, "erm", reps=300, seed=9).set_index("method")
    u = uniforms(cells, 6, 300, 9)
    for m, name in ((1, "a"), (2, "b")):
        shared = [np.flatnonzero(np.isfinite(values[m, c]) & np.isfinite(values[0, c])) for c in range(cells)]
        counts = np.array([len(s) for s in shared])
        d = [values[m, c, s] - values[0, c, s] for c, s in enumerate(shared)]
        pooled = np.concatenate(d)
        se2 = sum((len(x) / len(pooled)) ** 2 * x.var(ddof=1) / len(x) for x in d)
        df = se2**2 / sum(((len(x) / len(pooled)) ** 2 * x.var(ddof=1) / len(x)) ** 2 / (len(x) - 1) for x in d)
        low, high = stats.t.interval(0.95, df, loc=pooled.mean(), scale=np.sqrt(se2))
        assert (out.loc[name, "delta"], out.loc[name, "delta_low"], out.loc[name, "delta_high"]) == pytest.approx(
            (pooled.mean(), low, high), rel=1e-10
        )
        assert out.loc[name, "gain_mean_low"] == pytest.approx(low / fam.rope, rel=1e-10)
        poi = np.mean([np.mean((x > 0) + 0.5 * (x == 0)) for x in d])
        n_eff = cells**2 / np.sum(1 / counts)
        assert out.loc[name, "poi"] == pytest.approx(poi)
        assert out.loc[name, "poi_low"] == pytest.approx(stats.beta.ppf(0.025, poi * n_eff, n_eff - poi * n_eff + 1))
        idx = stratified(counts, u)

        def iqm_of(ym, yb):
            return stats.trim_mean(np.concatenate([(a - b.mean()) / fam.rope for a, b in zip(ym, yb)]), 0.25)

        def spread(y):
            return [x.mean() + np.sqrt(len(x) / (len(x) - 1)) * (x - x.mean()) for x in y]

        ym = spread([values[m, c, s] for c, s in enumerate(shared)])
        yb = spread([values[0, c, s] for c, s in enumerate(shared)])
        boot = [
            iqm_of(
                [y[idx[r, c, : counts[c]]] for c, y in enumerate(ym)],
                [y[idx[r, c, : counts[c]]] for c, y in enumerate(yb)],
            )
            for r in range(300)
        ]
        point = iqm_of([values[m, c, s] for c, s in enumerate(shared)], [values[0, c, s] for c, s in enumerate(shared)])
        half = stats.t.ppf(0.975, int((counts - 1).sum())) * np.std(boot, ddof=1)
        assert out.loc[name, "gain_iqm"] == pytest.approx(point, rel=1e-10)
        assert (out.loc[name, "gain_iqm_low"], out.loc[name, "gain_iqm_high"]) == pytest.approx(
            (point - half, point + half), rel=1e-10
        )
        rliable = np.mean(
            [
                stats.mannwhitneyu(
                    values[m, c][np.isfinite(values[m, c])], values[0, c], alternative="greater"
                ).statistic
                / (np.isfinite(values[m, c]).sum() * 6)
                for c in range(cells)
            ]
        )
        assert out.loc[name, "poi_unpaired"] == pytest.approx(rliable)
    assert out.loc["b", "n_pairs"] == 59
    few = aggregate.gains(cube(select(scores_from(values[:, :9], ["erm", "a", "b"]), fam)), fam, "erm", reps=30)
    assert few["gain_iqm"].isna().all() and (few["gain_iqm_na"] == "n.a. (9 cells < 10)").all()
    assert few["delta_low"].notna().all() and few["poi_low"].notna().all(), "the seeds are the units: any cells"


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
