"""One figure per cell: each alignment metric a panel of mean points with 95% t-intervals on both axes, each
series' line through its scales in order from the baseline's point, and the cell's overall Pareto front.

A bare matplotlib ``Figure`` (no pyplot state, no backend switch), saved as a palette PNG (``reports.png``) with
fixed size and DPI and no timestamp, so a rerun writes the same bytes. An axis whose metric is lower-is-better
is drawn reversed: up and right are better on every panel.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..formatting import ARROW
from ..png import palette_png
from .analysis import Panel, oriented

DPI = 110
COLOURS = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:olive",
    "tab:cyan",
    "tab:grey",
)
MARKERS = ("o", "^", "v", "D", "P", "X", "<", ">", "p")  # 10 colours x 9 markers: 90 series before a repeat


def file_name(dataset: str, arch: str) -> str:
    """``DATASET__ARCH.png`` with every character outside [A-Za-z0-9_.=-] replaced by '_'."""
    return re.sub(r"[^A-Za-z0-9_.=-]", "_", f"{dataset}__{arch}") + ".png"


def _axis_label(key: str, direction: str) -> str:
    return f"{key} ({ARROW[direction]} better{', reversed' if direction == 'lower' else ''})"


def _draw(ax, panel: Panel) -> None:
    points = panel.points
    anchor = points[points["series"] == panel.baseline] if panel.baseline else points.iloc[:0]
    names = list(dict.fromkeys(points["series"]))
    for i, name in enumerate(names):
        own = points[points["series"] == name]
        colour = "black" if name == panel.baseline else COLOURS[i % len(COLOURS)]
        marker = "s" if name == panel.baseline else MARKERS[i % len(MARKERS)]
        line = own if name == panel.baseline else pd.concat([anchor, own])
        ax.plot(line["x"], line["y"], "-", color=colour, alpha=0.6, linewidth=1.2, zorder=2)
        ax.errorbar(
            own["x"],
            own["y"],
            xerr=[own["x"] - own["x_low"], own["x_high"] - own["x"]],
            yerr=[own["y"] - own["y_low"], own["y_high"] - own["y"]],
            fmt=marker,
            color=colour,
            markersize=5,
            capsize=2,
            linewidth=0.8,
            label=name,
            zorder=3,
        )
        for row in own.itertuples():
            if name != panel.baseline and np.isfinite(row.x) and np.isfinite(row.y):
                ax.annotate(f"{row.scale:.3g}", (row.x, row.y), textcoords="offset points", xytext=(4, 3), fontsize=7)
    front = points[points["front"]]
    order = np.argsort(oriented(front, panel.x, panel.y)[:, 0], kind="stable")
    ax.step(
        front["x"].to_numpy()[order],
        front["y"].to_numpy()[order],
        where="post",
        color="grey",
        linewidth=2.5,
        alpha=0.35,
        zorder=1,
        label="Pareto front of the means",
    )
    ax.scatter(front["x"], front["y"], s=110, facecolors="none", edgecolors="grey", linewidths=1.2, zorder=4)
    ax.set_xlabel(_axis_label(panel.x.key, panel.x.direction))
    ax.set_ylabel(_axis_label(panel.y.key, panel.y.direction))
    if panel.x.direction == "lower":
        ax.invert_xaxis()
    if panel.y.direction == "lower":
        ax.invert_yaxis()
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    ax.set_title(f"{panel.cell}: numbers = guidance scale", fontsize=9)


def draw_cell(panels: list[Panel], folder: Path) -> str:
    """Write the figure of one cell's panels (one per alignment metric) into ``folder``; its file name."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.6 * len(panels), 4.6), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False).ravel()
    for ax, panel in zip(axes, panels):
        _draw(ax, panel)
    name = file_name(panels[0].dataset, panels[0].arch)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    (Path(folder) / name).write_bytes(palette_png(buffer.getvalue()))
    return name
