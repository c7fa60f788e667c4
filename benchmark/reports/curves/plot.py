"""One figure per metric, cell and axis: each method's mean against the annotation level with its 95% interval,
the baseline as a horizontal band (bare matplotlib ``Figure``, Agg; a palette PNG as ``reports.png``)."""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from ...statistics.curves import CurvesResult
from ..formatting import ARROW
from ..png import palette_png
from .frame import BUDGET, AxisPoint, level_text, x_label

DPI = 110
DODGE = 0.012  # each method's points shifted by this share of the x range (log x for budgets), so bars do not overlap


def file_name(metric: str, dataset: str, arch: str, axis: str) -> str:
    """``curve_METRIC_DATASET_ARCH_AXIS.png`` with every run of other characters as one ``-``."""
    parts = (metric, dataset, arch, axis)
    return "curve_" + "_".join(re.sub(r"[^A-Za-z0-9.]+", "-", p).strip("-") for p in parts) + ".png"


def draw(result: CurvesResult, dataset: str, arch: str, axis: str, point: AxisPoint, folder: Path) -> str:
    """Draw one cell's axis into ``folder``; returns the file name."""
    from matplotlib.figure import Figure

    pts = result.points
    pts = pts[(pts["dataset"] == dataset) & (pts["arch"] == arch) & (pts["axis"] == axis)]
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    band = result.baseline[(result.baseline["dataset"] == dataset) & (result.baseline["arch"] == arch)]
    if len(band) and np.isfinite(band["mean"].iloc[0]):
        row = band.iloc[0]
        if np.isfinite(row["ci_low"]):
            ax.axhspan(row["ci_low"], row["ci_high"], color="tab:grey", alpha=0.25, lw=0)
        ax.axhline(row["mean"], color="tab:grey", ls="--", lw=1, label=f"{result.baseline_label} (mean, 95% CI)")
    levels = np.sort(pts["level"].unique())
    log = point.kind == BUDGET and levels.size > 1 and levels[0] > 0  # budgets span decades (0.05 to 1)
    t = np.log(levels) if log else levels
    span = float(t[-1] - t[0]) if levels.size > 1 else 1.0
    methods = list(dict.fromkeys(pts["method"]))
    for i, method in enumerate(methods):
        line = pts[pts["method"] == method].sort_values("level")
        shift = (i - (len(methods) - 1) / 2) * DODGE * span
        x = line["level"].to_numpy(float) * np.exp(shift) if log else line["level"].to_numpy(float) + shift
        y = line["mean"].to_numpy(float)
        err = np.vstack([y - line["ci_low"].to_numpy(float), line["ci_high"].to_numpy(float) - y])
        ax.errorbar(x, y, yerr=np.nan_to_num(err), marker="o", ms=4, capsize=3, lw=1.2, label=method)
    if log:
        ax.set_xscale("log")
    ax.set_xticks(levels, [level_text(point, v) for v in levels])
    ax.set_xticks([], minor=True)
    ax.set_xlabel(textwrap.fill(x_label(point) + (", log scale" if log else ""), 72))
    ax.set_ylabel(f"{result.metric} {ARROW.get(result.direction, '')}\n(mean, 95% CI over seeds)", fontsize=9)
    ax.set_title(f"{dataset} / {arch}: {axis}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    name = file_name(result.metric, dataset, arch, axis)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    (Path(folder) / name).write_bytes(palette_png(buffer.getvalue()))
    return name


def panels(result: CurvesResult) -> pd.DataFrame:
    """The (dataset, arch, axis) of every figure, sorted."""
    return result.points[["dataset", "arch", "axis"]].drop_duplicates().sort_values(["dataset", "arch", "axis"])
