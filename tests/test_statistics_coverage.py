"""Coverage of the pooled intervals at 5 seeds per cell, by seeded simulation (issue 22 item 5).

A pooled interval (over the cells of a study, the seeds as units) must cover the truth in at least 93% of
simulated studies at n = 5 seeds per cell. Each case draws thousands of studies at once: per cell c the paired
differences are normal with mean mu_c and SD sd_c (cells differ in both), and the truth is the quantity the
interval is for with the cells fixed. Measured (4,000 studies a case): the Welch–Satterthwaite t interval of the
pooled Δ covers 94.5–96% with 1, 2, 4 and 8 cells, the stratified percentile bootstrap it replaces 85%, 84%, 89%
and 90%; the Clopper–Pearson interval of the probability of improvement covers ≥ 97%; the IQM's t interval from the
bootstrap SE of spread seeds 95% over 10 cells far apart (92.5% over 6: the IQM needs 10 cells).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmark.statistics import across
from benchmark.statistics.aggregate import iqm, iqm_interval
from benchmark.statistics.bootstrap import uniforms
from benchmark.statistics.pooled import improvement_interval, pooled_mean

SEEDS = 5
STUDIES = 4_000
FLOOR = 0.93


def differences(cells: int, studies: int = STUDIES, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(studies, cells, SEEDS) paired differences, each cell its own mean and SD; (values, mu, sd)."""
    mu, sd = np.linspace(-1.0, 1.0, cells), np.linspace(0.5, 2.0, cells)
    rng = np.random.default_rng(seed)
    return mu[:, None] + sd[:, None] * rng.standard_normal((studies, cells, SEEDS)), mu, sd


def covered(low: np.ndarray, high: np.ndarray, truth: float) -> float:
    return float(np.mean((low <= truth) & (truth <= high)))


@pytest.mark.parametrize("cells", [1, 2, 4, 8])
def test_the_pooled_mean_interval_covers_at_five_seeds(cells):
    d, mu, _ = differences(cells, seed=cells)
    out = pooled_mean(d)
    coverage = covered(out["low"], out["high"], mu.mean())
    assert FLOOR <= coverage <= 0.975, coverage


def test_the_percentile_bootstrap_it_replaces_under_covers():
    """The old interval: the stratified percentile bootstrap of the same mean (1 cell: the seeds resampled)."""
    d, mu, _ = differences(1, studies=2_000, seed=1)
    idx = np.random.default_rng(2).integers(0, SEEDS, size=(500, SEEDS))
    boot = d[:, 0, :][:, idx].mean(axis=-1)  # (studies, reps)
    low, high = np.percentile(boot, [2.5, 97.5], axis=1)
    assert covered(low, high, mu.mean()) < 0.88


def test_a_pooled_mean_over_one_cell_is_the_paired_t_interval():
    d = np.array([[0.1, 0.3, 0.2, 0.6, -0.1]])
    out = pooled_mean(d)
    low, high = stats.t.interval(0.95, 4, loc=d.mean(), scale=stats.sem(d[0]))
    assert (out["low"], out["high"], out["df"]) == pytest.approx((low, high, 4.0))
    two = pooled_mean(np.array([[0.1, 0.3, np.nan], [0.0, 0.2, 0.4]]))  # weights 2/5 and 3/5
    assert two["mean"] == pytest.approx(1.0 / 5)
    assert np.isnan(pooled_mean(np.array([[0.1, np.nan], [0.0, 0.2]]))["low"]), "a cell of one seed: no interval"
    same = pooled_mean(np.array([[0.5, 0.5, 0.5]]))
    assert (same["low"], same["high"]) == (0.5, 0.5)


@pytest.mark.parametrize("cells", [1, 2, 3, 6])
@pytest.mark.parametrize("shift", [0.0, 1.0, 1.6])
def test_the_improvement_interval_covers_at_five_seeds(cells, shift):
    d, mu, sd = differences(cells, seed=10 * cells + int(10 * shift))
    d = d + shift
    truth = stats.norm.sf(0, loc=mu + shift, scale=sd).mean()
    out = improvement_interval((np.sign(d) + 1) / 2)
    assert covered(out["low"], out["high"], truth) >= FLOOR


def test_five_of_five_seeds_better_is_not_a_certainty():
    out = improvement_interval(np.ones((1, 5)))
    assert out["poi"] == 1.0 and out["high"] == 1.0
    assert out["low"] == pytest.approx(stats.binomtest(5, 5).proportion_ci().low)


def iqm_coverage(cells: int, studies: int, seed: int) -> float:
    """Coverage of ``aggregate.iqm_interval`` for the IQM of the pooled gains; the truth is the 25%-trimmed
    mean of the cells' equal mixture (a seeded sample of 100,000 draws per cell)."""
    rng = np.random.default_rng(seed)
    mu, sd = np.linspace(-2.0, 2.0, cells), np.linspace(0.5, 1.5, cells)  # far apart: the hardest case tried
    truth = stats.trim_mean((mu[:, None] + sd[:, None] * rng.standard_normal((cells, 100_000))).ravel(), 0.25)
    ym = mu[:, None] + sd[:, None] * rng.standard_normal((studies, cells, SEEDS))
    yb = np.zeros_like(ym)  # the baseline at 0: g is the method's value (scale 1)
    counts, scale = np.full(cells, SEEDS), np.ones(cells)
    u = uniforms(cells, SEEDS, 400, seed)  # 400 bootstrap draws (10,000 in the stats): the test runs in seconds
    hits = 0
    for chunk in np.array_split(np.arange(studies), 10):
        low, high = iqm_interval(ym[chunk], yb[chunk], counts, 1, scale, u)
        hits += int(np.sum((low <= truth) & (truth <= high)))
    assert np.allclose(iqm(ym[:3], yb[:3], counts, 1, scale), stats.trim_mean(ym[:3].reshape(3, -1), 0.25, axis=1))
    return hits / studies


def test_the_iqm_interval_covers_from_ten_cells():
    assert iqm_coverage(10, 2_000, seed=10) >= FLOOR


def test_the_mean_rank_t_interval_over_six_cells_beats_the_bootstrap_it_replaces():
    """Cells are the units of the mean rank. 3,000 simulated sets of 6 cells, 4 methods with different effects:
    the t interval of ``across.mean_ranks`` covers the expected rank in 93–94% for three of them (87% for the one
    ranked first in most cells, whose ranks pile up at 1); the percentile bootstrap over cells used before
    covers 81–86%."""
    rng = np.random.default_rng(6)
    effects, cells, studies = np.array([0.0, 0.3, 0.8, 1.5]), 6, 3_000
    truth = stats.rankdata(-(effects + rng.standard_normal((100_000, 4))), axis=1).mean(axis=0)
    ranks = stats.rankdata(-(effects + rng.standard_normal((studies, cells, 4))), axis=2)
    mean, sem = ranks.mean(axis=1), stats.sem(ranks, axis=1)
    half = stats.t.ppf(0.975, cells - 1) * sem  # as across.mean_ranks: the point when every cell agrees
    low, high = np.clip(mean - half, 1, 4), np.clip(mean + half, 1, 4)  # clipped to the ranks' range, as mean_ranks
    matrix = pd.DataFrame(-ranks[0], columns=list("abcd"))  # the production function on one study
    assert np.allclose(across.mean_ranks(matrix, "higher")["rank_low"], low[0])
    t_cover = ((low <= truth) & (truth <= high)).mean(axis=0)
    boot = ranks[:, rng.integers(0, cells, size=(400, cells))].mean(axis=2)
    b_low, b_high = np.percentile(boot, [2.5, 97.5], axis=1)
    b_cover = ((b_low <= truth) & (truth <= b_high)).mean(axis=0)
    assert (t_cover[:3] >= 0.92).all() and (b_cover < 0.88).all() and (t_cover > b_cover).all()
