"""The leaderboard's figures (PNG, bare matplotlib ``Figure``s: no pyplot state, no backend switch).

- ``cd_diagram``: per family, the mean ranks over complete cells and bars joining the methods
  that the all-pairs Wilcoxon-over-cells test with Holm does not separate
  (``scikit_posthocs.critical_difference_diagram(ranks, holm_matrix)``); with fewer than 6 complete cells
  (``FamilyResult.gates``) the panel is not drawn and says why;
- ``forest``: per family, each method's paired difference to the baseline in each cell with its
  95% t-interval, a zero line and the ROPE band; colour = BH-adjusted verdict;
- ``cell_means``: per family, each cell's mean per method with its 95% t-interval and the seeds
  as dots, and the baseline's mean as a dashed line. Points, not bars: the axis is zoomed to
  the data (a bar's length only means something from 0).

Each function writes one PNG into ``folder`` and returns its file name.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ...saliency.metrics import spec
from ...statistics.family import FamilyResult
from ..formatting import ARROW, pval
from ..png import palette_png

VERDICT_COLOURS = {
    "win": "tab:green",
    "loss": "tab:red",
    "tie": "tab:grey",
    "identical runs": "tab:brown",
    "n.a.": "black",
}
DPI = 110


def _figure(panels: int, rows_per_panel: int, ncols: int = 2, width: float = 6.0):
    from matplotlib.figure import Figure

    ncols = max(1, min(ncols, panels))
    nrows = math.ceil(panels / ncols)
    fig = Figure(figsize=(width * ncols, nrows * (0.32 * rows_per_panel + 1.5) + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[panels:]:
        ax.set_visible(False)
    return fig, axes[:panels]


def _save(fig, folder: Path, name: str) -> str:
    """The figure as a palette PNG (``reports.png``): a forest plot of every cell x method stays well under a MB."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    (Path(folder) / name).write_bytes(palette_png(buffer.getvalue()))
    return name


def _short(dataset: str, arch: str, shared: set[str]) -> str:
    parts = [p for p in (dataset, arch) if p not in shared]
    return " / ".join(parts)


def _shared(detail: pd.DataFrame) -> set[str]:
    out = set()
    for column in ("dataset", "arch"):
        if detail[column].nunique() == 1:
            out.add(detail[column].iloc[0])
    return out


RANGES = {
    "masking_gap": (-1.0, 1.0),
    "mprt_spearman": (-1.0, 1.0),
    "loss": (0.0, None),
    "ig_delta": (0.0, None),
    "ig_delta_relative": (0.0, None),
}  # every other declared metric is a fraction or probability in [0, 1]


def _clip_to_range(ax, d: pd.DataFrame, metric: str) -> bool:
    """Keep the x axis inside the metric's possible values (a t-interval of 2-3 seeds can pass them); an
    interval cut at the edge gets an arrowhead there. Returns whether any was cut."""
    low, high = RANGES.get(metric.rsplit("/", 1)[-1], (0.0, 1.0))
    left, right = ax.get_xlim()
    pad = 0.02 * (right - left)
    left = left if low is None else max(left, low - pad)
    right = right if high is None else min(right, high + pad)
    ax.set_xlim(left, right)
    cut = False
    for i, row in d.iterrows():
        if pd.notna(row["ci_low"]) and row["ci_low"] < left:
            ax.plot(left, i, marker="<", color="0.3", markersize=6, clip_on=False, zorder=5)
            cut = True
        if pd.notna(row["ci_high"]) and row["ci_high"] > right:
            ax.plot(right, i, marker=">", color="0.3", markersize=6, clip_on=False, zorder=5)
            cut = True
    return cut


def _runs_note(row: pd.Series) -> str:
    """`` [2/3 runs]`` when runs of the cell are not done."""
    done, expected = int(row["runs_done"]), int(row["runs_expected"])
    return "" if done == expected else f" [{done}/{expected} runs]"


def _separate_cells(ax, d: pd.DataFrame) -> None:
    """A thin line between the rows of consecutive cells."""
    cell = list(zip(d["dataset"], d["arch"]))
    for i in range(1, len(cell)):
        if cell[i] != cell[i - 1]:
            ax.axhline(i - 0.5, color="0.75", linewidth=0.6)


def _where(details: dict[str, pd.DataFrame]) -> str:
    """`` on DATASET / ARCH`` when every table has one cell, for the figure title."""
    frames = [d for d in details.values() if len(d)]
    if not frames:
        return ""
    all_rows = pd.concat(frames)
    shared = [all_rows[c].iloc[0] for c in ("dataset", "arch") if all_rows[c].nunique() == 1]
    return (" on " + " / ".join(shared)) if shared else ""


def _stack_crossbars(lines: list) -> None:
    """Redraw the CD diagram's crossbars in an order that does not depend on Python's string hashing.

    scikit-posthocs finds the bars as sets of method names (Bron–Kerbosch over sets), so the points of a
    bar and the level of two bars starting at the same rank follow the process's hash seed: the same
    figure, different PNG bytes. Here each bar's points are sorted and the bars restacked by (start,
    end), with scikit-posthocs' own rule (the first level where a bar overlaps no other)."""
    bars = sorted(
        ((sorted(float(x) for x in line.get_xdata()), line) for line in lines), key=lambda b: (b[0][0], b[0][-1])
    )
    levels: list[list[tuple[float, float]]] = []
    for xs, line in bars:
        low, high = xs[0], xs[-1]
        for level, intervals in enumerate(levels):
            if not any(low <= other_high and other_low <= high for other_low, other_high in intervals):
                intervals.append((low, high))
                y = -level - 1
                break
        else:
            levels.append([(low, high)])
            y = -len(levels)
        line.set_data(xs, [y] * len(xs))


def cd_diagram(families: list[FamilyResult], folder: Path, name: str = "cd_diagram.png") -> str:
    from scikit_posthocs import critical_difference_diagram

    sizes = [2 if r.gates.get("cd_diagram") else max(2, len(r.mean_ranks)) for r in families]  # not drawn: a line
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, sum(0.28 * k + 1.3 for k in sizes) + 0.5), layout="constrained")
    axes = fig.subplots(len(families), 1, squeeze=False, height_ratios=[0.28 * k + 1.3 for k in sizes]).ravel()
    for ax, r in zip(axes, families):
        ranks = r.mean_ranks.set_index("method")["mean_rank"].dropna()
        n_cells = int(r.mean_ranks["n_cells"].max()) if len(r.mean_ranks) else 0
        tested = r.pairwise[r.pairwise["status"] == "ok"] if not r.pairwise.empty else r.pairwise
        gate = r.gates.get("cd_diagram", "")
        if gate or not len(tested):
            note = ""
        elif (tested["reason"] != "").all():
            needs = tested["reason"].iloc[0].split("(")[-1].rstrip(")")
            note = f"; with N={n_cells} cells no pair can pass Holm ({needs})"
        else:
            note = ""
        short = r.tests["pairwise"].short if r.tests else "Wilcoxon–Holm over cells"
        ax.set_title(
            f"{r.family.key} {ARROW[r.family.direction]}: "
            + (
                "critical-difference diagram not drawn"
                if gate
                else f"mean rank over N={n_cells} complete cell(s), 1 = best (baseline {r.baseline} in orange)\n"
                f"bars join methods not separated by {short} (α={r.alpha:g}){note}"
            ),
            fontsize=8,
            loc="center",
        )
        if len(ranks) < 2 or gate:
            why = (
                f"{gate} complete cells: the {short} tests no pair below 6 cells,\nand a bar would join pairs never tested"
                if gate
                else "fewer than two ranked methods: nothing to compare"
            )
            ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, fontsize=9)
            ax.set_axis_off()
            continue
        sig = r.significance.loc[ranks.index, ranks.index]
        colours = {m: "tab:orange" if m == r.baseline else "tab:blue" for m in ranks.index}
        drawn = critical_difference_diagram(
            ranks,
            sig,
            ax=ax,
            alpha=r.alpha,
            label_fmt_left="{label} ({rank:.2f})",
            label_fmt_right="({rank:.2f}) {label}",
            label_props={"fontsize": 8},
            color_palette=colours,
            text_h_margin=0.02,
        )
        _stack_crossbars([line for group in drawn["crossbars"] for line in group])
        ax.set_xlim(1 - 0.35 * (len(ranks) - 1), len(ranks) + 0.35 * (len(ranks) - 1))
        ax.set_xticks(np.arange(1, len(ranks) + 1))
        ax.tick_params(labelsize=8)
    return _save(fig, folder, name)


def forest(
    families: list[FamilyResult], details: dict[str, pd.DataFrame], folder: Path, name: str = "forest.png"
) -> str:
    from matplotlib.lines import Line2D

    shown = {r.family.key: details[r.family.key][details[r.family.key]["method"] != r.baseline] for r in families}
    fig, axes = _figure(len(families), max([len(d) for d in shown.values()] + [1]))
    for ax, r in zip(axes, families):
        d = shown[r.family.key].reset_index(drop=True)
        shared = _shared(d) if len(d) else set()
        y = np.arange(len(d))
        ax.axvspan(-r.family.rope, r.family.rope, color="0.9", zorder=0)
        ax.axvline(0, color="black", linewidth=0.8, zorder=1)
        for i, row in d.iterrows():
            colour = VERDICT_COLOURS.get(row["verdict"], "black")
            if pd.notna(row["gain_low"]):
                ax.plot([row["gain_low"], row["gain_high"]], [i, i], color=colour, linewidth=1.6)
            if pd.notna(row["gain"]):
                ax.plot(row["gain"], i, "o", color=colour, markersize=5)
            else:
                ax.text(0, i, "  no paired seeds", va="center", fontsize=7)
            p = row["p_bh"]
            ax.text(
                1.01,
                i,
                f"p_BH {pval(p)}{row['marker'] or ''}" if pd.notna(p) else "p n.a. (n<2)",
                va="center",
                fontsize=7,
                transform=ax.get_yaxis_transform(),
            )
        _separate_cells(ax, d)
        left, right = ax.get_xlim()
        ax.set_xlim(left - 0.05 * (right - left), right + 0.05 * (right - left))
        labels = []
        for _, row in d.iterrows():
            cell = _short(row["dataset"], row["arch"], shared)
            labels.append(
                f"{row['method']}" + (f" · {cell}" if cell else "") + f" (n={int(row['n_pairs'])})" + _runs_note(row)
            )
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_ylim(len(d) - 0.5, -0.5)
        ax.set_title(f"{r.family.key} {ARROW[r.family.direction]}", fontsize=9)
        ax.set_xlabel(f"Δ vs {r.baseline} in {spec(r.family.metric).unit} (+ = better), 95% t-interval", fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    used = set(pd.concat([d["verdict"] for d in shown.values()])) if shown else set()
    handles = [
        Line2D([], [], color=c, marker="o", label="not testable (n < 2 pairs)" if v == "n.a." else v)
        for v, c in VERDICT_COLOURS.items()
        if v not in ("n.a.", "identical runs") or v in used
    ]
    handles.append(Line2D([], [], color="0.85", linewidth=6, label="ROPE (± smallest effect of interest)"))
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles) + 1,
        fontsize=8,
        title="verdict from the BH-adjusted paired t-test",
        title_fontsize=8,
    )
    fig.suptitle("Paired difference to the baseline per cell over shared seeds" + _where(details), fontsize=10)
    return _save(fig, folder, name)


def cell_means(
    families: list[FamilyResult],
    details: dict[str, pd.DataFrame],
    seeds: pd.DataFrame,
    folder: Path,
    name: str = "cell_means.png",
) -> str:
    fig, axes = _figure(len(families), max([len(details[r.family.key]) for r in families] + [1]))
    for ax, r in zip(axes, families):
        key = r.family.key
        d = details[key].reset_index(drop=True)
        shared = _shared(d) if len(d) else set()
        labels = []
        for i, row in d.iterrows():
            is_base = row["method"] == r.baseline
            colour = "tab:orange" if is_base else "tab:blue"
            runs = (
                seeds[
                    (seeds["method"] == row["method"])
                    & (seeds["dataset"] == row["dataset"])
                    & (seeds["arch"] == row["arch"])
                ][key].dropna()
                if key in seeds
                else pd.Series(dtype=float)
            )
            ax.plot(runs, [i] * len(runs), ".", color="0.35", markersize=4, zorder=3)
            if pd.notna(row["ci_low"]):
                ax.plot([row["ci_low"], row["ci_high"]], [i, i], color=colour, linewidth=2, zorder=2)
            if pd.notna(row["mean"]):
                ax.plot(row["mean"], i, "D", color=colour, markersize=5, zorder=4)
            cell = _short(row["dataset"], row["arch"], shared)
            labels.append(
                f"{row['method']}" + (f" · {cell}" if cell else "") + f" (n={int(row['n'])})" + _runs_note(row)
            )
        _separate_cells(ax, d)
        for _cell, block in d.groupby(["dataset", "arch"], sort=False):
            base = block[block["method"] == r.baseline]["mean"]
            if len(base) and pd.notna(base.iloc[0]):
                ax.vlines(
                    base.iloc[0],
                    block.index.min() - 0.45,
                    block.index.max() + 0.45,
                    colors="tab:orange",
                    linestyles="--",
                    linewidth=1,
                )
        ax.set_yticks(np.arange(len(d)), labels, fontsize=8)
        ax.set_ylim(len(d) - 0.5, -0.5)
        clipped = _clip_to_range(ax, d, r.family.metric)
        ax.set_title(f"{key} {ARROW[r.family.direction]} ({r.family.direction} is better)", fontsize=9)
        ax.set_xlabel(
            spec(r.family.metric).unit + (" (arrow: CI runs past the possible range)" if clipped else ""), fontsize=8
        )
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(
        f"Mean over seeds (diamond) with 95% t-interval (line) and the seeds (dots); dashed: the baseline "
        f"{families[0].baseline if families else ''}'s mean" + _where(details),
        fontsize=10,
    )
    return _save(fig, folder, name)
