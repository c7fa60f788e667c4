"""End-to-end behaviour of one family: A/A calibration, a clear winner, directions, reruns, too few cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from synthetic_scores import make_scores

from benchmark.statistics import analyze
from benchmark.statistics.across import pairwise_wilcoxon
from benchmark.statistics.multiple import bh
from benchmark.statistics.paired import paired_stats, wilcoxon_p

ALPHA = 0.05


def simulate_aa(studies: int, cells: int, seeds: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The same method under two names: shared cell level and seed effect, independent run noise."""
    rng = np.random.default_rng(seed)
    common = rng.normal(0.8, 0.05, (studies, cells, 1)) + rng.normal(0, 0.01, (studies, cells, seeds))
    return common + rng.normal(0, 0.005, common.shape), common + rng.normal(0, 0.005, common.shape)


def assert_rate(hits: int, trials: int, exact: bool) -> None:
    """Not above alpha (one-sided binomial test at 0.001); when ``exact``, also not below it."""
    assert stats.binomtest(hits, trials, ALPHA, alternative="greater").pvalue > 1e-3, hits / trials
    if exact:
        assert stats.binomtest(hits, trials, ALPHA).pvalue > 1e-3, hits / trials
    else:
        assert hits / trials > ALPHA / 3, hits / trials


def test_aa_within_cells_is_significant_at_rate_alpha():
    a, b = simulate_aa(4000, 8, 10, seed=11)
    p = paired_stats(a, b)["p_t"]  # (studies, cells), vectorized
    assert_rate(int((p < ALPHA).sum()), p.size, exact=True)
    any_bh = [bool((bh(row) < ALPHA).any()) for row in p]  # BH over the family of 8 cells, global null
    assert_rate(int(np.sum(any_bh)), len(any_bh), exact=True)
    wil = [wilcoxon_p(a[s, 0] - b[s, 0])[0] for s in range(1500)]
    assert_rate(int(np.sum(np.array(wil) < ALPHA)), 1500, exact=False)


def test_aa_across_cells_is_not_significant_above_alpha():
    a, b = simulate_aa(2000, 8, 10, seed=12)
    means_a, means_b = a.mean(axis=2), b.mean(axis=2)  # cells are the units, never (cell, seed) pairs
    p = np.array([wilcoxon_p(means_a[s] - means_b[s])[0] for s in range(2000)])
    assert_rate(int((p < ALPHA).sum()), 2000, exact=False)
    for s in range(20):  # the leaderboard's function gives the same p (one comparison: Holm is the identity)
        matrix = pd.DataFrame({"erm": means_b[s], "twin": means_a[s]})
        assert pairwise_wilcoxon(matrix, "higher", baseline="erm")["p_holm"].iloc[0] == p[s]


def test_aa_full_pipeline_declares_no_winner_too_often():
    studies, wins, cells_sig = 120, 0, 0
    for s in range(studies):
        result = analyze(
            make_scores({"erm": 0.0, "twin": 0.0}, seed=100 + s), "test/accuracy", "erm", reps=200, bayes_samples=500
        )
        board = result.leaderboard.set_index("method")
        wins += int(board.loc["twin", "wins"] + board.loc["twin", "losses"])
        cells_sig += int(board.loc["twin", "p_cells_holm"] < ALPHA)
    assert stats.binomtest(wins, studies * 8, ALPHA, alternative="greater").pvalue > 1e-3
    assert stats.binomtest(cells_sig, studies, ALPHA, alternative="greater").pvalue > 1e-3


def test_a_large_margin_winner_is_declared_better_everywhere():
    result = analyze(
        make_scores({"erm": 0.0, "good": 0.03, "same": 0.0}), "test/accuracy", "erm", reps=1000, bayes_samples=5000
    )
    good = result.paired[result.paired["method"] == "good"]
    assert (good["verdict"] == "win").all() and (good["p_bh"] < ALPHA).all() and (good["marker"] != "").all()
    board = result.leaderboard.set_index("method")
    assert board["place"].idxmin() == "good" and board.loc["good", "mean_rank"] == 1.0
    assert board.loc["good", "p_cells_holm"] < ALPHA and board.loc["good", "gain_mean_low"] > 1.0
    assert board.loc["good", "p_better"] > 0.95 and board.loc["good", "poi"] == 1.0
    assert result.friedman["status"] == "ok" and result.friedman["p_f"] < ALPHA
    assert result.significance.loc["good", "erm"] < ALPHA and result.significance.loc["same", "erm"] >= ALPHA
    assert (board.loc["good", "wins"], board.loc["good", "losses"]) == (8, 0)


def test_lower_is_better_ranks_the_lowest_first():
    result = analyze(
        make_scores({"erm": 0.0, "best": -0.05, "worst": 0.05}, metric="loss"),
        "test/loss",
        "erm",
        reps=200,
        bayes_samples=1000,
    )
    board = result.leaderboard
    assert list(board["method"]) == ["best", "erm", "worst"] and (board["direction"] == "lower").all()
    indexed = board.set_index("method")
    assert indexed.loc["best", "gain_mean"] > 0 > indexed.loc["worst", "gain_mean"]
    assert indexed.loc["best", "wins"] == 8 and indexed.loc["worst", "losses"] == 8
    assert indexed.loc["best", "p_better"] > 0.95


def test_a_rerun_gives_identical_outputs():
    scores = make_scores({"erm": 0.0, "a": 0.004, "b": -0.002}, cells=6, seeds=5)
    first, again = (analyze(scores, "test/accuracy", "erm", reps=500, bayes_samples=2000) for _ in range(2))
    for name in (
        "cells",
        "paired",
        "matrix",
        "mean_ranks",
        "pairwise",
        "versus_baseline",
        "significance",
        "gains",
        "bayes",
        "wtl",
        "leaderboard",
    ):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name), check_exact=True)
    assert first.friedman == again.friedman
    assert first.leaderboard.to_csv() == again.leaderboard.to_csv()


def test_too_few_cells_and_seeds_are_flagged():
    scores = make_scores({"erm": 0.0, "a": 0.01, "b": 0.0}, cells=4, seeds=5, noise=0.02)
    result = analyze(scores, "test/accuracy", "erm", reps=200, bayes_samples=1000)
    board = result.leaderboard.set_index("method")
    assert (board.loc[["a", "b"], "cells_status"] == "insufficient").all()
    assert board.loc[["a", "b"], "p_cells"].isna().all()
    assert board["flags"].str.contains("N=4<6 cells: rank tests cannot reach alpha").all()
    assert board.loc["a", "flags"].count("n<5") == 0 and result.paired["p_wilcoxon"].isna().all()
    assert (result.paired["wilcoxon_method"] == "n.a. (n<6)").all()
    few = analyze(
        make_scores({"erm": 0.0, "a": 0.01}, cells=3, seeds=3, noise=0.02),
        "test/accuracy",
        "erm",
        reps=100,
        bayes_samples=500,
    )
    assert few.friedman["status"] == "insufficient"
    assert few.paired["underpowered"].all() and (few.paired["seeds_needed"] > 3).all()
    assert few.leaderboard.set_index("method").loc["a", "flags"].startswith("N=3<6 cells")
    assert "n<5 seeds in 3 cells" in few.leaderboard.set_index("method").loc["a", "flags"]


def test_missing_runs_leave_cells_out_of_ranks():
    scores = make_scores({"erm": 0.0, "a": 0.01, "b": 0.0}, cells=7)
    scores = scores[~((scores["method"] == "b") & (scores["dataset"] == "d3"))]
    result = analyze(scores, "test/accuracy", "erm", reps=100, bayes_samples=500)
    assert result.dropped_cells == [("d3", "cnn")] and result.friedman["n_cells"] == 6
    assert "1 incomplete cells left out of ranks" in result.leaderboard["flags"].iloc[0]
    with pytest.raises(KeyError):
        analyze(scores, "test/accuracy", "nobody", reps=10)
