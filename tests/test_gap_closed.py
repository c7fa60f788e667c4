"""The across-cell gap-closed score (issue 24 items 2-3): hand-made numbers, the cell exclusion, the rows that
mean one thing, the seeded bootstrap, and the coverage of its interval by seeded simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from benchmark.statistics import across
from benchmark.statistics.bootstrap import generator, stratified, uniforms
from benchmark.statistics.gap_closed import board, cell_gaps, distinct_rows, marker, score, score_interval

NAN = np.nan


def test_a_cell_scores_the_fraction_of_the_gap_closed():
    # ERM 0.6, reference 0.9: a gap of 0.3; the method at 0.75 closes half of it in every seed
    base = np.array([[0.59, 0.61, 0.60, 0.58, 0.62]])
    ref = np.array([[0.89, 0.91, 0.90, 0.88, 0.92]])
    method = base + 0.15
    counts = np.array([5])
    assert score(method, base, counts, ref, counts) == pytest.approx(0.5)
    gaps = cell_gaps(ref, base, np.array([1.0]), np.array([0.01]), 0.05)
    assert gaps.loc[0, "gap"] == pytest.approx(0.3) and bool(gaps.loc[0, "usable"])
    # lower is better: the same numbers negated give the same fraction
    assert cell_gaps(-ref, -base, np.array([-1.0]), np.array([0.01]), 0.05).loc[0, "gap"] == pytest.approx(0.3)


def test_a_cell_whose_reference_is_close_to_erm_is_kept_out_with_its_reason():
    base = np.array([[0.60, 0.62, 0.58, 0.61, 0.59], [0.6, 0.7, 0.5, 0.65, 0.55], [0.6, NAN, NAN, NAN, NAN]])
    ref = np.array([[0.605, 0.625, 0.585, 0.615, 0.595], [0.75, 0.5, 0.85, 0.55, 0.65], [0.9, 0.9, 0.9, 0.9, 0.9]])
    gaps = cell_gaps(ref, base, np.ones(3), np.full(3, 0.01), 0.05)
    assert list(gaps["usable"]) == [False, False, False]
    assert "< ROPE" in gaps.loc[0, "reason"]  # a gap of 0.005, under the ROPE
    assert "Welch" in gaps.loc[1, "reason"]  # a gap of 0.06 but within the noise
    assert "2 of each" in gaps.loc[2, "reason"]


def six_cells(rng: np.random.Generator, closes: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, 6 cells, 5 seeds) values with ERM at 0.5 and the reference at 0.5 + gap_c; each row closes the given
    fraction of each cell's gap (plus seed noise of 0.005)."""
    gap = np.linspace(0.1, 0.3, 6)
    values = np.stack([0.5 + f[:, None] * gap[:, None] + 0.005 * rng.standard_normal((6, 5)) for f in closes.values()])
    reference = 0.5 + gap[:, None] + 0.005 * rng.standard_normal((6, 5))
    return values, reference


def test_the_board_ranks_by_the_across_cell_score_not_by_one_lucky_cell():
    """The "Done when" of issue 24: `lucky` is best by far in one cell and behind `steady` in the other five;
    per cell it would top that cell's board, across cells it is second, on the score and on the mean rank."""
    rows = {
        "erm": np.zeros(6),
        "steady": np.full(6, 0.6),
        "lucky": np.array([2.5, 0.4, 0.4, 0.4, 0.4, 0.4]),
        "weak": np.full(6, 0.1),
    }
    values, reference = six_cells(np.random.default_rng(0), rows)
    cells = [f"cell{i}" for i in range(6)]
    out = board(values, reference, list(rows), cells, "erm", np.ones(6), np.full(6, 0.01), reps=500)
    assert bool(out.cells["usable"].all())
    assert out.matrix.loc["cell0"].idxmax() == "lucky"  # the lucky cell's own winner
    order = out.rows.sort_values("gap_closed", ascending=False)["method"].tolist()
    assert order == ["steady", "lucky", "weak"]
    assert out.rows.set_index("method").loc["steady", "gap_closed"] == pytest.approx(0.6, abs=0.02)
    ranks = across.mean_ranks(out.matrix, "higher").set_index("method")["mean_rank"]
    assert ranks["steady"] < ranks["lucky"] < ranks["weak"] < ranks["erm"]
    assert across.cd_gate(out.matrix) == "" and across.friedman(out.matrix)["status"] == "ok"
    assert out.rows["confidence"].iloc[0] == pytest.approx(1 - 0.05 / 3)
    # the marker is read from the row's own interval
    for row in out.rows.itertuples():
        assert row.marker == marker(row.gap_closed_low, row.gap_closed_high)
    assert set(out.rows["marker"]) == {"▲"}


def test_an_unusable_cell_is_left_out_of_the_score_and_of_the_ranks():
    rows = {"erm": np.zeros(6), "a": np.full(6, 0.5)}
    values, reference = six_cells(np.random.default_rng(1), rows)
    reference[2] = values[0, 2] + 0.001  # the reference no better than ERM there
    out = board(values, reference, list(rows), [f"c{i}" for i in range(6)], "erm", np.ones(6), np.full(6, 0.01))
    assert list(out.cells["usable"]) == [True, True, False, True, True, True]
    assert list(out.matrix.index) == ["c0", "c1", "c3", "c4", "c5"]
    assert out.rows.loc[0, "n_cells"] == 5 and out.rows.loc[0, "seeds"] == "5"


def test_the_seeded_bootstrap_is_identical_on_rerun_and_shared_by_every_row():
    rows = {"erm": np.zeros(6), "a": np.full(6, 0.5), "b": np.full(6, 0.2)}
    values, reference = six_cells(np.random.default_rng(2), rows)
    args = (values, reference, list(rows), [f"c{i}" for i in range(6)], "erm", np.ones(6), np.full(6, 0.01))
    one, two = board(*args, reps=300, seed=7), board(*args, reps=300, seed=7)
    assert one.rows.to_json() == two.rows.to_json()
    alone = board(values[:2], reference, ["erm", "a"], *args[3:], reps=300, seed=7, alpha=0.1)
    # with alpha/K the same (0.05/2 = 0.1/4 is not needed: compare the half-widths' ratio to the t quantiles)
    a_row, a_alone = one.rows.iloc[0], alone.rows.iloc[0]
    assert a_row["gap_closed"] == a_alone["gap_closed"]
    q = stats.t.ppf(1 - 0.05 / 4, 24) / stats.t.ppf(1 - 0.1 / 2, 24)
    assert (a_row["gap_closed_high"] - a_row["gap_closed"]) == pytest.approx(
        q * (a_alone["gap_closed_high"] - a_alone["gap_closed"])
    )


def test_tuned_equal_to_defaults_is_one_row():
    ids = {
        "erm": frozenset({"e0", "e1"}),
        "sage": frozenset({"s0", "s1"}),
        "sage[tuned]": frozenset({"s0", "s1"}),
        "sgt": frozenset({"g0", "g1"}),
        "sgt[tuned]": frozenset({"t0", "t1"}),
    }
    kept, notes = distinct_rows(ids)
    assert kept == ["erm", "sage", "sgt", "sgt[tuned]"]
    assert notes == {"sage": "tuned = defaults"}


def simulate(cells: int, rows: int, studies: int, reps: int, confidence: float, seed: int) -> float:
    """Share of simulated studies whose `rows` intervals all cover their truth: per cell the baseline and the
    reference are estimated from 5 seeds (the denominator is random), each row closes its own fraction of the gap,
    cells far apart in gap, spread and fraction. The truth is the 25%-trimmed mean of the rows' g mixture over the
    cells with the true gap (100,000 draws a cell)."""
    rng = np.random.default_rng(seed)
    mu = np.linspace(-0.5, 1.5, cells)[None, :] + np.linspace(0, 0.6, rows)[:, None]  # (rows, cells) fractions
    gap, sd = np.linspace(0.5, 1.0, cells), np.linspace(0.1, 0.3, cells)
    draws = rng.standard_normal((cells, 100_000))
    truth = np.array(
        [
            stats.trim_mean((mu[r, :, None] * gap[:, None] + sd[:, None] * draws) / gap[:, None], 0.25, None)
            for r in range(rows)
        ]
    )
    ym = (mu * gap)[None, :, :, None] + sd[:, None] * rng.standard_normal((studies, rows, cells, 5))
    yb = np.broadcast_to(sd[:, None] * rng.standard_normal((studies, 1, cells, 5)), ym.shape)
    yr = np.broadcast_to(gap[:, None] + sd[:, None] * rng.standard_normal((studies, 1, cells, 5)), ym.shape)
    counts, g = np.full(cells, 5), generator(seed)
    u, ur = uniforms(cells, 5, reps, g), uniforms(cells, 5, reps, g)
    hits = 0
    for chunk in np.array_split(np.arange(studies), 10):
        _, low, high = score_interval(ym[chunk], yb[chunk], counts, yr[chunk], counts, u, ur, confidence)
        hits += int(np.sum(((low <= truth) & (truth <= high)).all(axis=-1)))
    return hits / studies


def test_the_interval_covers_at_six_cells_with_a_random_denominator():
    assert simulate(6, 1, 1_000, 300, 0.95, seed=3) >= 0.93


def test_the_bonferroni_intervals_of_four_rows_cover_together():
    assert simulate(6, 4, 500, 300, 1 - 0.05 / 4, seed=4) >= 0.93


def test_the_percentile_interval_it_does_not_use_under_covers():
    """rliable's percentile interval of the same bootstrap, the alternative considered."""
    rng = np.random.default_rng(5)
    gap, sd = np.linspace(0.5, 1.0, 6), np.linspace(0.1, 0.3, 6)
    mu = np.linspace(-0.5, 1.5, 6)
    truth = stats.trim_mean(
        ((mu * gap)[:, None] + sd[:, None] * rng.standard_normal((6, 100_000))) / gap[:, None], 0.25, None
    )
    ym = (mu * gap)[:, None] + sd[:, None] * rng.standard_normal((1_000, 6, 5))
    yb = sd[:, None] * rng.standard_normal((1_000, 6, 5))
    yr = gap[:, None] + sd[:, None] * rng.standard_normal((1_000, 6, 5))
    counts, g = np.full(6, 5), generator(6)
    idx, ridx = stratified(counts, uniforms(6, 5, 300, g)), stratified(counts, uniforms(6, 5, 300, g))
    pick = lambda y, i: np.take_along_axis(y[:, None], i[None], -1)  # noqa: E731
    boot = score(pick(ym, idx), pick(yb, idx), counts, pick(yr, ridx), counts)
    low, high = np.percentile(boot, [2.5, 97.5], axis=1)
    assert np.mean((low <= truth) & (truth <= high)) < 0.93
