"""A claims table's figures (PNG, bare matplotlib ``Figure``s, written into a folder; file names returned).

- ``claims_forest``: every cell's oriented gain with the interval its table shows (simultaneous over
  the paper's cells; 90% for equivalence), in units of the cell's ROPE so that accuracy, AUC and
  saliency claims share one axis; the ROPE band, the zero line, colour = its claim's verdict;
- ``curve``: a per-epoch curve of the records (e.g. SMOOT's chosen mask fraction), every seed as a
  thin line and the mean over seeds as a thick one, per method.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...records.table import RecordSet
from ..study.plots import DPI
from .evaluate import ClaimsTable
from .report import percent
from .spec import CurveFigure

VERDICT_COLOURS = {
    "reproduced": "tab:green",
    "significant but negligible": "tab:olive",
    "not reproduced": "tab:red",
    "inconclusive": "tab:orange",
    "untestable": "black",
    "changes the result": "tab:purple",
    "no practical difference": "tab:grey",
    "identical runs": "tab:brown",
}


def claims_forest(judged: ClaimsTable, folder: Path, name: str, title: str) -> str:
    """Every cell's oriented gain in ROPE units with the interval the table shows, coloured by its claim's verdict."""
    from matplotlib.figure import Figure

    verdict = dict(zip(judged.claims["id"], judged.claims["verdict"]))
    table = judged.cells.assign(verdict=judged.cells["claim"].map(verdict))
    fig = Figure(figsize=(7.5, 0.34 * len(table) + 1.6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(table))[::-1]
    rope = table["rope"].to_numpy(float)
    gain, low, high = (table[c].to_numpy(float) / rope for c in ("gain", "gain_low", "gain_high"))
    ax.axvspan(-1, 1, color="tab:grey", alpha=0.15, label="ROPE")
    ax.axvline(0, color="black", lw=0.8)
    for verdict, colour in VERDICT_COLOURS.items():
        rows = (table["verdict"] == verdict).to_numpy()
        if rows.any():
            ax.errorbar(
                gain[rows],
                y[rows],
                xerr=[gain[rows] - low[rows], high[rows] - gain[rows]],
                fmt="o",
                color=colour,
                capsize=2,
                markersize=4,
                label=verdict,
            )
    ax.set_yticks(y, table["id"], fontsize=7)
    ax.set_xlabel(
        f"gain over the reference in ROPEs (> 0: better)\nsimultaneous {percent(judged.simultaneous_level)} "
        "interval (equivalence: 90%); colour: the claim's verdict",
        fontsize=8,
    )
    finite = np.concatenate([low[np.isfinite(low)], high[np.isfinite(high)], [-1.5, 1.5]])
    span = np.nanpercentile(np.abs(finite), 95) * 1.15
    ax.set_xlim(-span, span)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.savefig(Path(folder) / name, format="png", dpi=DPI)
    return name


def curve(records: RecordSet, figure: CurveFigure, folder: Path, name: str) -> tuple[str, str]:
    """Draw the figure; returns its file name and the per-method mean path in words (the caption says what
    the figure shows, e.g. that a controller only ever lowered the fraction)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    runs = records.runs
    fig = Figure(figsize=(6.0, 3.4), layout="constrained")
    ax = fig.subplots()
    colours = [f"C{i}" for i in range(10)]
    said = []
    for i, method in enumerate(figure.methods):
        mine = runs[
            (runs["method"] == method)
            & (runs["state"] == "done")
            & (runs["dataset"] == figure.dataset)
            & (runs["arch"] == figure.arch)
        ].sort_values("seed", kind="stable")
        series = [np.asarray(records.record(r).curves.get(figure.curve, []), dtype=float) for r in mine["run_id"]]
        series = [s for s in series if s.size]
        if not series:
            continue
        colour = colours[i % len(colours)]
        for s in series:
            ax.plot(np.arange(1, s.size + 1), s, color=colour, alpha=0.25, lw=0.8)
        length = min(s.size for s in series)
        mean = np.mean([s[:length] for s in series], axis=0)
        ax.plot(
            np.arange(1, length + 1),
            mean,
            color=colour,
            lw=2,
            marker="o",
            markersize=3,
            label=f"{method} (mean of {len(series)} seeds)",
        )
        finals = sorted({round(float(s[-1]), 3) for s in series})
        said.append(
            f"{method}: mean per epoch {' → '.join(f'{v:.2f}' for v in mean)}; final value per seed "
            f"{', '.join(f'{v:g}' for v in finals)} ({len(series)} seeds)"
        )
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(figure.ylabel)
    ax.set_title(f"{figure.title}\n{figure.dataset} / {figure.arch}; thin lines: seeds", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.savefig(Path(folder) / name, format="png", dpi=DPI)
    return name, "; ".join(said)
