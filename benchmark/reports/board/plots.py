"""The board's figures: ``cd_diagram.png`` (mean ranks of the per-cell gap closed over the usable cells, bars joining
rows the all-pairs Wilcoxon–Holm does not separate: ``study.plots.cd_diagram``'s drawing) and ``gap_closed.png``
(each ranked row's IQM with its simultaneous interval, the 0 = ERM and 1 = reference lines)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...statistics.across import significance_matrix
from ...statistics.family import FamilyResult
from ...statistics.orient import Family
from ..study.plots import DPI, cd_diagram
from .tables_file import BoardTables

AXIS = Family("gap closed", "mean per cell", "higher", 0.0)


def as_family(t: BoardTables) -> FamilyResult:
    """The board's ranks and pairwise tests in the shape ``study.plots.cd_diagram`` draws."""
    ranks = t.rows[["method", "mean_rank", "n_cells"]].dropna(subset=["mean_rank"])
    empty = pd.DataFrame()
    return FamilyResult(
        family=AXIS,
        baseline=t.baseline,
        alpha=t.alpha,
        reps=t.reps,
        seed=t.seed,
        scale="gap",
        cells=empty,
        paired=empty,
        matrix=empty,
        dropped_cells=[],
        mean_ranks=ranks,
        friedman=t.friedman,
        pairwise=t.pairwise,
        versus_baseline=empty,
        significance=significance_matrix(t.pairwise, list(ranks["method"])) if len(t.pairwise) else empty,
        gains=empty,
        bayes=empty,
        wtl=empty,
        gates={"cd_diagram": t.gates.get("cd_diagram", "")},
        tests=t.tests,
    )


def gap_closed(t: BoardTables, folder: Path, name: str = "gap_closed.png") -> str:
    from matplotlib.figure import Figure

    rows = t.rows[t.rows["method"] != t.baseline].iloc[::-1]
    y = np.arange(len(rows))
    fig = Figure(figsize=(7.5, 0.32 * len(rows) + 1.6), layout="constrained")
    ax = fig.subplots()
    point = rows["gap_closed"].to_numpy(float)
    low, high = rows["gap_closed_low"].to_numpy(float), rows["gap_closed_high"].to_numpy(float)
    ax.errorbar(point, y, xerr=[point - low, high - point], fmt="o", color="tab:blue", capsize=3)
    ax.axvline(0, color="tab:orange", ls="--", lw=1, label=f"0 = {t.baseline} (with the shortcut)")
    ax.axvline(1, color="tab:green", ls="--", lw=1, label=f"1 = reference ({t.baseline} without the shortcut)")
    ax.set_yticks(y, [f"{m} {k or ''}".rstrip() for m, k in zip(rows["method"], rows["marker"].fillna(""))], fontsize=8)
    confidence = float(rows["confidence"].dropna().iloc[0]) if rows["confidence"].notna().any() else 1 - t.alpha
    ax.set_xlabel("fraction of the shortcut gap closed: IQM over the usable cells' seeds", fontsize=9)
    ax.set_ylabel("method", fontsize=9)
    ax.set_title(
        f"gap closed over {int(t.cells['usable'].sum())} usable cells, {100 * confidence:.2f}% simultaneous "
        f"intervals (Bonferroni over {len(rows)} rows)",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="lower right")
    fig.savefig(Path(folder) / name, format="png", dpi=DPI)
    return name


def figures(t: BoardTables, folder: Path) -> list[str]:
    return [cd_diagram([as_family(t)], folder), gap_closed(t, folder)]
