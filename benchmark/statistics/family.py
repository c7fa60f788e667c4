"""One correction family (one SPLIT/METRIC) end to end: the numbers of a significance-tested leaderboard.

docs/statistics.md §1.13-1.14. ``analyze`` runs every within-cell and across-cell analysis on the tidy
scores of one family and gathers a one-row-per-method ``leaderboard``; the reports layer renders it.
Randomness: every bootstrap uses ``numpy.random.default_rng(seed)`` afresh (``reps`` repetitions,
default 10,000), the Bayesian test ``RandomState(seed)`` with ``bayes_samples`` draws (default 50,000),
so the result does not depend on call order and a rerun is identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import across, aggregate, bayes
from .bootstrap import REPS, SEED
from .descriptions import TestDescription, family_tests
from .descriptive import describe_cells
from .frames import cell_means, complete_cells, cube, select
from .orient import Family, family
from .paired import paired_cells, win_tie_loss
from .power import ALPHA, MIN_WILCOXON_N

FEW_SEEDS = 5  # docs/statistics.md §1.11: at least 5 paired seeds per cell


@dataclass
class FamilyResult:
    """Every table of one family. Frames are documented by the function that makes them."""

    family: Family
    baseline: str
    alpha: float
    reps: int
    seed: int
    scale: str
    cells: pd.DataFrame  # descriptive.describe_cells
    paired: pd.DataFrame  # paired.paired_cells (BH over this whole frame)
    matrix: pd.DataFrame  # cell x method seed means (frames.cell_means)
    dropped_cells: list[tuple]  # incomplete cells left out of ranks and Friedman
    mean_ranks: pd.DataFrame  # across.mean_ranks
    friedman: dict  # across.friedman
    pairwise: pd.DataFrame  # across.pairwise_wilcoxon, all pairs, Holm
    versus_baseline: pd.DataFrame  # across.pairwise_wilcoxon vs the baseline, Holm
    significance: pd.DataFrame  # across.significance_matrix of ``pairwise``
    gains: pd.DataFrame  # aggregate.gains
    bayes: pd.DataFrame  # bayes.versus_baseline
    wtl: pd.DataFrame  # paired.win_tie_loss
    leaderboard: pd.DataFrame = field(default_factory=pd.DataFrame)
    # family-wide figures not drawn below their minimum of cells: name -> "n.a. (N cells < K)" or "" (gates)
    gates: dict[str, str] = field(default_factory=dict)
    # descriptions.family_tests: the tests as every report states them
    tests: dict[str, TestDescription] = field(default_factory=dict)


def analyze(
    scores: pd.DataFrame,
    key: str,
    baseline: str,
    *,
    alpha: float = ALPHA,
    reps: int = REPS,
    seed: int = SEED,
    scale: str = "rope",
    confidence: float = 0.95,
    bayes_samples: int = bayes.NSAMPLES,
    direction: str | None = None,
    rope: float | None = None,
) -> FamilyResult:
    """All statistics of the family ``key`` ("SPLIT/METRIC") against ``baseline``.
    ``direction``/``rope`` override the metric's declaration (``benchmark.saliency.metrics``)."""
    fam = family(key, direction=direction, rope=rope)
    rows = select(scores, fam)
    data = cube(rows)
    data.index(baseline)
    matrix = cell_means(rows)
    _, dropped = complete_cells(matrix)
    paired = paired_cells(scores, fam, baseline, alpha=alpha, confidence=confidence)
    pairwise = across.pairwise_wilcoxon(matrix, fam.direction, alpha=alpha)
    result = FamilyResult(
        family=fam,
        baseline=baseline,
        alpha=alpha,
        reps=reps,
        seed=seed,
        scale=scale,
        cells=describe_cells(scores, fam, confidence),
        paired=paired,
        matrix=matrix,
        dropped_cells=dropped,
        mean_ranks=across.mean_ranks(matrix, fam.direction, confidence=confidence),
        friedman=across.friedman(matrix, alpha),
        pairwise=pairwise,
        versus_baseline=across.pairwise_wilcoxon(matrix, fam.direction, baseline=baseline, alpha=alpha),
        significance=across.significance_matrix(pairwise, list(matrix.columns)),
        gains=aggregate.gains(data, fam, baseline, scale=scale, reps=reps, seed=seed, confidence=confidence),
        bayes=bayes.versus_baseline(matrix, fam, baseline, nsamples=bayes_samples, random_state=seed),
        wtl=win_tie_loss(paired) if not paired.empty else pd.DataFrame(columns=["method"]),
        tests=family_tests(alpha),
        gates={"cd_diagram": across.cd_gate(matrix)},
    )
    result.leaderboard = leaderboard(result)
    return result


def leaderboard(r: FamilyResult) -> pd.DataFrame:
    """One row per method, best mean rank first (docs/statistics.md §1.14): ``place, method, direction, rope,
    mean_rank, rank_low, rank_high, rank_ci_na``, the ``aggregate.gains`` columns, ``wins, ties, losses,
    untested``, ``p_cells, p_cells_holm, cells_status`` (Wilcoxon over cells vs the baseline), ``p_better, p_rope,
    p_worse, bayes_na``, ``median_d_z``, ``underpowered_cells, n_cells, flags`` ('; '-joined warnings). A ``*_na``
    column holds "n.a. (N cells < K)" where its statistic has too few cells (``gates``), else ""."""
    board = r.mean_ranks.drop(columns="n_cells")
    vs = r.versus_baseline.rename(
        columns={"p": "p_cells", "p_holm": "p_cells_holm", "status": "cells_status", "reason": "cells_reason"}
    )
    parts = [
        r.gains.drop(columns=["n_cells"], errors="ignore"),
        r.wtl.drop(columns=["n_cells"], errors="ignore"),
        vs[["method", "p_cells", "p_cells_holm", "cells_status", "cells_reason"]],
        r.bayes.drop(columns=["n_cells", "rope"], errors="ignore"),
    ]
    for part in parts:
        board = board.merge(part, on="method", how="left")
    per_cell = r.paired.groupby("method") if not r.paired.empty else None
    board["median_d_z"] = board["method"].map(per_cell["d_z"].median()) if per_cell is not None else np.nan
    board["underpowered_cells"] = (
        board["method"].map(per_cell["underpowered"].sum()).fillna(0).astype(int) if per_cell is not None else 0
    )
    cells = r.cells.groupby("method")
    board["n_cells"] = board["method"].map(cells.size())
    few = board["method"].map((r.cells["n"] < FEW_SEEDS).groupby(r.cells["method"]).sum())
    board["flags"] = [_flags(r, int(f), int(u)) for f, u in zip(few.fillna(0), board["underpowered_cells"])]
    for column in ("n_pairs", "wins", "ties", "losses", "untested"):  # NaN on the baseline's row
        if column in board:
            board[column] = board[column].astype("Int64")
    board.insert(1, "direction", r.family.direction)
    board.insert(2, "rope", r.family.rope)
    board = board.sort_values(["mean_rank", "method"], kind="stable").reset_index(drop=True)
    board.insert(0, "place", np.arange(1, len(board) + 1))
    return board


def _flags(r: FamilyResult, few_seed_cells: int, underpowered_cells: int) -> str:
    flags = []
    n_complete = len(r.matrix) - len(r.dropped_cells)
    if n_complete < MIN_WILCOXON_N:
        flags.append(f"N={n_complete}<{MIN_WILCOXON_N} cells: rank tests cannot reach alpha")
    if r.dropped_cells:
        flags.append(f"{len(r.dropped_cells)} incomplete cells left out of ranks")
    if few_seed_cells:
        flags.append(f"n<{FEW_SEEDS} seeds in {few_seed_cells} cells")
    if underpowered_cells:
        flags.append(f"underpowered in {underpowered_cells} cells")
    return "; ".join(flags)
