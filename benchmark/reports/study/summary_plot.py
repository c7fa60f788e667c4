"""A study's summary as a figure: one panel per metric, one horizontal bar per cell (mean over
seeds), its seeds as dots, so the spread is visible next to the mean."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ...atomic import atomic_save
from .summary import CELL


def cell_label(row: pd.Series, constant: Sequence[str]) -> str:
    """The cell's method/arch/dataset, leaving out the parts every cell shares."""
    return " / ".join(str(row[c]) for c in CELL if c not in constant)


def plot_summary(frame: pd.DataFrame, summary: pd.DataFrame, metrics: Sequence[str], title: str, path: Path) -> Path:
    """Write the figure to ``path`` (PNG) and return it. ``frame`` is one row per run, ``summary`` per cell.
    Drawn on a bare ``Figure`` (no pyplot): no GUI backend, nothing global touched; imported here so
    that commands which draw nothing do not load matplotlib."""
    from matplotlib.figure import Figure

    constant = [c for c in CELL if summary[c].nunique() == 1] if len(summary) > 1 else []
    labels = [cell_label(row, constant) for _, row in summary.iterrows()]
    positions = range(len(summary))
    fig = Figure(figsize=(3.2 * len(metrics) + 2.5, 0.35 * len(summary) + 1.4))
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        ax.barh(positions, summary[f"{metric} mean"], color="tab:blue", alpha=0.55)
        for pos, (_, row) in zip(positions, summary.iterrows()):
            seeds = frame[(frame[CELL] == row[CELL]).all(axis=1)][metric].dropna()
            ax.plot(seeds, [pos] * len(seeds), "k.", markersize=4)
        ax.set_title(metric, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(list(positions), labels, fontsize=8)
    axes[0][0].invert_yaxis()
    shared = ", ".join(f"{c} {summary[c].iloc[0]}" for c in constant)
    fig.suptitle(f"{title}: mean over seeds (bars), seeds (dots)" + (f"; {shared}" if shared else ""), fontsize=10)
    fig.tight_layout()
    return atomic_save(path, lambda handle: fig.savefig(handle, format="png", dpi=110))
